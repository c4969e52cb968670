package natscluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"sync"
	"time"
)

// routeProxy stands in front of one node's cluster port. Every route
// connection to that node passes through it: the node advertises the
// proxy's address as its own (Cluster.Advertise) and the other nodes have
// it as their configured route, so that no route is ever made around it
// (nats-server makes no implicit route to an address it has configured).
// That is what lets the cluster cut a node off from its peers while the
// node, its clients and its JetStream go on running: a partition, not a
// stop.
//
// A route connection is made by one side (it "solicits") and used by
// both. The proxy tells which node dialled by the route's first line, the
// CONNECT the soliciting server sends before anything else, whose "name"
// is that server's id.
type routeProxy struct {
	c  *Cluster
	to int // the node behind the proxy
	ln net.Listener
}

// link is one route connection through a proxy, between nodes from (who
// dialled) and to.
type link struct {
	from, to int
	a, b     net.Conn
}

func (l *link) close() {
	l.a.Close()
	l.b.Close()
}

func (p *routeProxy) serve(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return // the listener is closed when the cluster stops
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.pass(conn)
		}()
	}
}

// routeHello is the part of a route's CONNECT the proxy reads.
type routeHello struct {
	Name string `json:"name"` // the soliciting server's id
}

// pass identifies who dialled, refuses the connection when either end is
// cut off, and otherwise copies bytes both ways until one side closes.
func (p *routeProxy) pass(conn net.Conn) {
	// A route that says nothing within this time is not one.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReaderSize(conn, 64<<10)
	line, err := r.ReadSlice('\n')
	if err != nil {
		conn.Close()
		return
	}
	conn.SetReadDeadline(time.Time{})
	from := -1
	if rest, ok := bytes.CutPrefix(line, []byte("CONNECT ")); ok {
		var h routeHello
		if json.Unmarshal(bytes.TrimSpace(rest), &h) == nil {
			from = p.c.nodeByID(h.Name)
		}
	}
	target, ok := p.c.routeTarget(from, p.to)
	if !ok {
		conn.Close()
		return
	}
	back, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		conn.Close()
		return
	}
	l := &link{from: from, to: p.to, a: conn, b: back}
	// Registered under the cluster's lock, after a last look at the cut:
	// a Partition or Kill either sees this link and closes it, or this
	// sees the cut and closes it here.
	if !p.c.addLink(l) {
		l.close()
		return
	}
	defer p.c.dropLink(l)
	if _, err := back.Write(line); err != nil {
		l.close()
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(back, r) // the rest of what r buffered, then conn
		l.close()
		done <- struct{}{}
	}()
	go func() {
		io.Copy(conn, back)
		l.close()
		done <- struct{}{}
	}()
	<-done
	<-done
}
