// Package vault keeps residents' personal data readable only while their
// key exists. BSN, name, date of birth and the free text of a case are
// encrypted (AES-256-GCM) with a data key of that resident alone before
// they enter an event; the data key is kept wrapped by a key-encryption key
// in a KeyStore, apart from the events. Destroying a resident's keys
// ("vergeten") leaves every event, hash and count intact and the person
// unreadable in every copy: the store, the bus, old exports.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

var (
	// ErrForgotten: the resident's key was destroyed; the data is gone.
	ErrForgotten = errors.New("personal data forgotten")
	// ErrNoKey: the key store holds no such key.
	ErrNoKey = errors.New("no such key")
	// ErrCorrupt: the ciphertext or wrapped key does not authenticate.
	ErrCorrupt = errors.New("personal data does not decrypt")
)

// Algorithm is the AEAD of every EncryptedPersonalData this package writes.
const Algorithm = "AES-256-GCM"

// KeyStore keeps per-resident data keys. An HSM or a KMS implements it by
// wrapping and unwrapping there; FileKeyStore keeps them in the data
// directory, wrapped by a key-encryption key.
type KeyStore interface {
	// Key returns the current data key of resident and its id, creating
	// one when the resident has none (or only destroyed ones).
	Key(ctx context.Context, resident string) (id string, key []byte, err error)
	// Current returns the current data key of resident and its id, never
	// creating one: ErrNoKey when the resident has none.
	Current(ctx context.Context, resident string) (id string, key []byte, err error)
	// Open returns the data key with id: ErrForgotten once destroyed,
	// ErrNoKey when it never existed.
	Open(ctx context.Context, id string) ([]byte, error)
	// Forget destroys every key of resident and returns their ids.
	Forget(ctx context.Context, resident string) ([]string, error)
}

// Vault seals and opens personal data with the keys of a KeyStore.
type Vault struct {
	Keys KeyStore
	// mac keys the fingerprints of sealed data (see Fingerprint).
	mac []byte

	// mu orders seals and forgets of a resident: a seal either comes
	// before a forget (and then holds the forget off, see ForgetIfUnused)
	// or after it, with a new key.
	mu    sync.Mutex
	gen   uint64            // counts seals
	seals map[string]uint64 // resident -> gen of their last seal
}

// ErrInUse: the resident's key sealed new data since the caller looked.
var ErrInUse = errors.New("personal data sealed since")

// New returns a vault on keys; macKey (32 bytes) keys Fingerprint.
func New(keys KeyStore, macKey []byte) (*Vault, error) {
	if len(macKey) < 32 {
		return nil, errors.New("vault: MAC key shorter than 32 bytes")
	}
	return &Vault{Keys: keys, mac: macKey, seals: map[string]uint64{}}, nil
}

// Seal encrypts pd with resident's data key.
func (v *Vault) Seal(ctx context.Context, resident string, pd *ledgerv1.PersonalData) (*ledgerv1.EncryptedPersonalData, error) {
	v.mu.Lock()
	v.gen++
	v.seals[resident] = v.gen
	id, key, err := v.Keys.Key(ctx, resident)
	v.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("seal personal data: %w", err)
	}
	return seal(id, key, pd)
}

func seal(id string, key []byte, pd *ledgerv1.PersonalData) (*ledgerv1.EncryptedPersonalData, error) {
	plain, err := proto.MarshalOptions{Deterministic: true}.Marshal(pd)
	if err != nil {
		return nil, fmt.Errorf("seal personal data: %w", err)
	}
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal personal data: %w", err)
	}
	return &ledgerv1.EncryptedPersonalData{KeyId: id, Algorithm: Algorithm, Nonce: nonce,
		Ciphertext: aead.Seal(nil, nonce, plain, []byte(id))}, nil
}

// Generation marks now in the order of seals, for ForgetIfUnused.
func (v *Vault) Generation() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.gen
}

// ForgetIfUnused destroys resident's keys unless they sealed anything
// after generation since (ErrInUse): a retention run that decided on what
// it saw must not destroy the key of data recorded while it ran.
func (v *Vault) ForgetIfUnused(ctx context.Context, resident string, since uint64) ([]string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seals[resident] > since {
		return nil, fmt.Errorf("forget %s: %w", resident, ErrInUse)
	}
	return v.Keys.Forget(ctx, resident)
}

// Forget destroys resident's keys.
func (v *Vault) Forget(ctx context.Context, resident string) ([]string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.Keys.Forget(ctx, resident)
}

// SealIfKey is Seal with the resident's current key only: nil, without
// error, when the resident has none (forgotten, or never any personal
// data). What names a person must not bring a forgotten key back.
func (v *Vault) SealIfKey(ctx context.Context, resident string, pd *ledgerv1.PersonalData) (*ledgerv1.EncryptedPersonalData, error) {
	id, key, err := v.Keys.Current(ctx, resident)
	if errors.Is(err, ErrNoKey) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal personal data: %w", err)
	}
	return seal(id, key, pd)
}

// Open decrypts e: ErrForgotten when its key is destroyed.
func (v *Vault) Open(ctx context.Context, e *ledgerv1.EncryptedPersonalData) (*ledgerv1.PersonalData, error) {
	if e.GetAlgorithm() != Algorithm {
		return nil, fmt.Errorf("open personal data: algorithm %q: %w", e.GetAlgorithm(), ErrCorrupt)
	}
	key, err := v.Keys.Open(ctx, e.GetKeyId())
	if err != nil {
		return nil, fmt.Errorf("open personal data: %w", err)
	}
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(e.GetNonce()) != aead.NonceSize() {
		return nil, fmt.Errorf("open personal data: %w", ErrCorrupt)
	}
	plain, err := aead.Open(nil, e.GetNonce(), e.GetCiphertext(), []byte(e.GetKeyId()))
	if err != nil {
		return nil, fmt.Errorf("open personal data: %w", ErrCorrupt)
	}
	pd := &ledgerv1.PersonalData{}
	if err := proto.Unmarshal(plain, pd); err != nil {
		return nil, fmt.Errorf("open personal data: %w", ErrCorrupt)
	}
	return pd, nil
}

// Fingerprint is a keyed hash of pd: equal for equal data, and, unlike a
// plain hash, no way to test a guessed BSN or name against an event.
func (v *Vault) Fingerprint(pd *ledgerv1.PersonalData) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(pd)
	m := hmac.New(sha256.New, v.mac)
	m.Write(b)
	return m.Sum(nil)
}

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("data key of %d bytes: %w", len(key), ErrCorrupt)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
