package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/projections/beleidsview"
	"github.com/gooi-vechtstreek/ledger/projections/caseload"
	"github.com/gooi-vechtstreek/ledger/projections/region"
	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
	"github.com/gooi-vechtstreek/ledger/services/api"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"
	"github.com/gooi-vechtstreek/ledger/services/store"
)

const auditVergelijkSynopsis = `ledger audit vergelijk [--gemeente GM..] [--jaar JJJJ] [--gemeenten BESTAND]

Maakt elke projectie van elke gemeente (of één) in dit proces opnieuw uit de
opgeslagen gebeurtenissen, met dezelfde code als de ledger maar los van de
cijfers van de server, en vergelijkt haar veld voor veld met de live
projectie: het caseloadoverzicht, de beleidsview van het jaar en de
kostenregels van het jaar. De geschiedenis wordt één keer gelezen; is een
live cijfer van een latere positie, dan wordt de herbouw tot precies die
positie bijgelezen, zodat beide van dezelfde geschiedenis zijn. Een verschil
is een bevinding (afsluitcode 3) en noemt de projectie, de gemeente en het
veld, met de live en de herbouwde waarde. Kon een projectie niet vergeleken
worden, dan zegt de regel FOUT waarom, gaan de andere door en is de
afsluitcode 1. Rol auditor of centrum.`

// vergelijkPogingen bounds the retries when the ledger moves during a
// comparison: a busy ledger gets a few chances, then a clear answer.
const vergelijkPogingen = 5

// An outcome of `ledger audit vergelijk --json`, one per projection and
// gemeente.
type vergelijking struct {
	Projectie   string   `json:"projectie"`
	Gemeente    string   `json:"gemeente"`
	Positie     string   `json:"positie,omitempty"`
	Gelijk      bool     `json:"gelijk"`
	Verschillen []string `json:"verschillen,omitempty"`
	// Why the projection could not be compared; then Gelijk says nothing.
	Fout string `json:"fout,omitempty"`
}

func auditVergelijk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ledger audit vergelijk", auditVergelijkSynopsis, stderr)
	var c conn
	c.register(fs)
	gm := fs.String("gemeente", "", "alleen deze gemeente (standaard: elke deelnemer)")
	jaar := fs.Int("jaar", 0, "het jaar van de beleidsview en de kosten (standaard: het jaar van de server)")
	file := fs.String("gemeenten", "deploy/gemeenten.json", "databestand met de deelnemende gemeenten, zoals de server het gebruikt")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	reg, err := gemeente.Load(*file)
	if err != nil {
		return usageErrorf("--gemeenten: %v", err)
	}
	client := c.client()
	codes := []string{*gm}
	if *gm == "" {
		resp, err := client.ListGemeenten(ctx, connect.NewRequest(&ledgerv1.ListGemeentenRequest{}))
		if err != nil {
			return err
		}
		codes = codes[:0]
		for _, g := range resp.Msg.GetGemeenten() {
			codes = append(codes, g.GetCode())
		}
	}
	// The whole history, once; every comparison below extends it to the
	// position of the live figure it compares with.
	rb := &rebuild{client: client, reg: reg, m: region.New(reg), caseload: caseload.NewReplayed(reg), stderr: stderr}
	if err := rb.extend(ctx, ""); err != nil {
		if code := connect.CodeOf(err); code == connect.CodePermissionDenied || code == connect.CodeUnauthenticated {
			return fmt.Errorf("audit vergelijk leest de hele geschiedenis (rol auditor of centrum): %w", err)
		}
		return err
	}
	var out []vergelijking
	for _, g := range codes {
		fmt.Fprintf(stderr, "vergelijken: %s\n", g)
		for _, cmp := range []func(context.Context, projections, *rebuild, string, int32) (vergelijking, error){compareCaseload, compareBeleidsview, compareKosten} {
			v, err := cmp(ctx, client, rb, g, int32(*jaar))
			if code := connect.CodeOf(err); code == connect.CodePermissionDenied || code == connect.CodeUnauthenticated {
				return err // no use trying the rest
			}
			if err != nil {
				// One projection that can not be compared says nothing
				// about the others: report it and go on.
				v.Fout = err.Error()
			}
			out = append(out, v)
		}
	}
	differ, failed := 0, 0
	for _, v := range out {
		switch {
		case v.Fout != "":
			failed++
		case !v.Gelijk:
			differ++
		}
	}
	if c.json {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			return err
		}
	} else {
		for _, v := range out {
			at := ""
			if v.Positie != "" {
				at = " op positie " + v.Positie
			}
			if v.Fout != "" {
				fmt.Fprintf(stdout, "FOUT       %-14s %s: %s\n", v.Projectie, v.Gemeente, v.Fout)
				continue
			}
			if v.Gelijk {
				fmt.Fprintf(stdout, "gelijk     %-14s %s%s\n", v.Projectie, v.Gemeente, at)
				continue
			}
			fmt.Fprintf(stdout, "VERSCHIL   %-14s %s%s\n", v.Projectie, v.Gemeente, at)
			for _, d := range v.Verschillen {
				fmt.Fprintf(stdout, "           %s\n", d)
			}
		}
	}
	if failed > 0 {
		return &failure{msg: fmt.Sprintf("%d van %d projecties konden niet vergeleken worden (zie FOUT); %d wijken af", failed, len(out), differ)}
	}
	if differ > 0 {
		return &finding{msg: fmt.Sprintf("BEVINDING: %d van %d projecties wijken live af van hun herbouw uit de opslag", differ, len(out))}
	}
	return nil
}

// projections is the part of the API the comparisons read.
type projections interface {
	GetView(context.Context, *connect.Request[ledgerv1.GetViewRequest]) (*connect.Response[ledgerv1.GetViewResponse], error)
	GetBeleidsview(context.Context, *connect.Request[ledgerv1.GetBeleidsviewRequest]) (*connect.Response[ledgerv1.GetBeleidsviewResponse], error)
	ExportKosten(context.Context, *connect.Request[ledgerv1.ExportKostenRequest]) (*connect.Response[ledgerv1.ExportKostenResponse], error)
}

// rebuild is the auditor's own rebuild of every projection, in this
// process, from the stored events read through the API: extended, never
// made again, as live figures of later positions come in.
type rebuild struct {
	client   ledgerv1connect.LedgerServiceClient
	reg      *gemeente.Registry
	m        *region.Model
	caseload *caseload.Replayed
	stderr   io.Writer
}

// at is the position the rebuild holds, "" before any event.
func (r *rebuild) at() string {
	if r.m.Events() == 0 {
		return ""
	}
	return r.m.Position().String()
}

// extend reads the stored events after what the rebuild holds up to tot
// (empty: the head) into the regional model and the caseload views.
func (r *rebuild) extend(ctx context.Context, tot string) error {
	if tot != "" {
		p, err := store.ParsePosition(tot)
		if err != nil {
			return fmt.Errorf("positie %q: %w", tot, err)
		}
		if !r.m.Position().Less(p) {
			return nil // already there
		}
	}
	van := r.at()
	prog := newProgress(r.stderr, "opnieuw gelezen")
	defer prog.done()
	return readEvents(ctx, r.client, van, tot, "", func(_ *ledgerv1.StoredEvent, rec store.RecordedEvent) error {
		prog.step(rec.Position)
		if err := r.m.ApplyRecord(rec); err != nil {
			return err
		}
		return r.caseload.Apply(rec)
	})
}

// compareCaseload: the live caseload view says the position of its last
// event (bijgewerkt_tot), and is asked for once it holds everything up to
// what the rebuild read (na_positie); the rebuild reads on to its
// bijgewerkt_tot. A view composed over a herindeling is made of several
// gemeenten' streams, and its bijgewerkt_tot is the latest of theirs: only
// when that is not beyond the position waited for is every stream known to
// hold the same history as the rebuild. Otherwise the live view is asked
// again.
func compareCaseload(ctx context.Context, c projections, rb *rebuild, g string, _ int32) (vergelijking, error) {
	res := vergelijking{Projectie: "caseload", Gemeente: g}
	req := &ledgerv1.GetViewRequest{Gemeente: g, NaPositie: rb.at()}
	for range vergelijkPogingen {
		live, err := c.GetView(ctx, connect.NewRequest(req))
		if retry(err) {
			continue
		} else if err != nil {
			return res, fmt.Errorf("caseload %s live: %w", g, err)
		}
		lv := live.Msg.GetView()
		tot := lv.GetBijgewerktTot()
		if tot != "" {
			// A gemeente without events has nothing to read up to.
			if err := rb.extend(ctx, tot); err != nil {
				return res, fmt.Errorf("caseload %s herbouwd: %w", g, err)
			}
		}
		again, ok := rb.caseload.View(g, rb.reg, live.Msg.GetCertificaat().GetPeildatum())
		if !ok {
			return res, fmt.Errorf("caseload %s: niet in het databestand met de deelnemers", g)
		}
		// A view of one stream holds all of its events up to its
		// bijgewerkt_tot; only a composed one can hold a later event of one
		// stream and not yet an earlier one of another.
		beyond := false
		if len(lv.GetHerindelingen()) > 0 {
			var err error
			if beyond, err = later(tot, req.NaPositie); err != nil {
				return res, fmt.Errorf("caseload %s: %w", g, err)
			}
		}
		if beyond || again.GetBijgewerktTot() != tot {
			req.NaPositie = rb.at()
			continue
		}
		res.Positie = tot
		res.Verschillen = protoDiff(lv, again, map[string]bool{"bron": true})
		res.Gelijk = len(res.Verschillen) == 0
		return res, nil
	}
	return res, fmt.Errorf("caseload %s: het live overzicht liep bij elk van %d pogingen achter op de herbouw; probeer het op een rustig moment", g, vergelijkPogingen)
}

// later reports whether store position a is after b; "" is before every
// position.
func later(a, b string) (bool, error) {
	if a == "" {
		return false, nil
	}
	pa, err := store.ParsePosition(a)
	if err != nil {
		return false, fmt.Errorf("positie %q: %w", a, err)
	}
	if b == "" {
		return true, nil
	}
	pb, err := store.ParsePosition(b)
	if err != nil {
		return false, fmt.Errorf("positie %q: %w", b, err)
	}
	return pb.Less(pa), nil
}

// retry reports whether a live read failed only because the projection
// was still catching up: the comparison tries again.
func retry(err error) bool {
	return err != nil && connect.CodeOf(err) == connect.CodeUnavailable
}

// compareBeleidsview: the live beleidsview, once it holds what the rebuild
// read, names its position; the rebuild is read up to exactly there and
// makes the view for the same year and peildatum.
func compareBeleidsview(ctx context.Context, c projections, rb *rebuild, g string, jaar int32) (vergelijking, error) {
	res := vergelijking{Projectie: "beleidsview", Gemeente: g}
	for range vergelijkPogingen {
		live, err := c.GetBeleidsview(ctx, connect.NewRequest(&ledgerv1.GetBeleidsviewRequest{Gemeente: g, Jaar: jaar, NaPositie: rb.at()}))
		if retry(err) {
			continue
		} else if err != nil {
			return res, fmt.Errorf("beleidsview %s live: %w", g, err)
		}
		cert := live.Msg.GetCertificaat()
		if err := rb.extend(ctx, cert.GetPositie()); err != nil {
			return res, fmt.Errorf("beleidsview %s herbouwd: %w", g, err)
		}
		y := int(jaar)
		if y == 0 {
			y = int(cert.GetPeildatum().GetYear())
		}
		v, err := beleidsview.Compute(rb.m, rb.reg, rb.reg.Centrum(), g, y, 0, region.DayOf(cert.GetPeildatum()))
		if err != nil {
			return res, fmt.Errorf("beleidsview %s herbouwd: %w", g, err)
		}
		beleidsview.DropClients(v)
		v.Bron, v.BijgewerktTot = api.BronReplay, rb.m.Position().String()
		again := rb.m.Certificate()
		again.Peildatum = cert.GetPeildatum()
		res.Positie = cert.GetPositie()
		res.Verschillen = protoDiff(live.Msg, &ledgerv1.GetBeleidsviewResponse{View: v, Certificaat: again}, map[string]bool{"achterstand": true, "bron": true})
		res.Gelijk = len(res.Verschillen) == 0
		return res, nil
	}
	return res, fmt.Errorf("beleidsview %s: de live beleidsview was bij elk van %d pogingen nog niet bij; probeer het op een rustig moment", g, vergelijkPogingen)
}

// compareKosten: as compareBeleidsview, for the cost lines of the year.
func compareKosten(ctx context.Context, c projections, rb *rebuild, g string, jaar int32) (vergelijking, error) {
	res := vergelijking{Projectie: "kosten", Gemeente: g}
	for range vergelijkPogingen {
		live, err := c.ExportKosten(ctx, connect.NewRequest(&ledgerv1.ExportKostenRequest{Gemeente: g, Jaar: jaar, NaPositie: rb.at()}))
		if retry(err) {
			continue
		} else if err != nil {
			return res, fmt.Errorf("kosten %s live: %w", g, err)
		}
		cert := live.Msg.GetCertificaat()
		if err := rb.extend(ctx, cert.GetPositie()); err != nil {
			return res, fmt.Errorf("kosten %s herbouwd: %w", g, err)
		}
		y := int(jaar)
		if y == 0 {
			y = int(cert.GetPeildatum().GetYear())
		}
		again, err := replayCosts(rb.m, rb.reg, g, y, cert.GetPeildatum())
		if err != nil {
			return res, fmt.Errorf("kosten %s herbouwd: %w", g, err)
		}
		res.Positie = cert.GetPositie()
		res.Verschillen = protoDiff(live.Msg, again, map[string]bool{"achterstand": true})
		res.Gelijk = len(res.Verschillen) == 0
		return res, nil
	}
	return res, fmt.Errorf("kosten %s: de live kosten waren bij elk van %d pogingen nog niet bij; probeer het op een rustig moment", g, vergelijkPogingen)
}

// maxVerschillen bounds what one projection reports: the first places
// say where to look.
const maxVerschillen = 20

// protoDiff names every field where live and replay differ, as a path
// ("per_maand[3].instroom: live 5, herbouwd 4"); fields named in skip
// (at any depth) say where the figures came from, not what they are.
func protoDiff(live, replay proto.Message, skip map[string]bool) []string {
	var out []string
	diffMessage(live.ProtoReflect(), replay.ProtoReflect(), "", skip, &out)
	if len(out) > maxVerschillen {
		n := len(out)
		out = append(out[:maxVerschillen], fmt.Sprintf("… en nog %d verschillen", n-maxVerschillen))
	}
	return out
}

func diffMessage(a, b protoreflect.Message, path string, skip map[string]bool, out *[]string) {
	fields := a.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		name := string(fd.Name())
		if skip[name] {
			continue
		}
		p := name
		if path != "" {
			p = path + "." + name
		}
		va, vb := a.Get(fd), b.Get(fd)
		switch {
		case fd.IsList():
			la, lb := va.List(), vb.List()
			for j := range max(la.Len(), lb.Len()) {
				q := fmt.Sprintf("%s[%d]", p, j)
				switch {
				case j >= la.Len():
					*out = append(*out, q+": alleen in de herbouw")
				case j >= lb.Len():
					*out = append(*out, q+": alleen live")
				case fd.Message() != nil:
					diffMessage(la.Get(j).Message(), lb.Get(j).Message(), q, skip, out)
				case !la.Get(j).Equal(lb.Get(j)):
					*out = append(*out, fmt.Sprintf("%s: live %v, herbouwd %v", q, la.Get(j), lb.Get(j)))
				}
			}
		case fd.IsMap():
			ma, mb := va.Map(), vb.Map()
			ma.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				q := fmt.Sprintf("%s[%v]", p, k)
				w := mb.Get(k)
				switch {
				case !mb.Has(k):
					*out = append(*out, q+": alleen live")
				case fd.MapValue().Message() != nil:
					diffMessage(v.Message(), w.Message(), q, skip, out)
				case !v.Equal(w):
					*out = append(*out, fmt.Sprintf("%s: live %v, herbouwd %v", q, v, w))
				}
				return true
			})
			mb.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				if !ma.Has(k) {
					*out = append(*out, fmt.Sprintf("%s[%v]: alleen in de herbouw", p, k))
				}
				return true
			})
		case fd.Message() != nil:
			if a.Has(fd) != b.Has(fd) {
				*out = append(*out, fmt.Sprintf("%s: live %s, herbouwd %s", p, present(a.Has(fd)), present(b.Has(fd))))
				continue
			}
			if a.Has(fd) {
				diffMessage(va.Message(), vb.Message(), p, skip, out)
			}
		case !va.Equal(vb):
			*out = append(*out, fmt.Sprintf("%s: live %v, herbouwd %v", p, printable(fmt.Sprint(va.Interface())), printable(fmt.Sprint(vb.Interface()))))
		}
	}
}

func present(has bool) string {
	if has {
		return "aanwezig"
	}
	return "afwezig"
}
