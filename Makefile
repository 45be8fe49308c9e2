# iamlocal — build, test, benchmark and fuzz.
GO        ?= go
FUZZTIME  ?= 15s
BIN       := bin/iamlocal

.PHONY: all build test unit e2e deps bench fuzz fmt vet clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/iamlocal

## test: everything CI runs — vet, the race-enabled unit tests, the end-to-end scripts.
test: deps vet unit e2e

deps:
	@scripts/ensure-deps.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

e2e: build
	@for s in test/e2e/*.sh; do echo "== $$s"; IAMLOCAL=$(CURDIR)/$(BIN) bash $$s || exit 1; done

## bench: the engine's benchmarks (figures go to bench/RESULTS.md).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/...

## fuzz: a short run of every fuzz target.
fuzz:
	@scripts/fuzz-all.sh $(FUZZTIME)

clean:
	rm -rf bin
