package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// Every test server authenticates every call, as a real one does. The
// keyring remembers, per API address, the data directory (which holds the
// first beheer token) and the tokens issued from it, one per role or
// gemeente, so that tests call as a real user of that role would.
var keyrings = struct {
	sync.Mutex
	m map[string]*keyring
}{m: map[string]*keyring{}}

type keyring struct {
	data   string
	tokens map[string]string
}

// registerServer notes the data directory of the server at addr.
func registerServer(addr, data string) {
	keyrings.Lock()
	defer keyrings.Unlock()
	keyrings.m[addr] = &keyring{data: data, tokens: map[string]string{}}
}

// tokenFor returns a token of the server at addr for who: "beheer",
// "centrum", "auditor", or a gemeente code (the role gemeente for it).
func tokenFor(t testing.TB, addr, who string) string {
	t.Helper()
	keyrings.Lock()
	k := keyrings.m[addr]
	keyrings.Unlock()
	if k == nil {
		t.Fatalf("no test server registered at %s", addr)
	}
	keyrings.Lock()
	tok, ok := k.tokens[who]
	keyrings.Unlock()
	if ok {
		return tok
	}
	b, err := os.ReadFile(filepath.Join(k.data, "keys", "beheer.token"))
	if err != nil {
		t.Fatalf("beheer token: %v", err)
	}
	beheer := strings.TrimSpace(string(b))
	if who == "beheer" {
		return beheer
	}
	req := &ledgerv1.IssueCredentialRequest{Gebruiker: "test-" + strings.ToLower(who), Rol: who}
	switch who {
	case "centrum":
		req.Organisatie = "Gemeente Hilversum"
	case "auditor":
		req.Organisatie = "Accountant"
	default:
		req.Rol, req.Gemeente, req.Organisatie = "gemeente", who, "Gemeente "+who
	}
	ac := ledgerv1connect.NewAccessServiceClient(http.DefaultClient, "http://"+addr, connect.WithInterceptors(bearer{beheer}))
	resp, err := ac.IssueCredential(context.Background(), connect.NewRequest(req))
	if err != nil {
		t.Fatalf("issue a token for %s: %v", who, err)
	}
	keyrings.Lock()
	k.tokens[who] = resp.Msg.GetToken()
	keyrings.Unlock()
	return resp.Msg.GetToken()
}

// whoFor is the user a test calls a method as, when the test is not about
// access: a gemeente records its own policy, the centrumgemeente does the
// rest.
func whoFor(procedure, gemeente string) string {
	if procedure == ledgerv1connect.LedgerServiceRecordBeleidProcedure && gemeente != "" {
		return gemeente
	}
	return "centrum"
}

// asNeeded sends each call with the token of whoFor.
type asNeeded struct {
	t    testing.TB
	addr string
}

func (a asNeeded) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		g := ""
		if m, ok := req.Any().(proto.Message); ok {
			if fd := m.ProtoReflect().Descriptor().Fields().ByName("gemeente"); fd != nil && fd.Kind() == protoreflect.StringKind {
				g = m.ProtoReflect().Get(fd).String()
			}
		}
		req.Header().Set("Authorization", "Bearer "+tokenFor(a.t, a.addr, whoFor(req.Spec().Procedure, g)))
		return next(ctx, req)
	}
}

func (a asNeeded) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a asNeeded) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// apiClient is a client of the server at addr that calls as asNeeded says.
func apiClient(t testing.TB, addr string, timeout time.Duration, opts ...connect.ClientOption) ledgerv1connect.LedgerServiceClient {
	return apiClientWith(t, addr, &http.Client{Timeout: timeout}, opts...)
}

func apiClientWith(t testing.TB, addr string, hc *http.Client, opts ...connect.ClientOption) ledgerv1connect.LedgerServiceClient {
	return ledgerv1connect.NewLedgerServiceClient(hc, "http://"+addr, append([]connect.ClientOption{connect.WithInterceptors(asNeeded{t, addr})}, opts...)...)
}

// clientAs is a client of the server at addr that calls as who.
func clientAs(t testing.TB, addr, who string) ledgerv1connect.LedgerServiceClient {
	return ledgerv1connect.NewLedgerServiceClient(&http.Client{Timeout: time.Minute}, "http://"+addr, connect.WithInterceptors(bearer{tokenFor(t, addr, who)}))
}

// postJSON posts body to path on addr as curl would, with who's token.
func postJSON(t testing.TB, addr, who, path, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, addr, who))
	return http.DefaultClient.Do(req)
}
