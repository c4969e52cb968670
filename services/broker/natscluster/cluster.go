// Package natscluster starts a real three-node NATS JetStream cluster in the
// test's own process, with nats-server's own clustering (routes and Raft),
// and injects the faults a cluster meets: a node that dies, one that comes
// back on its own files, one cut off from the others while it goes on
// running. It is test support: the ledger itself adds no clustering of its
// own (DESIGN §5), it runs on one.
//
// Node i (0, 1, 2) is named n<i+1>. Every node keeps JetStream on file
// storage in a directory of its own under t.TempDir(), fsyncing before an
// acknowledgement as the embedded broker does, and listens for clients and
// routes on 127.0.0.1. Route connections pass a small proxy per node (see
// routeProxy), which is how Partition cuts a node off without stopping it.
//
// Nothing here sleeps to synchronise: every wait polls the servers' own
// monitoring (healthz, routez, jsz) until a condition holds or a deadline
// passes.
package natscluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Size is the number of nodes: the smallest cluster that keeps a quorum
// when one node is gone.
const Size = 3

// Name is the cluster's name.
const Name = "ledger-test"

// Account is the account JetStream assets live in when clients connect
// without credentials, as these do.
const Account = server.DEFAULT_GLOBAL_ACCOUNT

// Timeout bounds every wait of the cluster: forming, rejoining, healing.
// A JetStream Raft election alone takes 4 to 9 seconds (nats-server's
// election timeout, not configurable from outside its package), and this
// machine is shared.
const Timeout = 60 * time.Second

// Cluster is a running three-node cluster. Its methods are safe for
// concurrent use, but faults are meant to be injected one at a time.
type Cluster struct {
	t     testing.TB
	dir   string
	nodes [Size]*node

	mu    sync.Mutex
	links map[*link]struct{}

	// faults serialises Kill, Restart, Partition and Heal.
	faults sync.Mutex
	wg     sync.WaitGroup
}

type node struct {
	name   string
	proxy  *routeProxy
	log    *nodeLog
	client int // client port, fixed after the first start
	route  int // cluster port, fixed after the first start

	// Under Cluster.mu:
	srv *server.Server // nil while the node is down
	id  string         // server id of the running instance
	cut bool           // killed or partitioned: no route to or from it
}

// Start starts the cluster, waits until it has a JetStream meta leader and
// every node is current, and stops it when the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t, dir: t.TempDir(), links: make(map[*link]struct{})}
	for i := range c.nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natscluster: route proxy for n%d: %v", i+1, err)
		}
		n := &node{name: fmt.Sprintf("n%d", i+1), log: &nodeLog{}, client: server.RANDOM_PORT, route: server.RANDOM_PORT}
		n.proxy = &routeProxy{c: c, to: i, ln: ln}
		c.nodes[i] = n
		c.wg.Add(1)
		go n.proxy.serve(&c.wg)
	}
	t.Cleanup(c.stop)
	for i := range c.nodes {
		if err := c.boot(i); err != nil {
			t.Fatalf("natscluster: %v", err)
		}
	}
	c.WaitHealthy()
	c.waitPlacement()
	return c
}

// waitPlacement waits until the meta leader can place a replicated stream.
// Healthy can hold before the leader has heard from every peer what it
// offers: a stream created then was refused "no suitable peers for
// placement" (TestFaults, once in make test on 2026-12-07). The probe
// creates and deletes an R3 stream, which is exactly that condition.
func (c *Cluster) waitPlacement() {
	c.t.Helper()
	nc := c.Connect()
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatalf("natscluster: %v", err)
	}
	const probe = "NATSCLUSTER_PLACEMENT"
	err = Eventually(Timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: probe, Subjects: []string{"natscluster.placement"}, Replicas: Size, Storage: jetstream.MemoryStorage}); err != nil {
			return err
		}
		return js.DeleteStream(ctx, probe)
	})
	if err != nil {
		c.t.Fatalf("natscluster: no R%d stream could be placed within %s: %v\n%s", Size, Timeout, err, c.Describe())
	}
}

// options are node i's server options; a restart gets the same ports and
// directory.
func (c *Cluster) options(i int) *server.Options {
	n := c.nodes[i]
	var routes []string
	for j, m := range c.nodes {
		if j != i {
			routes = append(routes, "nats-route://"+m.proxy.ln.Addr().String())
		}
	}
	return &server.Options{
		ServerName: n.name,
		Host:       "127.0.0.1",
		Port:       n.client,
		JetStream:  true,
		StoreDir:   filepath.Join(c.dir, n.name),
		// As the embedded broker: an acknowledged write is on this node's
		// disk. On a cluster it is on a quorum's.
		SyncAlways: true,
		MaxPayload: 1 << 20,
		NoSigs:     true,
		Cluster: server.ClusterOpts{
			Name: Name,
			Host: "127.0.0.1",
			Port: n.route,
			// Peers reach this node only through its proxy.
			Advertise: n.proxy.ln.Addr().String(),
		},
		Routes: server.RoutesFromStr(strings.Join(routes, ",")),
	}
}

// boot starts node i's server and waits until it takes connections.
func (c *Cluster) boot(i int) error {
	n := c.nodes[i]
	srv, err := server.NewServer(c.options(i))
	if err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	srv.SetLogger(n.log, false, false)
	// Known before the server dials anyone, so that its routes pass.
	c.mu.Lock()
	n.srv, n.id = srv, srv.ID()
	c.mu.Unlock()
	srv.Start()
	if !srv.ReadyForConnections(Timeout) {
		srv.Shutdown()
		c.mu.Lock()
		n.srv, n.id = nil, ""
		c.mu.Unlock()
		return fmt.Errorf("start %s: not ready for connections within %s; it said: %s", n.name, Timeout, n.log.tail(5))
	}
	// Random ports on the first start; the same ones on every restart, so
	// that clients' URL lists and peers' routes stay right.
	n.client = srv.Addr().(*net.TCPAddr).Port
	n.route = srv.ClusterAddr().Port
	return nil
}

func (c *Cluster) stop() {
	for _, n := range c.nodes {
		c.mu.Lock()
		srv := n.srv
		n.srv = nil
		c.mu.Unlock()
		if srv != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
		}
		n.proxy.ln.Close()
	}
	c.mu.Lock()
	for l := range c.links {
		l.close()
	}
	c.mu.Unlock()
	c.wg.Wait()
	if c.t.Failed() {
		for _, n := range c.nodes {
			c.t.Logf("natscluster: last log lines of %s (routes coming and going left out):\n%s", n.name, n.log.tail(40))
		}
	}
}

// Describe says what each node sees: whether it is up or cut off, its
// routes, the meta leader, and for every stream its leader and replicas.
// Tests log it when something takes too long.
func (c *Cluster) Describe() string {
	var b strings.Builder
	for _, n := range c.nodes {
		c.mu.Lock()
		srv, cut := n.srv, n.cut
		c.mu.Unlock()
		fmt.Fprintf(&b, "%s:", n.name)
		if srv == nil {
			b.WriteString(" down\n")
			continue
		}
		if cut {
			b.WriteString(" cut off;")
		}
		if rz, err := srv.Routez(nil); err == nil {
			var names []string
			for _, r := range rz.Routes {
				if !slices.Contains(names, r.RemoteName) {
					names = append(names, r.RemoteName)
				}
			}
			fmt.Fprintf(&b, " routes to %v;", names)
		}
		if h := srv.Healthz(nil); h.Error != "" {
			fmt.Fprintf(&b, " healthz %q;", h.Error)
		}
		jz, err := srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
		if err != nil {
			fmt.Fprintf(&b, " jsz: %v\n", err)
			continue
		}
		if jz.Meta != nil {
			fmt.Fprintf(&b, " meta leader %q;", jz.Meta.Leader)
		}
		for _, ad := range jz.AccountDetails {
			for _, sd := range ad.Streams {
				fmt.Fprintf(&b, " stream %s: %d messages, last %d", sd.Name, sd.State.Msgs, sd.State.LastSeq)
				if sd.Cluster != nil {
					fmt.Fprintf(&b, ", leader %q", sd.Cluster.Leader)
					for _, p := range sd.Cluster.Replicas {
						fmt.Fprintf(&b, ", replica %s current=%t offline=%t lag=%d active=%s", p.Name, p.Current, p.Offline, p.Lag, p.Active.Round(time.Millisecond))
					}
				}
				b.WriteString(";")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// URLs are the client URLs of all nodes, down or not.
func (c *Cluster) URLs() []string {
	urls := make([]string, Size)
	for i, n := range c.nodes {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", n.client)
	}
	return urls
}

// URL is the comma-separated list nats.Connect and `ledger serve
// --nats-url` take.
func (c *Cluster) URL() string { return strings.Join(c.URLs(), ",") }

// Connect connects to the cluster over TCP, with the URL list, reconnecting
// forever, to any node; options are applied after these. The connection is
// closed when the test ends.
func (c *Cluster) Connect(opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	all := append([]nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		// A node that comes back is used again, and a killed one is not
		// waited for.
		nats.ReconnectJitter(20*time.Millisecond, 20*time.Millisecond),
	}, opts...)
	nc, err := nats.Connect(c.URL(), all...)
	if err != nil {
		c.t.Fatalf("natscluster: connect: %v", err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// ConnectTo connects to node i alone (a client on one side of a
// partition); options are applied after the defaults. The connection is
// closed when the test ends.
func (c *Cluster) ConnectTo(i int, opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	nc, err := nats.Connect(c.URLs()[i], append([]nats.Option{nats.NoReconnect()}, opts...)...)
	if err != nil {
		c.t.Fatalf("natscluster: connect to %s: %v", c.nodes[i].name, err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// Server is node i's running server, nil while it is down.
func (c *Cluster) Server(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].srv
}

// NodeName is node i's server name.
func (c *Cluster) NodeName(i int) string { return c.nodes[i].name }

// Kill stops node i abruptly. Its routes are cut first, so that the
// leadership hand-over a server's Shutdown sends to its peers never
// arrives: the others find the node gone the way they find a crashed one,
// by missed heartbeats and an election. Its clients lose their connection
// and move to another node. What it had fsynced stays on its disk.
func (c *Cluster) Kill(i int) {
	c.faults.Lock()
	defer c.faults.Unlock()
	c.cutOff(i)
	c.mu.Lock()
	srv := c.nodes[i].srv
	c.nodes[i].srv, c.nodes[i].id = nil, ""
	c.mu.Unlock()
	if srv == nil {
		c.t.Fatalf("natscluster: kill %s: it is down already", c.nodes[i].name)
	}
	begin := time.Now()
	srv.Shutdown()
	srv.WaitForShutdown()
	if took := time.Since(begin); took > 10*time.Second {
		c.t.Logf("natscluster: shutting %s down took %s", c.nodes[i].name, took.Round(time.Millisecond))
	}
}

// Restart starts node i again on its own ports and store directory and
// waits until it has rejoined and the whole cluster is current again: the
// node's routes to both peers are up, and every node's healthz (meta
// leader known, every stream and consumer assigned to it caught up) is ok.
func (c *Cluster) Restart(i int) {
	c.faults.Lock()
	defer c.faults.Unlock()
	if c.Server(i) != nil {
		c.t.Fatalf("natscluster: restart %s: it is running", c.nodes[i].name)
	}
	if err := c.boot(i); err != nil {
		c.t.Fatalf("natscluster: %v", err)
	}
	c.rejoin(i)
	c.WaitHealthy()
}

// Partition cuts node i off from both peers while it keeps running: every
// route connection to or from it is closed, and new ones are refused, so
// that its Raft groups lose their quorum. Clients connected to it stay
// connected to a node that can not commit anything (the minority side of
// a real partition). It returns once the other two are healthy between
// themselves.
func (c *Cluster) Partition(i int) {
	c.faults.Lock()
	defer c.faults.Unlock()
	if c.Server(i) == nil {
		c.t.Fatalf("natscluster: partition %s: it is down", c.nodes[i].name)
	}
	c.cutOff(i)
	// The servers notice closed routes on their own; wait until they have,
	// so that the partition is complete when Partition returns.
	if err := Eventually(Timeout, func() error { return c.isolated(i) }); err != nil {
		c.t.Fatalf("natscluster: partition %s: %v", c.nodes[i].name, err)
	}
	c.WaitHealthy()
}

// isolated reports why node i still has a route to or from another node,
// nil when it has none.
func (c *Cluster) isolated(i int) error {
	for j := range c.nodes {
		srv := c.Server(j)
		if srv == nil {
			continue
		}
		rz, err := srv.Routez(nil)
		if err != nil {
			return fmt.Errorf("%s: routez: %w", c.nodes[j].name, err)
		}
		for _, r := range rz.Routes {
			if j == i || r.RemoteName == c.nodes[i].name {
				return fmt.Errorf("%s still has a route to %s", c.nodes[j].name, r.RemoteName)
			}
		}
	}
	return nil
}

// Heal ends node i's partition: routes are let through again (the servers
// redial on their own, within about a second), and Heal waits until the
// whole cluster is current again.
func (c *Cluster) Heal(i int) {
	c.faults.Lock()
	defer c.faults.Unlock()
	c.rejoin(i)
	c.WaitHealthy()
}

// cutOff closes every route link of node i and refuses new ones.
func (c *Cluster) cutOff(i int) {
	c.mu.Lock()
	c.nodes[i].cut = true
	var cut []*link
	for l := range c.links {
		if l.from == i || l.to == i {
			cut = append(cut, l)
		}
	}
	c.mu.Unlock()
	for _, l := range cut {
		l.close()
	}
}

func (c *Cluster) rejoin(i int) {
	c.mu.Lock()
	c.nodes[i].cut = false
	c.mu.Unlock()
}

// nodeByID is the node whose running server has the id, -1 when none has.
func (c *Cluster) nodeByID(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.nodes {
		if id != "" && n.id == id {
			return i
		}
	}
	return -1
}

// routeTarget is the cluster address of node to, when a route from node
// from to it may pass.
func (c *Cluster) routeTarget(from, to int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if from < 0 || c.nodes[from].cut || c.nodes[to].cut || c.nodes[to].srv == nil {
		return "", false
	}
	return fmt.Sprintf("127.0.0.1:%d", c.nodes[to].route), true
}

func (c *Cluster) addLink(l *link) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[l.from].cut || c.nodes[l.to].cut {
		return false
	}
	c.links[l] = struct{}{}
	return true
}

func (c *Cluster) dropLink(l *link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.links, l)
}

// reachable are the running servers that are not cut off, by node.
func (c *Cluster) reachable() map[int]*server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	up := make(map[int]*server.Server)
	for i, n := range c.nodes {
		if n.srv != nil && !n.cut {
			up[i] = n.srv
		}
	}
	return up
}

// Healthy reports why the reachable part of the cluster (the running
// nodes that are not cut off) is not healthy yet, nil when it is: at least
// a quorum of nodes, all routed to each other, agreeing on one meta leader
// among them, every replicated stream led by one of them, and each one's
// healthz ok — JetStream meta current, and every stream and consumer
// replica assigned to it current, not catching up.
func (c *Cluster) Healthy() error {
	up := c.reachable()
	if len(up) < Size/2+1 {
		return fmt.Errorf("%d of %d nodes reachable: no quorum", len(up), Size)
	}
	leader := ""
	for i, srv := range up {
		name := c.nodes[i].name
		if h := srv.Healthz(nil); h.StatusCode != 200 || h.Error != "" {
			return fmt.Errorf("%s: healthz %d %s", name, h.StatusCode, h.Error)
		}
		rz, err := srv.Routez(nil)
		if err != nil {
			return fmt.Errorf("%s: routez: %w", name, err)
		}
		for j := range up {
			if j != i && !slices.ContainsFunc(rz.Routes, func(r *server.RouteInfo) bool { return r.RemoteName == c.nodes[j].name }) {
				return fmt.Errorf("%s: no route to %s", name, c.nodes[j].name)
			}
		}
		jz, err := srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
		if err != nil {
			return fmt.Errorf("%s: jsz: %w", name, err)
		}
		if jz.Meta == nil || jz.Meta.Leader == "" {
			return fmt.Errorf("%s: no JetStream meta leader", name)
		}
		// Right after a cut the others still count on the leader they
		// had (its last heartbeat is recent, so healthz passes): the
		// part is healthy once each of its streams has a leader in it.
		for _, ad := range jz.AccountDetails {
			for _, sd := range ad.Streams {
				if sd.Cluster == nil || sd.Config != nil && sd.Config.Replicas <= 1 {
					continue
				}
				if !c.isReachable(up, sd.Cluster.Leader) {
					return fmt.Errorf("%s: stream %s > %s is led by %q, not by a reachable node", name, ad.Name, sd.Name, sd.Cluster.Leader)
				}
			}
		}
		switch {
		case leader == "":
			leader = jz.Meta.Leader
		case leader != jz.Meta.Leader:
			return fmt.Errorf("meta leader is %s to one node, %s to %s", leader, jz.Meta.Leader, name)
		}
	}
	if !c.isReachable(up, leader) {
		return fmt.Errorf("meta leader %s is not reachable", leader)
	}
	return nil
}

// isReachable reports whether the server named name is one of up.
func (c *Cluster) isReachable(up map[int]*server.Server, name string) bool {
	for i := range up {
		if c.nodes[i].name == name {
			return true
		}
	}
	return false
}

// WaitHealthy waits until Healthy reports nil, and fails the test with the
// last reason when Timeout passes first.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	if err := Eventually(Timeout, c.Healthy); err != nil {
		c.t.Fatalf("natscluster: not healthy within %s: %v\n%s", Timeout, err, c.Describe())
	}
}

// StreamLeader is the node that leads a stream of Account, as the
// reachable nodes see it: the one that says it is the leader. Nodes cut
// off are not asked (a partitioned leader may believe it still leads until
// it notices it lost its quorum). ok is false when no reachable node leads
// the stream.
func (c *Cluster) StreamLeader(stream string) (i int, ok bool) {
	for i, srv := range c.reachable() {
		jz, err := srv.Jsz(&server.JSzOptions{Account: Account, Streams: true})
		if err != nil {
			continue
		}
		for _, ad := range jz.AccountDetails {
			for _, sd := range ad.Streams {
				if sd.Name == stream && sd.Cluster != nil && sd.Cluster.Leader == c.nodes[i].name {
					return i, true
				}
			}
		}
	}
	return -1, false
}

// StreamState is stream's state as node i holds it.
func (c *Cluster) StreamState(i int, stream string) (server.StreamState, error) {
	srv := c.Server(i)
	if srv == nil {
		return server.StreamState{}, fmt.Errorf("%s is down", c.nodes[i].name)
	}
	jz, err := srv.Jsz(&server.JSzOptions{Account: Account, Streams: true})
	if err != nil {
		return server.StreamState{}, fmt.Errorf("%s: jsz: %w", c.nodes[i].name, err)
	}
	for _, ad := range jz.AccountDetails {
		for _, sd := range ad.Streams {
			if sd.Name == stream {
				return sd.State, nil
			}
		}
	}
	return server.StreamState{}, fmt.Errorf("%s holds no stream %s", c.nodes[i].name, stream)
}

// Eventually polls cond until it returns nil and returns nil, or returns
// cond's last error once timeout has passed. It polls often at first and
// less often later, so that a quick condition is seen quickly and a slow
// one does not keep the machine busy.
func Eventually(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return err
		}
		// Not a synchronisation: the condition is what is waited for,
		// this only spaces out the polls.
		t := time.NewTimer(wait)
		<-t.C
		wait = min(wait*2, 100*time.Millisecond)
	}
}
