package access

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gooi-vechtstreek/ledger/services/durable"
)

// Credential is one issued credential, as kept: never the token itself.
type Credential struct {
	ID          string `json:"id"`
	Gebruiker   string `json:"gebruiker"`
	Organisatie string `json:"organisatie"`
	Rol         Role   `json:"rol"`
	Gemeente    string `json:"gemeente,omitempty"`
	// TokenHash is the SHA-256 of a token's secret, hex; empty for a
	// certificate credential.
	TokenHash string `json:"token_sha256,omitempty"`
	// Certificaat is the SHA-256 of a client certificate (DER), hex; empty
	// for a token credential.
	Certificaat    string     `json:"certificaat_sha256,omitempty"`
	Uitgegeven     time.Time  `json:"uitgegeven"`
	UitgegevenDoor string     `json:"uitgegeven_door"`
	Ingetrokken    *time.Time `json:"ingetrokken,omitempty"`
}

// Identity is who the credential proves.
func (c Credential) Identity() Identity {
	return Identity{Credential: c.ID, Gebruiker: c.Gebruiker, Organisatie: c.Organisatie, Rol: c.Rol, Gemeente: c.Gemeente}
}

// Credentials keeps the issued credentials in one file (mode 0600), rewritten
// whole and atomically on each change, and in memory, so that a revocation
// holds from the next call on. It is safe for concurrent use.
type Credentials struct {
	path string
	mu   sync.RWMutex
	all  []Credential
	byID map[string]int
}

type credentialsFile struct {
	Versie      int          `json:"versie"`
	Credentials []Credential `json:"credentials"`
}

// OpenCredentials reads the credentials at path; a missing file is none.
func OpenCredentials(path string) (*Credentials, error) {
	c := &Credentials{path: path, byID: map[string]int{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	var f credentialsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	if f.Versie != 1 {
		return nil, fmt.Errorf("credentials %s: version %d, this ledger reads version 1", path, f.Versie)
	}
	for i, cr := range f.Credentials {
		if _, dup := c.byID[cr.ID]; dup {
			return nil, fmt.Errorf("credentials %s: id %s twice", path, cr.ID)
		}
		c.byID[cr.ID] = i
	}
	c.all = f.Credentials
	return c, nil
}

// Request says whom a new credential is for.
type Request struct {
	Gebruiker   string
	Organisatie string
	Rol         Role
	Gemeente    string
	// Certificaat, when set, makes a certificate credential for the client
	// certificate with this SHA-256 (hex) instead of a token.
	Certificaat string
}

func checkName(field, v string) error {
	if v == "" || utf8.RuneCountInString(v) > 100 {
		return fmt.Errorf("%s: geef 1 tot 100 tekens", field)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%s: alleen leesbare tekens", field)
		}
	}
	return nil
}

// Issue adds a credential and returns it with its token (empty for a
// certificate credential). The token is shown this once; only its hash is
// kept.
func (c *Credentials) Issue(req Request, by Identity, now time.Time) (Credential, string, error) {
	cr, tok, err := prepare(req, by, now)
	if err != nil {
		return Credential{}, "", err
	}
	if err := c.add(cr); err != nil {
		return Credential{}, "", err
	}
	return cr, tok, nil
}

func prepare(req Request, by Identity, now time.Time) (Credential, string, error) {
	if err := checkName("gebruiker", req.Gebruiker); err != nil {
		return Credential{}, "", err
	}
	if err := checkName("organisatie", req.Organisatie); err != nil {
		return Credential{}, "", err
	}
	if _, err := ParseRole(string(req.Rol)); err != nil {
		return Credential{}, "", err
	}
	if (req.Rol == Gemeente) != (req.Gemeente != "") {
		return Credential{}, "", errors.New("een gemeente (GMxxxx) hoort bij de rol gemeente, en alleen daarbij")
	}
	tok, id, err := newToken()
	if err != nil {
		return Credential{}, "", fmt.Errorf("issue credential: %w", err)
	}
	cr := Credential{ID: id, Gebruiker: req.Gebruiker, Organisatie: req.Organisatie, Rol: req.Rol, Gemeente: req.Gemeente,
		Uitgegeven: now.UTC(), UitgegevenDoor: by.Actor()}
	if req.Certificaat != "" {
		if !validFingerprint(req.Certificaat) {
			return Credential{}, "", errors.New("certificaat: geef de SHA-256 van het certificaat (64 hexadecimale tekens)")
		}
		cr.Certificaat, tok = req.Certificaat, ""
	} else {
		_, secret, _ := ParseToken(tok)
		cr.TokenHash = hashSecret(secret)
	}
	return cr, tok, nil
}

func (c *Credentials) add(cr Credential) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cr.Certificaat != "" && slices.ContainsFunc(c.all, func(o Credential) bool { return o.Certificaat == cr.Certificaat && o.Ingetrokken == nil }) {
		return errors.New("certificaat: er is al een geldige toegang voor dit certificaat; trek die eerst in")
	}
	all := append(slices.Clip(c.all), cr)
	if err := c.write(all); err != nil {
		return err
	}
	c.all = all
	c.byID[cr.ID] = len(all) - 1
	return nil
}

// Revoke revokes the credential with id; from the next call on it is
// refused. Revoking twice keeps the first date.
func (c *Credentials) Revoke(id string, now time.Time) (Credential, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.byID[id]
	if !ok {
		return Credential{}, fmt.Errorf("toegang %s bestaat niet", id)
	}
	if c.all[i].Ingetrokken != nil {
		return c.all[i], nil
	}
	all := slices.Clone(c.all)
	t := now.UTC()
	all[i].Ingetrokken = &t
	if err := c.write(all); err != nil {
		return Credential{}, err
	}
	c.all = all
	return all[i], nil
}

// List returns every credential, revoked ones included.
func (c *Credentials) List() []Credential {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.all)
}

// Authenticate returns the identity a bearer token proves.
func (c *Credentials) Authenticate(tok string) (Identity, error) {
	if tok == "" {
		return Identity{}, unauthenticated(RuleGeenToegang, "geen toegangssleutel meegestuurd: stuur een Authorization-header 'Bearer <sleutel>' (de CLI: --token of LEDGER_TOKEN)")
	}
	id, secret, err := ParseToken(tok)
	if err != nil {
		return Identity{}, unauthenticated(RuleGeenToegang, "de toegangssleutel is geen sleutel van deze ledger")
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.byID[id]
	// Compare in constant time, also when the id is unknown.
	want := "0000000000000000000000000000000000000000000000000000000000000000"
	if ok && c.all[i].TokenHash != "" {
		want = c.all[i].TokenHash
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(want)) != 1 || !ok {
		return Identity{}, unauthenticated(RuleGeenToegang, "de toegangssleutel is onbekend")
	}
	if c.all[i].Ingetrokken != nil {
		return Identity{}, unauthenticated(RuleIngetrokken, "deze toegang is ingetrokken op %s; vraag beheer om een nieuwe", c.all[i].Ingetrokken.Format("2006-01-02"))
	}
	return c.all[i].Identity(), nil
}

// AuthenticateCertificate returns the identity of a verified client
// certificate, by its SHA-256 (hex).
func (c *Credentials) AuthenticateCertificate(fingerprint string) (Identity, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var revoked *Credential
	for i := range c.all {
		if c.all[i].Certificaat != fingerprint {
			continue
		}
		if c.all[i].Ingetrokken == nil {
			return c.all[i].Identity(), nil
		}
		revoked = &c.all[i]
	}
	if revoked != nil {
		return Identity{}, unauthenticated(RuleIngetrokken, "de toegang van dit certificaat is ingetrokken op %s", revoked.Ingetrokken.Format("2006-01-02"))
	}
	return Identity{}, unauthenticated(RuleGeenToegang, "dit clientcertificaat heeft geen toegang; laat beheer het registreren (ledger toegang uitgeven --certificaat)")
}

func validFingerprint(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// write replaces the file with all, atomically: a crash leaves the old
// file or the new one, never half of one.
func (c *Credentials) write(all []Credential) error {
	b, err := json.MarshalIndent(credentialsFile{Versie: 1, Credentials: all}, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(c.path, append(b, '\n'))
}

// Bootstrap issues the first beheer credential when there are none and
// writes its token to tokenPath (mode 0600). created reports whether it
// did: the caller says where the token is, this once.
func (c *Credentials) Bootstrap(tokenPath string, now time.Time) (created bool, err error) {
	if len(c.List()) > 0 {
		return false, nil
	}
	system := Identity{Gebruiker: "ledger", Organisatie: "eerste start"}
	cr, tok, err := prepare(Request{Gebruiker: "beheerder", Organisatie: "beheer ledger", Rol: Beheer}, system, now)
	if err != nil {
		return false, err
	}
	// The token first: a crash before the credential is kept leaves no
	// credentials, and the next start bootstraps again.
	if err := writeAtomic(tokenPath, []byte(tok+"\n")); err != nil {
		return false, err
	}
	if err := c.add(cr); err != nil {
		return false, err
	}
	return true, nil
}

func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	if err := durable.WriteFile(path, b); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	return nil
}
