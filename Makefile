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
AXE      := $(BIN)/axe.min.js
GO_DIRS  := cmd services projections proto

DATA      ?= ./data
HTTP      ?= 127.0.0.1:8080
GEMEENTEN ?= deploy/gemeenten.json
SRG       ?= deploy/srg.json
# Packages whose benchmarks `make bench` runs.
BENCH_PKGS ?= ./...
BENCHTIME  ?= 2s

.PHONY: run demo test bench bench-figures bench-web bench-audit chaos generate lint breaking check-generated assets check-assets browser gotest guard fuzz tools clean-tools

## run: start the whole ledger on its embedded default (NATS + store + relay + projections + API), data in ./data
run:
	go run ./cmd/ledger serve --data $(DATA) --http $(HTTP) --gemeenten $(GEMEENTEN) --srg $(SRG)

## demo: start the ledger on ./demo-data (never ./data), loaded on its first start with a seeded demo region through the import
DEMO_DATA ?= ./demo-data
demo:
	go run ./cmd/ledger serve --data $(DEMO_DATA) --http $(HTTP) --gemeenten $(GEMEENTEN) --srg $(SRG) --demo

## test: formatting, vet, buf lint, buf breaking, stale generated code, stale vendored CSS, all tests (the web pages' in chromium) under the race detector, then the date guard
test: lint breaking check-generated check-assets gotest guard

# The web pages' browser tests (services/web) load them in a headless Debian
# chromium and check them with axe-core. A plain `go test` skips them when it
# finds no chromium; under `make test` LEDGER_BROWSER_REQUIRED makes a missing
# one a failure. CHROMIUM=/path/to/chromium-or-chrome (or LEDGER_CHROMIUM in
# the environment) names another browser.
CHROMIUM     ?= $(or $(LEDGER_CHROMIUM),/usr/bin/chromium)
# Looked up when a recipe runs, so after `browser` has installed it.
CHROMIUM_PATH = $(shell if [ -x "$(CHROMIUM)" ]; then echo "$(CHROMIUM)"; else command -v chromium; fi)
BROWSER_ENV   = LEDGER_AXE=$(AXE) LEDGER_CHROMIUM=$(CHROMIUM_PATH) LEDGER_BROWSER_REQUIRED=1

# Debian's chromium: nothing when there is one; as root with apt-get, it is
# installed (apt-get update only when the install fails without it); else
# how to install it, and a failure.
browser:
	@if [ -x "$(CHROMIUM)" ]; then echo "chromium: $(CHROMIUM)"; exit 0; fi; \
	if c=$$(command -v chromium); then echo "chromium: $$c"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt="apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium"; \
		echo "chromium: not found; installing Debian's chromium for the browser tests: $$apt"; \
		if ! DEBIAN_FRONTEND=noninteractive $$apt; then \
			echo "chromium: the install failed; apt-get update, then the install once more"; \
			apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive $$apt || { \
				echo "chromium: apt-get could not install it (see above); the browser tests of 'make test' need it"; exit 1; }; \
		fi; \
		if [ -x "$(CHROMIUM)" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
		echo "chromium: apt-get installed chromium, but neither $(CHROMIUM) nor chromium on PATH is there"; exit 1; \
	fi; \
	echo "chromium: not found at $(CHROMIUM) nor on PATH, and the browser tests of 'make test' need it."; \
	echo "  Debian: sudo apt-get install --no-install-recommends chromium (or run make as root, which installs it)"; \
	echo "  elsewhere: install Chromium or Chrome and run make CHROMIUM=/path/to/it (or set LEDGER_CHROMIUM)"; \
	exit 1

# Every test under the race detector. -short runs the regional scenario at
# its small size: the race detector makes the large one take minutes, and it
# runs at full size in `guard` below.
gotest: browser $(AXE)
	$(BROWSER_ENV) go test -race -short -count=1 -timeout 20m ./...
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
guard: browser $(AXE)
	LEDGER_TEST_TODAY=$(GUARD_AHEAD) $(BROWSER_ENV) go test -tags ledger_testclock -count=1 -timeout 20m ./...
	LEDGER_TEST_TODAY=$(GUARD_BACK) $(BROWSER_ENV) go test -tags ledger_testclock -short -count=1 -timeout 20m ./...

## bench: throughput and latency, with the machine noted
bench:
	@echo "machine: $$(uname -srm), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	go test -run '^$$' -bench . -benchtime $(BENCHTIME) $(BENCH_PKGS)

## bench-figures: the figures through the API at 100k, 1M and 3M stored events, in one run (issue 11; about an hour)
FIGURES_SIZES ?= 100000,1000000,3000000
bench-figures:
	@echo "machine: $$(uname -srm), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	BENCH_FIGURES_EVENTS=$(FIGURES_SIZES) go test -run '^$$' -bench Figures -benchtime 1x -timeout 180m ./cmd/ledger

## bench-web: the gemeente's beleidsview page (time to first byte, last byte, and the browser's load) at 1,000,000 stored events (issue 13; the history is kept in BENCH_FIGURES_DATA when set)
WEB_EVENTS ?= 1000000
bench-web: browser $(AXE)
	@echo "machine: $$(uname -srm), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	BENCH_WEB_EVENTS=$(WEB_EVENTS) $(BROWSER_ENV) go test -run '^$$' -bench WebPage -benchtime 1x -timeout 120m ./cmd/ledger

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

# The NL Design System CSS of the web pages, vendored into $(VENDOR) and
# committed (services/web embeds it): the built CSS of each pinned npm package,
# checked against the pinned SHA-256 of its tarball, with its licence. The
# files are taken from the tarball byte for byte, so each run writes the same.
UTRECHT_COMPONENTS := @utrecht/component-library-css 9.0.4 fff546ee8e41e5fb0cd9ce0aa61b267e8af21d693fb6790601d87514f6b63bd1
# The tokens are NL Design System's example theme (EUPL-1.2), not
# @utrecht/design-tokens: that package's licence says its tokens are Gemeente
# Utrecht's proprietary house style, which a ledger for every region may not
# ship.
NLDS_TOKENS        := @nl-design-system-unstable/voorbeeld-design-tokens 7.4.1 0969907596b56e621fcdb3d7a1f101f6e14c877a1318cd60b1f0428e927e6dd3
VENDOR             ?= services/web/static/vendor

## assets: vendor the pinned NL Design System CSS (Utrecht components, NL Design System example tokens, with their licences) into services/web/static/vendor (committed)
assets:
	@command -v npm >/dev/null 2>&1 || { echo "assets: npm is needed to fetch the pinned NL Design System packages from the npm registry"; exit 1; }
	@set -e; $(NPM_PACK); tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	out="$$tmp/vendor"; mkdir "$$out"; \
	: > "$$out/VERSIONS.body"; \
	vendor() { \
		echo "assets: $$1@$$2 from the npm registry (sha256 $$3): $$4 -> $(VENDOR)/$$5, $$6 -> $(VENDOR)/$$7"; \
		tgz=$$(npm_pack "$$1" "$$2" "$$3" "$$tmp"); \
		tar -xzf "$$tgz" -O "$$4" > "$$out/$$5"; \
		tar -xzf "$$tgz" -O "$$6" > "$$out/$$7"; \
		echo "$$1@$$2 sha256:$$3 $$4 -> $$5, $$6 -> $$7" >> "$$out/VERSIONS.body"; \
	}; \
	vendor $(UTRECHT_COMPONENTS) package/dist/index.css utrecht-components.css package/LICENSE.md LICENSE-utrecht-components; \
	vendor $(NLDS_TOKENS) package/dist/theme.css nlds-tokens.css package/LICENSE.md LICENSE-nlds-tokens; \
	{ echo "# Written by 'make assets' (see the Makefile) from the npm registry; do not edit."; \
	  echo "# package@version sha256 of its npm tarball: file in the tarball -> file here"; \
	  cat "$$out/VERSIONS.body"; } > "$$out/VERSIONS"; rm "$$out/VERSIONS.body"; \
	mkdir -p $(VENDOR); \
	for f in "$$out"/*; do cp "$$f" $(VENDOR)/; done; \
	echo "assets: $(VENDOR): $$(cd "$$out" && ls | tr '\n' ' ')"

# The vendored CSS is committed; fail when it differs from what `make assets`
# writes from the pinned packages now. Without npm there is nothing to compare
# with, so it says so and passes.
check-assets:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "check-assets: SKIPPED: npm is not installed, so the pinned NL Design System packages cannot be fetched to compare $(VENDOR) with"; exit 0; \
	fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) --no-print-directory assets VENDOR="$$tmp/vendor" >/dev/null || { \
		echo "check-assets: could not vendor the pinned packages afresh to compare $(VENDOR) with (see above)"; exit 1; }; \
	if ! diff -r "$$tmp/vendor" $(VENDOR) >/dev/null 2>&1; then \
		diff -r "$$tmp/vendor" $(VENDOR) | head -n 20 | cut -c 1-200; \
		echo "vendored assets differ from the pinned packages: run 'make assets' and commit"; exit 1; \
	fi; \
	echo "check-assets: $(VENDOR) is what the pinned packages give"

## fuzz: run each decoder fuzz target briefly
FUZZTIME ?= 20s
fuzz:
	go test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./services/event
	go test -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME) ./services/bounds
	go test -run '^$$' -fuzz FuzzParseToken -fuzztime $(FUZZTIME) ./services/access
	go test -run '^$$' -fuzz FuzzAuthenticate -fuzztime $(FUZZTIME) ./services/access
	go test -run '^$$' -fuzz FuzzOpen -fuzztime $(FUZZTIME) ./services/vault
	go test -run '^$$' -fuzz FuzzDecodeSnapshot -fuzztime $(FUZZTIME) ./projections/caseload

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

# npm_pack PACKAGE VERSION SHA256 DIR: the package's tarball from the npm
# registry into DIR, checked against its pinned SHA-256; prints its path.
# (The recipes of assets and $(AXE) define it with $(NPM_PACK).)
NPM_PACK = npm_pack() { \
	tgz="$$4/$$(echo "$$1" | sed 's,^@,,; s,/,-,')-$$2.tgz"; \
	if ! (cd "$$4" && npm pack --silent "$$1@$$2" >"$$4/npm.log" 2>&1); then \
		cat "$$4/npm.log" >&2; echo "$$1@$$2: npm pack failed (is the npm registry reachable?)" >&2; return 1; \
	fi; \
	if ! echo "$$3  $$tgz" | sha256sum -c --status; then \
		echo "$$1@$$2: the tarball's SHA-256 is $$(sha256sum "$$tgz" | cut -d' ' -f1), not the pinned $$3" >&2; return 1; \
	fi; \
	echo "$$tgz"; \
}

# axe-core for the browser accessibility tests (LEDGER_AXE), from the npm
# registry at a pinned version, checked against the pinned SHA-256 of its
# tarball. `make bin/axe.min.js` names the same file.
AXE_CORE := axe-core 4.14.1 e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745

$(AXE):
	@mkdir -p $(BIN)
	@set -e; set -- $(AXE_CORE); \
	command -v npm >/dev/null 2>&1 || { echo "axe-core $$2: npm is needed to fetch it from the npm registry for the browser accessibility tests"; exit 1; }; \
	$(NPM_PACK); tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "axe-core $$2: package/axe.min.js of $$1@$$2 from the npm registry (sha256 $$3) -> $@"; \
	tgz=$$(npm_pack "$$1" "$$2" "$$3" "$$tmp"); \
	tar -xzf "$$tgz" -O package/axe.min.js > "$$tmp/axe.min.js"; \
	install -m 0644 "$$tmp/axe.min.js" $@
bin/axe.min.js: $(AXE)

$(GEN_GO):
	GOBIN=$(BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
$(GEN_CONN):
	GOBIN=$(BIN) go install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT)

clean-tools:
	rm -rf $(BIN)
