# heidi-tray — see README.md.
GO      ?= go
VERSION ?= 0.1.0-dev
LDFLAGS := -s -w -X main.version=$(VERSION)

FUZZTIME ?= 60s

.PHONY: build test deps check unit fuzz bench sandbox clean

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o heidi-tray .

# The one test command: installs what the tests need, then runs every suite.
test: deps check unit fuzz

deps:
	./.ci/install-deps

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin CGO_ENABLED=0 $(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# Each fuzz target runs FUZZTIME (60 s in CI) from its checked-in seed corpus.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./launcher/urlscheme
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeOpen$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./launcher/ipc

# Benchmarks against their targets (docs/performance.md): the harness in
# bench/ (about 2 minutes, 60 s of it idle) and the Go micro-benchmarks.
bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem ./launcher/...
	$(GO) run ./bench -out bench/out/results.json

sandbox:
	$(GO) run . sandbox

clean:
	rm -f heidi-tray heidi-tray.exe
