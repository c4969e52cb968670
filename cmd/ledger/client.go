package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

const defaultServer = "http://127.0.0.1:8080"

// conn holds the flags every client command shares.
type conn struct {
	server string
	json   bool
	token  string
}

func (c *conn) register(fs *flag.FlagSet) {
	def := os.Getenv("LEDGER_SERVER")
	if def == "" {
		def = defaultServer
	}
	fs.StringVar(&c.server, "server", def, "adres van de ledger-server (of LEDGER_SERVER)")
	fs.BoolVar(&c.json, "json", false, "druk het antwoord af als JSON (vaste veldnamen, zie README)")
	fs.StringVar(&c.token, "token", "", "toegangssleutel (of LEDGER_TOKEN, of een bestand ermee in LEDGER_TOKEN_FILE); uitgegeven met ledger toegang uitgeven")
}

func (c *conn) base() string {
	server := c.server
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	return strings.TrimRight(server, "/")
}

func (c *conn) client() ledgerv1connect.LedgerServiceClient {
	server := c.base()
	return ledgerv1connect.NewLedgerServiceClient(httpClient(), server,
		connect.WithInterceptors(bearer{c.token}, readYourWrites{server: server, path: positionsFile()}),
		// No gzip: an audit reads the whole history through ReadEvents,
		// and compressing it took a quarter of the server's CPU for a
		// saving that encrypted personal data and ids mostly do not give;
		// the ledger's own work shares that CPU.
		connect.WithAcceptCompression("gzip", nil, nil))
}

func (c *conn) access() ledgerv1connect.AccessServiceClient {
	return ledgerv1connect.NewAccessServiceClient(httpClient(), c.base(), connect.WithInterceptors(bearer{c.token}))
}

func printJSON(w io.Writer, m proto.Message) error {
	b, err := api.MarshalJSON(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// given reports whether the flag name was set on the command line, not
// left at its default.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// newFlags makes a flag set whose --help shows a description first.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Gebruik: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after one positional
// argument, and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageErrorf("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func caseCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("ledger case: geef een opdracht: aanmelden, intake, plaatsen, uitval, vangnet, uitstroom, verhuizen, corrigeren, uren, show, list, zoek")
	}
	switch args[0] {
	case "show":
		return caseShow(ctx, args[1:], stdout, stderr)
	case "list":
		return caseList(ctx, args[1:], stdout, stderr)
	case "zoek":
		return caseZoek(ctx, args[1:], stdout, stderr)
	case "aanmelden", "intake", "plaatsen", "uitval", "vangnet", "uitstroom", "verhuizen", "corrigeren", "uren":
		return caseRecord(ctx, args[0], args[1:], stdout, stderr)
	}
	return usageErrorf("ledger case: onbekende opdracht %q", args[0])
}

// fields are the facts a transition carries, as flags.
type fields struct {
	gemeente, datum, bsn, clientID, naam, geboortedatum                     string
	doelgroep, verwijzer, trede, typ, werkgever, doel, product, einddatum   string
	redenLanger, reden, toelichting, vanPlaatsing, naar, eventID, lks, uren string
	uitvalReden, uitstroomReden, van, wswSinds, kvk                         string
	loonwaarde, revisie                                                     int
	terugkeer                                                               bool
	set                                                                     map[string]bool
}

func caseRecord(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	synopsis := map[string]string{
		"aanmelden":  "ledger case aanmelden --gemeente GMxxxx --doelgroep D --verwijzer V (--bsn N [--naam NAAM] [--geboortedatum JJJJ-MM-DD] | --client-id ID) [--datum JJJJ-MM-DD]\n                      [--wsw-indicatie-sinds JJJJ-MM-DD | --terugkeergarantie]\n\nSinds 1 januari 2015 is er geen nieuwe instroom in de Wsw: een aanmelding met doelgroep wsw noemt de datum\nvan de bestaande Wsw-indicatie (van vóór 2015), ook bij een terugkeer onder de terugkeergarantie.",
		"intake":     "ledger case intake <zaak> --trede T [--loonwaarde PCT] [--doel TEKST] [--datum JJJJ-MM-DD]",
		"plaatsen":   "ledger case plaatsen <zaak> --type T [--werkgever W] [--werkgever-kvk N] [--uren U] [--loonwaarde PCT] [--lks-bedrag EURO] [--product P] [--einddatum D] [--reden-langer TEKST] [--datum D]",
		"uitval":     "ledger case uitval <zaak> --reden R [--toelichting TEKST] [--datum JJJJ-MM-DD]",
		"vangnet":    "ledger case vangnet <zaak> --type T [--van-plaatsing EVENT] [--toelichting TEKST] [--datum JJJJ-MM-DD]\n\nTerugval op het vangnet vanuit een plaatsing, of terugkeer in dezelfde zaak na uitstroom naar regulier\nwerk, binnen de maanden die het beleid van de gemeente op de dag van de uitstroom gaf (--terugkeer-maanden).",
		"uitstroom":  "ledger case uitstroom <zaak> --reden R [--toelichting TEKST] [--datum JJJJ-MM-DD]",
		"verhuizen":  "ledger case verhuizen <zaak> --naar GMxxxx [--datum JJJJ-MM-DD]",
		"corrigeren": "ledger case corrigeren <zaak> --event EVENT-ID --reden WAAROM [--datum JJJJ-MM-DD] [nieuwe waarden, bijv. --doelgroep wsw]",
		"uren":       "ledger case uren <zaak> --product jobcoaching|begeleiding --van JJJJ-MM-DD --tot JJJJ-MM-DD --uren U",
	}[verb]
	fs := newFlags("ledger case "+verb, synopsis, stderr)
	var c conn
	c.register(fs)
	var f fields
	fs.IntVar(&f.revisie, "revisie", -1, "verwachte revisie van de zaak (weigert als de zaak intussen is gewijzigd)")
	if verb == "corrigeren" {
		fs.StringVar(&f.datum, "datum", "", "gecorrigeerde datum van de gebeurtenis, JJJJ-MM-DD (leeg: ongewijzigd)")
	} else {
		fs.StringVar(&f.datum, "datum", "", "datum waarop het gebeurde, JJJJ-MM-DD (standaard vandaag volgens de server)")
	}
	all := verb == "corrigeren"
	if verb == "aanmelden" {
		fs.StringVar(&f.gemeente, "gemeente", "", "woonplaatsgemeente, CBS-code GMxxxx (zie ledger gemeenten)")
		fs.StringVar(&f.bsn, "bsn", "", "BSN: de server maakt er een pseudoniem van en bewaart het alleen versleuteld met de sleutel van de inwoner")
		fs.StringVar(&f.naam, "naam", "", "naam van de inwoner (bij --bsn; alleen versleuteld bewaard)")
		fs.StringVar(&f.geboortedatum, "geboortedatum", "", "geboortedatum JJJJ-MM-DD (bij --bsn; alleen versleuteld bewaard)")
		fs.StringVar(&f.clientID, "client-id", "", "pseudoniem client-id, in plaats van een BSN")
	} else {
		fs.StringVar(&f.gemeente, "gemeente", "", "verantwoordelijke gemeente (optionele controle)")
	}
	if verb == "aanmelden" || all {
		fs.StringVar(&f.doelgroep, "doelgroep", "", "doelgroep: "+doelgroepen.help())
		fs.StringVar(&f.verwijzer, "verwijzer", "", "verwijzer: "+verwijzers.help())
		fs.StringVar(&f.wswSinds, "wsw-indicatie-sinds", "", "bij doelgroep wsw: datum van de bestaande Wsw-indicatie (vóór 2015), JJJJ-MM-DD")
		fs.BoolVar(&f.terugkeer, "terugkeergarantie", false, "bij doelgroep wsw: terugkeer van een oud-Wsw-medewerker onder de terugkeergarantie")
	}
	if verb == "intake" || all {
		fs.StringVar(&f.trede, "trede", "", "trede op de ladder: "+treden.help())
		fs.StringVar(&f.doel, "doel", "", "afgesproken doel")
	}
	if verb == "intake" || verb == "plaatsen" || all {
		fs.IntVar(&f.loonwaarde, "loonwaarde", 0, "gemeten loonwaarde in procent (0-100)")
	}
	if verb == "plaatsen" || verb == "vangnet" || all {
		fs.StringVar(&f.typ, "type", "", "soort plaatsing: "+plaatsingTypes.help())
	}
	if verb == "plaatsen" || all {
		fs.StringVar(&f.werkgever, "werkgever", "", "werkgever (organisatie)")
		fs.StringVar(&f.kvk, "werkgever-kvk", "", "KvK-nummer van de werkgever (8 cijfers; een organisatie, nooit een persoon)")
		fs.StringVar(&f.uren, "uren", "", "uren per week, bijv. 32 of 18.5")
		fs.StringVar(&f.lks, "lks-bedrag", "", "loonkostensubsidie per maand in euro, bijv. 1250.00")
		fs.StringVar(&f.product, "product", "", "productcode uit het beleid van de gemeente")
		fs.StringVar(&f.einddatum, "einddatum", "", "geplande einddatum JJJJ-MM-DD (verplicht bij detachering)")
		fs.StringVar(&f.redenLanger, "reden-langer", "", "reden waarom een detachering langer dan 12 maanden duurt")
	}
	switch verb {
	case "uitval":
		fs.StringVar(&f.reden, "reden", "", "reden van uitval: "+uitvalRedenen.help())
	case "uitstroom":
		fs.StringVar(&f.reden, "reden", "", "reden van uitstroom: "+uitstroomRedenen.help())
	case "corrigeren":
		fs.StringVar(&f.reden, "reden", "", "waarom er gecorrigeerd wordt (verplicht)")
		fs.StringVar(&f.eventID, "event", "", "id van de gebeurtenis die gecorrigeerd wordt (zie ledger case show)")
		fs.StringVar(&f.uitvalReden, "uitval-reden", "", "nieuwe reden van uitval: "+uitvalRedenen.help())
		fs.StringVar(&f.uitstroomReden, "uitstroom-reden", "", "nieuwe reden van uitstroom: "+uitstroomRedenen.help())
	}
	if verb == "uitval" || verb == "vangnet" || verb == "uitstroom" || all {
		fs.StringVar(&f.toelichting, "toelichting", "", "toelichting (geen persoonsgegevens)")
	}
	if verb == "vangnet" || all {
		fs.StringVar(&f.vanPlaatsing, "van-plaatsing", "", "event-id van de plaatsing waaruit de klant terugvalt (standaard de laatste)")
	}
	if verb == "verhuizen" {
		fs.StringVar(&f.naar, "naar", "", "CBS-code van de nieuwe woonplaatsgemeente (een deelnemer)")
	}
	if verb == "uren" {
		fs.StringVar(&f.product, "product", "", "uurproduct: jobcoaching of begeleiding")
		fs.StringVar(&f.van, "van", "", "eerste dag van de periode, JJJJ-MM-DD")
		fs.StringVar(&f.datum, "tot", "", "laatste dag van de periode (tot en met), JJJJ-MM-DD; de kosten gelden het uurtarief van die dag")
		fs.StringVar(&f.uren, "uren", "", "geleverde uren in de periode, bijv. 12.5")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })

	req := &ledgerv1.RecordRequest{Gemeente: f.gemeente}
	if verb == "aanmelden" {
		if len(pos) > 0 {
			return usageErrorf("een aanmelding opent een nieuwe zaak; geef geen zaak op")
		}
	} else {
		if len(pos) != 1 {
			return usageErrorf("geef precies één zaak op")
		}
		req.CaseId = pos[0]
	}
	if f.revisie >= 0 {
		r := uint64(f.revisie)
		req.ExpectedRevision = &r
	}
	if f.datum != "" {
		if req.Datum, err = event.ParseDate(f.datum); err != nil {
			return usageErrorf("--datum: %v", err)
		}
	}
	// Without --datum the server dates the transition today by its own
	// clock: this machine's clock may be wrong or in another day.
	cl := c.client()
	if err := f.fill(ctx, verb, req, cl); err != nil {
		return err
	}
	resp, err := recordOnce(ctx, cl, req)
	if err != nil {
		return err
	}
	r := resp.Msg
	if c.json {
		return printJSON(stdout, r)
	}
	fmt.Fprintln(stdout, r.GetCaseId())
	fmt.Fprintf(stderr, "%s vastgelegd: zaak %s, datum %s, revisie %d, toestand %s, event %s\n", r.GetType(), r.GetCaseId(), event.FormatDate(r.GetDatum()), r.GetRevision(), toestanden.word(r.GetToestand().Number()), r.GetEventId())
	return nil
}

// fill puts the flags into the request's transition.
func (f *fields) fill(ctx context.Context, verb string, req *ledgerv1.RecordRequest, cl ledgerv1connect.LedgerServiceClient) error {
	switch verb {
	case "aanmelden":
		a := &ledgerv1.Aanmelding{ResidentId: f.clientID}
		if f.gemeente == "" {
			return usageErrorf("--gemeente is verplicht: de woonplaatsgemeente (zie ledger gemeenten)")
		}
		if (f.bsn == "") == (f.clientID == "") {
			return usageErrorf("geef --bsn of --client-id (één van beide)")
		}
		req.Bsn, req.Naam = f.bsn, f.naam
		if f.geboortedatum != "" {
			d, err := event.ParseDate(f.geboortedatum)
			if err != nil {
				return usageErrorf("--geboortedatum %q: %v", f.geboortedatum, err)
			}
			req.Geboortedatum = d
		}
		if err := f.applyAanmelding(a, true); err != nil {
			return err
		}
		req.Transition = &ledgerv1.RecordRequest_Aanmelding{Aanmelding: a}
	case "intake":
		in := &ledgerv1.Intake{}
		if err := f.applyIntake(in, true); err != nil {
			return err
		}
		req.Transition = &ledgerv1.RecordRequest_Intake{Intake: in}
	case "plaatsen":
		p := &ledgerv1.Plaatsing{}
		if err := f.applyPlaatsing(p, true); err != nil {
			return err
		}
		req.Transition = &ledgerv1.RecordRequest_Plaatsing{Plaatsing: p}
	case "uitval":
		u := &ledgerv1.Uitval{}
		f.uitvalReden = f.reden
		if err := f.applyUitval(u, true); err != nil {
			return err
		}
		req.Transition = &ledgerv1.RecordRequest_Uitval{Uitval: u}
	case "vangnet":
		v := &ledgerv1.TerugvalOpVangnet{}
		if err := f.applyVangnet(v, true); err != nil {
			return err
		}
		req.Transition = &ledgerv1.RecordRequest_Vangnet{Vangnet: v}
	case "uitstroom":
		u := &ledgerv1.Uitstroom{}
		f.uitstroomReden = f.reden
		if err := f.applyUitstroom(u, true); err != nil {
			return err
		}
		req.Transition = &ledgerv1.RecordRequest_Uitstroom{Uitstroom: u}
	case "verhuizen":
		if f.naar == "" {
			return usageErrorf("--naar is verplicht: de CBS-code van de nieuwe gemeente")
		}
		req.Transition = &ledgerv1.RecordRequest_Verhuizing{Verhuizing: &ledgerv1.Verhuizing{NaarGemeente: f.naar}}
	case "corrigeren":
		return f.fillCorrectie(ctx, req, cl)
	case "uren":
		if f.van == "" || f.datum == "" || f.uren == "" || f.product == "" {
			return usageErrorf("--product, --van, --tot en --uren zijn verplicht")
		}
		van, err := event.ParseDate(f.van)
		if err != nil {
			return usageErrorf("--van: %v", err)
		}
		h, err := strconv.ParseFloat(strings.ReplaceAll(f.uren, ",", "."), 64)
		if err != nil || !(h > 0 && h <= 10000) {
			return usageErrorf("--uren %q: geef een aantal uren groter dan 0", f.uren)
		}
		req.Transition = &ledgerv1.RecordRequest_Uren{Uren: &ledgerv1.Uren{Product: f.product, Van: van, Minuten: uint32(math.Round(h * 60))}}
	}
	return nil
}

// fillCorrectie fetches the corrected event and changes only the fields
// given, so a klantmanager types what was wrong, not the whole fact again.
func (f *fields) fillCorrectie(ctx context.Context, req *ledgerv1.RecordRequest, cl ledgerv1connect.LedgerServiceClient) error {
	if f.eventID == "" || f.reden == "" {
		return usageErrorf("--event en --reden zijn verplicht")
	}
	resp, err := cl.GetCase(ctx, connect.NewRequest(&ledgerv1.GetCaseRequest{CaseId: req.GetCaseId()}))
	if err != nil {
		return err
	}
	// Start from the fact as it stands now, earlier corrections included:
	// the same fold the ledger decides with.
	var history []*ledgerv1.Event
	for _, e := range resp.Msg.GetTimeline() {
		history = append(history, e.GetEvent())
	}
	effective, err := caseflow.Effective(history)
	if err != nil {
		return err
	}
	var orig *ledgerv1.Event
	for _, ev := range effective {
		if ev.GetEnvelope().GetEventId() == f.eventID {
			orig = ev
		}
	}
	if orig == nil {
		return usageErrorf("gebeurtenis %s is geen feit van zaak %s dat gecorrigeerd kan worden (zie ledger case show)", f.eventID, req.GetCaseId())
	}
	c := &ledgerv1.Correctie{Corrigeert: f.eventID, Reden: f.reden, Datum: req.GetDatum()}
	req.Datum = nil
	var err2 error
	switch p := proto.Clone(orig).(*ledgerv1.Event).GetPayload().(type) {
	case *ledgerv1.Event_Aanmelding:
		err2 = f.applyAanmelding(p.Aanmelding, false)
		c.Vervanging = &ledgerv1.Correctie_Aanmelding{Aanmelding: p.Aanmelding}
	case *ledgerv1.Event_Intake:
		err2 = f.applyIntake(p.Intake, false)
		c.Vervanging = &ledgerv1.Correctie_Intake{Intake: p.Intake}
	case *ledgerv1.Event_Plaatsing:
		err2 = f.applyPlaatsing(p.Plaatsing, false)
		c.Vervanging = &ledgerv1.Correctie_Plaatsing{Plaatsing: p.Plaatsing}
	case *ledgerv1.Event_Uitval:
		err2 = f.applyUitval(p.Uitval, false)
		c.Vervanging = &ledgerv1.Correctie_Uitval{Uitval: p.Uitval}
	case *ledgerv1.Event_Vangnet:
		err2 = f.applyVangnet(p.Vangnet, false)
		c.Vervanging = &ledgerv1.Correctie_Vangnet{Vangnet: p.Vangnet}
	case *ledgerv1.Event_Uitstroom:
		err2 = f.applyUitstroom(p.Uitstroom, false)
		c.Vervanging = &ledgerv1.Correctie_Uitstroom{Uitstroom: p.Uitstroom}
	default:
		return usageErrorf("een %s kan niet gecorrigeerd worden", event.Type(orig))
	}
	if err2 != nil {
		return err2
	}
	if unused := f.unused(event.Type(orig)); unused != "" {
		return usageErrorf("--%s hoort niet bij een %s", unused, event.Type(orig))
	}
	req.Transition = &ledgerv1.RecordRequest_Correctie{Correctie: c}
	return nil
}

// flagsOf lists the fact flags each event type has.
var flagsOf = map[string][]string{
	event.TypeAanmelding: {"doelgroep", "verwijzer"},
	event.TypeIntake:     {"trede", "loonwaarde", "doel"},
	event.TypePlaatsing:  {"type", "werkgever", "werkgever-kvk", "uren", "loonwaarde", "lks-bedrag", "product", "einddatum", "reden-langer"},
	event.TypeUitval:     {"uitval-reden", "toelichting"},
	event.TypeVangnet:    {"type", "van-plaatsing", "toelichting"},
	event.TypeUitstroom:  {"uitstroom-reden", "toelichting"},
}

func (f *fields) unused(typ string) string {
	own := map[string]bool{}
	for _, n := range flagsOf[typ] {
		own[n] = true
	}
	for _, names := range flagsOf {
		for _, n := range names {
			if f.set[n] && !own[n] {
				return n
			}
		}
	}
	return ""
}

// Each apply sets the fields whose flags were given; with required, the
// flags a new fact needs must be there.
func (f *fields) applyAanmelding(a *ledgerv1.Aanmelding, required bool) error {
	if f.set["doelgroep"] || required {
		n, err := doelgroepen.parse("doelgroep", f.doelgroep)
		if err != nil {
			return err
		}
		a.Doelgroep = ledgerv1.Doelgroep(n)
	}
	if f.set["verwijzer"] || required {
		n, err := verwijzers.parse("verwijzer", f.verwijzer)
		if err != nil {
			return err
		}
		a.Verwijzer = ledgerv1.Verwijzer(n)
	}
	if f.set["wsw-indicatie-sinds"] {
		a.WswIndicatieSinds = nil
		if f.wswSinds != "" {
			d, err := event.ParseDate(f.wswSinds)
			if err != nil {
				return usageErrorf("--wsw-indicatie-sinds: %v", err)
			}
			a.WswIndicatieSinds = d
		}
	}
	if f.set["terugkeergarantie"] {
		a.Terugkeergarantie = f.terugkeer
	}
	return nil
}

func (f *fields) applyIntake(in *ledgerv1.Intake, required bool) error {
	if f.set["trede"] || required {
		n, err := treden.parse("trede", f.trede)
		if err != nil {
			return err
		}
		in.Trede = ledgerv1.Trede(n)
	}
	if f.set["loonwaarde"] {
		lw, err := percent(f.loonwaarde)
		if err != nil {
			return err
		}
		in.LoonwaardeProcent = lw
	}
	if f.set["doel"] {
		in.Doel = f.doel
	}
	return nil
}

func (f *fields) applyPlaatsing(p *ledgerv1.Plaatsing, required bool) error {
	if f.set["type"] || required {
		n, err := plaatsingTypes.parse("type", f.typ)
		if err != nil {
			return err
		}
		p.Type = ledgerv1.PlaatsingType(n)
	}
	if f.set["werkgever"] {
		p.Werkgever = f.werkgever
	}
	if f.set["werkgever-kvk"] {
		p.WerkgeverKvk = f.kvk
	}
	if f.set["uren"] {
		h, err := strconv.ParseFloat(strings.ReplaceAll(f.uren, ",", "."), 64)
		if err != nil || !(h >= 0 && h <= 80) {
			return usageErrorf("--uren %q: geef een aantal uren per week tussen 0 en 80", f.uren)
		}
		p.MinutenPerWeek = uint32(math.Round(h * 60))
	}
	if f.set["loonwaarde"] {
		lw, err := percent(f.loonwaarde)
		if err != nil {
			return err
		}
		p.LoonwaardeProcent = lw
	}
	if f.set["lks-bedrag"] {
		cents, err := euroCents(f.lks)
		if err != nil {
			return err
		}
		p.LksCentPerMaand = cents
	}
	if f.set["product"] {
		p.Product = f.product
	}
	if f.set["einddatum"] {
		d, err := event.ParseDate(f.einddatum)
		if err != nil {
			return usageErrorf("--einddatum: %v", err)
		}
		p.GeplandeEinddatum = d
	}
	if f.set["reden-langer"] {
		p.RedenLanger = f.redenLanger
	}
	return nil
}

func (f *fields) applyUitval(u *ledgerv1.Uitval, required bool) error {
	if f.set["uitval-reden"] || required {
		n, err := uitvalRedenen.parse("reden", f.uitvalReden)
		if err != nil {
			return err
		}
		u.Reden = ledgerv1.UitvalReden(n)
	}
	if f.set["toelichting"] {
		u.Toelichting = f.toelichting
	}
	return nil
}

func (f *fields) applyVangnet(v *ledgerv1.TerugvalOpVangnet, required bool) error {
	if f.set["type"] || required {
		n, err := plaatsingTypes.parse("type", f.typ)
		if err != nil {
			return err
		}
		v.VangnetType = ledgerv1.PlaatsingType(n)
	}
	if f.set["van-plaatsing"] {
		v.VanPlaatsing = f.vanPlaatsing
	}
	if f.set["toelichting"] {
		v.Toelichting = f.toelichting
	}
	return nil
}

func (f *fields) applyUitstroom(u *ledgerv1.Uitstroom, required bool) error {
	if f.set["uitstroom-reden"] || required {
		n, err := uitstroomRedenen.parse("reden", f.uitstroomReden)
		if err != nil {
			return err
		}
		u.Reden = ledgerv1.UitstroomReden(n)
	}
	if f.set["toelichting"] {
		u.Toelichting = f.toelichting
	}
	return nil
}

func percent(n int) (uint32, error) {
	if n < 0 || n > 100 {
		return 0, usageErrorf("--loonwaarde %d: geef een percentage van 0 tot en met 100", n)
	}
	return uint32(n), nil
}

// euroAmount is how an amount is typed: euros, optionally a decimal point
// or comma and one or two cent digits.
var euroAmount = regexp.MustCompile(`^[0-9]{1,11}([.,][0-9]{1,2})?$`)

// euroCents reads an amount in euro ("1250", "1250.50", "1250,5") as cents
// without going through floating point.
func euroCents(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if !euroAmount.MatchString(s) {
		return 0, usageErrorf("bedrag %q: geef euro's, bijv. 1250 of 1250,50", s)
	}
	whole, frac, _ := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	frac = (frac + "00")[:2]
	w, _ := strconv.ParseInt(whole, 10, 64)
	c, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + c, nil
}

// recordOnce sends a transition with an event id of its own and sends it
// again when the answer got lost (server unreachable or too slow): the
// ledger recognises the id, so the transition is recorded once.
func recordOnce(ctx context.Context, cl ledgerv1connect.LedgerServiceClient, req *ledgerv1.RecordRequest) (*connect.Response[ledgerv1.RecordResponse], error) {
	req.EventId = uuid.NewString()
	return sendOnce(ctx, func() (*connect.Response[ledgerv1.RecordResponse], error) {
		return cl.Record(ctx, connect.NewRequest(req))
	})
}

// sendOnce sends a request that carries its own event id, and sends it
// again, a few times with growing pauses, while the server can not be
// reached or answers too late. Because the id is the same every time, the
// ledger records the fact once however often it arrives.
func sendOnce[T any](ctx context.Context, send func() (*connect.Response[T], error)) (*connect.Response[T], error) {
	wait := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, err := send()
		switch connect.CodeOf(err) {
		case connect.CodeUnavailable, connect.CodeDeadlineExceeded:
			if attempt < 4 && ctx.Err() == nil {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return nil, err
				}
				wait *= 2
				continue
			}
		}
		return resp, err
	}
}
