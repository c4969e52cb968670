package beleid

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gooi-vechtstreek/ledger/services/bounds"
	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/gemeente"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// ErrRefused is wrapped by every *Refusal.
var ErrRefused = errors.New("policy refused")

// Refusal is a policy, agreement or booking the rules do not allow.
type Refusal struct {
	Rule  string
	Reden string
	Err   error // an underlying sentinel, e.g. gemeente.ErrUnknownGemeente
}

func (r *Refusal) Error() string { return "geweigerd [" + r.Rule + "]: " + r.Reden }

// Unwrap lets errors.Is match ErrRefused and the underlying cause.
func (r *Refusal) Unwrap() []error {
	if r.Err != nil {
		return []error{ErrRefused, r.Err}
	}
	return []error{ErrRefused}
}

// Refused returns the rule and reason, as every refusal of the ledger does.
func (r *Refusal) Refused() (rule, reden string) { return r.Rule, r.Reden }

func refuse(rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Reden: fmt.Sprintf(format, args...)}
}

// Rule names.
const (
	RuleGemeente     = "beleid.gemeente"
	RuleGeldigVanaf  = "beleid.geldig-vanaf"
	RuleTerugwerkend = "beleid.geen-terugwerkende-kracht"
	RuleVolgorde     = "beleid.volgorde"
	RuleProduct      = "beleid.product"
	RuleBudget       = "beleid.budget"
	RuleLKSNorm      = "beleid.lks-norm"
	// A nacalculatie says why and by which decision, and revises a past
	// period only.
	RuleNacalculatieReden   = "nacalculatie.reden"
	RuleNacalculatieBesluit = "nacalculatie.besluit"
	RuleNacalculatiePeriode = "nacalculatie.verleden"
	RuleSleutelJaar         = "verdeelsleutel.jaar"
	RuleSleutelMethode      = "verdeelsleutel.methode"
	RuleKostenPeriode       = "gedeelde-kosten.periode"
	RuleKostenBedrag        = "gedeelde-kosten.bedrag"
	RuleKostenStroom        = "gedeelde-kosten.budgetstroom"
	RuleInkomstenGemeente   = "inkomsten.gemeente"
	RuleInkomstenJaar       = "inkomsten.jaar"
	RuleInkomstenStroom     = "inkomsten.budgetstroom"
	RuleInkomstenBedrag     = "inkomsten.bedrag"
	RuleInkomstenCorrectie  = "inkomsten.correctie"
	RuleDoelenGemeente      = "doelen.gemeente"
	RuleDoelenJaar          = "doelen.jaar"
	RuleDoelenLKS           = "doelen.lks-norm"
	RuleVerdelingJaar       = "resultaatverdeling.jaar"
	RuleVerdelingStroom     = "resultaatverdeling.budgetstroom"
	RuleVerdelingWijze      = "resultaatverdeling.verrekening"
	RuleVerdelingMethode    = "resultaatverdeling.methode"
)

// MaxCent bounds any amount in the ledger: €100 billion, far above any real
// tariff, budget or booking, and far enough below the int64 limit that sums
// of many lines cannot overflow.
const MaxCent = bounds.MaxCent

// Priced is how far a gemeente has been priced: every day up to and
// including Last (a placement day, hours, a booking), or nothing when Last
// is nil.
type Priced struct {
	Last *ledgerv1.Date
}

// DecideBeleid judges a new policy version of a gemeente against its
// history. A version never starts before the latest version, and never on
// a day already priced: what was priced stays priced at the tariff it got.
// When priced tells how far the gemeente has been priced, a version may
// start in the past after that day (a region that brings in its history, a
// gemeente that joins later); when priced is nil it is not known, and a
// version starts today at the earliest (or tomorrow, when a version is in
// force today).
func DecideBeleid(h History, reg *gemeente.Registry, code string, b *ledgerv1.Beleid, today *ledgerv1.Date, priced *Priced) error {
	from := b.GetGeldigVanaf()
	if from == nil || event.CheckDate(from) != nil {
		return refuse(RuleGeldigVanaf, "geef de datum vanaf wanneer het beleid geldt (--geldig-vanaf JJJJ-MM-DD)")
	}
	if reg != nil {
		if err := reg.CheckParticipates(code, from); err != nil {
			return &Refusal{Rule: RuleGemeente, Reden: err.Error(), Err: err}
		}
	}
	if n := b.GetNacalculatie(); n != nil {
		return decideNacalculatie(b, n, today)
	}
	switch {
	case today == nil || event.CompareDates(from, today) > 0:
		// A version for the future prices nothing yet.
	case priced != nil:
		if priced.Last != nil && event.CompareDates(from, priced.Last) <= 0 {
			return refuse(RuleTerugwerkend, "beleid geldt niet met terugwerkende kracht over dagen die al geprijsd zijn: voor %s is tot en met %s al geprijsd (plaatsingen, uren of gedeelde kosten); een nieuwe versie kan ingaan vanaf %s", code, event.FormatDate(priced.Last), event.FormatDate(event.AddDays(priced.Last, 1)))
		}
	case event.CompareDates(from, today) < 0:
		return refuse(RuleTerugwerkend, "beleid geldt niet met terugwerkende kracht: %s ligt vóór vandaag (%s); dagen die al geprijsd zijn blijven dat", event.FormatDate(from), event.FormatDate(today))
	default:
		// Today may already be priced by the version in force; a new one
		// starts tomorrow at the earliest. Only a gemeente without a version
		// in force today can start today: nothing of it is priced yet.
		if v := h.InForce(today); v != nil {
			return refuse(RuleTerugwerkend, "vandaag geldt al versie %s en is daarmee al geprijsd; een nieuwe versie gaat op zijn vroegst morgen in", v.Ref())
		}
	}
	for _, v := range h {
		if event.CompareDates(from, v.Beleid.GetGeldigVanaf()) < 0 {
			return refuse(RuleVolgorde, "versie %s geldt al vanaf %s; een nieuwe versie kan niet eerder ingaan (%s)", v.Ref(), event.FormatDate(v.Beleid.GetGeldigVanaf()), event.FormatDate(from))
		}
	}
	return decideContent(b)
}

// decideNacalculatie judges a revision of a past period. It may start
// before today, before days already priced and before later versions (which
// keep their own period: InForce takes the latest geldig_vanaf); what was
// priced keeps its price, and the difference is settled (costs: afrekening).
func decideNacalculatie(b *ledgerv1.Beleid, n *ledgerv1.Nacalculatie, today *ledgerv1.Date) error {
	switch {
	case strings.TrimSpace(n.GetReden()) == "":
		return refuse(RuleNacalculatieReden, "een nacalculatie zegt waarom het beleid achteraf herzien wordt; geef de reden")
	case strings.TrimSpace(n.GetBesluit()) == "":
		return refuse(RuleNacalculatieBesluit, "een nacalculatie noemt het besluit dat het beleid achteraf herziet (bijvoorbeeld AB 2026-14)")
	case today != nil && event.CompareDates(b.GetGeldigVanaf(), today) >= 0:
		return refuse(RuleNacalculatiePeriode, "een nacalculatie herziet een verleden periode; %s ligt niet vóór vandaag (%s): leg een gewone nieuwe versie vast", event.FormatDate(b.GetGeldigVanaf()), event.FormatDate(today))
	}
	return decideContent(b)
}

// decideContent judges the products, budgets and norm of a version.
func decideContent(b *ledgerv1.Beleid) error {
	seen := map[string]bool{}
	for _, t := range b.GetProducten() {
		p, ok := LookupProduct(t.GetProduct())
		switch {
		case !ok:
			return refuse(RuleProduct, "onbekend product %q", t.GetProduct())
		case seen[p.Code]:
			return refuse(RuleProduct, "product %q staat er twee keer in", p.Code)
		case p.Eenheid == PerJaar && (t.GetCentPerJaar() <= 0 || t.GetCentPerUur() != 0):
			return refuse(RuleProduct, "%s heeft een tarief per jaar (groter dan 0), geen uurtarief", p.Code)
		case p.Eenheid == PerUur && (t.GetCentPerUur() <= 0 || t.GetCentPerJaar() != 0):
			return refuse(RuleProduct, "%s heeft een uurtarief (groter dan 0), geen tarief per jaar", p.Code)
		case t.GetCentPerJaar() > MaxCent || t.GetCentPerUur() > MaxCent:
			return refuse(RuleProduct, "het tarief van %s is onwaarschijnlijk hoog", p.Code)
		case t.GetBudgetstroom() != ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED && t.GetBudgetstroom().Descriptor().Values().ByNumber(t.GetBudgetstroom().Number()) == nil:
			return refuse(RuleProduct, "onbekende budgetstroom %d bij %s", t.GetBudgetstroom(), p.Code)
		}
		seen[p.Code] = true
	}
	budgets := map[string]bool{}
	for _, bu := range b.GetBudgetten() {
		key := fmt.Sprintf("%d/%d", bu.GetJaar(), bu.GetBudgetstroom())
		switch {
		case bu.GetJaar() < 2000 || bu.GetJaar() > 2999:
			return refuse(RuleBudget, "budgetjaar %d valt buiten 2000-2999", bu.GetJaar())
		case bu.GetBudgetstroom() == ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED:
			return refuse(RuleBudget, "een budget hoort bij een budgetstroom")
		case bu.GetCent() < 0 || bu.GetCent() > MaxCent:
			return refuse(RuleBudget, "een budget ligt tussen 0 en € 100 miljard")
		case bu.GetBudgetstroom().Descriptor().Values().ByNumber(bu.GetBudgetstroom().Number()) == nil:
			return refuse(RuleBudget, "onbekende budgetstroom %d", bu.GetBudgetstroom())
		case budgets[key]:
			return refuse(RuleBudget, "het budget voor %d en deze budgetstroom staat er twee keer in", bu.GetJaar())
		}
		budgets[key] = true
	}
	if b.GetLksNorm() < 0 || b.GetLksNorm() > 1_000_000 {
		return refuse(RuleLKSNorm, "de LKS-norm kan niet negatief zijn")
	}
	return nil
}

// DecideVerdeelsleutel judges a verdeelsleutel for a year.
func DecideVerdeelsleutel(v *ledgerv1.Verdeelsleutel, today *ledgerv1.Date) error {
	if v.GetJaar() < 2000 || (today != nil && v.GetJaar() > today.GetYear()+1) {
		return refuse(RuleSleutelJaar, "een verdeelsleutel geldt voor een jaar tot en met volgend jaar, niet %d", v.GetJaar())
	}
	if v.GetMethode() == ledgerv1.Verdeelmethode_VERDEELMETHODE_UNSPECIFIED || v.GetMethode().Descriptor().Values().ByNumber(v.GetMethode().Number()) == nil {
		return refuse(RuleSleutelMethode, "kies de verdeling: inwoners, caseload-dagen of plaatsing-dagen")
	}
	return nil
}

// DecideInkomsten judges a record of a gemeente's income for a budget
// stream and year. known says whether a code is a participant.
func DecideInkomsten(in *ledgerv1.Inkomsten, known func(string) bool) error {
	s := in.GetBudgetstroom()
	switch {
	case in.GetGemeente() == "" || !known(in.GetGemeente()):
		return refuse(RuleInkomstenGemeente, "geef de deelnemende gemeente die de inkomsten ontvangt (GMxxxx); %q is geen deelnemer", in.GetGemeente())
	case in.GetJaar() < 2000 || in.GetJaar() > 2999:
		return refuse(RuleInkomstenJaar, "geef het jaar van de inkomsten")
	case s == ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED || s.Descriptor().Values().ByNumber(s.Number()) == nil:
		return refuse(RuleInkomstenStroom, "geef de budgetstroom van de inkomsten")
	case in.GetCent() < 0 || in.GetCent() > MaxCent:
		return refuse(RuleInkomstenBedrag, "het bedrag ligt tussen 0 en € 100 miljard")
	case in.GetCorrectieCent() < 0 || in.GetCorrectieCent() > in.GetCent():
		return refuse(RuleInkomstenCorrectie, "een correctie ligt tussen 0 en het bedrag zelf")
	case in.GetCorrectieCent() > 0 && strings.TrimSpace(in.GetCorrectieReden()) == "":
		return refuse(RuleInkomstenCorrectie, "geef de reden van de correctie (bijv. \"korting 5%% Participatiebudget\")")
	}
	return nil
}

// DecideDoelen judges a record of a gemeente's targets and denominators
// for a year. known says whether a code is a participant.
func DecideDoelen(d *ledgerv1.Doelen, known func(string) bool) error {
	switch {
	case d.GetGemeente() == "" || !known(d.GetGemeente()):
		return refuse(RuleDoelenGemeente, "geef de deelnemende gemeente van de doelen (GMxxxx); %q is geen deelnemer", d.GetGemeente())
	case d.GetJaar() < 2000 || d.GetJaar() > 2999:
		return refuse(RuleDoelenJaar, "geef het jaar van de doelen")
	case d.GetLksNormVijftigProcent() > 0 && d.GetLksNormVijfenzeventigProcent() > 0 && d.GetLksNormVijfenzeventigProcent() < d.GetLksNormVijftigProcent():
		return refuse(RuleDoelenLKS, "de LKS-norm bij 75%% (%d) is kleiner dan die bij 50%% (%d)", d.GetLksNormVijfenzeventigProcent(), d.GetLksNormVijftigProcent())
	}
	return nil
}

// DecideResultaatverdeling judges a regional agreement on settling a
// year's result: each stream named once, with how it is settled, and for
// solidarity the weights its result is divided by.
func DecideResultaatverdeling(r *ledgerv1.Resultaatverdeling) error {
	if r.GetJaar() < 2000 || r.GetJaar() > 2999 {
		return refuse(RuleVerdelingJaar, "geef het jaar waarvan het resultaat wordt verdeeld")
	}
	seen := map[ledgerv1.Budgetstroom]bool{}
	for _, st := range r.GetStromen() {
		s := st.GetBudgetstroom()
		switch {
		case s == ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED || s.Descriptor().Values().ByNumber(s.Number()) == nil:
			return refuse(RuleVerdelingStroom, "geef de budgetstroom van elke verrekening")
		case seen[s]:
			return refuse(RuleVerdelingStroom, "de budgetstroom %s staat twee keer in de resultaatverdeling", streamName(s))
		}
		seen[s] = true
		switch st.GetVerrekening() {
		case ledgerv1.Verrekening_VERREKENING_EEN_OP_EEN:
			if st.GetMethode() != ledgerv1.Verdeelmethode_VERDEELMETHODE_UNSPECIFIED {
				return refuse(RuleVerdelingMethode, "%s wordt een-op-een verrekend; een verdeelmethode hoort alleen bij solidaire verrekening", streamName(s))
			}
		case ledgerv1.Verrekening_VERREKENING_SOLIDAIR:
			if m := st.GetMethode(); m == ledgerv1.Verdeelmethode_VERDEELMETHODE_UNSPECIFIED || m.Descriptor().Values().ByNumber(m.Number()) == nil {
				return refuse(RuleVerdelingMethode, "kies voor de solidaire verrekening van %s de verdeling: inwoners, caseload-dagen of plaatsing-dagen", streamName(s))
			}
		default:
			return refuse(RuleVerdelingWijze, "kies voor %s een-op-een of solidair", streamName(s))
		}
	}
	return nil
}

// streamName is a budget stream as the CLI names it: "buig",
// "bedrijfsvoering".
func streamName(s ledgerv1.Budgetstroom) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.String(), "BUDGETSTROOM_")), "_", "-")
}

// DecideGedeeldeKosten judges a booking of shared costs for the period from
// g.van through last. The period lies within one year and is over, so that
// the division by caseload or placements is final when it is booked.
func DecideGedeeldeKosten(g *ledgerv1.GedeeldeKosten, last, today *ledgerv1.Date) error {
	van := g.GetVan()
	switch {
	case van == nil || last == nil || event.CheckDate(van) != nil || event.CheckDate(last) != nil:
		return refuse(RuleKostenPeriode, "geef de periode: van en tot en met")
	case event.CompareDates(van, last) > 0:
		return refuse(RuleKostenPeriode, "de periode begint (%s) na het einde (%s)", event.FormatDate(van), event.FormatDate(last))
	case van.GetYear() != last.GetYear():
		return refuse(RuleKostenPeriode, "een boeking ligt binnen één kalenderjaar (de verdeelsleutel geldt per jaar); splits %s – %s", event.FormatDate(van), event.FormatDate(last))
	case today != nil && event.CompareDates(last, today) >= 0:
		return refuse(RuleKostenPeriode, "boek gedeelde kosten na afloop van de periode; %s is nog niet voorbij", event.FormatDate(last))
	case g.GetCent() <= 0 || g.GetCent() > MaxCent:
		return refuse(RuleKostenBedrag, "het bedrag ligt tussen 0 en € 100 miljard")
	case g.GetBudgetstroom() == ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED || g.GetBudgetstroom().Descriptor().Values().ByNumber(g.GetBudgetstroom().Number()) == nil:
		return refuse(RuleKostenStroom, "geef de budgetstroom")
	}
	return nil
}
