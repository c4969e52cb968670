// Package logboek records every processing of personal data, after the
// VNG/Logius standard "Logboek dataverwerkingen": each read or write of a
// resident's personal data is a span (trace and span id, operation, start,
// end, status) with the processing activity it serves, who did it and why,
// and the data subject. The subject is kept encrypted with the resident's
// own key, so that forgetting a resident also makes the log unreadable as
// to whom it was; entries are found by a keyed hash of the subject, so that
// an inzageverzoek (AVG art. 15) reads one resident's entries only.
//
// The log is a JetStream stream (LEDGER_LOGBOEK, subjects
// ledger.logboek.<subject hash>), apart from the event store: it is not the
// history of the cases, and an auditor reads it separately.
package logboek

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Activity is one processing activity of the register of processing
// activities (verwerkingsregister) of the centrumgemeente.
type Activity struct {
	ID   string
	Naam string
	Doel string
}

// The activities the ledger performs on personal data. Their ids are the
// register's; the grondslag of each is the Participatiewet and the
// centrumregeling.
var (
	Aanmelden  = Activity{"VA-PW-01", "aanmelding vastleggen", "uitvoering Participatiewet: een verwezen inwoner in traject nemen"}
	Bijwerken  = Activity{"VA-PW-02", "zaak bijwerken", "uitvoering Participatiewet: intake, plaatsing, uitval, vangnet en uitstroom vastleggen"}
	Inzien     = Activity{"VA-PW-03", "zaak inzien", "uitvoering Participatiewet en verantwoording: de geschiedenis van een zaak lezen"}
	Zoeken     = Activity{"VA-PW-04", "zaak zoeken op BSN", "uitvoering Participatiewet: de zaak van een inwoner vinden"}
	Vergeten   = Activity{"VA-PW-05", "persoonsgegevens vergeten", "AVG art. 17 en Archiefwet: persoonsgegevens vernietigen"}
	Inzage     = Activity{"VA-PW-06", "inzage verstrekken", "AVG art. 15: de inwoner laten zien wat met zijn gegevens is gedaan"}
	Importeren = Activity{"VA-PW-07", "geschiedenis importeren", "invoering: de bestaande dossiers overnemen uit het vorige systeem"}
)

// StreamName is the JetStream stream of the log.
const StreamName = "LEDGER_LOGBOEK"

const subjectPrefix = "ledger.logboek."

// Entry is one processing, as logged.
type Entry struct {
	TraceID      string    `json:"trace_id"`
	SpanID       string    `json:"span_id"`
	Naam         string    `json:"name"`
	Start        time.Time `json:"start_time"`
	Einde        time.Time `json:"end_time"`
	Status       string    `json:"status_code"` // OK or ERROR
	ActiviteitID string    `json:"dpl.core.processing_activity_id"`
	Activiteit   string    `json:"processing_activity"`
	Doel         string    `json:"purpose"`
	Gebruiker    string    `json:"dpl.core.user_id"`
	Rol          string    `json:"role"`
	CaseID       string    `json:"case_id,omitempty"`
	// Subject is the data subject (the resident id, a pseudonym), encrypted
	// with the resident's key.
	Subject     *ledgerv1.EncryptedPersonalData `json:"dpl.core.data_subject_id"`
	SubjectType string                          `json:"dpl.core.data_subject_id_type"`
}

// Sealer encrypts with the resident's key (services/vault does).
type Sealer interface {
	// SealIfKey seals with the resident's current key only, nil when none.
	SealIfKey(ctx context.Context, resident string, pd *ledgerv1.PersonalData) (*ledgerv1.EncryptedPersonalData, error)
}

// Logboek writes and reads the log.
type Logboek struct {
	js    jetstream.JetStream
	vault Sealer
	mac   []byte
}

// New opens the log on js, creating its stream. macKey (32 bytes) keys the
// subject hashes.
func New(ctx context.Context, js jetstream.JetStream, vault Sealer, macKey []byte, replicas int) (*Logboek, error) {
	if len(macKey) < 32 {
		return nil, errors.New("logboek: MAC key shorter than 32 bytes")
	}
	if replicas < 1 {
		replicas = 1
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "ledger: logboek dataverwerkingen",
		Subjects:    []string{subjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Discard:     jetstream.DiscardNew,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("logboek stream: %w", err)
	}
	return &Logboek{js: js, vault: vault, mac: macKey}, nil
}

func (l *Logboek) subject(resident string) string {
	m := hmac.New(sha256.New, l.mac)
	m.Write([]byte(resident))
	return subjectPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Span is one processing under way; End logs it.
type Span struct {
	l        *Logboek
	resident string
	e        Entry
}

// Who is the user and role a processing is done by.
type Who struct{ Gebruiker, Rol string }

// Begin starts logging a processing of resident's personal data at now.
func (l *Logboek) Begin(act Activity, who Who, resident, caseID string, now time.Time) *Span {
	return &Span{l: l, resident: resident, e: Entry{
		TraceID: randomHex(16), SpanID: randomHex(8), Naam: act.Naam, Start: now.UTC(),
		ActiviteitID: act.ID, Activiteit: act.Naam, Doel: act.Doel,
		Gebruiker: who.Gebruiker, Rol: who.Rol, CaseID: caseID, SubjectType: "resident_id (pseudoniem)",
	}}
}

// End logs the span with the outcome failed, and waits until the log holds
// it: a read of personal data is answered only once it is logged.
func (s *Span) End(ctx context.Context, failed error, now time.Time) error {
	b, err := s.finish(ctx, failed, now)
	if err != nil {
		return err
	}
	if _, err := s.l.js.Publish(ctx, s.l.subject(s.resident), b); err != nil {
		return fmt.Errorf("logboek: %w", err)
	}
	return nil
}

func (s *Span) finish(ctx context.Context, failed error, now time.Time) ([]byte, error) {
	s.e.Einde, s.e.Status = now.UTC(), "OK"
	if failed != nil {
		s.e.Status = "ERROR"
	}
	// A resident without a key (forgotten, or never any personal data) is
	// named by the keyed hash of the entry's subject only: logging a read
	// must not make a forgotten resident a new key.
	subj, err := s.l.vault.SealIfKey(ctx, s.resident, &ledgerv1.PersonalData{Tekst: s.resident})
	if err != nil {
		return nil, fmt.Errorf("logboek: %w", err)
	}
	s.e.Subject = subj
	b, err := json.Marshal(s.e)
	if err != nil {
		return nil, fmt.Errorf("logboek: %w", err)
	}
	return b, nil
}

// Of returns every entry logged for resident, oldest first.
func (l *Logboek) Of(ctx context.Context, resident string) ([]Entry, error) {
	st, err := l.js.Stream(ctx, StreamName)
	if err != nil {
		return nil, fmt.Errorf("logboek: %w", err)
	}
	subj := l.subject(resident)
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return nil, fmt.Errorf("logboek: %w", err)
	}
	n := info.State.Subjects[subj]
	if n == 0 {
		return nil, nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}})
	if err != nil {
		return nil, fmt.Errorf("logboek: %w", err)
	}
	var out []Entry
	for uint64(len(out)) < n {
		batch, err := cons.Fetch(int(min(n-uint64(len(out)), 500)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("logboek: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			var e Entry
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				return nil, fmt.Errorf("logboek: entry %s: %w", m.Subject(), err)
			}
			out = append(out, e)
			got++
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("logboek: %w", err)
		}
		if got == 0 {
			return nil, errors.New("logboek: fewer entries than the stream holds")
		}
	}
	return out, nil
}
