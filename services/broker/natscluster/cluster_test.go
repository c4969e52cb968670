package natscluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestFaults drives each fault once on an R3 stream and checks what it
// must do: a killed leader is replaced, a restarted node catches up on
// what was written while it was down, and a partitioned node is really cut
// off (its routes are gone and, on its own, it commits nothing) until it
// is healed.
func TestFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	c := Start(t)
	t.Logf("formed in %s", time.Since(start).Round(time.Millisecond))
	js, err := jetstream.New(c.Connect())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PROBE", Subjects: []string{"probe.>"}, Replicas: 3, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	c.WaitHealthy()
	sent := 0
	publish := func() {
		t.Helper()
		// A publish may meet an election; the answer comes once a leader
		// has committed it.
		err := Eventually(Timeout, func() error {
			// A publish that reached a leader that lost its place is
			// never answered: give each attempt a deadline.
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err := js.Publish(actx, "probe.x", []byte("x"), jetstream.WithMsgID(fmt.Sprint(sent)))
			return err
		})
		if err != nil {
			t.Fatalf("publish %d: %v\n%s", sent, err, c.Describe())
		}
		sent++
	}
	leader := func() int {
		t.Helper()
		var i int
		if err := Eventually(Timeout, func() error {
			var ok bool
			if i, ok = c.StreamLeader("PROBE"); !ok {
				return fmt.Errorf("no leader")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return i
	}
	caughtUp := func() {
		t.Helper()
		for i := range Size {
			if err := Eventually(Timeout, func() error {
				st, err := c.StreamState(i, "PROBE")
				if err != nil {
					return err
				}
				if st.Msgs != uint64(sent) {
					return fmt.Errorf("%s holds %d messages, %d were acknowledged", c.NodeName(i), st.Msgs, sent)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish()

	old := leader()
	begin := time.Now()
	c.Kill(old)
	publish()
	now := leader()
	if now == old {
		t.Fatalf("%s still leads after it was killed", c.NodeName(old))
	}
	t.Logf("killed leader %s, %s leads and took a publish after %s", c.NodeName(old), c.NodeName(now), time.Since(begin).Round(time.Millisecond))
	for range 10 {
		publish()
	}
	begin = time.Now()
	c.Restart(old)
	caughtUp()
	t.Logf("restarted %s, caught up after %s", c.NodeName(old), time.Since(begin).Round(time.Millisecond))

	cut := leader()
	begin = time.Now()
	c.Partition(cut)
	if rz, err := c.Server(cut).Routez(nil); err != nil || len(rz.Routes) != 0 {
		t.Fatalf("partitioned %s has %d routes (%v)", c.NodeName(cut), len(rz.Routes), err)
	}
	// A client of the cut-off node alone: what it publishes can not be
	// committed, so it gets no acknowledgement.
	alone, err := jetstream.New(c.ConnectTo(cut))
	if err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithTimeout(ctx, 2*time.Second)
	if _, err := alone.Publish(short, "probe.x", []byte("lost"), jetstream.WithMsgID("minority")); err == nil {
		t.Fatalf("partitioned %s acknowledged a publish", c.NodeName(cut))
	}
	stop()
	// A client of the cut-off node would wait for the whole partition
	// (nothing makes it leave a node that answers its pings): publish on
	// the majority's side.
	js, err = jetstream.New(c.ConnectTo((cut + 1) % Size))
	if err != nil {
		t.Fatal(err)
	}
	publish()
	t.Logf("partitioned %s, the majority took a publish after %s", c.NodeName(cut), time.Since(begin).Round(time.Millisecond))
	begin = time.Now()
	c.Heal(cut)
	caughtUp()
	t.Logf("healed %s, caught up after %s", c.NodeName(cut), time.Since(begin).Round(time.Millisecond))
}
