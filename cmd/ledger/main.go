// Command ledger is the regional case ledger: `ledger serve` runs the whole
// system in one process; every other subcommand is a client of its API for
// operators (klantmanagers, beleidsmedewerkers, auditors).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	// The ledger's calendar is Europe/Amsterdam, also on a machine without
	// a zoneinfo database.
	_ "time/tzdata"

	"connectrpc.com/connect"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

const usage = `ledger: het regionale zaakregister van de centrumregeling Gooi en Vechtstreek.

Gebruik:
  ledger serve [flags]                       start het hele systeem (NATS, store, relay, projecties, API)
  ledger case aanmelden --gemeente GM.. ...  meld een inwoner aan; opent een nieuwe zaak
  ledger case intake     <zaak> ...          leg de (verlengde) intake vast
  ledger case plaatsen   <zaak> ...          start een plaatsing
  ledger case uitval     <zaak> ...          de plaatsing of het traject breekt af
  ledger case vangnet    <zaak> ...          terugval op het vangnet
  ledger case uitstroom  <zaak> ...          de inwoner stroomt uit; de zaak sluit
  ledger case verhuizen  <zaak> --naar GM..  verhuizing naar een andere deelnemende gemeente
  ledger case corrigeren <zaak> --event ID --reden ...   corrigeer een eerdere gebeurtenis
  ledger case uren       <zaak> ...          geleverde uren begeleiding of jobcoaching
  ledger case show <zaak>                    de tijdlijn van één zaak
  ledger case list --gemeente GM..           de zaken van een gemeente
  ledger case zoek <BSN|client-id>           de zaken van één inwoner
  ledger view <GM..> [--year J] [--month M]  de beleidsview van een gemeente (caseload, stromen, plaatsingen, kosten)
  ledger view <GM..> --caseload              het live caseload-overzicht van een gemeente
  ledger view <GM..> --resultaat [--year J]  het resultaat per budgetstroom: inkomsten tegen kosten, met prognose
  ledger policy set --gemeente GM.. ...      leg een nieuwe versie van het beleid van een gemeente vast
  ledger policy show <GM..>                  alle versies van het beleid van een gemeente
  ledger regio verdeelsleutel|kosten|inkomsten|doelen|resultaatverdeling|resultaat|show   afspraken van de regio; resultaat: het resultaat van de regio per deelnemer
  ledger wat-als --variant FILE [--jaar J]   wat elke gemeente onder een andere verdeling had betaald (schrijft niets)
  ledger export costs --gemeente GM.. --year J     kostenregels als CSV voor de financiële systemen (--aanleveren: leg vast als aangeleverd)
  ledger export srg --gemeente GM.. --half 2025H1  plaatsingen per CBS SRG-voorziening (CSV)
  ledger gemeenten                           de deelnemende gemeenten
  ledger import FILE [--systeem NAAM]        laad de geschiedenis van de regio (JSON Lines of een CSV-beginstand)
  ledger migrate --van S --naar S            kopieer de hele geschiedenis tussen jetstream en kurrentdb, hervatbaar, met digest van beide
  ledger health [--gereed]                   leeft de server (/healthz), of is hij gereed (/readyz)
  ledger toegang uitgeven --rol R ...        geef een toegangssleutel uit (rol beheer)
  ledger toegang intrekken <id>              trek een toegang in (rol beheer)
  ledger toegang lijst                       alle uitgegeven toegang (rol beheer)
  ledger toegang wie                         als wie uw sleutel u aanmeldt
  ledger client vergeet <BSN|client-id>      vernietig de persoonsgegevens van een inwoner (AVG art. 17)
  ledger client inzage <BSN|client-id>       wat er met de gegevens van een inwoner is gedaan (AVG art. 15)
  ledger bewaartermijn uitvoeren [--droog]   vergeet wie alleen gesloten zaken heeft met een verstreken bewaartermijn
  ledger nats-accounts [--datum D]           de NATS-accounts (LEDGER en per gemeente) voor een extern cluster
  ledger volg --gemeente GM.. --nats URL ..  de caseload uit een eigen kopie van de busstroom, met alleen de NATS-gegevens van de gemeente
  ledger audit verify [--tot P] [--digest D] reken elke hashketen en het digest van de opgeslagen geschiedenis zelf na
  ledger audit replay --gemeente GM.. ...    maak een beleidsview of kostenexport opnieuw, zoals bekend op een dag of tot een positie
  ledger audit export [--van P] [--tot P]    elke opgeslagen gebeurtenis als JSON-regel, met hashes, voor eigen controle
  ledger audit rapportages [--gemeente GM..] de aangeleverde rapportages (export costs --aanleveren), met hun sha256
  ledger audit verschil <rapportage>         maak een aangeleverde rapportage opnieuw en zeg regel voor regel wat er vandaag anders is
  ledger audit vergelijk [--gemeente GM..]   herbouw elke projectie uit de opslag en vergelijk haar veld voor veld met de live
  ledger audit herleid GM../JAAR/REGEL       herleid één kostenregel tot haar gebeurtenissen, beleid, verdeelsleutel en rekensom

Elke opdracht heeft --help met de toegestane waarden. De server is --server of
LEDGER_SERVER (standaard http://127.0.0.1:8080); de toegangssleutel --token of
LEDGER_TOKEN (of LEDGER_TOKEN_FILE). Opvragingen kennen --json.
`

// exit codes
const (
	exitOK     = 0
	exitFailed = 1 // refused, not found, server error
	exitUsage  = 2
	// An audit ran to the end and found something: a broken chain, another
	// digest, a projection that differs from its rebuild, a report that can
	// not be made again. Not the same as "could not check" (exitFailed).
	exitBevinding = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if len(args) > 1 && isHelp(args[1]) && groups[args[0]] {
		fmt.Fprint(stdout, groupUsage(args[0]))
		return exitOK
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "case":
		err = caseCommand(ctx, args[1:], stdout, stderr)
	case "view":
		err = viewCommand(ctx, args[1:], stdout, stderr)
	case "gemeenten":
		err = gemeentenCommand(ctx, args[1:], stdout, stderr)
	case "policy":
		err = policyCommand(ctx, args[1:], stdout, stderr)
	case "regio":
		err = regioCommand(ctx, args[1:], stdout, stderr)
	case "export":
		err = exportCommand(ctx, args[1:], stdout, stderr)
	case "import":
		err = importCommand(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrateCommand(ctx, args[1:], stdout, stderr)
	case "health":
		err = healthCommand(ctx, args[1:], stdout, stderr)
	case "toegang":
		err = toegangCommand(ctx, args[1:], stdout, stderr)
	case "client":
		err = clientCommand(ctx, args[1:], stdout, stderr)
	case "bewaartermijn":
		err = bewaartermijnCommand(ctx, args[1:], stdout, stderr)
	case "nats-accounts":
		err = natsAccountsCommand(ctx, args[1:], stdout, stderr)
	case "volg":
		err = volgCommand(ctx, args[1:], stdout, stderr)
	case "audit":
		err = auditCommand(ctx, args[1:], stdout, stderr)
	case "wat-als":
		err = watAlsCommand(ctx, args[1:], stdout, stderr)
	default:
		err = usageErrorf("onbekende opdracht %q", args[0])
	}
	return report(err, stderr)
}

// groups are the commands whose first argument is a subcommand; each
// subcommand has its own --help.
var groups = map[string]bool{"case": true, "policy": true, "regio": true, "export": true, "toegang": true, "client": true, "bewaartermijn": true, "audit": true}

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "help" }

// groupUsage is the part of the usage that lists a group's subcommands.
func groupUsage(group string) string {
	var b strings.Builder
	b.WriteString("Gebruik:\n")
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, "  ledger "+group+" ") {
			b.WriteString(line + "\n")
		}
	}
	fmt.Fprintf(&b, "\nMeer over één opdracht: ledger %s <opdracht> --help\n", group)
	return b.String()
}

// report prints err for a person and picks the exit code.
func report(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var bv *finding
	if errors.As(err, &bv) {
		fmt.Fprintf(stderr, "ledger: %s\n", bv.msg)
		return exitBevinding
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "ledger: %s\n(zie --help)\n", ue.msg)
		return exitUsage
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		for _, d := range ce.Details() {
			if v, derr := d.Value(); derr == nil {
				if ref, ok := v.(*ledgerv1.Refusal); ok {
					fmt.Fprintf(stderr, "geweigerd: %s\nregel: %s\n", ref.GetReden(), ref.GetRule())
					return exitFailed
				}
			}
		}
		if ce.Code() == connect.CodeUnavailable && ce.Message() == "" {
			fmt.Fprintf(stderr, "ledger: de server is niet bereikbaar: %v\n", ce.Unwrap())
			return exitFailed
		}
		fmt.Fprintf(stderr, "ledger: %s\n", ce.Message())
		return exitFailed
	}
	fmt.Fprintf(stderr, "ledger: %v\n", err)
	return exitFailed
}

// finding is an auditor's finding (exitBevinding).
type finding struct{ msg string }

func (f *finding) Error() string { return f.msg }

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}
