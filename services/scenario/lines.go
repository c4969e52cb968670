package scenario

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// ImportLines turns the steps into the lines of an import file, as an old
// system's export of the same history would give them: each step a source
// record ("stap-N"), each aanmelding a source case of its resident, and
// every later step of the resident naming that case. Importing them gives
// the history that Run records live.
func ImportLines(steps []Step) []*ledgerv1.ImportRegel {
	out := make([]*ledgerv1.ImportRegel, 0, len(steps))
	opened := map[int]int{} // resident → number of aanmeldingen so far
	for i, s := range steps {
		r := &ledgerv1.ImportRegel{Bron: fmt.Sprintf("stap-%d", i)}
		switch {
		case s.Beleid != nil:
			r.Verzoek = &ledgerv1.ImportRegel_Beleid{Beleid: s.Beleid}
		case s.Regio != nil:
			r.Verzoek = &ledgerv1.ImportRegel_Regio{Regio: s.Regio}
		case s.Record != nil:
			rec := proto.Clone(s.Record).(*ledgerv1.RecordRequest)
			rec.CaseId = ""
			if rec.GetAanmelding() != nil {
				opened[s.Resident]++
			}
			r.Zaak = fmt.Sprintf("inwoner-%d-%d", s.Resident, opened[s.Resident])
			r.Verzoek = &ledgerv1.ImportRegel_Record{Record: rec}
		}
		out = append(out, r)
	}
	return out
}
