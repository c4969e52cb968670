package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	"github.com/gooi-vechtstreek/ledger/services/beleid"
	"github.com/gooi-vechtstreek/ledger/services/bounds"
	"github.com/gooi-vechtstreek/ledger/services/caseflow"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Namespaces of the ids an import derives from source ids: the same source
// record always becomes the same event, the same source case the same case.
var (
	importEventNamespace = uuid.MustParse("8d3c0f6e-1b7a-4c52-9e1d-2a6f4b8c0d13")
	importCaseNamespace  = uuid.MustParse("c41e9a27-5d3b-4f80-8b6c-7e2d1f0a9b35")
)

// ImportEventID is the event id of source record bron of systeem.
func ImportEventID(systeem, bron string) uuid.UUID {
	return uuid.NewSHA1(importEventNamespace, []byte(systeem+"\x00"+bron))
}

// ImportCaseID is the case id of source case zaak of systeem.
func ImportCaseID(systeem, zaak string) uuid.UUID {
	return uuid.NewSHA1(importCaseNamespace, []byte(systeem+"\x00"+zaak))
}

// Rules of the import itself, next to those of the transitions.
const (
	RuleImportBron    = "import.bron"
	RuleImportZaak    = "import.zaak"
	RuleImportVerzoek = "import.verzoek"
	RuleImportOpslag  = "import.opslag"
)

// MaxImportLines bounds the lines of one Import call.
const MaxImportLines = 5000

// Import applies lines of a region's history in order (see api.proto).
func (s *Server) Import(ctx context.Context, req *connect.Request[ledgerv1.ImportRequest]) (*connect.Response[ledgerv1.ImportResponse], error) {
	start := time.Now()
	m := req.Msg
	if m.GetSysteem() == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("geef het bronsysteem (systeem): met de bron van elke regel bepaalt het de event-id's"))
	}
	if len(m.GetRegels()) > MaxImportLines {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%d regels in één verzoek; ten hoogste %d", len(m.GetRegels()), MaxImportLines))
	}
	batch, release := s.importBatch(m.GetSysteem())
	defer release()
	defer batch.Settle()
	imp := &importRun{s: s, systeem: m.GetSysteem(), actor: actor(ctx), batch: batch, flushAt: max(1, batch.StepSize()/4), refused: map[string]bool{}}
	resp := &ledgerv1.ImportResponse{}
	imp.prefetch(ctx, m.GetRegels())
	for i, r := range m.GetRegels() {
		u := &ledgerv1.ImportUitkomst{Regel: m.GetEersteRegel() + uint64(i), Bron: r.GetBron()}
		resp.Uitkomsten = append(resp.Uitkomsten, u)
		if err := imp.line(ctx, r, u); err != nil {
			// Not a refusal: the store or a policy read failed. What is
			// decided so far is written; the caller may run the import
			// again, which resumes where this one stopped.
			imp.finish(ctx)
			s.log().Error("import stopped", "regel", u.Regel, "err", err)
			return nil, s.toConnect(fmt.Errorf("import line %d: %w", u.Regel, err))
		}
	}
	imp.finish(ctx)
	if imp.last != store.Start {
		resp.Positie = imp.last.String()
	}
	s.log().Info("import", "systeem", imp.systeem, "regels", len(m.GetRegels()), "took", time.Since(start))
	return connect.NewResponse(resp), nil
}

// importCases bounds the cases an import keeps in memory between calls.
// A history comes in order of time and a case's lines are spread over the
// time it is open, so the bound must hold the cases open at once: at a
// million events (about 190,000 cases in three years) a bound of 50,000
// read 300,000 cases again, one of 150,000 about 11,000.
const importCases = 150_000

// importIdle is how long the cases of an import stay in memory after its
// last call.
const importIdle = time.Minute

// importBatches keeps, per source system, the batch of the import running
// from it: an import file comes in many calls, and a case's lines are
// spread over them; keeping its events saves reading it from the store in
// every call. Calls for one source system take turns.
type importBatches struct {
	mu      sync.Mutex
	batches map[string]*importSlot
}

type importSlot struct {
	mu    sync.Mutex
	batch *caseflow.Batch
	idle  *time.Timer // forgets the batch's cases when no call came for importIdle
}

func (s *Server) importBatch(systeem string) (*caseflow.Batch, func()) {
	s.imports.mu.Lock()
	if s.imports.batches == nil {
		s.imports.batches = map[string]*importSlot{}
	}
	slot, ok := s.imports.batches[systeem]
	if !ok {
		slot = &importSlot{batch: s.Cases.NewBatch()}
		s.imports.batches[systeem] = slot
	}
	s.imports.mu.Unlock()
	slot.mu.Lock()
	if slot.idle != nil {
		slot.idle.Stop()
	}
	// Policies may have changed since the last call.
	slot.batch.ForgetPolicies()
	slot.batch.Trim(importCases)
	return slot.batch, func() {
		slot.idle = time.AfterFunc(importIdle, func() {
			slot.mu.Lock()
			defer slot.mu.Unlock()
			slot.batch.Forget()
		})
		slot.mu.Unlock()
	}
}

// importRun is one Import call.
type importRun struct {
	s       *Server
	systeem string
	actor   string
	batch   *caseflow.Batch
	// flushAt is how many waiting events are handed over to be stored:
	// a quarter of the store's atomic step, so that a call of 5,000 lines
	// is decided while its first part is stored (at 291,923 events whole
	// steps gave 9,572 and 8,743 events/s, quarter steps 8,575 and 11,477
	// in the same series).
	flushAt int
	// refused holds the cases (by source case id or case id) with a refused
	// line: their later lines are skipped.
	refused map[string]bool
	// last is the store position of the last event this call stored.
	last store.Position
	// queued are the lines whose events wait in the batch, with their case.
	queued []queuedLine
	// inflight is closed when the events handed over last are stored;
	// settle then applies the outcome on the import's goroutine.
	inflight chan struct{}
	settle   func()
}

type queuedLine struct {
	u      *ledgerv1.ImportUitkomst
	key    string
	caseID uuid.UUID
}

// prefetch starts reading the cases the lines name, side by side, while the
// lines are decided one by one in order: most lines of a new region's
// history are the first of their case, and each would otherwise wait for a
// read.
func (imp *importRun) prefetch(ctx context.Context, regels []*ledgerv1.ImportRegel) {
	ids := make([]uuid.UUID, 0, len(regels))
	for _, r := range regels {
		rec := r.GetRecord()
		switch {
		case rec == nil:
		case r.GetZaak() != "":
			ids = append(ids, ImportCaseID(imp.systeem, r.GetZaak()))
		default:
			if id, err := uuid.Parse(rec.GetCaseId()); err == nil {
				ids = append(ids, id)
			}
		}
	}
	// The regional model knows every stored case: a case it does not know
	// (most of a first import) is not read at all. Once the batch holds
	// what this import wrote, the model is asked as it is: it need not
	// have applied the import's own writes, which it would otherwise be
	// waited for in every call.
	ask := imp.batch.Unknown(ids)
	if imp.s.Region != nil && len(ask) > 0 {
		strs := make([]string, len(ask))
		for i, id := range ask {
			strs[i] = id.String()
		}
		var absent []string
		var err error
		if imp.batch.Blank() {
			absent, err = imp.s.Region.Absent(ctx, strs)
		} else {
			absent, err = imp.s.Region.AbsentSoFar(strs)
		}
		if err == nil {
			none := make([]uuid.UUID, len(absent))
			for i, a := range absent {
				none[i] = uuid.MustParse(a)
			}
			imp.batch.NotStored(none)
		}
	}
	imp.batch.Prefetch(ctx, ids)
}

func refuseLine(u *ledgerv1.ImportUitkomst, rule, reden string) {
	u.Status, u.Rule, u.Reden = ledgerv1.ImportStatus_IMPORT_STATUS_GEWEIGERD, rule, reden
}

// line applies one line. It returns an error only for a failure that is not
// the line's fault; a refusal is the line's outcome.
func (imp *importRun) line(ctx context.Context, r *ledgerv1.ImportRegel, u *ledgerv1.ImportUitkomst) error {
	if r.GetBron() == "" {
		refuseLine(u, RuleImportBron, "geef de bron: het id van het record in het bronsysteem")
		return nil
	}
	// A line out of bounds is refused on its own, as a refused transition
	// is: the lines before it stand.
	outOfBounds := bounds.Check(r)
	meta := beleid.Meta{Actor: imp.actor, EventID: ImportEventID(imp.systeem, r.GetBron()), Bron: &ledgerv1.Bron{Systeem: imp.systeem, Record: r.GetBron()}}
	u.EventId = meta.EventID.String()
	var v *bounds.Violation
	if _, isRecord := r.GetVerzoek().(*ledgerv1.ImportRegel_Record); !isRecord && errors.As(outOfBounds, &v) {
		rule, reden := v.Refused()
		refuseLine(u, rule, reden)
		return nil
	}
	switch v := r.GetVerzoek().(type) {
	case *ledgerv1.ImportRegel_Record:
		return imp.record(ctx, r, v.Record, meta, u, outOfBounds)
	case *ledgerv1.ImportRegel_Beleid:
		// Cases decided later must see this policy, and a backdated policy
		// must see every case decided before it: write what waits first.
		imp.finish(ctx)
		if imp.s.Region != nil {
			asOf, err := imp.s.Region.Latest(ctx)
			if err != nil {
				return err
			}
			meta.AsOf = asOf
		}
		ver, err := imp.s.Beleid.RecordBeleid(ctx, v.Beleid.GetGemeente(), meta, v.Beleid.GetBeleid())
		imp.batch.ForgetPolicies()
		if ver != nil {
			imp.note(ver.Position)
		}
		return imp.outcome(u, err, ver != nil && ver.Present)
	case *ledgerv1.ImportRegel_Regio:
		imp.finish(ctx)
		ev, ok := regioPayload(v.Regio)
		if !ok {
			refuseLine(u, RuleImportVerzoek, "een regio-regel heeft een verdeelsleutel of gedeelde kosten")
			return nil
		}
		res, err := imp.s.Beleid.RecordRegio(ctx, meta, v.Regio.GetDatum(), ev)
		imp.note(res.Position)
		return imp.outcome(u, err, res.Present)
	}
	refuseLine(u, RuleImportVerzoek, "een regel heeft precies één verzoek: record, beleid of regio")
	return nil
}

// outcome records the outcome of a policy or regional line.
func (imp *importRun) outcome(u *ledgerv1.ImportUitkomst, err error, present bool) error {
	var ref refused
	switch {
	case errors.As(err, &ref):
		rule, reden := ref.Refused()
		refuseLine(u, rule, reden)
	case err != nil:
		return err
	case present:
		u.Status = ledgerv1.ImportStatus_IMPORT_STATUS_AL_AANWEZIG
	default:
		u.Status = ledgerv1.ImportStatus_IMPORT_STATUS_VASTGELEGD
	}
	return nil
}

func (imp *importRun) record(ctx context.Context, r *ledgerv1.ImportRegel, rec *ledgerv1.RecordRequest, meta beleid.Meta, u *ledgerv1.ImportUitkomst, outOfBounds error) error {
	cmd, err := imp.s.command(rec)
	if err != nil && outOfBounds == nil {
		refuseLine(u, RuleImportVerzoek, connect.CodeOf(err).String()+": "+errMessage(err))
		return nil
	}
	_, aanmelding := cmd.Transition.GetPayload().(*ledgerv1.Event_Aanmelding)
	key := cmd.CaseID.String()
	if z := r.GetZaak(); z != "" {
		key = "zaak:" + z
		zaakID := ImportCaseID(imp.systeem, z)
		switch {
		case aanmelding:
			cmd.NewCaseID = zaakID
		case cmd.CaseID != uuid.Nil && cmd.CaseID != zaakID:
			refuseLine(u, RuleImportZaak, fmt.Sprintf("de regel noemt zaak %q en case_id %s, die niet bij elkaar horen; noem er één", z, cmd.CaseID))
			return nil
		default:
			cmd.CaseID = zaakID
		}
	}
	if imp.refused[key] && key != uuid.Nil.String() {
		u.Status = ledgerv1.ImportStatus_IMPORT_STATUS_OVERGESLAGEN
		u.Reden = "een eerdere regel van deze zaak is geweigerd; de zaak is geïmporteerd tot en met de regel daarvoor"
		return nil
	}
	var v *bounds.Violation
	if errors.As(outOfBounds, &v) {
		rule, reden := v.Refused()
		refuseLine(u, rule, reden)
		imp.refused[key] = true
		return nil
	}
	// The importing user is the actor, the historical date the date, and
	// the id follows from the source: never what the line says of itself.
	cmd.Actor, cmd.EventID, cmd.Bron, cmd.ExpectedRevision = imp.actor, meta.EventID, meta.Bron, nil
	res, err := imp.batch.Handle(ctx, cmd)
	var ref refused
	switch {
	case errors.As(err, &ref):
		rule, reden := ref.Refused()
		refuseLine(u, rule, reden)
		imp.refused[key] = true
		return nil
	case err != nil:
		return err
	}
	u.CaseId = res.CaseID.String()
	if res.Present {
		u.Status = ledgerv1.ImportStatus_IMPORT_STATUS_AL_AANWEZIG
		return nil
	}

	u.Status = ledgerv1.ImportStatus_IMPORT_STATUS_VASTGELEGD
	imp.queued = append(imp.queued, queuedLine{u: u, key: key, caseID: res.CaseID})
	// One durable commit for many events instead of one each.
	if imp.batch.Pending() >= imp.flushAt {
		imp.flush(ctx)
	}
	return nil
}

// flush hands the waiting events to be stored while the next lines are
// decided: it first waits for the previous hand-over, whose failed cases'
// lines are refused and their later lines skipped.
func (imp *importRun) flush(ctx context.Context) {
	imp.wait()
	if imp.batch.Pending() == 0 {
		return
	}
	w, queued := imp.batch.Take(), imp.queued
	imp.queued = nil
	done := make(chan struct{})
	imp.inflight = done
	go func() {
		defer close(done)
		failed := w.Store(ctx)
		imp.settle = func() {
			imp.note(w.Last())
			imp.batch.Drop(failed)
			for _, q := range queued {
				if err, ok := failed[q.caseID]; ok {
					refuseLine(q.u, RuleImportOpslag, "niet opgeslagen: "+err.Error())
					imp.refused[q.key] = true
				}
			}
			if len(failed) > 0 {
				imp.s.log().Error("import: events not stored", "cases", len(failed))
			}
		}
	}()
}

// wait waits until the events handed over are stored and settles their
// lines.
func (imp *importRun) wait() {
	if imp.inflight == nil {
		return
	}
	<-imp.inflight
	imp.inflight = nil
	imp.settle()
	imp.settle = nil
}

// finish stores everything decided: before a policy or regional line, and
// before the answer.
func (imp *importRun) finish(ctx context.Context) {
	imp.flush(ctx)
	imp.wait()
}

func (imp *importRun) note(p store.Position) {
	if imp.last.Less(p) {
		imp.last = p
	}
}

func errMessage(err error) string {
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr.Message()
	}
	return err.Error()
}
