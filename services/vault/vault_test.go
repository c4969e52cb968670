package vault_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gooi-vechtstreek/ledger/services/vault"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
)

func newVault(t testing.TB, dir string) *vault.Vault {
	t.Helper()
	ks, err := vault.NewFileKeyStore(dir, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(ks, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The test's personal data: made up, and a BSN that passes the elfproef.
var anna = &ledgerv1.PersonalData{Bsn: "111222333", Naam: "Anna de Vries", Geboortedatum: &ledgerv1.Date{Year: 1990, Month: 5, Day: 17}, Tekst: "wil graag in de groenvoorziening werken"}

func TestSealOpenForget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v := newVault(t, dir)
	e, err := v.Seal(ctx, "R-anna", anna)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := proto.Marshal(e)
	for _, plain := range []string{anna.Bsn, anna.Naam, anna.Tekst} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Fatalf("sealed data holds %q in plain text", plain)
		}
	}
	// Another process (a restart) opens it from the files alone.
	v2 := newVault(t, dir)
	got, err := v2.Open(ctx, e)
	if err != nil || !proto.Equal(got, anna) {
		t.Fatalf("open after restart: %v, %v", got, err)
	}
	// The same resident keeps one key; another gets another.
	e2, _ := v2.Seal(ctx, "R-anna", &ledgerv1.PersonalData{Tekst: "tweede"})
	e3, _ := v2.Seal(ctx, "R-bob", &ledgerv1.PersonalData{Tekst: "bob"})
	if e2.GetKeyId() != e.GetKeyId() || e3.GetKeyId() == e.GetKeyId() {
		t.Fatalf("keys: anna %s and %s, bob %s", e.GetKeyId(), e2.GetKeyId(), e3.GetKeyId())
	}
	ids, err := v2.Keys.Forget(ctx, "R-anna")
	if err != nil || len(ids) != 1 || ids[0] != e.GetKeyId() {
		t.Fatalf("forget: %v, %v", ids, err)
	}
	for _, vv := range []*vault.Vault{v2, newVault(t, dir)} {
		if _, err := vv.Open(ctx, e); !errors.Is(err, vault.ErrForgotten) {
			t.Fatalf("open after forget: %v; want ErrForgotten", err)
		}
	}
	if _, err := v2.Open(ctx, e3); err != nil {
		t.Fatalf("another resident's data after a forget: %v", err)
	}
	// Nothing of the key is left in the store's files.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(filepath.Base(p), strings.SplitN(e.GetKeyId(), ".", 2)[1]) && strings.HasSuffix(p, ".key") {
			t.Errorf("key file %s left after forget", p)
		}
		return nil
	})
	// What only names a forgotten resident (the logboek) makes no new key.
	if e, err := v2.SealIfKey(ctx, "R-anna", &ledgerv1.PersonalData{Tekst: "R-anna"}); e != nil || err != nil {
		t.Fatalf("SealIfKey after forget: %v, %v; want nothing", e, err)
	}
	if _, _, err := v2.Keys.Current(ctx, "R-anna"); !errors.Is(err, vault.ErrNoKey) {
		t.Fatalf("a key appeared after forget: %v", err)
	}
	// A resident who comes back gets a new key; the old data stays gone.
	e4, err := v2.Seal(ctx, "R-anna", anna)
	if err != nil || e4.GetKeyId() == e.GetKeyId() {
		t.Fatalf("seal after forget: %v, %v", e4.GetKeyId(), err)
	}
	if _, err := v2.Open(ctx, e); !errors.Is(err, vault.ErrForgotten) {
		t.Fatalf("old data readable again: %v", err)
	}
}

func TestOpenRefusesTampering(t *testing.T) {
	ctx := context.Background()
	v := newVault(t, t.TempDir())
	e, err := v.Seal(ctx, "R-anna", anna)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*ledgerv1.EncryptedPersonalData)
		want   error
	}{
		{"flipped ciphertext", func(e *ledgerv1.EncryptedPersonalData) { e.Ciphertext[0] ^= 1 }, vault.ErrCorrupt},
		{"short nonce", func(e *ledgerv1.EncryptedPersonalData) { e.Nonce = e.Nonce[:4] }, vault.ErrCorrupt},
		{"other algorithm", func(e *ledgerv1.EncryptedPersonalData) { e.Algorithm = "ROT13" }, vault.ErrCorrupt},
		{"unknown key", func(e *ledgerv1.EncryptedPersonalData) {
			e.KeyId = "00000000000000000000000000000000.6b3f1a52-8c55-4a5e-9a43-1f7f0d6c9e10"
		}, vault.ErrNoKey},
		{"path in key id", func(e *ledgerv1.EncryptedPersonalData) { e.KeyId = "../../etc/passwd" }, vault.ErrNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := proto.Clone(e).(*ledgerv1.EncryptedPersonalData)
			tc.change(c)
			if _, err := v.Open(ctx, c); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFingerprintIsKeyed(t *testing.T) {
	a := newVault(t, t.TempDir())
	ks, _ := vault.NewFileKeyStore(t.TempDir(), bytes.Repeat([]byte{7}, 32))
	b, _ := vault.New(ks, bytes.Repeat([]byte{8}, 32))
	if !bytes.Equal(a.Fingerprint(anna), a.Fingerprint(proto.Clone(anna).(*ledgerv1.PersonalData))) {
		t.Fatal("equal data, other fingerprints")
	}
	if bytes.Equal(a.Fingerprint(anna), b.Fingerprint(anna)) {
		t.Fatal("the fingerprint does not depend on the key")
	}
}

// FuzzOpen: no bytes as sealed data panic or decrypt.
func FuzzOpen(f *testing.F) {
	v := newVault(f, f.TempDir())
	e, err := v.Seal(context.Background(), "R-anna", anna)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := proto.Marshal(e)
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var c ledgerv1.EncryptedPersonalData
		if proto.Unmarshal(b, &c) != nil {
			return
		}
		pd, err := v.Open(context.Background(), &c)
		if err == nil && !bytes.Equal(b, good) && !proto.Equal(pd, anna) {
			t.Fatalf("forged data decrypted: %v", pd)
		}
	})
}

// TestInterruptedForget: a forget that a crash stopped after its marker,
// before the key file went, refuses the key as forgotten all the same, and
// the resident's next personal data gets a new key.
func TestInterruptedForget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v := newVault(t, dir)
	e, err := v.Seal(ctx, "R-anna", anna)
	if err != nil {
		t.Fatal(err)
	}
	dirName, key, _ := strings.Cut(e.GetKeyId(), ".")
	if err := os.WriteFile(filepath.Join(dir, dirName, key+".vergeten"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	after := newVault(t, dir) // the restart
	if _, err := after.Open(ctx, e); !errors.Is(err, vault.ErrForgotten) {
		t.Fatalf("open after an interrupted forget: %v; want ErrForgotten", err)
	}
	if got, _ := after.SealIfKey(ctx, "R-anna", anna); got != nil {
		t.Fatal("a half-forgotten key is still the resident's current key")
	}
	e2, err := after.Seal(ctx, "R-anna", anna)
	if err != nil || e2.GetKeyId() == e.GetKeyId() {
		t.Fatalf("new data after an interrupted forget: %v, %v", e2.GetKeyId(), err)
	}
}

// TestForgetIfUnused: a forget decided before new data of the resident was
// sealed is refused; one decided after goes ahead.
func TestForgetIfUnused(t *testing.T) {
	ctx := context.Background()
	v := newVault(t, t.TempDir())
	if _, err := v.Seal(ctx, "R-anna", anna); err != nil {
		t.Fatal(err)
	}
	decided := v.Generation()
	e, err := v.Seal(ctx, "R-anna", &ledgerv1.PersonalData{Tekst: "nieuwe aanmelding"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ForgetIfUnused(ctx, "R-anna", decided); !errors.Is(err, vault.ErrInUse) {
		t.Fatalf("forget decided before a new seal: %v; want ErrInUse", err)
	}
	if _, err := v.Open(ctx, e); err != nil {
		t.Fatalf("the new data after a refused forget: %v", err)
	}
	if ids, err := v.ForgetIfUnused(ctx, "R-anna", v.Generation()); err != nil || len(ids) != 1 {
		t.Fatalf("forget decided after the seal: %v, %v", ids, err)
	}
}
