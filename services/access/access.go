// Package access says who is calling and what they may do: four roles, the
// credentials that prove a caller holds one (bearer tokens kept only as
// hashes, client certificates by fingerprint), and the refusals, in Dutch,
// that name the missing right. Which role may call which API method is
// decided in services/api, where the methods are.
package access

import (
	"context"
	"errors"
	"fmt"
)

// Role is what a caller may do.
type Role string

const (
	// Centrum: a medewerker of the centrumgemeente. Records transitions
	// and hours for every participant, books shared costs, imports.
	Centrum Role = "centrum"
	// Gemeente: a participant's beleidsmedewerker or controller. Reads only
	// its own cases, views and exports; records only its own policy.
	Gemeente Role = "gemeente"
	// Auditor: reads everything, writes nothing.
	Auditor Role = "auditor"
	// Beheer: issues and revokes credentials; reads no personal data.
	Beheer Role = "beheer"
)

// Roles lists every role, in the order help texts show them.
var Roles = []Role{Centrum, Gemeente, Auditor, Beheer}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("onbekende rol %q: kies centrum, gemeente, auditor of beheer", s)
}

// Identity is an authenticated caller.
type Identity struct {
	// Credential is the id of the credential it authenticated with.
	Credential string
	// Gebruiker is the person or system ("j.devries", "financien-huizen").
	Gebruiker string
	// Organisatie is who they work for ("Gemeente Huizen").
	Organisatie string
	Rol         Role
	// Gemeente is the participant a gemeente role acts for (GMxxxx).
	Gemeente string
}

// Actor is what events record as their actor: the user and organisation,
// taken from the credential, never from the request.
func (id Identity) Actor() string {
	return fmt.Sprintf("%s (%s)", id.Gebruiker, id.Organisatie)
}

// Rules of access refusals.
const (
	RuleGeenToegang = "toegang.niet-aangemeld" // no or an unknown credential
	RuleIngetrokken = "toegang.ingetrokken"    // a revoked credential
	RuleRol         = "toegang.rol"            // the role may not do this
	RuleGemeente    = "toegang.eigen-gemeente" // a gemeente role, another gemeente
)

var (
	// ErrUnauthenticated: the caller did not prove who it is.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrDenied: the caller may not do what it asked.
	ErrDenied = errors.New("access denied")
)

// Refusal is a call refused for want of a credential or a right. It
// changes nothing.
type Refusal struct {
	Rule  string
	Reden string
	err   error // ErrUnauthenticated or ErrDenied
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s [%s]", r.Reden, r.Rule) }

func (r *Refusal) Unwrap() error { return r.err }

// Refused returns the rule and the Dutch reason, as every refusal does.
func (r *Refusal) Refused() (rule, reden string) { return r.Rule, r.Reden }

func unauthenticated(rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Reden: fmt.Sprintf(format, args...), err: ErrUnauthenticated}
}

// Deny refuses a call of an authenticated caller.
func Deny(rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Reden: fmt.Sprintf(format, args...), err: ErrDenied}
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity ctx carries.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}
