#!/bin/sh
# The baseline: what an EMR integration without heidi-tray does on every
# launch — fetch the clinician's JWT with curl (a new TLS connection each
# time), then open the browser.
# Usage: baseline.sh EMAIL USER_ID   (env: HEIDI_BASE, HEIDI_KEY_FILE, BROWSER_CMD, HEIDI_CA_FILE)
set -eu
token=$(curl -sf --cacert "$HEIDI_CA_FILE" -H "Heidi-Api-Key: $(cat "$HEIDI_KEY_FILE")" \
  "$HEIDI_BASE/jwt?email=$1&third_party_internal_id=$2" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
[ -n "$token" ]
exec "$BROWSER_CMD" "http://127.0.0.1:9/widget-page"
