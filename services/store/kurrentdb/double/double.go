// Package double is a test double of KurrentDB's gRPC protocol: an
// in-process server built from the KurrentDB client module's own generated
// protocol code, implementing only what the ledger's kurrentdb store calls:
// appends to a stream, reads of a stream and of $all, the catch-up
// subscription to $all with a server-side filter, and gossip for a cluster
// of nodes. It can inject the faults the store must survive: a dropped
// subscription, a wrong-expected-version reply, a deadline (before or after
// the write), a leader change, a subscription that falls behind.
//
// It is a double, not KurrentDB. A test that passes against it proves the
// store's mapping of the protocol, its error handling and its
// resubscription; it never proves what KurrentDB itself does. The
// conformance suite runs against a real KurrentDB when LEDGER_KURRENTDB_URL
// is set.
package double

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gooi-vechtstreek/ledger/services/clock"
)

// Fault is a fault injected into the next call that it applies to.
type Fault int

const (
	// WrongExpectedVersion answers the next append "wrong expected
	// version" with the stream's true revision, and writes nothing.
	WrongExpectedVersion Fault = iota + 1
	// Deadline holds the next append until its caller gives up, and
	// writes nothing.
	Deadline
	// DeadlineAfterWrite writes the next append and holds its answer until
	// the caller gives up: the write landed, the writer does not know.
	DeadlineAfterWrite
)

func (f Fault) String() string {
	switch f {
	case WrongExpectedVersion:
		return "wrong-expected-version"
	case Deadline:
		return "deadline"
	case DeadlineAfterWrite:
		return "deadline-after-write"
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// Cluster is one or more nodes serving one log. One node is the leader;
// the others answer every streams call with KurrentDB's "not leader"
// exception naming the leader, as a follower does for writes.
type Cluster struct {
	mu      sync.Mutex
	log     []*event // in commit order
	streams map[string][]*event
	next    uint64        // the next log position
	changed chan struct{} // closed and replaced when the log grows
	drop    chan struct{} // closed and replaced to drop every subscription
	behind  chan struct{} // closed and replaced to make subscriptions fall behind
	faults  []Fault
	// proposed counts the proposed messages received by appends; an
	// interrupted append's test waits on it.
	proposed     int
	proposedCond *sync.Cond
	nodes        []*node
	leader       int
	calls        map[string]int
	// Clock stamps an event's "created", as KurrentDB's own clock does;
	// nil is the system clock.
	Clock clock.Clock
	opts  Options
}

// newServer is a node's gRPC server: over TLS and with users checked when
// the options say so.
func (c *Cluster) newServer() *grpc.Server {
	var opts []grpc.ServerOption
	if c.opts.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(c.opts.TLS)))
	}
	if c.opts.User != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.opts.User+":"+c.opts.Password))
		check := func(ctx context.Context, method string) error {
			if !strings.HasPrefix(method, "/event_store.client.streams.") {
				return nil // gossip answers anyone, as KurrentDB's does
			}
			md, _ := metadata.FromIncomingContext(ctx)
			if got := md.Get("authorization"); len(got) != 1 || got[0] != want {
				return status.Error(codes.Unauthenticated, "bad username or password")
			}
			return nil
		}
		opts = append(opts,
			grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				if err := check(ctx, info.FullMethod); err != nil {
					return nil, err
				}
				return h(ctx, req)
			}),
			grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				if err := check(ss.Context(), info.FullMethod); err != nil {
					return err
				}
				return h(srv, ss)
			}))
	}
	return grpc.NewServer(opts...)
}

type event struct {
	id       uuid.UUID
	stream   string
	revision uint64
	commit   uint64
	prepare  uint64
	created  time.Time
	meta     map[string]string
	custom   []byte
	data     []byte
}

type node struct {
	api.UnimplementedStreamsServer
	c    *Cluster
	i    int
	lis  net.Listener
	srv  *grpc.Server
	host string
	port int
}

// Options configure a cluster beyond its size.
type Options struct {
	Nodes int
	// TLS, when set, is the nodes' server configuration: they speak gRPC
	// over TLS only, as KurrentDB does unless it runs insecure.
	TLS *tls.Config
	// User and Password, when set, are required (HTTP basic, as the
	// client sends them) on every streams call, as KurrentDB's users are.
	User, Password string
}

// Start starts a cluster of n nodes on loopback, node 0 the leader,
// without TLS or users, and stops it when t ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartWith(t, Options{Nodes: n})
}

// StartWith starts a cluster as o says.
func StartWith(t testing.TB, o Options) *Cluster {
	t.Helper()
	c := &Cluster{streams: map[string][]*event{}, next: 1000, changed: make(chan struct{}), drop: make(chan struct{}), behind: make(chan struct{}), calls: map[string]int{}, opts: o}
	c.proposedCond = sync.NewCond(&c.mu)
	for i := range max(1, o.Nodes) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("kurrentdb double: listen: %v", err)
		}
		addr := lis.Addr().(*net.TCPAddr)
		nd := &node{c: c, i: i, lis: lis, srv: c.newServer(), host: "127.0.0.1", port: addr.Port}
		api.RegisterStreamsServer(nd.srv, nd)
		gossip.RegisterGossipServer(nd.srv, gossipServer{n: nd})
		c.nodes = append(c.nodes, nd)
		go func() { _ = nd.srv.Serve(lis) }()
	}
	t.Cleanup(c.Stop)
	return c
}

// Stop stops every node.
func (c *Cluster) Stop() {
	c.mu.Lock()
	nodes := slices.Clone(c.nodes)
	c.mu.Unlock()
	for _, n := range nodes {
		n.srv.Stop()
	}
}

// Restart stops node i, as a KurrentDB node that goes down does (its
// connections and subscriptions break), and starts it again on the same
// address with the log it had.
func (c *Cluster) Restart(t testing.TB, i int) {
	t.Helper()
	c.mu.Lock()
	old := c.nodes[i]
	c.mu.Unlock()
	old.srv.Stop()
	lis, err := net.Listen("tcp", old.addr())
	if err != nil {
		t.Fatalf("kurrentdb double: listen again on %s: %v", old.addr(), err)
	}
	nd := &node{c: c, i: i, lis: lis, srv: c.newServer(), host: old.host, port: old.port}
	api.RegisterStreamsServer(nd.srv, nd)
	gossip.RegisterGossipServer(nd.srv, gossipServer{n: nd})
	c.mu.Lock()
	c.nodes[i] = nd
	c.mu.Unlock()
	go func() { _ = nd.srv.Serve(lis) }()
}

// URL is the connection string of the cluster: the one node, or every
// node as a gossip seed; with ?tls=false unless it speaks TLS (then the
// caller adds its ?tlsCAFile=).
func (c *Cluster) URL() string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.addr()
	}
	if c.opts.TLS != nil {
		return "esdb://" + strings.Join(addrs, ",")
	}
	return "esdb://" + strings.Join(addrs, ",") + "?tls=false"
}

// NodeURL is the connection string of node i alone.
func (c *Cluster) NodeURL(i int) string {
	return "esdb://" + c.nodes[i].addr() + "?tls=false"
}

func (n *node) addr() string { return net.JoinHostPort(n.host, strconv.Itoa(n.port)) }

// Inject makes the next call that f applies to fail with f. Faults queue up
// in the order injected.
func (c *Cluster) Inject(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, f)
}

// DropSubscriptions ends every live subscription with an error, as a node
// that restarts or a connection that breaks does.
func (c *Cluster) DropSubscriptions() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.drop)
	c.drop = make(chan struct{})
}

// FallBehind makes every live subscription report that it fell behind.
func (c *Cluster) FallBehind() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.behind)
	c.behind = make(chan struct{})
}

// MoveLeader makes node i the leader; the others refuse with "not leader".
func (c *Cluster) MoveLeader(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.leader = i
}

// Calls says how many calls of a kind ("append", "read-stream",
// "read-all", "subscribe", "gossip") the cluster answered.
func (c *Cluster) Calls(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[kind]
}

// WaitProposed waits until appends have received n proposed messages in
// all, or ctx ends.
func (c *Cluster) WaitProposed(ctx context.Context, n int) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.proposedCond.Broadcast()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.proposed < n {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%d of %d proposed messages arrived: %w", c.proposed, n, err)
		}
		c.proposedCond.Wait()
	}
	return nil
}

// Proposed is how many proposed messages appends have received in all.
func (c *Cluster) Proposed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proposed
}

// AppendSystemEvent writes an event of KurrentDB's own (type and stream
// starting with '$'), which a reader of the ledger's events must never be
// handed.
func (c *Cluster) AppendSystemEvent(typ string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.write("$"+strings.TrimPrefix(typ, "$")+"-stream", []*api.AppendReq_ProposedMessage{{
		Id:       &shared.UUID{Value: &shared.UUID_String_{String_: uuid.NewString()}},
		Metadata: map[string]string{"type": "$" + strings.TrimPrefix(typ, "$"), "content-type": "application/json"},
		Data:     []byte("{}"),
	}})
}

func (c *Cluster) takeFault(applies func(Fault) bool) Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.faults {
		if applies(f) {
			c.faults = append(c.faults[:i], c.faults[i+1:]...)
			return f
		}
	}
	return 0
}

// notLeader is the error a follower answers with, in the trailers
// KurrentDB sets: the client reconnects to the leader they name.
func (n *node) notLeader(stream grpc.ServerStream) error {
	n.c.mu.Lock()
	l := n.c.nodes[n.c.leader]
	n.c.mu.Unlock()
	stream.SetTrailer(metadata.Pairs("exception", "not-leader", "leader-endpoint-host", l.host, "leader-endpoint-port", strconv.Itoa(l.port)))
	return status.Error(codes.NotFound, "leader info available")
}

func (n *node) isLeader() bool {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	return n.c.leader == n.i
}

func (n *node) count(kind string) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	n.c.calls[kind]++
}

// gossipServer answers a client's discovery.
type gossipServer struct {
	gossip.UnimplementedGossipServer
	n *node
}

// Read answers gossip: every node alive, one leader.
func (g gossipServer) Read(ctx context.Context, _ *shared.Empty) (*gossip.ClusterInfo, error) {
	n := g.n
	n.count("gossip")
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	info := &gossip.ClusterInfo{}
	for _, m := range n.c.nodes {
		state := gossip.MemberInfo_Follower
		if m.i == n.c.leader {
			state = gossip.MemberInfo_Leader
		}
		info.Members = append(info.Members, &gossip.MemberInfo{
			InstanceId:   &shared.UUID{Value: &shared.UUID_String_{String_: uuid.NewSHA1(uuid.NameSpaceOID, []byte(m.addr())).String()}},
			State:        state,
			IsAlive:      true,
			HttpEndPoint: &gossip.EndPoint{Address: m.host, Port: uint32(m.port)},
		})
	}
	return info, nil
}

// Append takes an append: the options, the proposed messages, and on the
// end of the client's stream the write, all of it or none.
func (n *node) Append(s api.Streams_AppendServer) error {
	n.count("append")
	if !n.isLeader() {
		return n.notLeader(s)
	}
	first, err := s.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "append without options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	var msgs []*api.AppendReq_ProposedMessage
	for {
		m, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			// The writer went away before it finished: nothing is written.
			return err
		}
		p := m.GetProposedMessage()
		if p == nil {
			return status.Error(codes.InvalidArgument, "append: a second options message")
		}
		msgs = append(msgs, p)
		n.c.mu.Lock()
		n.c.proposed++
		n.c.proposedCond.Broadcast()
		n.c.mu.Unlock()
	}
	fault := n.c.takeFault(func(Fault) bool { return true })
	if fault == Deadline {
		<-s.Context().Done()
		return status.FromContextError(s.Context().Err()).Err()
	}
	resp := n.c.append(name, opts, msgs, fault)
	if fault == DeadlineAfterWrite {
		<-s.Context().Done()
		return status.FromContextError(s.Context().Err()).Err()
	}
	return s.SendAndClose(resp)
}

func (c *Cluster) append(name string, opts *api.AppendReq_Options, msgs []*api.AppendReq_ProposedMessage, fault Fault) *api.AppendResp {
	c.mu.Lock()
	defer c.mu.Unlock()
	evs := c.streams[name]
	cur := int64(len(evs)) - 1
	start, ok := int64(0), false
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Revision:
		start, ok = int64(e.Revision)+1, cur == int64(e.Revision)
	case *api.AppendReq_Options_NoStream:
		start, ok = 0, cur == -1
	case *api.AppendReq_Options_Any:
		start, ok = cur+1, true
	case *api.AppendReq_Options_StreamExists:
		start, ok = cur+1, cur >= 0
	}
	// KurrentDB's own idempotency: the events the expectation places are
	// these, so the append was made before; it answers with the revision
	// and no position.
	if len(msgs) > 0 && start+int64(len(msgs)) <= int64(len(evs)) {
		same := true
		for i, m := range msgs {
			if evs[start+int64(i)].id != messageID(m) {
				same = false
				break
			}
		}
		if same {
			return &api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
				CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(start) + uint64(len(msgs)) - 1},
				PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
			}}}
		}
	}
	if !ok || fault == WrongExpectedVersion {
		w := &api.AppendResp_WrongExpectedVersion{}
		if cur < 0 {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
		}
		return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
	}
	if len(msgs) == 0 {
		ok := &api.AppendResp_Success{PositionOption: &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}}
		if cur < 0 {
			ok.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
		} else {
			ok.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(cur)}
		}
		return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
	}
	last := c.write(name, msgs)
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
		CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: last.revision},
		PositionOption:        &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: last.commit, PreparePosition: last.prepare}},
	}}}
}

// write appends msgs to a stream as one transaction, with c.mu held: each
// event its own prepare position, all of them the commit position of the
// transaction's end, as in KurrentDB's log.
func (c *Cluster) write(name string, msgs []*api.AppendReq_ProposedMessage) *event {
	prepares := make([]uint64, len(msgs))
	for i, m := range msgs {
		prepares[i] = c.next
		c.next += uint64(100 + len(m.GetData()) + len(m.GetCustomMetadata()))
	}
	commit := c.next
	c.next += 50
	var last *event
	for i, m := range msgs {
		meta := map[string]string{}
		for k, v := range m.GetMetadata() {
			meta[k] = v
		}
		e := &event{id: messageID(m), stream: name, revision: uint64(len(c.streams[name])), commit: commit, prepare: prepares[i],
			created: c.Clock.Now(), meta: meta, custom: m.GetCustomMetadata(), data: m.GetData()}
		c.streams[name] = append(c.streams[name], e)
		c.log = append(c.log, e)
		last = e
	}
	close(c.changed)
	c.changed = make(chan struct{})
	return last
}

func messageID(m *api.AppendReq_ProposedMessage) uuid.UUID {
	switch v := m.GetId().GetValue().(type) {
	case *shared.UUID_Structured_:
		return structuredUUID(v.Structured.GetMostSignificantBits(), v.Structured.GetLeastSignificantBits())
	case *shared.UUID_String_:
		id, _ := uuid.Parse(v.String_)
		return id
	}
	return uuid.Nil
}

func structuredUUID(most, least int64) uuid.UUID {
	var id uuid.UUID
	for i := range 8 {
		id[i] = byte(uint64(most) >> (56 - 8*i))
		id[8+i] = byte(uint64(least) >> (56 - 8*i))
	}
	return id
}

func toStructured(id uuid.UUID) *shared.UUID {
	var most, least uint64
	for i := range 8 {
		most = most<<8 | uint64(id[i])
		least = least<<8 | uint64(id[8+i])
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: int64(most), LeastSignificantBits: int64(least)}}}
}

func (e *event) proto() *api.ReadResp {
	meta := map[string]string{}
	for k, v := range e.meta {
		meta[k] = v
	}
	// .NET ticks since the Unix epoch, as KurrentDB writes "created".
	meta["created"] = strconv.FormatInt(e.created.UnixNano()/100, 10)
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               toStructured(e.id),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(e.stream)},
			StreamRevision:   e.revision,
			PreparePosition:  e.prepare,
			CommitPosition:   e.commit,
			Metadata:         meta,
			CustomMetadata:   e.custom,
			Data:             e.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.commit},
	}}}
}

func less(c1, p1, c2, p2 uint64) bool {
	if c1 != c2 {
		return c1 < c2
	}
	return p1 < p2
}

// Read serves reads of a stream, of $all, and subscriptions to $all.
func (n *node) Read(req *api.ReadReq, s api.Streams_ReadServer) error {
	if !n.isLeader() {
		return n.notLeader(s)
	}
	o := req.GetOptions()
	if o.GetSubscription() != nil {
		n.count("subscribe")
		if o.GetAll() == nil {
			return status.Error(codes.Unimplemented, "the double subscribes to $all only")
		}
		return n.c.subscribe(s, o)
	}
	if st := o.GetStream(); st != nil {
		n.count("read-stream")
		return n.c.readStream(s, o, st)
	}
	n.count("read-all")
	return n.c.readAll(s, o)
}

func (c *Cluster) readStream(s api.Streams_ReadServer, o *api.ReadReq_Options, st *api.ReadReq_Options_StreamOptions) error {
	name := string(st.GetStreamIdentifier().GetStreamName())
	c.mu.Lock()
	evs := append([]*event(nil), c.streams[name]...)
	c.mu.Unlock()
	if len(evs) == 0 {
		return s.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{StreamIdentifier: st.GetStreamIdentifier()}}})
	}
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	var from int64
	switch r := st.GetRevisionOption().(type) {
	case *api.ReadReq_Options_StreamOptions_Revision:
		from = int64(r.Revision)
	case *api.ReadReq_Options_StreamOptions_End:
		from = int64(len(evs)) - 1
		if !backwards {
			from = int64(len(evs))
		}
	}
	return send(s, evs, int(from), o.GetCount(), backwards)
}

func (c *Cluster) readAll(s api.Streams_ReadServer, o *api.ReadReq_Options) error {
	c.mu.Lock()
	log := c.log
	c.mu.Unlock()
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	var i int
	switch p := o.GetAll().GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Start:
		i = 0
		if backwards {
			i = -1
		}
	case *api.ReadReq_Options_AllOptions_End:
		i = len(log)
		if backwards {
			i = len(log) - 1
		}
	case *api.ReadReq_Options_AllOptions_Position:
		// Forwards from a position starts at the event there; backwards
		// from it, at the one before.
		i = len(log)
		for j, e := range log {
			if !less(e.commit, e.prepare, p.Position.GetCommitPosition(), p.Position.GetPreparePosition()) {
				i = j
				break
			}
		}
		if backwards {
			i--
		}
	}
	return send(s, log, i, o.GetCount(), backwards)
}

// send sends up to count events of evs from index i on, forwards or
// backwards: the answer to a read.
func send(s api.Streams_ReadServer, evs []*event, i int, count uint64, backwards bool) error {
	step := 1
	if backwards {
		step = -1
	}
	for ; count > 0 && i >= 0 && i < len(evs); count-- {
		if err := s.Send(evs[i].proto()); err != nil {
			return err
		}
		i += step
	}
	return nil
}

// subscribe serves a catch-up subscription to $all: the stored events after
// the position, CaughtUp, then each new event, filtered on the server.
func (c *Cluster) subscribe(s api.Streams_ReadServer, o *api.ReadReq_Options) error {
	keep, err := filter(o.GetFilter())
	if err != nil {
		return err
	}
	if err := s.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}); err != nil {
		return err
	}
	c.mu.Lock()
	i := len(c.log)
	switch p := o.GetAll().GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Start:
		i = 0
	case *api.ReadReq_Options_AllOptions_Position:
		// A subscription from a position starts after it.
		for j, e := range c.log {
			if less(p.Position.GetCommitPosition(), p.Position.GetPreparePosition(), e.commit, e.prepare) {
				i = j
				break
			}
		}
	}
	drop, behind := c.drop, c.behind
	c.mu.Unlock()
	caughtUp := false
	for {
		c.mu.Lock()
		pending := c.log[i:]
		changed := c.changed
		c.mu.Unlock()
		for _, e := range pending {
			i++
			if !keep(e) {
				continue
			}
			if err := s.Send(e.proto()); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := s.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-drop:
			return status.Error(codes.Unavailable, "kurrentdb double: subscription dropped")
		case <-behind:
			c.mu.Lock()
			behind = c.behind
			c.mu.Unlock()
			if err := s.Send(&api.ReadResp{Content: &api.ReadResp_FellBehind_{FellBehind: &api.ReadResp_FellBehind{}}}); err != nil {
				return err
			}
		case <-s.Context().Done():
			return s.Context().Err()
		}
	}
}

// filter is the server-side filter of a subscription: on event type or
// stream name, by regular expression or prefixes.
func filter(f *api.ReadReq_Options_FilterOptions) (func(*event) bool, error) {
	if f == nil {
		return func(*event) bool { return true }, nil
	}
	var expr *api.ReadReq_Options_FilterOptions_Expression
	onType := false
	switch v := f.GetFilter().(type) {
	case *api.ReadReq_Options_FilterOptions_EventType:
		expr, onType = v.EventType, true
	case *api.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = v.StreamIdentifier
	default:
		return nil, status.Error(codes.InvalidArgument, "filter without expression")
	}
	var re *regexp.Regexp
	if expr.GetRegex() != "" {
		var err error
		if re, err = regexp.Compile(expr.GetRegex()); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	prefixes := expr.GetPrefix()
	return func(e *event) bool {
		s := e.stream
		if onType {
			s = e.meta["type"]
		}
		if re != nil {
			return re.MatchString(s)
		}
		for _, p := range prefixes {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
		return false
	}, nil
}

// Stored is an event as the double holds it, for tests that check what a
// writer put in KurrentDB's fields.
type Stored struct {
	ID          uuid.UUID
	Type        string
	ContentType string
	Metadata    []byte // the custom metadata
	Data        []byte
	Commit      uint64
	Prepare     uint64
}

// Stream returns the events of a stream as stored.
func (c *Cluster) Stream(name string) []Stored {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Stored
	for _, e := range c.streams[name] {
		out = append(out, Stored{ID: e.id, Type: e.meta["type"], ContentType: e.meta["content-type"], Metadata: e.custom, Data: e.data, Commit: e.commit, Prepare: e.prepare})
	}
	return out
}
