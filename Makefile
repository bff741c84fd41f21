# statescope — see README.md. `make run` opens the demo, `make test` runs
# everything (installing and starting the test servers it needs).

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
TOOLS    ?= $(HOME)/.cache/statescope
export STATESCOPE_TOOLS := $(TOOLS)
export PATH := $(TOOLS)/bin:$(PATH)

PKGS      = ./...
FUZZTIME ?= 15s
BENCHCOUNT ?= 6

.PHONY: build run test servers bench bench-load lint fuzz proto clean mutate

# Release build: symbols and DWARF stripped (-s -w), about 30% smaller;
# `statescope version` still lists the modules (they are in the build info).
build:
	$(GO) build -ldflags "-s -w -X main.version=$(VERSION)" -o bin/statescope .

run: build
	./bin/statescope demo

# Installs what is missing (Debian packages, the Go-built S3/GCS servers,
# Azurite), then runs every test with the race detector. The tests start
# each server on a free loopback port and stop it; with CI set, a server
# that cannot start fails the run.
test: servers
	$(GO) test -race -count=1 -timeout 45m $(PKGS)

servers:
	./.ci/install-servers

bench: servers
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) -timeout 60m $(PKGS) | tee bench.txt
	@command -v benchstat >/dev/null && benchstat bench.txt || echo "(go install golang.org/x/perf/cmd/benchstat@latest for a summary)"

# The README's load figures from one run: the TUI's own load of 10,000
# and 100,000 realistic ~1 KB filesystem records (first rows, full load,
# CPU, peak heap against the bytes on disk), `list -o json` end to end, and
# the keystroke budgets beside them.
bench-load:
	$(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 2x -benchmem -timeout 60m ./tui | tee bench-load.txt
	$(GO) test -run '^$$' -bench '^BenchmarkKeystroke$$' ./tui | tee -a bench-load.txt
	$(GO) test -run '^$$' -bench '^BenchmarkListJSON$$' -benchtime 2x -benchmem -timeout 60m . | tee -a bench-load.txt

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Short fuzz runs of every parser; anything found is kept under testdata/fuzz.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeState$$' -fuzztime $(FUZZTIME) ./stores
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRow$$' -fuzztime $(FUZZTIME) ./stores
	$(GO) test -run '^$$' -fuzz '^FuzzParseTarget$$' -fuzztime $(FUZZTIME) ./stores
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeLockBody$$' -fuzztime $(FUZZTIME) ./stores
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMap$$' -fuzztime $(FUZZTIME) ./remote/wire
	$(GO) test -run '^$$' -fuzz '^FuzzIsSecretKey$$' -fuzztime $(FUZZTIME) ./stores/redact
	$(GO) test -run '^$$' -fuzz '^FuzzIsSecretValue$$' -fuzztime $(FUZZTIME) ./stores/redact
	$(GO) test -run '^$$' -fuzz '^FuzzEscape$$' -fuzztime $(FUZZTIME) ./stores/printable

# Mutation testing of the safety-critical code (slow; not in CI — run it
# before resolving an issue that touches these packages). One gremlins run per
# entry of MUTATE, each against its package's own tests and real servers;
# MUTATE_<name> is the package and the files left out (test helpers, and code
# outside masking, locking, conditional writes, repair and the TUI router),
# MUTATE_GOFLAGS_<name> narrows the tests run for each mutant where the whole
# suite takes minutes. Fails below 85% killed; the log is mutate.txt, and its
# figures go in README.
GREMLINS          = github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTATE           ?= redact locks objectstore s3 gcs azblob postgres filesystem repair router
MUTATE_redact      = ./stores/redact -E 'redacttest/'
MUTATE_locks       = ./stores -E '/' -E '^(open|row|state|store)\.go$$'
MUTATE_objectstore = ./stores/objectstore -E 'objectstoretest/'
MUTATE_s3          = ./stores/s3 -E '^target\.go$$'
MUTATE_gcs         = ./stores/gcs
MUTATE_azblob      = ./stores/azblob -E '^auth\.go$$'
# The lock code; the conditional writes in records.go are SQL conditions,
# which gremlins does not mutate. The lock tests only: the conformance and
# repair suites take a minute per mutant.
MUTATE_postgres    = ./stores/postgres -E '^(postgres|records)\.go$$'
MUTATE_GOFLAGS_postgres = -run=^Test(Orphan|ForceUnlock|Inventory|StatescopeHolder|Key|AppName|ProcAddr)
MUTATE_filesystem  = ./stores/filesystem -E '^(entry|index|list|wfctl)\.go$$'
MUTATE_repair      = ./stores/repair -E '/'
MUTATE_router      = ./tui -E '^([^av]|a[^p]|ap[^p]|app[^.]|v[^i]|vi[^e]|vie[^w]|view[^.])'
# Only app.go and view.go, whatever files tui gains; the terminal end-to-end
# tests (a minute) drive the same router as the unit tests.
MUTATE_GOFLAGS_router = -skip=^TestEndToEnd
MUTATE_FLAGS      ?= --workers 1 --timeout-coefficient 5

mutate: servers
	@command -v gremlins >/dev/null || GOBIN=$(TOOLS)/bin $(GO) install $(GREMLINS)
	@rm -f mutate.txt; $(foreach m,$(MUTATE),echo "== $(m)" | tee -a mutate.txt; CI=true GOFLAGS='$(MUTATE_GOFLAGS_$(m))' gremlins unleash $(MUTATE_FLAGS) $(MUTATE_$(m)) 2>&1 | tee -a mutate.txt;)
	@awk '/^== /{p=$$2} /Test efficacy/{sub("%","",$$3); printf "%-12s %s%% killed\n", p, $$3; if ($$3+0 < 85) bad=1} END{exit bad}' mutate.txt

# Regenerates the gRPC code from remote/proto/*/*.proto (Debian's protoc).
proto:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	@command -v protoc-gen-go >/dev/null || GOBIN=$(TOOLS)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	@command -v protoc-gen-go-grpc >/dev/null || GOBIN=$(TOOLS)/bin $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	remote/proto/generate.sh

clean:
	rm -rf bin bench.txt bench-load.txt mutate.txt
