#!/bin/sh
# packaging/macos/ci.sh — the whole Mac check, run on a Mac: what
# .github/workflows/macos.yml runs, and what a developer runs by hand.
#
#   packaging/macos/ci.sh            everything below
#   SIGN_IDENTITY="Developer ID Application: …" packaging/macos/ci.sh
#                                    sign for release instead of ad hoc
#   VERSION=1.2.3 packaging/macos/ci.sh
#                                    the version (default: the newest v1.2.3 tag, else 0.0.0)
#
# 1. A universal binary (arm64 + x86_64, cgo) whose minimum macOS is 12.0,
#    checked in each architecture's LC_BUILD_VERSION.
# 2. go vet and go test ./... (tests whose real parts a Mac runner lacks —
#    root, Secret Service, Wine, Chromium — skip and say so).
# 3. heidi-tray.app: signed (ad hoc unless SIGN_IDENTITY), verified, Info.plist linted.
# 4. A smoke test of the real app: registered with LaunchServices, started by
#    a heidi-tray:// URL (cold start), sent another (warm start) and one
#    through a second instance (forwarded over IPC), told the screen was
#    unlocked (a distributed notification), quit by the Quit Apple
#    Event, then started at login by its LaunchAgent (launchctl bootstrap).
#    It uses this user's log (~/Library/Logs/heidi-tray), config and
#    keychain, and quits a heidi-tray that is running; afterwards it puts back
#    a LaunchAgent of the user's own and unregisters the app it built.
# 5. dist/heidi-tray-VERSION-macos.zip made with ditto (keeps permissions,
#    symlinks and the signature).
set -eu
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = Darwin ] || { echo "ci.sh: run this on a Mac" >&2; exit 2; }

# Go 1.26's minimum; Info.plist says the same (launcher/install/plists).
MIN=12.0
export MACOSX_DEPLOYMENT_TARGET="$MIN"

step() { printf '\n=== %s\n' "$*"; }
fail() { echo "ci.sh: FAILED: $*" >&2; exit 1; }

# --- version: numbers only (CFBundleVersion) --------------------------------
if [ -z "${VERSION:-}" ]; then
  VERSION=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null | sed 's/^v//; s/[^0-9.].*//') || true
  VERSION=${VERSION:-0.0.0}
fi
echo "$VERSION" | grep -Eq '^[0-9]+(\.[0-9]+){0,2}$' || fail "VERSION=$VERSION is not a version like 1.2.3"

out=dist
mkdir -p "$out"

# --- 1. universal binary -----------------------------------------------------
step "universal binary $VERSION, minimum macOS $MIN"
for arch in arm64 amd64; do
  CGO_ENABLED=1 GOOS=darwin GOARCH=$arch \
    CGO_CFLAGS="-O2 -g -mmacosx-version-min=$MIN" CGO_LDFLAGS="-mmacosx-version-min=$MIN" \
    go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$out/heidi-tray-$arch" .
done
lipo -create -output "$out/heidi-tray" "$out/heidi-tray-arm64" "$out/heidi-tray-amd64"
rm -f "$out/heidi-tray-arm64" "$out/heidi-tray-amd64"
archs=$(lipo -archs "$out/heidi-tray")
for arch in arm64 x86_64; do
  case " $archs " in *" $arch "*) ;; *) fail "the universal binary lacks $arch (has: $archs)" ;; esac
  minos=$(otool -arch "$arch" -l "$out/heidi-tray" | awk '$1 == "cmd" { b = ($2 == "LC_BUILD_VERSION") } b && $1 == "minos" { print $2; exit }')
  [ "$minos" = "$MIN" ] || fail "$arch: LC_BUILD_VERSION minos is '${minos:-missing}', want $MIN"
  echo "$arch: LC_BUILD_VERSION minos $minos"
done

# --- 2. tests ----------------------------------------------------------------
step "go vet, go test"
go vet ./...
go test -count=1 -timeout 20m ./...

# --- 3. the app bundle -------------------------------------------------------
step "heidi-tray.app"
if [ -n "${SIGN_IDENTITY:-}" ]; then
  packaging/macos/build-app.sh "$out/heidi-tray" "$out" --sign "$SIGN_IDENTITY"
else
  packaging/macos/build-app.sh "$out/heidi-tray" "$out" --adhoc
fi
app="$(pwd)/$out/heidi-tray.app"
bin="$app/Contents/MacOS/heidi-tray"
codesign --verify --deep --strict --verbose=2 "$app"
plutil -lint "$app/Contents/Info.plist"
[ "$(plutil -extract LSMinimumSystemVersion raw "$app/Contents/Info.plist")" = "$MIN" ] || fail "Info.plist: LSMinimumSystemVersion is not $MIN"
[ "$(plutil -extract CFBundleVersion raw "$app/Contents/Info.plist")" = "$VERSION" ] || fail "Info.plist: CFBundleVersion is not $VERSION"

# --- 4. smoke test -----------------------------------------------------------
step "smoke test: LaunchServices, URLs, Quit event, LaunchAgent"
log="$HOME/Library/Logs/heidi-tray/heidi-tray.log"
agent="$HOME/Library/LaunchAgents/org.heidi-tray.heidi-tray.plist"
# A LaunchAgent of this user's own is put back afterwards.
saved=$(mktemp -d)
agent_before=no
if [ -e "$agent" ]; then agent_before=yes; cp -p "$agent" "$saved/agent.plist"; fi
lsregister=/System/Library/Frameworks/CoreServices.framework/Frameworks/LaunchServices.framework/Support/lsregister

osa=
cleanup() {
  if [ -n "$osa" ]; then kill "$osa" 2>/dev/null || true; fi
  "$bin" quit >/dev/null 2>&1 || true
  launchctl bootout "gui/$(id -u)/org.heidi-tray.heidi-tray" >/dev/null 2>&1 || true
  if [ "$agent_before" = yes ]; then cp -p "$saved/agent.plist" "$agent"; else rm -f "$agent"; fi
  rm -rf "$saved"
  "$lsregister" -u "$app" >/dev/null 2>&1 || true # leave no second handler of heidi-tray://
}
trap cleanup EXIT

# size of the log now: each check reads only what was written after it
mark() { if [ -f "$log" ]; then wc -c < "$log" | tr -d ' '; else echo 0; fi; }
# count PATTERN in the log after mark START
count() { if [ -f "$log" ]; then tail -c "+$(($1 + 1))" "$log" | grep -c "$2" || true; else echo 0; fi; }
# wait_log START PATTERN [N]: wait up to 30 s for N lines matching PATTERN
wait_log() {
  i=0
  while [ "$(count "$1" "$2")" -lt "${3:-1}" ]; do
    i=$((i + 1))
    [ $i -le 150 ] || { tail -c "+$(($1 + 1))" "$log" 2>/dev/null | tail -n 20 >&2; fail "no '$2' in $log"; }
    sleep 0.2
  done
  echo "log: $2"
}
wait_gone() {
  i=0
  while "$bin" status >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -le 150 ] || fail "the tray did not stop"; sleep 0.2
  done
}

if "$bin" quit >/dev/null 2>&1; then wait_gone; fi
"$lsregister" -f "$app"

# Cold start: LaunchServices starts the app for the URL; the URL arrives as
# an Apple Event. logout needs no key and opens no browser.
start=$(mark)
open "heidi-tray://logout"
wait_log "$start" '"msg":"heidi-tray started"'
wait_log "$start" '"msg":"URL received from the OS"'
wait_log "$start" '"msg":"logout"'

# Warm start: the running app gets the event.
open "heidi-tray://logout"
wait_log "$start" '"msg":"URL received from the OS"' 2
wait_log "$start" '"msg":"logout"' 2

# A second instance (open -n) finds the tray running and forwards its URL.
open -n -a "$app" "heidi-tray://logout"
wait_log "$start" '"msg":"URL forwarded to the running tray"'
wait_log "$start" '"msg":"logout"' 3

# Unlocking the screen: loginwindow's distributed notification reaches the
# tray's run loop, which gets the first launch ready.
# shellcheck disable=SC2016 # JavaScript's $, not the shell's
osascript -l JavaScript -e 'ObjC.import("Foundation"); $.NSDistributedNotificationCenter.defaultCenter.postNotificationNameObjectUserInfoDeliverImmediately("com.apple.screenIsUnlocked", null, null, true)'
wait_log "$start" '"msg":"getting the first launch ready","when":"unlock"'

# The Quit Apple Event (what logout and Activity Monitor send) runs
# heidi-tray's own shutdown.
osascript -e 'tell application id "org.heidi-tray.heidi-tray" to quit' &
osa=$!
wait_log "$start" '"msg":"heidi-tray stopped"'
wait "$osa" || true
osa=
wait_gone

# Start at login: the LaunchAgent heidi-tray writes, loaded as login would.
start=$(mark)
"$bin" install
[ -f "$agent" ] || fail "heidi-tray install wrote no LaunchAgent (is autostart = false in your settings?)"
plutil -lint "$agent"
launchctl bootout "gui/$(id -u)/org.heidi-tray.heidi-tray" >/dev/null 2>&1 || true
launchctl bootstrap "gui/$(id -u)" "$agent"
wait_log "$start" '"msg":"heidi-tray started"'
"$bin" status
"$bin" quit
wait_gone
launchctl bootout "gui/$(id -u)/org.heidi-tray.heidi-tray" || true

# --- 5. archive --------------------------------------------------------------
step "archive"
zip="$out/heidi-tray-$VERSION-macos.zip"
rm -f "$zip"
ditto -c -k --sequesterRsrc --keepParent "$app" "$zip"
echo "$zip"
step "all Mac checks passed"
