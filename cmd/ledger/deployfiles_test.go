package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/gooi-vechtstreek/ledger/services/broker"
)

// TestDeployFilesUseRealFlags: the container image, the compose file and
// the Kubernetes manifests start the ledger with flags that ledger serve
// (and, for the health check, ledger health) has, and their probes ask the
// paths the server serves. A renamed flag would otherwise break a
// deployment unnoticed.
func TestDeployFilesUseRealFlags(t *testing.T) {
	var cfg serveConfig
	serve := serveFlags(&cfg, io.Discard)
	health := map[string]bool{"server": true, "gereed": true}
	flagRE := regexp.MustCompile(`"?--([a-z][a-z0-9-]*)`)
	for _, f := range []string{"../../deploy/Dockerfile", "../../deploy/compose/compose.yaml", "../../deploy/kubernetes/ledger.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.Contains(line, "kubectl") || strings.Contains(line, "docker ") {
				continue
			}
			if strings.HasSuffix(f, "Dockerfile") {
				// Only what the ledger is started with: after "/ledger", or
				// a continued ENTRYPOINT line.
				if _, after, ok := strings.Cut(line, `"/ledger"`); ok {
					line = after
				} else if !strings.HasPrefix(line, "  ") {
					continue
				}
			}
			for _, m := range flagRE.FindAllStringSubmatch(line, -1) {
				n++
				if serve.Lookup(m[1]) == nil && !(strings.Contains(line, `"health"`) && health[m[1]]) {
					t.Errorf("%s: --%s is not a flag of ledger serve: %s", f, m[1], strings.TrimSpace(line))
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no ledger flags found; the test reads nothing", f)
		}
	}
	k8s, err := os.ReadFile("../../deploy/kubernetes/ledger.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, probe := range []string{"path: /healthz", "path: /readyz", "prometheus.io/path: /metrics"} {
		if !strings.Contains(string(k8s), probe) {
			t.Errorf("ledger.yaml lacks %s", probe)
		}
	}
}

// TestClusterConfTakesTheLedgersBatch: the production NATS configuration
// parses with nats-server's own parser and takes atomic batches as large
// as the one it tells the ledger to use (--nats-batch), which is the
// embedded server's.
func TestClusterConfTakesTheLedgersBatch(t *testing.T) {
	b, err := os.ReadFile("../../deploy/nats/cluster.conf")
	if err != nil {
		t.Fatal(err)
	}
	// The passwords and names the file takes from its environment.
	vars := regexp.MustCompile(`\$([A-Z][A-Z0-9_]*)`)
	acc, err := os.ReadFile("../../deploy/nats/accounts.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range vars.FindAllStringSubmatch(string(b)+string(acc), -1) {
		if m[1] != "JS" { // $JS.API... is a subject, not a variable
			t.Setenv(m[1], "x-"+strings.ToLower(m[1]))
		}
	}
	opts, err := server.ProcessConfigFile("../../deploy/nats/cluster.conf")
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.JetStreamLimits.MaxBatchSize; got != broker.MaxBatch {
		t.Fatalf("cluster.conf: max_msgs of a batch %d, want %d (broker.MaxBatch)", got, broker.MaxBatch)
	}
	if want := fmt.Sprintf("--nats-batch %d", broker.MaxBatch); !strings.Contains(string(b), want) {
		t.Fatalf("cluster.conf does not tell the ledger %q", want)
	}
}
