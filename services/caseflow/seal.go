package caseflow

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gooi-vechtstreek/ledger/services/event"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

// Sealer encrypts personal data with the resident's own key
// (services/vault does), and fingerprints it with a keyed hash.
type Sealer interface {
	Seal(ctx context.Context, resident string, pd *ledgerv1.PersonalData) (*ledgerv1.EncryptedPersonalData, error)
	Fingerprint(pd *ledgerv1.PersonalData) []byte
}

// RuleVersleuteld refuses a command that fills an encrypted field itself:
// only the ledger encrypts, with keys it keeps.
const RuleVersleuteld = "invoer.versleuteld"

// checkUnsealed refuses a command whose payload carries encrypted data.
func checkUnsealed(cmd Command) error {
	for _, sp := range event.Spots(&ledgerv1.Event{Payload: cmd.Transition.GetPayload()}) {
		if sp.Msg.Has(sp.Sealed) {
			return &Refusal{Rule: RuleVersleuteld, CaseID: cmd.CaseID.String(),
				Reden: fmt.Sprintf("het veld %s vult de ledger zelf: geef de tekst of de persoonsgegevens onversleuteld, de ledger versleutelt ze met de sleutel van de inwoner", sp.Sealed.Name())}
		}
	}
	return nil
}

// seal moves the personal data and free text of a decided event into its
// encrypted fields, under the resident's key: after this the event holds
// none of them in plain text. Without a Sealer free text stays plain (only
// tests run without one) and personal data is refused.
func (h *Handler) seal(ctx context.Context, ev *ledgerv1.Event, resident string, persoon *ledgerv1.PersonalData) error {
	for _, sp := range event.Spots(ev) {
		var pd *ledgerv1.PersonalData
		if sp.Text == nil {
			if persoon == nil || proto.Size(persoon) == 0 {
				continue
			}
			pd = persoon
		} else {
			txt := sp.Msg.Get(sp.Text).String()
			if txt == "" || h.Vault == nil {
				continue
			}
			pd = &ledgerv1.PersonalData{Tekst: txt}
		}
		if h.Vault == nil {
			return fmt.Errorf("record personal data of %s: this ledger has no key store", resident)
		}
		sealed, err := h.Vault.Seal(ctx, resident, pd)
		if err != nil {
			return fmt.Errorf("seal %s: %w", sp.Msg.Descriptor().Name(), err)
		}
		sp.Msg.Set(sp.Sealed, protoreflect.ValueOfMessage(sealed.ProtoReflect()))
		if sp.Text != nil {
			sp.Msg.Clear(sp.Text)
		}
	}
	return nil
}

// legacyDigest is the command_digest events had before personal data and
// free text were encrypted: a plain hash of the whole command. A retry or a
// re-import of such an event must still be recognised as one.
func legacyDigest(cmd Command) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{CaseId: cmd.NewCaseID.String(), Gemeente: cmd.Gemeente, OccurredOn: cmd.Datum, Bron: cmd.Bron},
		Payload:  cmd.Transition.GetPayload(),
	})
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// digest is the command_digest of cmd: what its caller asked, before the
// ledger decided or filled in anything. A retry gives the same digest;
// another command that reuses the event id does not. Personal data and free
// text enter it only through the Sealer's keyed fingerprint: a plain hash
// of a command would let anyone test a guessed BSN or name against it.
func (h *Handler) digest(cmd Command) []byte {
	payload := &ledgerv1.Event{Payload: cmd.Transition.GetPayload()}
	var private []string
	if h.Vault != nil {
		set := false
		for _, sp := range event.Spots(payload) {
			if sp.Text != nil {
				private = append(private, sp.Msg.Get(sp.Text).String())
				set = set || sp.Msg.Has(sp.Text)
			}
		}
		if set {
			// The command's own messages stay as they are: a retry sends
			// them again.
			payload = proto.Clone(payload).(*ledgerv1.Event)
			for _, sp := range event.Spots(payload) {
				if sp.Text != nil {
					sp.Msg.Clear(sp.Text)
				}
			}
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&ledgerv1.Event{
		Envelope: &ledgerv1.Envelope{CaseId: cmd.NewCaseID.String(), Gemeente: cmd.Gemeente, OccurredOn: cmd.Datum, Bron: cmd.Bron},
		Payload:  payload.GetPayload(),
	})
	if err != nil {
		// Only an invalid message fails to marshal; its digest is of nothing.
		return nil
	}
	sum := sha256.New()
	sum.Write(b)
	if h.Vault != nil && (len(private) > 0 || cmd.Persoon != nil) {
		pd := proto.Clone(cmd.Persoon).(*ledgerv1.PersonalData)
		if pd == nil {
			pd = &ledgerv1.PersonalData{}
		}
		pd.Tekst = strings.Join(private, "\x00")
		sum.Write(h.Vault.Fingerprint(pd))
	}
	return sum.Sum(nil)
}
