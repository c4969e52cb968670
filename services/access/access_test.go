package access_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gooi-vechtstreek/ledger/services/access"
)

var now = time.Date(2026, time.December, 3, 9, 0, 0, 0, time.UTC)

var beheerder = access.Identity{Gebruiker: "b.beheer", Organisatie: "Gemeente Hilversum", Rol: access.Beheer}

func TestIssueAuthenticateRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toegang.json")
	c, err := access.OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	cr, tok, err := c.Issue(access.Request{Gebruiker: "j.devries", Organisatie: "Gemeente Huizen", Rol: access.Gemeente, Gemeente: "GM0406"}, beheerder, now)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Authenticate(tok)
	if err != nil || id.Gemeente != "GM0406" || id.Rol != access.Gemeente || id.Actor() != "j.devries (Gemeente Huizen)" || id.Credential != cr.ID {
		t.Fatalf("authenticate: %+v, %v", id, err)
	}
	// Only the hash is on disk.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := access.ParseToken(tok)
	if strings.Contains(string(b), secret) {
		t.Fatal("the token's secret is stored in plain text")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	// A reopened store knows the token; a revoked one is refused at once.
	c2, err := access.OpenCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Authenticate(tok); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if _, err := c2.Revoke(cr.ID, now); err != nil {
		t.Fatal(err)
	}
	_, err = c2.Authenticate(tok)
	var ref *access.Refusal
	if !errors.As(err, &ref) || ref.Rule != access.RuleIngetrokken || !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	c3, _ := access.OpenCredentials(path)
	if _, err := c3.Authenticate(tok); err == nil {
		t.Fatal("a revoked token works again after reopening")
	}
}

func TestAuthenticateRefuses(t *testing.T) {
	c, err := access.OpenCredentials(filepath.Join(t.TempDir(), "toegang.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := c.Issue(access.Request{Gebruiker: "a", Organisatie: "b", Rol: access.Auditor}, beheerder, now)
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(tok)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct{ name, tok, rule string }{
		{"none", "", access.RuleGeenToegang},
		{"garbage", "hallo", access.RuleGeenToegang},
		{"another secret", string(flipped), access.RuleGeenToegang},
		{"unknown id", "ldg_0000000000000000_" + tok[len(tok)-43:], access.RuleGeenToegang},
		{"uppercase id", strings.ToUpper(tok[:20]) + tok[20:], access.RuleGeenToegang},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Authenticate(tc.tok)
			var ref *access.Refusal
			if !errors.As(err, &ref) || ref.Rule != tc.rule || strings.Contains(ref.Error(), tok) {
				t.Fatalf("got %v, want rule %s", err, tc.rule)
			}
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	c, err := access.OpenCredentials(filepath.Join(t.TempDir(), "toegang.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  access.Request
	}{
		{"unknown role", access.Request{Gebruiker: "a", Organisatie: "b", Rol: "koning"}},
		{"gemeente role without gemeente", access.Request{Gebruiker: "a", Organisatie: "b", Rol: access.Gemeente}},
		{"gemeente on another role", access.Request{Gebruiker: "a", Organisatie: "b", Rol: access.Centrum, Gemeente: "GM0402"}},
		{"no user", access.Request{Organisatie: "b", Rol: access.Centrum}},
		{"control characters", access.Request{Gebruiker: "a\x1b[2J", Organisatie: "b", Rol: access.Centrum}},
		{"bad fingerprint", access.Request{Gebruiker: "a", Organisatie: "b", Rol: access.Centrum, Certificaat: "abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := c.Issue(tc.req, beheerder, now); err == nil {
				t.Fatal("issued")
			}
		})
	}
	if len(c.List()) != 0 {
		t.Fatalf("refused requests left %d credentials", len(c.List()))
	}
}

func TestCertificateCredential(t *testing.T) {
	c, err := access.OpenCredentials(filepath.Join(t.TempDir(), "toegang.json"))
	if err != nil {
		t.Fatal(err)
	}
	fp := strings.Repeat("ab", 32)
	cr, tok, err := c.Issue(access.Request{Gebruiker: "financien", Organisatie: "Gemeente Laren", Rol: access.Gemeente, Gemeente: "GM0417", Certificaat: fp}, beheerder, now)
	if err != nil || tok != "" {
		t.Fatalf("issue: %q, %v", tok, err)
	}
	if id, err := c.AuthenticateCertificate(fp); err != nil || id.Gemeente != "GM0417" {
		t.Fatalf("certificate: %+v, %v", id, err)
	}
	if _, _, err := c.Issue(access.Request{Gebruiker: "x", Organisatie: "y", Rol: access.Auditor, Certificaat: fp}, beheerder, now); err == nil {
		t.Fatal("one certificate, two valid credentials")
	}
	if _, err := c.Revoke(cr.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthenticateCertificate(fp); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("revoked certificate: %v", err)
	}
	if _, err := c.AuthenticateCertificate(strings.Repeat("cd", 32)); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("unknown certificate: %v", err)
	}
}

func TestBootstrapOnce(t *testing.T) {
	dir := t.TempDir()
	c, err := access.OpenCredentials(filepath.Join(dir, "toegang.json"))
	if err != nil {
		t.Fatal(err)
	}
	tokPath := filepath.Join(dir, "beheer.token")
	created, err := c.Bootstrap(tokPath, now)
	if err != nil || !created {
		t.Fatalf("first bootstrap: %v, %v", created, err)
	}
	b, err := os.ReadFile(tokPath)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Authenticate(strings.TrimSpace(string(b)))
	if err != nil || id.Rol != access.Beheer {
		t.Fatalf("bootstrap token: %+v, %v", id, err)
	}
	if created, err := c.Bootstrap(tokPath, now); err != nil || created {
		t.Fatalf("second bootstrap: %v, %v", created, err)
	}
}

// FuzzParseToken: no input panics, and what parses is exactly of the
// token's form.
func FuzzParseToken(f *testing.F) {
	f.Add("ldg_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := access.ParseToken(s)
		if err != nil {
			return
		}
		if len(s) != access.TokenLen || s != "ldg_"+id+"_"+secret {
			t.Fatalf("parsed %q into %q, %q", s, id, secret)
		}
	})
}

// FuzzAuthenticate: no header value panics or authenticates without the
// token.
func FuzzAuthenticate(f *testing.F) {
	c, err := access.OpenCredentials(filepath.Join(f.TempDir(), "toegang.json"))
	if err != nil {
		f.Fatal(err)
	}
	_, tok, err := c.Issue(access.Request{Gebruiker: "a", Organisatie: "b", Rol: access.Centrum}, beheerder, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer " + tok[:len(tok)-1] + "B")
	f.Add("bearer  ")
	f.Add("Basic abc")
	f.Fuzz(func(t *testing.T, header string) {
		got := access.BearerToken(header)
		id, err := c.Authenticate(got)
		if err == nil && got != tok {
			t.Fatalf("%q authenticated as %+v", header, id)
		}
	})
}
