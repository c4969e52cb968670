package beleid

import (
	"fmt"
	"sort"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/event"
	"github.com/gooi-vechtstreek/ledger/services/store"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Version is one recorded policy version of a gemeente.
type Version struct {
	Gemeente string
	// Versie counts the gemeente's versions from 1 in the order recorded.
	Versie   uint64
	EventID  string
	Recorded time.Time
	Actor    string
	Beleid   *ledgerv1.Beleid
	// Present: the call that returned it found the version recorded before
	// (a retry) and wrote nothing.
	Present bool
	// Position is where the version's event is in the store, when the call
	// that returned it wrote or found it.
	Position store.Position
}

// Ref names the version in cost lines: "GM0402/v3".
func (v *Version) Ref() string { return fmt.Sprintf("%s/v%d", v.Gemeente, v.Versie) }

// Tarief returns the tariff of a product if this version buys it.
func (v *Version) Tarief(product string) (*ledgerv1.ProductTarief, bool) {
	for _, p := range v.Beleid.GetProducten() {
		if p.GetProduct() == product {
			return p, true
		}
	}
	return nil, false
}

// Budgetstroom is what a bought product is paid from: the policy's choice,
// else the catalogue's.
func Budgetstroom(t *ledgerv1.ProductTarief) ledgerv1.Budgetstroom {
	if b := t.GetBudgetstroom(); b != ledgerv1.Budgetstroom_BUDGETSTROOM_UNSPECIFIED {
		return b
	}
	p, _ := LookupProduct(t.GetProduct())
	return p.Budgetstroom
}

// Budget returns the budget of a stream in a year, and whether one is set.
func (v *Version) Budget(year int32, b ledgerv1.Budgetstroom) (int64, bool) {
	for _, bu := range v.Beleid.GetBudgetten() {
		if bu.GetJaar() == year && bu.GetBudgetstroom() == b {
			return bu.GetCent(), true
		}
	}
	return 0, false
}

// History is a gemeente's policy versions, ordered by Versie.
type History []*Version

// InForce returns the version in force on day d: of the versions whose
// geldig_vanaf is on or before d, the one with the latest geldig_vanaf
// (the highest Versie among equals). Nil when none is.
func (h History) InForce(d *ledgerv1.Date) *Version {
	var best *Version
	for _, v := range h {
		from := v.Beleid.GetGeldigVanaf()
		if event.CompareDates(from, d) > 0 {
			continue
		}
		if best == nil || event.CompareDates(from, best.Beleid.GetGeldigVanaf()) >= 0 {
			best = v
		}
	}
	return best
}

// Add appends a recorded version, keeping Versie order.
func (h History) Add(v *Version) History {
	h = append(h, v)
	sort.SliceStable(h, func(i, j int) bool { return h[i].Versie < h[j].Versie })
	return h
}
