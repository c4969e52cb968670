package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
)

// bearer sends the caller's token with every request: --token, else
// LEDGER_TOKEN, else the file named by LEDGER_TOKEN_FILE.
type bearer struct{ flag string }

func (b bearer) token() (string, error) {
	if b.flag != "" {
		return b.flag, nil
	}
	if t := os.Getenv("LEDGER_TOKEN"); t != "" {
		return t, nil
	}
	if f := os.Getenv("LEDGER_TOKEN_FILE"); f != "" {
		t, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("LEDGER_TOKEN_FILE: %w", err)
		}
		return strings.TrimSpace(string(t)), nil
	}
	return "", nil
}

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		tok, err := b.token()
		if err != nil {
			return nil, err
		}
		if tok != "" {
			req.Header().Set("Authorization", "Bearer "+tok)
		}
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// httpClient is the CLI's HTTP client. For an https server, LEDGER_CA names
// the CA that signed the server's certificate (default: the system's), and
// LEDGER_CLIENT_CERT and LEDGER_CLIENT_KEY a client certificate (mTLS) to
// authenticate with instead of a token.
func httpClient() *http.Client {
	c := &http.Client{Timeout: 60 * time.Second}
	tc, err := clientTLS()
	if err != nil {
		c.Transport = failing{err}
		return c
	}
	if tc != nil {
		c.Transport = &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
	}
	return c
}

func clientTLS() (*tls.Config, error) {
	ca, cert, key := os.Getenv("LEDGER_CA"), os.Getenv("LEDGER_CLIENT_CERT"), os.Getenv("LEDGER_CLIENT_KEY")
	if ca == "" && cert == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("LEDGER_CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("LEDGER_CA %s: geen PEM-certificaat", ca)
		}
	}
	if cert != "" {
		if key == "" {
			return nil, errors.New("LEDGER_CLIENT_CERT zonder LEDGER_CLIENT_KEY")
		}
		kp, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("clientcertificaat: %w", err)
		}
		tc.Certificates = []tls.Certificate{kp}
	}
	return tc, nil
}

// failing is a transport that reports a configuration error on every call.
type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }
