package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/gooi-vechtstreek/ledger/services/bus"
)

// Auth makes the server require credentials and gives every gemeente a
// NATS account of its own. Per-gemeente isolation is the broker's, the
// NATS way: the ledger's account (LedgerAccount) holds the store and the
// bus streams, and exports to each gemeente's account only what it needs
// to take a copy of its own bus stream (LEDGER_EVENTS_<GM>) into a stream
// of its own, by JetStream sourcing: creating a consumer on that one
// stream, and the deliveries of it. A gemeente sees nothing else of the
// ledger's account; another gemeente's stream is not even addressable.
type Auth struct {
	Service   User
	Gemeenten []User // Name is the CBS code
}

// User is a name and password.
type User struct {
	Name     string
	Password string
	// Archieven are the ended gemeenten whose bus streams this gemeente
	// keeps as their successor (Archiefwet): it may copy them as it copies
	// its own.
	Archieven []string
}

// LedgerAccount is the NATS account of the ledger itself.
const LedgerAccount = "LEDGER"

// APIPrefix is the subject prefix under which a gemeente's account reaches
// the ledger's JetStream API (consumer creation on its own streams only):
// the External.APIPrefix of a stream that sources from the ledger.
const APIPrefix = "JS.LEDGER"

// DeliverPrefix is the prefix of the deliveries to gemeente's account: the
// External.DeliverPrefix of its sourced stream.
func DeliverPrefix(gemeente string) string { return "deliver." + gemeente }

// GemeenteOptions are the connect options of a gemeente's client.
func GemeenteOptions(u User) []nats.Option {
	return []nats.Option{nats.UserInfo(u.Name, u.Password)}
}

// AccountsConfig is the accounts block of a nats-server configuration that
// gives the ledger and each gemeente their accounts, with the exports and
// imports above. password renders a user's password: the user's own for
// the embedded server, or a $VARIABLE for a configuration written out for
// an external cluster (deploy/nats/). copyLimit bounds the file storage of
// each gemeente's account (its copies), in bytes: JetStream reserves these
// limits against the server's storage at start.
func (a *Auth) AccountsConfig(password func(User) string, copyLimit int64) string {
	var b strings.Builder
	readers := map[string][]string{} // gemeente stream -> accounts that may copy it
	for _, g := range a.Gemeenten {
		for _, s := range append([]string{g.Name}, g.Archieven...) {
			if !slices.Contains(readers[s], g.Name) {
				readers[s] = append(readers[s], g.Name)
			}
		}
	}
	streams := make([]string, 0, len(readers))
	for s := range readers {
		streams = append(streams, s)
	}
	slices.Sort(streams)

	b.WriteString("# Generated from the gemeente data file by `ledger nats-accounts` (the embedded server writes the\n# same, with its passwords, to data/nats-accounts.conf); see services/broker/auth.go.\n")
	b.WriteString("accounts {\n")
	fmt.Fprintf(&b, "  %s {\n    jetstream: enabled\n    users: [{user: %q, password: %s}]\n    exports: [\n", LedgerAccount, a.Service.Name, password(a.Service))
	b.WriteString("      # Flow control of the deliveries, for every importer.\n")
	b.WriteString("      {service: \"$JS.FC.>\"}\n")
	for _, s := range streams {
		accs := quoteAll(readers[s])
		fmt.Fprintf(&b, "      {service: \"$JS.API.CONSUMER.CREATE.%s\", response_type: stream, accounts: [%s]}\n", bus.StreamName(s), accs)
		fmt.Fprintf(&b, "      {service: \"$JS.API.CONSUMER.CREATE.%s.>\", response_type: stream, accounts: [%s]}\n", bus.StreamName(s), accs)
	}
	for _, g := range a.Gemeenten {
		fmt.Fprintf(&b, "      {stream: \"%s.>\", accounts: [%q]}\n", DeliverPrefix(g.Name), g.Name)
	}
	b.WriteString("    ]\n  }\n")
	for _, g := range a.Gemeenten {
		// Room for its own copies, not for the ledger's disk.
		fmt.Fprintf(&b, "  %s {\n    jetstream: {max_mem: 0, max_file: %d}\n    users: [{user: %q, password: %s}]\n    imports: [\n", g.Name, copyLimit, g.Name, password(g))
		fmt.Fprintf(&b, "      {service: {account: %s, subject: \"$JS.FC.>\"}, to: \"$JS.FC.>\"}\n", LedgerAccount)
		for _, s := range append([]string{g.Name}, g.Archieven...) {
			st := bus.StreamName(s)
			fmt.Fprintf(&b, "      {service: {account: %s, subject: \"$JS.API.CONSUMER.CREATE.%s\"}, to: \"%s.CONSUMER.CREATE.%s\"}\n", LedgerAccount, st, APIPrefix, st)
			fmt.Fprintf(&b, "      {service: {account: %s, subject: \"$JS.API.CONSUMER.CREATE.%s.>\"}, to: \"%s.CONSUMER.CREATE.%s.>\"}\n", LedgerAccount, st, APIPrefix, st)
		}
		fmt.Fprintf(&b, "      {stream: {account: %s, subject: \"%s.>\"}}\n", LedgerAccount, DeliverPrefix(g.Name))
		b.WriteString("    ]\n  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// migrateGlobalAccount moves the JetStream files of a ledger that ran
// before accounts (everything in the global account $G) into the ledger's
// account, once, before the server starts: one rename of a directory.
func migrateGlobalAccount(storeDir string) error {
	js := filepath.Join(storeDir, "jetstream")
	old, now := filepath.Join(js, "$G"), filepath.Join(js, LedgerAccount)
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(now); err == nil {
		return fmt.Errorf("JetStream data in both %s and %s: move one away by hand", old, now)
	}
	if err := os.Rename(old, now); err != nil {
		return fmt.Errorf("move JetStream data into account %s: %w", LedgerAccount, err)
	}
	return nil
}
