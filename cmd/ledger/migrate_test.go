package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"

	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/store"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb"
	"github.com/gooi-vechtstreek/ledger/services/store/kurrentdb/double"
)

func migrateRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errs strings.Builder
	code := run(context.Background(), append([]string{"migrate", "--gemeenten", "../../deploy/gemeenten.json"}, args...), &out, &errs)
	return code, out.String(), errs.String()
}

var migrated = regexp.MustCompile(`gekopieerd: (\d+) gebeurtenissen, al aanwezig: (\d+), in beide: (\d+)`)

// TestMigrate copies a ledger's history from JetStream to KurrentDB (the
// test double of its protocol) and back: same events in the same order,
// equal digests, resumable without writing anything twice, refused onto a
// target with another history, and the ledger on the new store carries on
// where the old one stopped.
func TestMigrate(t *testing.T) {
	clk := clock.NewManual(2026, time.March, 2)
	data := t.TempDir()
	addr, _, stop := launchServer(t, data, clk, nil)
	mustCLI(t, addr, "policy", "set", "--gemeente", "GM0402", "--geldig-vanaf", "2026-01-01", "--product", "beschut-werk=12000")
	var ids []string
	for _, gm := range []string{"GM0402", "GM1942", "GM0402"} {
		id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", gm, "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-migratie-"+gm, "--datum", "2026-02-02")
		mustCLI(t, addr, "case", "intake", id, "--trede", "beschut", "--loonwaarde", "30", "--datum", "2026-02-03")
		ids = append(ids, id)
	}
	mustCLI(t, addr, "case", "plaatsen", ids[0], "--type", "beschut-werk", "--datum", "2026-02-04")
	before := verifyJSON(t, addr, "auditor")
	// Everything on the bus before the stop, so that the relay's checkpoint
	// is at the last event (a relay that published nothing yet has none to
	// move, and starts from the beginning on the new store).
	if _, err := apiClient(t, addr, time.Minute).GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: before.Tot})); err != nil {
		t.Fatalf("waiting for the bus: %v", err)
	}
	stop() // cleanly: the relay saves its checkpoint

	kdb := double.Start(t, 1)
	code, out, errs := migrateRun(t, "--van", "jetstream", "--naar", "kurrentdb", "--data", data, "--kurrentdb-url", kdb.URL())
	if code != exitOK {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errs)
	}
	m := migrated.FindStringSubmatch(out)
	if m == nil || m[1] != "8" || m[2] != "0" || m[3] != "8" {
		t.Fatalf("migrate said:\n%s", out)
	}
	digest := regexp.MustCompile(`digest kurrentdb: (sha256:[0-9a-f]+)`).FindStringSubmatch(out)
	if digest == nil || !strings.Contains(out, "digest jetstream: "+digest[1]) || before.Digest != digest[1] {
		t.Fatalf("digests differ from each other or from audit verify:\n%s\nverify: %s", out, before.Digest)
	}
	if !strings.Contains(out, "checkpoint van de relay") {
		t.Errorf("the relay's checkpoint was not moved:\n%s", out)
	}

	// Again: nothing to copy, nothing written twice.
	code, out, _ = migrateRun(t, "--van", "jetstream", "--naar", "kurrentdb", "--data", data, "--kurrentdb-url", kdb.URL())
	if m := migrated.FindStringSubmatch(out); code != exitOK || m == nil || m[1] != "0" || m[2] != "8" {
		t.Fatalf("second migrate: exit %d\n%s", code, out)
	}

	// Resumed after an interruption: a target that holds the first events.
	partial := double.Start(t, 1)
	ps, err := kurrentdb.Open(t.Context(), kurrentdb.Config{URL: partial.URL()})
	if err != nil {
		t.Fatal(err)
	}
	src, err := kurrentdb.Open(t.Context(), kurrentdb.Config{URL: kdb.URL()})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rec, err := range src.ReadAll(t.Context(), store.Start) {
		if err != nil {
			t.Fatal(err)
		}
		if n == 3 {
			break
		}
		exp := store.NoStream()
		if rec.Revision > 0 {
			exp = store.Exactly(rec.Revision - 1)
		}
		if _, err := ps.Append(t.Context(), rec.Stream, exp, store.EventData{ID: rec.ID, Type: rec.Type, Data: rec.Data}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	code, out, errs = migrateRun(t, "--van", "kurrentdb", "--naar", "jetstream", "--data", t.TempDir(), "--kurrentdb-url", kdb.URL())
	if m := migrated.FindStringSubmatch(out); code != exitOK || m == nil || m[1] != "8" || !strings.Contains(out, "digest jetstream: "+digest[1]) {
		t.Fatalf("migrate back: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = migrateRun(t, "--van", "jetstream", "--naar", "kurrentdb", "--data", data, "--kurrentdb-url", partial.URL())
	if m := migrated.FindStringSubmatch(out); code != exitOK || m == nil || m[1] != "5" || m[2] != "3" {
		t.Fatalf("resumed migrate: exit %d\n%s\n%s", code, out, errs)
	}

	// A target with another history: refused, nothing written.
	other := double.Start(t, 1)
	oth, err := kurrentdb.Open(t.Context(), kurrentdb.Config{URL: other.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oth.Append(t.Context(), "case-vreemd", store.NoStream(), store.EventData{ID: uuid.New(), Type: "aanmelding", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	code, _, errs = migrateRun(t, "--van", "jetstream", "--naar", "kurrentdb", "--data", data, "--kurrentdb-url", other.URL())
	if code != exitFailed || !strings.Contains(errs, "geen begin van deze geschiedenis") || other.Calls("append") != 1 {
		t.Fatalf("onto another history: exit %d, %d appends: %s", code, other.Calls("append"), errs)
	}
	for _, bad := range [][]string{{"--van", "jetstream", "--naar", "jetstream"}, {"--van", "postgres", "--naar", "kurrentdb"}} {
		if code, _, _ := migrateRun(t, append(bad, "--kurrentdb-url", kdb.URL())...); code != exitUsage {
			t.Errorf("migrate %v: exit %d, want %d", bad, code, exitUsage)
		}
	}

	// The ledger on KurrentDB, on the same data: it carries on where the
	// JetStream one stopped, and the relay publishes exactly the new event.
	addr = startServerWith(t, data, clk, func(c *serveConfig) { c.store, c.kurrentURL = "kurrentdb", kdb.URL() })
	api := apiClient(t, addr, time.Minute)
	r, err := api.Record(context.Background(), connect.NewRequest(&ledgerv1.RecordRequest{CaseId: ids[2], Gemeente: "GM0402",
		Transition: &ledgerv1.RecordRequest_Plaatsing{Plaatsing: &ledgerv1.Plaatsing{Type: ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK}}}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := api.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402", NaPositie: r.Msg.GetPositie()}))
	if err != nil {
		t.Fatalf("the new placement in the view: %v", err)
	}
	live, replay := v.Msg.GetView(), getCaseload(t, api, "GM0402", true)
	live.Bron, replay.Bron = "", ""
	if live.GetBijgewerktTot() != r.Msg.GetPositie() || !proto.Equal(live, replay) {
		t.Errorf("GM0402 after the migration: live %v\nreplay %v", live, replay)
	}
	if code, out, errs := auditCLI(t, addr, "auditor", "audit", "verify"); code != exitOK {
		t.Fatalf("audit verify on the migrated store: %d\n%s\n%s", code, out, errs)
	}
}
