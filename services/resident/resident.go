// Package resident turns a BSN into the pseudonymous resident id the ledger
// uses. The BSN itself is checked (elfproef) and then forgotten: it never
// enters an event, a log line or an error message in plain text.
package resident

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/gooi-vechtstreek/ledger/services/secret"
)

// ErrInvalidBSN is returned for a BSN that fails the elfproef. The error
// never repeats the number.
var ErrInvalidBSN = errors.New("ongeldig BSN")

// CheckBSN applies the elfproef: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11),
// all zeros invalid. An old 8-digit BSN is read with a leading zero.
func CheckBSN(bsn string) error {
	if len(bsn) == 8 {
		bsn = "0" + bsn
	}
	if len(bsn) != 9 {
		return fmt.Errorf("%w: een BSN heeft 9 cijfers", ErrInvalidBSN)
	}
	sum := 0
	for i, r := range bsn {
		if r < '0' || r > '9' {
			return fmt.Errorf("%w: een BSN bestaat alleen uit cijfers", ErrInvalidBSN)
		}
		weight := 9 - i
		if i == 8 {
			weight = -1
		}
		sum += weight * int(r-'0')
	}
	if strings.Trim(bsn, "0") == "" || sum%11 != 0 {
		return fmt.Errorf("%w: het nummer voldoet niet aan de elfproef", ErrInvalidBSN)
	}
	return nil
}

// Pseudonymizer derives resident ids with a keyed hash, so that the same BSN
// always gives the same id while the id alone reveals nothing: without the
// key the 10⁹ possible BSNs can not be tried.
type Pseudonymizer struct {
	key []byte
}

// KeySize is the length of a pseudonymisation key in bytes.
const KeySize = 32

// NewPseudonymizer uses key, which must be KeySize bytes.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("pseudonymisation key has %d bytes, want %d", len(key), KeySize)
	}
	return &Pseudonymizer{key: append([]byte(nil), key...)}, nil
}

// ResidentID checks bsn and returns its pseudonym, "R-" and 26 characters.
func (p *Pseudonymizer) ResidentID(bsn string) (string, error) {
	if err := CheckBSN(bsn); err != nil {
		return "", err
	}
	if len(bsn) == 8 {
		bsn = "0" + bsn
	}
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte("ledger resident id v1\x00"))
	mac.Write([]byte(bsn))
	sum := mac.Sum(nil)
	return "R-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16])), nil
}

// LoadOrCreateKey reads the key at path, creating a random one (mode 0600)
// the first time. Losing it means the same BSN gets a new resident id, so
// back it up with the data.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := secret.LoadOrCreate(path, KeySize)
	if err != nil {
		return nil, fmt.Errorf("pseudonymisation key: %w", err)
	}
	return key, nil
}

// LooksLikeBSN reports whether s holds a run of 8 or 9 digits that passes
// the elfproef: a client-id like that may be a BSN, and must not be stored.
func LooksLikeBSN(s string) bool {
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 8 || run == 9 {
			if CheckBSN(s[i-run:i]) == nil {
				return true
			}
		}
		run = 0
	}
	return false
}
