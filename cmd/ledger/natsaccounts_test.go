package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
)

var updateDeploy = flag.Bool("update-deploy", false, "rewrite deploy/nats/accounts.conf")

// TestDeployAccounts: deploy/nats/accounts.conf is what `ledger
// nats-accounts` makes of deploy/gemeenten.json on the day Wijdemeren joins
// Hilversum, and nats-server reads it.
func TestDeployAccounts(t *testing.T) {
	reg, err := gemeente.Load("../../deploy/gemeenten.json")
	if err != nil {
		t.Fatal(err)
	}
	want := accountsFor(reg, event.YMD(2027, 1, 1)).AccountsConfig(func(u broker.User) string { return "$" + strings.ToUpper(u.Name) + "_PASSWORD" }, 1<<30)
	const path = "../../deploy/nats/accounts.conf"
	if *updateDeploy {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is not what ledger nats-accounts makes; run go test ./cmd/ledger -run TestDeployAccounts -update-deploy", path)
	}
	t.Setenv("LEDGER_PASSWORD", "x")
	for _, g := range reg.Codes() {
		t.Setenv(g+"_PASSWORD", "x")
	}
	if _, err := server.ProcessConfigFile(path); err != nil {
		t.Fatalf("nats-server does not read %s: %v", path, err)
	}
}
