package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestVolgBuildsTheSameCaseload: with only Hilversum's NATS credentials,
// `ledger volg` takes a copy of Hilversum's bus stream into Hilversum's own
// account and builds from it exactly the caseload the ledger shows.
func TestVolgBuildsTheSameCaseload(t *testing.T) {
	data := t.TempDir()
	addr, start := startServerLine(t, data, clock.NewManual(2026, time.March, 2), func(c *serveConfig) { c.natsAddr = "127.0.0.1:0" })
	for _, gm := range []string{"GM0402", "GM1942"} {
		mustCLI(t, addr, "policy", "set", "--gemeente", gm, "--geldig-vanaf", "2026-03-02", "--product", "beschut-werk=12000")
	}
	var last string
	for i, naar := range []string{"", "GM1942", ""} {
		id := mustCLI(t, addr, "case", "aanmelden", "--gemeente", "GM0402", "--doelgroep", "beschut-werk", "--verwijzer", "uwv", "--client-id", "R-volg-"+string(rune('a'+i)))
		mustCLI(t, addr, "case", "intake", id, "--trede", "beschut", "--loonwaarde", "40")
		if naar != "" {
			mustCLI(t, addr, "case", "verhuizen", id, "--naar", naar)
		}
		last = id
	}
	mustCLI(t, addr, "case", "uitstroom", last, "--reden", "regulier-werk")

	url := natsURL(t, start)
	out := mustCLI(t, addr, "volg", "--gemeente", "GM0402", "--nats", url, "--wachtwoord-bestand", filepath.Join(data, "keys", "nats-GM0402.pass"), "--gemeenten", "../../deploy/gemeenten.json", "--json")
	var copied ledgerv1.CaseloadView
	if err := protojson.Unmarshal([]byte(out), &copied); err != nil {
		t.Fatalf("volg --json: %v\n%s", err, out)
	}
	c := apiClient(t, addr, time.Minute)
	var ledger *ledgerv1.CaseloadView
	eventually(t, "the ledger's view of everything recorded", func() bool {
		r, err := c.GetView(context.Background(), connect.NewRequest(&ledgerv1.GetViewRequest{Gemeente: "GM0402"}))
		if err != nil {
			return false
		}
		ledger = r.Msg.GetView()
		return ledger.GetVerwerkt() == copied.GetVerwerkt()
	})
	copied.Bron, ledger.Bron = "", ""
	if !proto.Equal(&copied, ledger) {
		t.Fatalf("the gemeente's own copy gives another caseload:\ncopy   %v\nledger %v", &copied, ledger)
	}
	if copied.GetVerwerkt() == 0 || copied.GetActief() != 1 {
		t.Fatalf("the copy holds %d events, %d active; want the journeys", copied.GetVerwerkt(), copied.GetActief())
	}
}

// natsURL is the NATS address in a server's start line.
func natsURL(t *testing.T, start string) string {
	t.Helper()
	i := strings.Index(start, "nats://")
	if i < 0 {
		t.Fatalf("no NATS address in %q", start)
	}
	return strings.TrimRight(strings.Fields(start[i:])[0], "),")
}
