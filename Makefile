# The two commands a newcomer needs: `make run` and `make test`.
# Every tool is installed on first use into ./bin at a pinned version, so a
# fresh machine needs nothing but Go and the package registries.

BUF_VERSION          := v1.75.0
PROTOC_GEN_GO        := v1.36.12
PROTOC_GEN_CONNECT   := v1.21.1

BIN      := $(CURDIR)/bin
BUF      := $(BIN)/buf
GEN_GO   := $(BIN)/protoc-gen-go
GEN_CONN := $(BIN)/protoc-gen-connect-go
TOOLS    := $(BUF) $(GEN_GO) $(GEN_CONN)
GO_DIRS  := cmd services projections proto

DATA      ?= ./data
HTTP      ?= 127.0.0.1:8080
GEMEENTEN ?= deploy/gemeenten.json
SRG       ?= deploy/srg.json
# Packages whose benchmarks `make bench` runs.
BENCH_PKGS ?= ./...
BENCHTIME  ?= 2s

.PHONY: run demo test bench bench-figures bench-audit chaos generate lint breaking check-generated gotest guard fuzz tools clean-tools

## run: start the whole ledger on its embedded default (NATS + store + relay + projections + API), data in ./data
run:
	go run ./cmd/ledger serve --data $(DATA) --http $(HTTP) --gemeenten $(GEMEENTEN) --srg $(SRG)

## demo: start the ledger on ./demo-data (never ./data), loaded on its first start with a seeded demo region through the import
DEMO_DATA ?= ./demo-data
demo:
	go run ./cmd/ledger serve --data $(DEMO_DATA) --http $(HTTP) --gemeenten $(GEMEENTEN) --srg $(SRG) --demo

## test: formatting, vet, buf lint, buf breaking, stale generated code, all tests under the race detector, then the date guard
test: lint breaking check-generated gotest guard

# Every test under the race detector. -short runs the regional scenario at
# its small size: the race detector makes the large one take minutes, and it
# runs at full size in `guard` below.
gotest:
	go test -race -short -count=1 -timeout 20m ./...
	@if [ -z "$$LEDGER_KURRENTDB_URL" ]; then \
		echo "KurrentDB: SKIPPED against a real KurrentDB (LEDGER_KURRENTDB_URL is not set); the KurrentDB store passed the conformance suite against the in-process test double of KurrentDB's protocol only"; \
	else \
		echo "KurrentDB: the conformance suite also ran against the KurrentDB named in LEDGER_KURRENTDB_URL"; \
	fi

# The date guard: every test again, built with the movable clock (tag
# ledger_testclock, see services/clock) and run with "today" moved to a day
# more than a year ahead and to one years back. A test that depends on the
# day it runs on fails in one of the two. Production builds have no such tag,
# so nothing outside a test can move the ledger's today.
GUARD_AHEAD ?= $(shell date -u -d '+400 days' +%F)
GUARD_BACK  ?= $(shell date -u -d '-1200 days' +%F)
guard:
	LEDGER_TEST_TODAY=$(GUARD_AHEAD) go test -tags ledger_testclock -count=1 -timeout 20m ./...
	LEDGER_TEST_TODAY=$(GUARD_BACK) go test -tags ledger_testclock -short -count=1 -timeout 20m ./...

## bench: throughput and latency, with the machine noted
bench:
	@echo "machine: $$(uname -srm), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	go test -run '^$$' -bench . -benchtime $(BENCHTIME) $(BENCH_PKGS)

## bench-figures: the figures through the API at 100k, 1M and 3M stored events, in one run (issue 11; about an hour)
FIGURES_SIZES ?= 100000,1000000,3000000
bench-figures:
	@echo "machine: $$(uname -srm), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	BENCH_FIGURES_EVENTS=$(FIGURES_SIZES) go test -run '^$$' -bench Figures -benchtime 1x -timeout 180m ./cmd/ledger

## bench-audit: ledger audit verify and replay end to end through the API at 1,000,000 stored events (issue 10; about 15 minutes)
AUDIT_EVENTS ?= 1000000
bench-audit:
	@echo "machine: $$(uname -srm), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	BENCH_AUDIT_EVENTS=$(AUDIT_EVENTS) go test -run '^$$' -bench AuditThroughAPI -benchtime 1x -timeout 60m ./cmd/ledger

## chaos: on a three-node JetStream cluster in-process, 20 cycles of the store's fault test (follower kill, leader kill and partition while writers append; each check reads only what came since the last one; 2026-12-07, before that, a whole-store read of 300k events with -race outlasted its 20 s in cycle 19), then 20 cycles of ledger serve on the cluster through node kills, store-leader kills and partitions (about 35 minutes in all; 2026-12-07: store 60 faults, 100,717 events, none lost or twice; ledger 60 faults, 62,262 commands, none lost or twice)
CHAOS_CYCLES ?= 20
chaos:
	LEDGER_CHAOS_CYCLES=$(CHAOS_CYCLES) go test -race -count=1 -run '^TestAppendThroughFaults$$' -v -timeout 60m ./services/store/natsstore
	LEDGER_CHAOS_CYCLES=$(CHAOS_CYCLES) go test -count=1 -run '^TestLedgerOnClusterThroughFaults$$' -v -timeout 60m ./cmd/ledger

## generate: regenerate Go code from proto/ (committed)
generate: $(TOOLS)
	PATH="$(BIN):$$PATH" $(BUF) generate

lint: $(BUF)
	@out=$$(gofmt -l $(GO_DIRS)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(BUF) lint
	$(BUF) format --diff --exit-code

# buf breaking compares with the previous commit: HEAD when proto/ has
# uncommitted changes (a developer's tree), else HEAD~1 (a clean clone in CI).
breaking: $(BUF)
	@if git diff --quiet HEAD -- proto buf.yaml 2>/dev/null; then against=HEAD~1; else against=HEAD; fi; \
	if git rev-parse -q --verify "$$against^{commit}" >/dev/null && git cat-file -e "$$against:buf.yaml" 2>/dev/null; then \
		echo "buf breaking --against .git#ref=$$against"; \
		$(BUF) breaking --against ".git#ref=$$against"; \
	else \
		echo "buf breaking: $$against has no buf.yaml (first commit or shallow clone); nothing to compare"; \
	fi

# Generated code is committed; fail when it differs from what buf generates now.
check-generated: $(TOOLS)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	PATH="$(BIN):$$PATH" $(BUF) generate -o "$$tmp" && \
	if ! diff -r "$$tmp/proto" proto -x '*.proto' >/dev/null; then \
		diff -r "$$tmp/proto" proto -x '*.proto' | head -n 20; \
		echo "generated code is stale: run 'make generate' and commit"; exit 1; \
	fi

## fuzz: run each decoder fuzz target briefly
FUZZTIME ?= 20s
fuzz:
	go test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./services/event
	go test -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME) ./services/bounds
	go test -run '^$$' -fuzz FuzzParseToken -fuzztime $(FUZZTIME) ./services/access
	go test -run '^$$' -fuzz FuzzAuthenticate -fuzztime $(FUZZTIME) ./services/access
	go test -run '^$$' -fuzz FuzzOpen -fuzztime $(FUZZTIME) ./services/vault

tools: $(TOOLS)

# buf is taken prebuilt from the npm registry (buf's own release package) when
# npm is there and the machine is Linux on x86_64 or arm64, checked against a
# pinned SHA-256: it takes seconds where compiling it takes minutes on a fresh
# machine. Anywhere else it is compiled from the Go module at the same version.
BUF_NPM_linux_x86_64  := buf-linux-x64 98b19d4b2b46130e083157490c54dfdcb8ea771e53204d3c6a06a2b12edd0503
BUF_NPM_linux_aarch64 := buf-linux-aarch64 ea5b4981ad7199a482609c3f1f7230767e095c4a5a7e96ae74a21225a1fc75dc
BUF_NPM := $(BUF_NPM_$(shell uname -s | tr A-Z a-z)_$(shell uname -m))

$(BUF):
	@mkdir -p $(BIN)
	@set -e; pkg="$(word 1,$(BUF_NPM))"; sum="$(word 2,$(BUF_NPM))"; ver="$(BUF_VERSION:v%=%)"; \
	if [ -n "$$pkg" ] && command -v npm >/dev/null 2>&1; then \
		tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
		echo "buf $(BUF_VERSION): prebuilt @bufbuild/$$pkg@$$ver from the npm registry"; \
		if (cd "$$tmp" && npm pack --silent "@bufbuild/$$pkg@$$ver" >/dev/null 2>&1) && \
		   echo "$$sum  $$tmp/bufbuild-$$pkg-$$ver.tgz" | sha256sum -c --status; then \
			tar -xzf "$$tmp/bufbuild-$$pkg-$$ver.tgz" -C "$$tmp" package/bin/buf && \
			install -m 0755 "$$tmp/package/bin/buf" $(BUF) && exit 0; \
		fi; \
		echo "buf: the npm package could not be fetched or did not match its checksum; compiling it instead"; \
	fi; \
	echo "GOBIN=$(BIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)"; \
	GOBIN=$(BIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(GEN_GO):
	GOBIN=$(BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
$(GEN_CONN):
	GOBIN=$(BIN) go install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT)

clean-tools:
	rm -rf $(BIN)
