package broker

import (
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/gooi-vechtstreek/ledger/services/bus"
)

// Auth makes the server require credentials. Per-gemeente isolation is
// enforced here, by the broker, not by the goodwill of clients: the ledger's
// own user may do everything, a gemeente's user may only read its own bus
// stream through its own consumers.
type Auth struct {
	Service   User
	Gemeenten []User // Name is the CBS code
}

// User is a name and password.
type User struct {
	Name     string
	Password string
	// Archieven are the ended gemeenten whose bus streams this gemeente
	// keeps as their successor (Archiefwet): it reads them as it reads its
	// own.
	Archieven []string
}

// InboxPrefix is the reply subject prefix of a gemeente's connections. A
// gemeente may subscribe only there, so it can not read replies meant for
// the ledger or for another gemeente.
func InboxPrefix(gemeente string) string { return "_INBOX_" + gemeente }

// GemeentePermissions are the rights of a gemeente's user: JetStream API
// calls on its own bus stream (info, its consumers, fetching and acking
// messages) and replies on its own inbox. Nothing else: no publishing on
// ledger subjects, and hands off the ledger's own consumer on the stream.
// A successor after a herindeling has the same rights on the streams of
// the gemeenten whose history it keeps (archieven).
func GemeentePermissions(gemeente string, archieven ...string) *server.Permissions {
	pub := &server.SubjectPermission{Allow: []string{"$JS.API.INFO"}}
	for _, g := range append([]string{gemeente}, archieven...) {
		s := bus.StreamName(g)
		own := bus.LedgerConsumer(g)
		pub.Allow = append(pub.Allow,
			"$JS.API.STREAM.INFO."+s,
			"$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.CONSUMER.CREATE."+s+".>",
			"$JS.API.CONSUMER.DURABLE.CREATE."+s+".>",
			"$JS.API.CONSUMER.INFO."+s+".>",
			"$JS.API.CONSUMER.DELETE."+s+".>",
			"$JS.API.CONSUMER.LIST."+s,
			"$JS.API.CONSUMER.NAMES."+s,
			"$JS.API.CONSUMER.MSG.NEXT."+s+".>",
			"$JS.ACK."+s+".>",
			"$JS.FC."+s+".>",
		)
		pub.Deny = append(pub.Deny,
			"$JS.API.CONSUMER.*."+s+"."+own,
			"$JS.API.CONSUMER.*."+s+"."+own+".>",
			"$JS.API.CONSUMER.*.*."+s+"."+own,
			"$JS.ACK."+s+"."+own+".>",
		)
	}
	return &server.Permissions{
		Publish:   pub,
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(gemeente) + ".>"}},
	}
}

// GemeenteOptions are the connect options of a gemeente's client.
func GemeenteOptions(u User) []nats.Option {
	return []nats.Option{nats.UserInfo(u.Name, u.Password), nats.CustomInboxPrefix(InboxPrefix(u.Name))}
}

func (a *Auth) users() []*server.User {
	users := []*server.User{{Username: a.Service.Name, Password: a.Service.Password}}
	for _, g := range a.Gemeenten {
		users = append(users, &server.User{Username: g.Name, Password: g.Password, Permissions: GemeentePermissions(g.Name, g.Archieven...)})
	}
	return users
}
