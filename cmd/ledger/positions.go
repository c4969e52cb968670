package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/store"
)

// readYourWrites makes a query that follows a command see that command,
// also from another invocation of the CLI: every answer with a positie is
// remembered per server, and every query with a na_positie field that the
// caller left empty asks the server to wait for the last one remembered.
// The server waits a few seconds at most; a position beyond its store (an
// other or a new server at the same address) it does not wait for.
type readYourWrites struct {
	server string
	path   string // "" remembers nothing
}

// positionsFile is where the CLI remembers positions: LEDGER_POSITIES
// ("off": nowhere), or the user's cache directory.
func positionsFile() string {
	switch p := os.Getenv("LEDGER_POSITIES"); p {
	case "off":
		return ""
	case "":
	default:
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "ledger", "posities.json")
}

func (r readYourWrites) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if m, ok := req.Any().(proto.Message); ok {
			if fd := field(m, "na_positie"); fd != nil && m.ProtoReflect().Get(fd).String() == "" {
				if p, ok := r.load()[r.server]; ok {
					m.ProtoReflect().Set(fd, protoreflect.ValueOfString(p))
				}
			}
		}
		resp, err := next(ctx, req)
		if err == nil {
			if m, ok := resp.Any().(proto.Message); ok {
				if fd := field(m, "positie"); fd != nil {
					r.remember(m.ProtoReflect().Get(fd).String())
				}
			}
		}
		return resp, err
	}
}

func (readYourWrites) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (readYourWrites) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func field(m proto.Message, name protoreflect.Name) protoreflect.FieldDescriptor {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return nil
	}
	return fd
}

func (r readYourWrites) load() map[string]string {
	out := map[string]string{}
	if r.path == "" {
		return out
	}
	b, err := os.ReadFile(r.path)
	if err == nil {
		_ = json.Unmarshal(b, &out) // a damaged file only costs the wait
	}
	return out
}

// remember keeps p for the server when it is later than what is kept.
func (r readYourWrites) remember(p string) {
	at, err := store.ParsePosition(p)
	if r.path == "" || err != nil || at == store.Start {
		return
	}
	all := r.load()
	if old, err := store.ParsePosition(all[r.server]); err == nil && !old.Less(at) {
		return
	}
	all[r.server] = p
	b, err := json.Marshal(all)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return
	}
	tmp := r.path + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, r.path)
	}
}
