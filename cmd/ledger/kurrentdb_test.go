package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb/double"
)

// TestServeOnKurrentDBDouble runs the ledger with --store kurrentdb against
// the in-process test double of KurrentDB's protocol (not KurrentDB: it
// proves the wiring and the adapter). Commands go in, the bus and the
// views follow, read-your-writes waits on the KurrentDB store's head, the
// audit verifies the history, and a restart finds it all again.
func TestServeOnKurrentDBDouble(t *testing.T) {
	kdb := double.Start(t, 1)
	kdb.AppendSystemEvent("$statsCollected")
	clk := clock.NewManual(2026, time.March, 2)
	data := t.TempDir()
	onKurrent := func(c *serveConfig) { c.store, c.kurrentURL, c.kurrentPrefix = "kurrentdb", kdb.URL(), "gv-" }
	addr, _, stop := launchServer(t, data, clk, onKurrent)

	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--bsn", "111222333", "--datum", "2026-02-02")
	mustCLI(t, addr, "case", "intake", id, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-02-03")
	api := apiClient(t, addr, time.Minute)
	r, err := api.Record(context.Background(), connect.NewRequest(&ledgerv1.RecordRequest{CaseId: id, Gemeente: "GM0402",
		Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := api.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: r.Msg.GetPositie()}))
	if err != nil {
		t.Fatalf("view after the write: %v", err)
	}
	if v.Msg.GetView().GetActief() != 1 || v.Msg.GetView().GetBijgewerktTot() != r.Msg.GetPositie() {
		t.Fatalf("view after the plaatsing at %s: %v", r.Msg.GetPositie(), v.Msg.GetView())
	}

	// In KurrentDB: the case's stream under the prefix, named event types,
	// the envelope as metadata, and no BSN anywhere.
	stored := kdb.Stream("gv-case-" + id)
	if len(stored) != 3 || stored[0].Type != "aanmelding" || stored[2].Type != "plaatsing" {
		t.Fatalf("case stream in KurrentDB: %+v", stored)
	}
	for _, e := range stored {
		var meta map[string]any
		if err := json.Unmarshal(e.Metadata, &meta); err != nil || meta["gemeente"] != "GM0402" || meta["case_id"] != id {
			t.Errorf("metadata %s: %v", e.Metadata, err)
		}
		if bytes.Contains(e.Data, []byte("111222333")) || bytes.Contains(e.Metadata, []byte("111222333")) {
			t.Error("the BSN is in KurrentDB")
		}
	}
	if code, out, errs := auditCLI(t, addr, "auditor", "audit", "verify"); code != exitOK {
		t.Fatalf("audit verify on KurrentDB: exit %d\n%s\n%s", code, out, errs)
	}
	stop()

	// A restart on the same data and KurrentDB finds it all.
	addr = startServerWith(t, data, clk, onKurrent)
	api = apiClient(t, addr, time.Minute)
	var again, replay *ledgerv1.CaseloadView
	eventually(t, "the live view at the replay's position after the restart", func() bool {
		again, replay = getCaseload(t, api, "GM0402", false), getCaseload(t, api, "GM0402", true)
		return again.GetBijgewerktTot() == replay.GetBijgewerktTot()
	})
	again.Bron, replay.Bron = "", ""
	if !proto.Equal(again, replay) || again.GetActief() != 1 {
		t.Errorf("after the restart: live %v\nreplay %v", again, replay)
	}
}

// TestImportOnKurrentDBDouble: the import writes case by case on KurrentDB
// (it has no multi-stream append) with the same outcome as on JetStream,
// and again writes nothing twice.
func TestImportOnKurrentDBDouble(t *testing.T) {
	kdb := double.Start(t, 1)
	addr := startServerWith(t, t.TempDir(), clock.NewManual(2026, time.December, 2), func(c *serveConfig) { c.store, c.kurrentURL = "kurrentdb", kdb.URL() })
	for _, want := range []string{"vastgelegd 8, al aanwezig 0, geweigerd 1, overgeslagen 1", "vastgelegd 0, al aanwezig 8, geweigerd 1, overgeslagen 1"} {
		if code, out, errs := cli(t, addr, "import", "testdata/import-klein.jsonl"); code != exitFailed || !strings.Contains(out, want) {
			t.Errorf("import on KurrentDB: exit %d, %q, want %q\n%s", code, out, want, errs)
		}
	}
	if code, out, errs := auditCLI(t, addr, "auditor", "audit", "verify"); code != exitOK {
		t.Fatalf("audit verify after the import: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestServeStoreFlags: the store and broker flags refuse what can not work, naming
// what to give.
func TestServeStoreFlags(t *testing.T) {
	t.Setenv("LEDGER_KURRENTDB_URL", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", "kurrentdb"}, "--kurrentdb-url"},
		{[]string{"--store", "postgres"}, "kies jetstream of kurrentdb"},
		{[]string{"--nats-url", "nats://127.0.0.1:1", "--nats-batch", "0"}, "--nats-batch 0"},
		{[]string{"--nats-batch", "5000"}, "alleen met --nats-url"},
		{[]string{"--store", "kurrentdb", "--kurrentdb-url", "esdb://127.0.0.1:1", "--nats-url", "nats://127.0.0.1:1", "--nats-batch", "5000"}, "alleen voor de store in JetStream"},
	} {
		var stderr strings.Builder
		// Refused before anything starts; should one start after all, it
		// fails here instead of serving until the test binary times out.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := serve(ctx, append([]string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--nats", "127.0.0.1:-1"}, tc.args...), &strings.Builder{}, &stderr)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}
