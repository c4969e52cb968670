package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// A token is "ldg_" + the credential id (16 hex digits) + "_" + 32 random
// bytes in unpadded base64url. The id finds the credential without
// comparing secrets; the secret is kept only as its SHA-256 (it has 256 bits
// of entropy, so a slow hash adds nothing).
const (
	tokenPrefix = "ldg_"
	idLen       = 16
	secretLen   = 43 // base64url of 32 bytes
	// TokenLen is the length of every token.
	TokenLen = len(tokenPrefix) + idLen + 1 + secretLen
)

var errTokenForm = errors.New("not a ledger token")

// ParseToken splits a token into its credential id and secret, refusing
// anything not of the exact form.
func ParseToken(tok string) (id, secret string, err error) {
	if len(tok) != TokenLen || !strings.HasPrefix(tok, tokenPrefix) || tok[len(tokenPrefix)+idLen] != '_' {
		return "", "", errTokenForm
	}
	id = tok[len(tokenPrefix) : len(tokenPrefix)+idLen]
	secret = tok[len(tokenPrefix)+idLen+1:]
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return "", "", errTokenForm
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(secret); err != nil || len(b) != 32 {
		return "", "", errTokenForm
	}
	return id, secret, nil
}

// newToken returns a fresh token and its credential id.
func newToken() (tok, id string, err error) {
	var idb [idLen / 2]byte
	var sec [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", "", err
	}
	if _, err := rand.Read(sec[:]); err != nil {
		return "", "", err
	}
	id = hex.EncodeToString(idb[:])
	return tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(sec[:]), id, nil
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// BearerToken returns the token of an Authorization header value
// ("Bearer <token>"), empty when there is none.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
