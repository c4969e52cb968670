package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/gooi-vechtstreek/ledger/services/clock"

	ledgerv1 "github.com/gooi-vechtstreek/ledger/proto/ledger/v1"
	"github.com/gooi-vechtstreek/ledger/proto/ledger/v1/ledgerv1connect"
)

// testPKI is a CA with certificates it signed, made for one test.
type testPKI struct {
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	dir   string
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Certificates are valid from long before to long after any day a test
	// runs on: x509 checks them against the system clock.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{ca: ca, caKey: key, dir: t.TempDir()}
	p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue makes a certificate and key for name, for a server (with
// 127.0.0.1) or a client, and returns their paths and the certificate's
// SHA-256.
func (p *testPKI) issue(t *testing.T, name string, server bool) (cert, key, sum string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: p.ca.NotBefore, NotAfter: p.ca.NotAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(der)
	return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+".key", "EC PRIVATE KEY", kb), hex.EncodeToString(s[:])
}

// TestClientCertificate: over HTTPS, a system authenticates with a client
// certificate registered by beheer, as the identity registered for it; an
// unregistered certificate, or none without a token, is refused; a revoked
// one at once.
func TestClientCertificate(t *testing.T) {
	pki := newPKI(t)
	srvCert, srvKey, _ := pki.issue(t, "ledger", true)
	cliCert, cliKey, sum := pki.issue(t, "financien-laren", false)
	otherCert, otherKey, _ := pki.issue(t, "onbekend", false)
	data := t.TempDir()
	addr := startServerWith(t, data, clock.NewManual(2026, time.March, 2), func(c *serveConfig) {
		c.tlsCert, c.tlsKey, c.clientCA = srvCert, srvKey, filepath.Join(pki.dir, "ca.pem")
	})
	t.Setenv("LEDGER_CA", filepath.Join(pki.dir, "ca.pem"))
	tc, err := clientTLS()
	if err != nil {
		t.Fatal(err)
	}
	with := func(cert, key string) *http.Client {
		c := tc.Clone()
		if cert != "" {
			kp, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				t.Fatal(err)
			}
			c.Certificates = []tls.Certificate{kp}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c}, Timeout: 10 * time.Second}
	}
	base := "https://" + addr
	beheer, err := os.ReadFile(filepath.Join(data, "keys", "beheer.token"))
	if err != nil {
		t.Fatal(err)
	}
	ac := ledgerv1connect.NewAccessServiceClient(with("", ""), base, connect.WithInterceptors(bearer{strings.TrimSpace(string(beheer))}))
	reg, err := ac.IssueCredential(context.Background(), connect.NewRequest(&ledgerv1.IssueCredentialRequest{
		Gebruiker: "financien", Organisatie: "Gemeente Laren", Rol: "gemeente", Gemeente: "GM0417", CertificaatSha256: sum}))
	if err != nil {
		t.Fatal(err)
	}
	who := func(hc *http.Client) (*ledgerv1.WhoAmIResponse, error) {
		r, err := ledgerv1connect.NewAccessServiceClient(hc, base).WhoAmI(context.Background(), connect.NewRequest(&ledgerv1.WhoAmIRequest{}))
		if err != nil {
			return nil, err
		}
		return r.Msg, nil
	}
	me, err := who(with(cliCert, cliKey))
	if err != nil || me.GetGemeente() != "GM0417" || me.GetActor() != "financien (Gemeente Laren)" {
		t.Fatalf("with the registered certificate: %v, %v", me, err)
	}
	// The certificate's rights are its credential's: Laren's own view, not Huizen's.
	lc := ledgerv1connect.NewLedgerServiceClient(with(cliCert, cliKey), base)
	if _, err := lc.GetBeleid(context.Background(), connect.NewRequest(&ledgerv1.GetBeleidRequest{Gemeente: "GM0417"})); err != nil {
		t.Fatalf("own policy with the certificate: %v", err)
	}
	if _, err := lc.GetBeleid(context.Background(), connect.NewRequest(&ledgerv1.GetBeleidRequest{Gemeente: "GM0406"})); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("another gemeente's policy with the certificate: %v", err)
	}
	if _, err := who(with(otherCert, otherKey)); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("an unregistered certificate: %v", err)
	}
	if _, err := who(with("", "")); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("neither certificate nor token: %v", err)
	}
	if _, err := ac.RevokeCredential(context.Background(), connect.NewRequest(&ledgerv1.RevokeCredentialRequest{Id: reg.Msg.GetCredential().GetId()})); err != nil {
		t.Fatal(err)
	}
	if _, err := who(with(cliCert, cliKey)); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("a revoked certificate: %v", err)
	}
}

// TestTLSFlagsNeedACertificate: a key or a client CA without a server
// certificate would leave the API on plain HTTP; the start refuses.
func TestTLSFlagsNeedACertificate(t *testing.T) {
	for _, flag := range []string{"--tls-key", "--client-ca"} {
		var out, errb strings.Builder
		code := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--nats", "127.0.0.1:-1",
			"--gemeenten", "../../deploy/gemeenten.json", "--srg", "../../deploy/srg.json", "--bewaartermijnen", "../../deploy/bewaartermijnen.json", flag, "x.pem"}, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), "--tls-cert") {
			t.Errorf("serve %s without --tls-cert: exit %d, %q", flag, code, errb.String())
		}
	}
}
