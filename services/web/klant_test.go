package web

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// TestTransitionRequest: a form becomes the request the command line would
// send, and a form that cannot be read is refused before anything is asked
// of the ledger, naming the field.
func TestTransitionRequest(t *testing.T) {
	cases := []struct {
		name  string
		form  url.Values
		field string // the field refused; "" when the form is read
		check func(*ledgerv1.RecordRequest) bool
	}{
		{"plaatsing", url.Values{"soort": {"plaatsing"}, "datum": {"2026-03-02"}, "type": {"beschut-werk"}, "werkgever": {" Tomin "}, "uren": {"28,5"}, "revisie": {"3"}, "event_id": {"e1"}}, "",
			func(r *ledgerv1.RecordRequest) bool {
				p := r.GetPlaatsing()
				return p.GetType() == ledgerv1.PlaatsingType_PLAATSING_TYPE_BESCHUT_WERK && p.GetWerkgever() == "Tomin" && p.GetMinutenPerWeek() == 1710 &&
					r.GetExpectedRevision() == 3 && r.GetEventId() == "e1" && r.GetDatum().GetDay() == 2
			}},
		{"intake", url.Values{"soort": {"intake"}, "trede": {"bemiddelbaar-met-ondersteuning"}, "loonwaarde": {"40"}}, "",
			func(r *ledgerv1.RecordRequest) bool {
				return r.GetIntake().GetTrede() == ledgerv1.Trede_TREDE_BEMIDDELBAAR_MET_ONDERSTEUNING && r.GetIntake().GetLoonwaardeProcent() == 40 && r.GetDatum() == nil
			}},
		{"an unknown reason is left for the ledger to refuse", url.Values{"soort": {"uitval"}, "reden": {"verveling"}}, "",
			func(r *ledgerv1.RecordRequest) bool {
				return r.GetUitval().GetReden() == ledgerv1.UitvalReden_UITVAL_REDEN_UNSPECIFIED
			}},
		{"verhuizing", url.Values{"soort": {"verhuizing"}, "naar": {"GM1942"}}, "",
			func(r *ledgerv1.RecordRequest) bool { return r.GetVerhuizing().GetNaarGemeente() == "GM1942" }},
		{"uren", url.Values{"soort": {"uren"}, "product": {"jobcoaching"}, "van": {"2026-03-01"}, "uren": {"12.5"}}, "",
			func(r *ledgerv1.RecordRequest) bool {
				return r.GetUren().GetMinuten() == 750 && r.GetUren().GetVan().GetDay() == 1
			}},
		{"a date that is none", url.Values{"soort": {"intake"}, "datum": {"2026-02-30"}}, "datum", nil},
		{"a revision that is no number", url.Values{"soort": {"intake"}, "revisie": {"drie"}}, "revisie", nil},
		{"loonwaarde in words", url.Values{"soort": {"intake"}, "loonwaarde": {"veel"}}, "loonwaarde", nil},
		{"negative hours", url.Values{"soort": {"plaatsing"}, "uren": {"-1"}}, "uren per week", nil},
		{"hours without a start", url.Values{"soort": {"uren"}, "uren": {"2"}}, "van", nil},
		{"an unknown transition", url.Values{"soort": {"aanmelding"}}, "soort", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := transitionRequest("c1", &http.Request{PostForm: tc.form})
			var fe *formError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "" && (req.GetCaseId() != "c1" || !tc.check(req)):
				t.Fatalf("request %v", req)
			case tc.field != "" && (!errors.As(err, &fe) || fe.field != tc.field):
				t.Fatalf("error %v, want one about %q", err, tc.field)
			case tc.field != "" && status(err) != http.StatusUnprocessableEntity:
				t.Fatalf("a form error is HTTP %d", status(err))
			}
		})
	}
}
