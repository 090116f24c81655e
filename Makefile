# heidi-tray — see README.md.
GO      ?= go
VERSION ?= 0.1.0-dev
# Windows version resources and MSI versions are numbers only; pre-releases
# order before their release (packaging/windows/msi-version.sh).
NUMVER  = $(shell ./packaging/windows/msi-version.sh "$(VERSION)")
LDFLAGS := -s -w -X main.version=$(VERSION)
WINE_PREFIX ?= $(or $(TMPDIR),/tmp)/heidi-tray-wine-$(shell id -u)

FUZZTIME ?= 60s
# The Windows exe stays at or under 9 MiB (docs/architecture.md).
MAX_EXE_BYTES := 9437184

.PHONY: token-service-windows build test deps check unit windows fuzz dist bench sandbox clean

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o heidi-tray .

# The one test command: installs what the tests need, then runs every suite.
test: deps check unit windows fuzz dist

deps:
	./.ci/install-deps

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin CGO_ENABLED=0 $(GO) vet ./...
	shellcheck packaging/macos/*.sh

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# The Windows build's own tests (named pipe, Credential Manager, registry)
# as GOOS=windows test binaries under Wine (test-rig.md §3).
# Windows need a display under Wine: the tests run on an Xvfb of their own,
# with a fresh wineserver so the prefix's desktop is made on that display.
windows:
	./.ci/wine-prefix $(WINE_PREFIX)
	WINEPREFIX=$(WINE_PREFIX) wineserver -k 2>/dev/null; \
	HEIDI_TRAY_WINEPREFIX=$(WINE_PREFIX) PATH="$(CURDIR)/.ci/bin:$$PATH" GOOS=windows GOARCH=amd64 CGO_ENABLED=0 \
		xvfb-run -a -s "-screen 0 320x200x24 -nolisten tcp" sh -c 'HEIDI_TRAY_WINE_DISPLAY=$$DISPLAY exec "$$@"' sh \
		$(GO) test -count=1 ./launcher/ipc ./launcher/peeruser ./launcher/clipboard ./keystore ./launcher/install ./launcher/netproxy ./launcher/cli ./launcher/request ./launcher/urlscheme ./launcher/policywatch ./launcher/tokensource ./launcher/unlock; \
		rc=$$?; WINEPREFIX=$(WINE_PREFIX) wineserver -k 2>/dev/null; exit $$rc

# Release artifacts in dist/: the Windows exe (GUI subsystem, icon, version
# info, manifest), the per-user and per-machine MSIs, the Linux binary,
# SHA-256 sums. go-winres is pinned in go.mod (tool), so this works offline. With
# SIGN_ARGS (e.g. --pkcs12 cert.p12 --timestamp URL) the exe and MSI are signed.
dist:
	rm -rf dist && mkdir -p dist
	$(GO) tool go-winres simply --arch amd64 --manifest gui --icon assets/icons/ready.ico \
		--product-name heidi-tray --file-description "heidi-tray: Heidi for desktop EMRs" \
		--product-version $(NUMVER) --file-version $(NUMVER) --original-filename heidi-tray.exe --out rsrc
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS) -H=windowsgui" -o dist/heidi-tray.exe . ; \
		rc=$$?; rm -f rsrc_windows_amd64.syso; exit $$rc
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/heidi-tray-linux-amd64 .
	$(if $(SIGN_ARGS),./packaging/windows/sign.sh $(SIGN_ARGS) dist/heidi-tray.exe)
	./packaging/windows/build-msi.sh $(VERSION) dist/heidi-tray.exe dist/heidi-tray-$(VERSION).msi 2>/dev/null
	./packaging/windows/build-msi.sh --machine $(VERSION) dist/heidi-tray.exe dist/heidi-tray-$(VERSION)-machine.msi 2>/dev/null
	$(if $(SIGN_ARGS),./packaging/windows/sign.sh $(SIGN_ARGS) dist/heidi-tray-$(VERSION).msi dist/heidi-tray-$(VERSION)-machine.msi)
	cd dist && sha256sum heidi-tray.exe heidi-tray-$(VERSION).msi heidi-tray-$(VERSION)-machine.msi heidi-tray-linux-amd64 > SHA256SUMS
	@echo "dist/heidi-tray.exe: $$(stat -c %s dist/heidi-tray.exe) bytes; MSIs: $$(stat -c %s dist/heidi-tray-$(VERSION).msi), $$(stat -c %s dist/heidi-tray-$(VERSION)-machine.msi) bytes; Linux: $$(stat -c %s dist/heidi-tray-linux-amd64) bytes"
	@test $$(stat -c %s dist/heidi-tray.exe) -le $(MAX_EXE_BYTES) || { echo "dist/heidi-tray.exe is over $(MAX_EXE_BYTES) bytes (9 MiB): see docs/architecture.md"; exit 1; }

# The clinic token service for Windows Server (docs/token-service.md); the
# workstation exe leaves it (and its Kerberos server code) out.
token-service-windows:
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags tokenservice -trimpath -ldflags "$(LDFLAGS)" -o heidi-tray-tokens.exe .

# Each fuzz target runs FUZZTIME (60 s in CI) from its checked-in seed corpus.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./launcher/urlscheme
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeOpen$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./launcher/ipc

# Benchmarks against their targets (docs/performance.md): the harness in
# bench/ (about 5 minutes on 2 cores, 60 s of it idle; the binary built as
# dist builds it) and the Go micro-benchmarks.
bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem ./launcher/...
	$(GO) run ./bench -out bench/out/results.json

sandbox:
	$(GO) run . sandbox

clean:
	rm -rf heidi-tray heidi-tray.exe dist
