package kurrentdb_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb/double"
	"github.com/gooi-vechtstreek/ledger/services/store/storetest"
)

func open(t *testing.T, cfg kurrentdb.Config) *kurrentdb.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := kurrentdb.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.URL, err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestConformanceOnDouble runs the store's conformance suite against the
// in-process test double of KurrentDB's protocol: it proves the adapter's
// mapping and error handling, not KurrentDB.
func TestConformanceOnDouble(t *testing.T) {
	clusters := map[store.Store]*double.Cluster{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			c := double.Start(t, 1)
			// KurrentDB's own events are in $all beside the ledger's.
			c.AppendSystemEvent("$statsCollected")
			s := open(t, kurrentdb.Config{URL: c.URL()})
			clusters[s] = c
			return s
		},
		Features: storetest.Features{
			Reopen: func(t *testing.T, s store.Store) store.Store {
				c := clusters[s]
				again := open(t, kurrentdb.Config{URL: c.URL()})
				clusters[again] = c
				return again
			},
			InterruptAppend: func(t *testing.T, s store.Store, stream string, expected store.Expected, events []store.EventData, after int) {
				c := clusters[s]
				interrupt(t, c.NodeURL(0), "", stream, expected, events, after, func(ctx context.Context, n int) error {
					return c.WaitProposed(ctx, n)
				}, c.Proposed())
			},
		},
	})
}

// TestConformanceOnKurrentDB runs the suite against a real KurrentDB when
// LEDGER_KURRENTDB_URL names one (each case in streams of its own prefix).
func TestConformanceOnKurrentDB(t *testing.T) {
	u := os.Getenv("LEDGER_KURRENTDB_URL")
	if u == "" {
		t.Skip("LEDGER_KURRENTDB_URL is not set: the KurrentDB store was checked against the test double only, not against KurrentDB")
	}
	prefixes := map[store.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			p := "t" + strings.ReplaceAll(uuid.NewString()[:8], "-", "") + "-"
			s := open(t, kurrentdb.Config{URL: u, Prefix: p})
			prefixes[s] = p
			return s
		},
		Features: storetest.Features{
			Reopen: func(t *testing.T, s store.Store) store.Store {
				again := open(t, kurrentdb.Config{URL: u, Prefix: prefixes[s]})
				prefixes[again] = prefixes[s]
				return again
			},
		},
	})
}

// interrupt sends an append's options and its first after events over a
// connection of its own, waits until the server has them, and drops the
// connection without ending the append: a writer killed half way.
func interrupt(t *testing.T, nodeURL, prefix, stream string, expected store.Expected, events []store.EventData, after int, wait func(context.Context, int) error, before int) {
	t.Helper()
	u, err := url.Parse(nodeURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(u.Host, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	app, err := api.NewStreamsClient(conn).Append(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opts := &api.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(prefix + stream)}}
	switch rev, exact := expected.Revision(); {
	case exact:
		opts.ExpectedStreamRevision = &api.AppendReq_Options_Revision{Revision: rev}
	case expected.IsNoStream():
		opts.ExpectedStreamRevision = &api.AppendReq_Options_NoStream{NoStream: &shared.Empty{}}
	default:
		opts.ExpectedStreamRevision = &api.AppendReq_Options_Any{Any: &shared.Empty{}}
	}
	if err := app.Send(&api.AppendReq{Content: &api.AppendReq_Options_{Options: opts}}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range events[:after] {
		msg := &api.AppendReq_ProposedMessage{
			Id:       &shared.UUID{Value: &shared.UUID_String_{String_: ev.ID.String()}},
			Metadata: map[string]string{"type": ev.Type, "content-type": "application/octet-stream"},
			Data:     ev.Data,
		}
		if err := app.Send(&api.AppendReq{Content: &api.AppendReq_ProposedMessage_{ProposedMessage: msg}}); err != nil {
			t.Fatal(err)
		}
	}
	wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	if err := wait(wctx, before+after); err != nil {
		t.Fatalf("interrupted append: %v", err)
	}
	// Killed: the stream is cancelled and the connection closed, the
	// append never ended.
	cancel()
	conn.Close()
}

// TestFaults injects each fault of the double and checks what the store
// makes of it: nothing lost, nothing twice, and the store's sentinels.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault double.Fault
		// The append under the fault: does it answer, and with which error?
		wantErr error
		// Calls of append the double sees for the one append (and its retry).
		appends int
	}{
		// A spurious "wrong expected version": the stream is read again, is
		// where the writer expected, and the append is sent again.
		{"wrong expected version", double.WrongExpectedVersion, nil, 2},
		// Held until the caller's deadline, nothing written: the outcome is
		// unknown to the writer; the retry writes it.
		{"deadline", double.Deadline, store.ErrOutcomeUnknown, 2},
		// Written, the answer lost at the deadline: unknown; the retry is
		// recognised from the stream and writes nothing.
		{"deadline after the write", double.DeadlineAfterWrite, store.ErrOutcomeUnknown, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := double.Start(t, 1)
			s := open(t, kurrentdb.Config{URL: c.URL()})
			ctx := t.Context()
			first := ev("aanmelding")
			if _, err := s.Append(ctx, "case-1", store.NoStream(), first); err != nil {
				t.Fatal(err)
			}
			before := c.Calls("append")
			c.Inject(tc.fault)
			next := ev("intake")
			short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			res, err := s.Append(short, "case-1", store.Exactly(0), next)
			cancel()
			if !errors.Is(err, tc.wantErr) || tc.wantErr == nil && err != nil {
				t.Fatalf("append under %s: %v, want %v", tc.fault, err, tc.wantErr)
			}
			if err != nil {
				if errors.Is(err, store.ErrUnavailable) {
					t.Errorf("a write that may have landed called unavailable (nothing stored): %v", err)
				}
				if res, err = s.Append(ctx, "case-1", store.Exactly(0), next); err != nil {
					t.Fatalf("retry after %s: %v", tc.fault, err)
				}
			}
			if got := c.Calls("append") - before; got != tc.appends {
				t.Errorf("%d appends sent to KurrentDB, want %d", got, tc.appends)
			}
			recs, err := s.ReadStream(ctx, "case-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || recs[1].ID != next.ID || res.Revision != 1 || res.Position != recs[1].Position {
				t.Fatalf("after %s: stream %v, result %+v", tc.fault, recs, res)
			}
			all := 0
			for _, err := range s.ReadAll(ctx, store.Start) {
				if err != nil {
					t.Fatal(err)
				}
				all++
			}
			if all != 2 {
				t.Errorf("$all holds %d ledger events, want 2", all)
			}
		})
	}
}

func ev(typ string) store.EventData {
	id := uuid.New()
	return store.EventData{ID: id, Type: typ, Data: fmt.Appendf(nil, "%s %s", typ, id)}
}

// subscriber follows a store and hands on what it gets.
func subscriber(t *testing.T, s *kurrentdb.Store, after store.Position) <-chan store.RecordedEvent {
	out := make(chan store.RecordedEvent, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, after, func(r store.RecordedEvent) error {
			out <- r
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("subscribe ended with %v", err)
		}
	})
	return out
}

func take(t *testing.T, ch <-chan store.RecordedEvent, n int) []store.RecordedEvent {
	t.Helper()
	var out []store.RecordedEvent
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-timeout.C:
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

// TestSubscriptionDroppedAndLeaderChange: a subscription that is dropped
// is made again from the last event handed on — no gap, nothing twice —
// also when the leader moved meanwhile and the node it followed refuses.
// A subscription that falls behind says so.
func TestSubscriptionDroppedAndLeaderChange(t *testing.T) {
	c := double.Start(t, 3)
	heard := make(chan string, 16)
	s := open(t, kurrentdb.Config{URL: c.URL(), OnSubscription: func(what string) { heard <- what }})
	ctx := t.Context()
	var want []uuid.UUID
	appendN := func(stream string, n int) {
		t.Helper()
		for range n {
			e := ev("uren")
			recs, _ := s.ReadStream(ctx, stream)
			exp := store.NoStream()
			if len(recs) > 0 {
				exp = store.Exactly(recs[len(recs)-1].Revision)
			}
			if _, err := s.Append(ctx, stream, exp, e); err != nil {
				t.Fatalf("append: %v", err)
			}
			want = append(want, e.ID)
		}
	}
	appendN("case-a", 3)
	sub := subscriber(t, s, store.Start)
	got := take(t, sub, 3)

	c.DropSubscriptions()
	if w := <-heard; w != "dropped" {
		t.Fatalf("heard %q, want dropped", w)
	}
	appendN("case-b", 2)
	got = append(got, take(t, sub, 2)...)

	// The leader moves; an append is refused by the old one and goes to
	// the new one; the subscription, dropped, comes back through it.
	c.MoveLeader(2)
	appendN("case-a", 2)
	c.DropSubscriptions()
	if w := <-heard; w != "dropped" {
		t.Fatalf("heard %q, want dropped", w)
	}
	appendN("case-c", 2)
	got = append(got, take(t, sub, 4)...)

	c.FallBehind()
	if w := <-heard; w != "fell-behind" {
		t.Fatalf("heard %q, want fell-behind", w)
	}
	if s.FellBehind() != 1 || s.Dropped() < 2 {
		t.Errorf("fell behind %d, dropped %d", s.FellBehind(), s.Dropped())
	}
	if len(got) != len(want) {
		t.Fatalf("handed on %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i] {
			t.Fatalf("event %d is %s, want %s", i, got[i].ID, want[i])
		}
		if i > 0 && !got[i-1].Position.Less(got[i].Position) {
			t.Fatalf("event %d at %s is not after %s", i, got[i].Position, got[i-1].Position)
		}
	}
	select {
	case r := <-sub:
		t.Fatalf("handed on %s twice or from nowhere", r.ID)
	default:
	}
}

// TestLayout: what the ledger writes is readable in KurrentDB's own terms:
// the event type, binary content, and the metadata the writer makes.
func TestLayout(t *testing.T) {
	c := double.Start(t, 1)
	s := open(t, kurrentdb.Config{URL: c.URL(), Prefix: "gv-", Metadata: func(data []byte) []byte {
		return fmt.Appendf(nil, `{"bytes":%d}`, len(data))
	}})
	a, b := ev("aanmelding"), ev("intake")
	res, err := s.Append(t.Context(), "case-1", store.NoStream(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Stream("gv-case-1")
	if len(got) != 2 || got[0].Type != "aanmelding" || got[1].Type != "intake" || got[0].ContentType != "application/octet-stream" ||
		string(got[0].Metadata) != fmt.Sprintf(`{"bytes":%d}`, len(a.Data)) {
		t.Fatalf("stored as %+v", got)
	}
	// One append is one transaction: one commit position, a prepare
	// position each.
	if got[0].Commit != got[1].Commit || got[0].Prepare >= got[1].Prepare || res.Position != (store.Position{Commit: got[1].Commit, Prepare: got[1].Prepare}) {
		t.Errorf("positions %+v, result %+v", got, res)
	}
	recs, err := s.ReadStream(t.Context(), "case-1")
	if err != nil || len(recs) != 2 || recs[0].Stream != "case-1" {
		t.Fatalf("read back %v, %v", recs, err)
	}
}

// TestUnreachable: a KurrentDB that does not answer at the start is a
// clear error that names it, and no password.
func TestUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err = kurrentdb.Open(ctx, kurrentdb.Config{URL: "kurrentdb://ledger:geheim@" + addr + "?tls=false&maxDiscoverAttempts=1"})
	if err == nil {
		t.Fatal("opened a KurrentDB that is not there")
	}
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "geheim") {
		t.Errorf("error %v: want unavailable, naming %s, without the password", err, addr)
	}
	for _, bad := range []string{"", "http://localhost:2113", "kurrentdb://"} {
		if _, err := kurrentdb.Open(ctx, kurrentdb.Config{URL: bad}); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}

// TestNodeRestart: KurrentDB goes away and comes back. A write while it is
// away is answered unavailable and not half-done; the store reconnects by
// itself, the same write then goes in once, and the subscription carries
// on with no gap and nothing twice.
func TestNodeRestart(t *testing.T) {
	c := double.Start(t, 1)
	s := open(t, kurrentdb.Config{URL: c.URL()})
	ctx := t.Context()
	first := ev("aanmelding")
	if _, err := s.Append(ctx, "case-1", store.NoStream(), first); err != nil {
		t.Fatal(err)
	}
	sub := subscriber(t, s, store.Start)
	take(t, sub, 1)

	c.Restart(t, 0)
	next := ev("intake")
	var res store.AppendResult
	var err error
	unavailable := 0
	for range 20 {
		if res, err = s.Append(ctx, "case-1", store.Exactly(0), next); err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, store.ErrOutcomeUnknown) {
			t.Fatalf("append after the restart: %v, want unavailable (or no answer) until reconnected", err)
		}
		unavailable++
	}
	if err != nil {
		t.Fatalf("no reconnection after %d tries: %v", unavailable, err)
	}
	recs, err := s.ReadStream(ctx, "case-1")
	if err != nil || len(recs) != 2 || recs[1].ID != next.ID || res.Position != recs[1].Position {
		t.Fatalf("after the restart: %v %v, result %+v", recs, err, res)
	}
	if got := take(t, sub, 1); got[0].ID != next.ID {
		t.Fatalf("subscription handed on %s, want %s", got[0].ID, next.ID)
	}
	t.Logf("appends answered unavailable before the store reconnected: %d", unavailable)
}

// TestTLSAndCredentials: a KurrentDB that speaks TLS only and requires a
// user: the store connects with the CA of the URL (?tlsCAFile=) and the
// user of the configuration; a wrong password and an unknown CA are clear
// errors at the start that do not show the password.
func TestTLSAndCredentials(t *testing.T) {
	caFile, serverTLS := testCA(t)
	c := double.StartWith(t, double.Options{Nodes: 1, TLS: serverTLS, User: "ledger", Password: "juist-wachtwoord"})
	s := open(t, kurrentdb.Config{URL: c.URL() + "?tlsCAFile=" + caFile + "&maxDiscoverAttempts=1", Username: "ledger", Password: "juist-wachtwoord"})
	e := ev("aanmelding")
	if _, err := s.Append(t.Context(), "case-1", store.NoStream(), e); err != nil {
		t.Fatalf("append over TLS with a user: %v", err)
	}
	if recs, err := s.ReadStream(t.Context(), "case-1"); err != nil || len(recs) != 1 {
		t.Fatalf("read over TLS: %v %v", recs, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		cfg  kurrentdb.Config
	}{
		{"wrong password", kurrentdb.Config{URL: c.URL() + "?tlsCAFile=" + caFile + "&maxDiscoverAttempts=1", Username: "ledger", Password: "fout-wachtwoord"}},
		{"unknown CA", kurrentdb.Config{URL: c.URL() + "?maxDiscoverAttempts=1", Username: "ledger", Password: "juist-wachtwoord"}},
		{"no TLS", kurrentdb.Config{URL: c.URL() + "?tls=false&maxDiscoverAttempts=1"}},
	} {
		_, err := kurrentdb.Open(ctx, tc.cfg)
		if err == nil {
			t.Errorf("%s: opened", tc.name)
			continue
		}
		if strings.Contains(err.Error(), "wachtwoord") || !strings.Contains(err.Error(), "kurrentdb") {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.name == "wrong password" && !strings.Contains(err.Error(), "weigert de gebruiker") {
			t.Errorf("a refused user is not said so: %v", err)
		}
	}
}

// testCA makes a CA and a certificate for 127.0.0.1 signed by it, writes
// the CA to a file and returns its path and the server's TLS configuration.
func testCA(t *testing.T) (string, *tls.Config) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Certificates valid around a fixed day would fail on the real clock
	// the TLS handshake uses: this one is valid for a century around now.
	now := clock.Clock(nil).Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, NotBefore: now.AddDate(-50, 0, 0), NotAfter: now.AddDate(50, 0, 0),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kurrentdb"}, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}
