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

.PHONY: build run test servers bench lint fuzz proto clean

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

# Regenerates the gRPC code from remote/proto/*/*.proto (Debian's protoc).
proto:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	@command -v protoc-gen-go >/dev/null || GOBIN=$(TOOLS)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	@command -v protoc-gen-go-grpc >/dev/null || GOBIN=$(TOOLS)/bin $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	remote/proto/generate.sh

clean:
	rm -rf bin bench.txt
