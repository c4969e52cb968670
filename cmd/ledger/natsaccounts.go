package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/services/broker"
	"github.com/gooi-vechtstreek/ledger/services/clock"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
)

// natsAccountsCommand writes the accounts block for an external NATS
// cluster: the same accounts, exports and imports the embedded server
// gets, with each password a $VARIABLE to set in the cluster's
// environment.
func natsAccountsCommand(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger nats-accounts", "ledger nats-accounts [--gemeenten BESTAND] [--datum JJJJ-MM-DD] > deploy/nats/accounts.conf\n\n"+
		"De NATS-accounts voor een extern cluster: het account LEDGER van de ledger en één account per gemeente,\n"+
		"dat alleen een kopie van de eigen busstroom kan nemen (JetStream sourcing). Wachtwoorden zijn variabelen\n"+
		"($LEDGER_PASSWORD, $GM0402_PASSWORD, ...). Met --datum: de archieven na een herindeling zoals op die dag.", stderr)
	file := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten")
	datum := fs.String("datum", "", "dag waarop de rechten gelden (standaard vandaag)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	reg, err := gemeente.Load(*file)
	if err != nil {
		return err
	}
	var system clock.Clock // nil: the system clock, the one clock there is
	day := system.Today()
	if *datum != "" {
		if day, err = event.ParseDate(*datum); err != nil {
			return usageErrorf("--datum %q: %v", *datum, err)
		}
	}
	fmt.Fprint(stdout, accountsFor(reg, day).AccountsConfig(func(u broker.User) string { return "$" + strings.ToUpper(u.Name) + "_PASSWORD" }, 1<<30))
	return nil
}

func accountsFor(reg *gemeente.Registry, day *ledgerv1.Date) *broker.Auth {
	granted := archives(reg, day)
	a := &broker.Auth{Service: broker.User{Name: "ledger"}}
	for _, g := range reg.Codes() {
		a.Gemeenten = append(a.Gemeenten, broker.User{Name: g, Archieven: granted[g]})
	}
	return a
}
