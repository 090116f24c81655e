#!/bin/sh
# sign.sh — Authenticode-sign heidi-tray.exe and the MSI with osslsigncode.
#
#   sign.sh --pkcs12 cert.p12 [--timestamp URL] FILE...        (password: $HEIDI_TRAY_SIGN_PASSWORD)
#   sign.sh --pkcs11-module /usr/lib/…/p11.so --pkcs11-key 'pkcs11:object=…' --cert cert.pem [--timestamp URL] FILE...
#   sign.sh --cert cert.pem --key key.pem FILE...               (tests only: a throwaway key on disk)
#
# Each FILE is signed in place (SHA-256, with the product name and URL). In
# production pass --timestamp (an RFC 3161 server) so signatures outlive the
# certificate; code-signing keys live in a token or HSM (PKCS#11) since 2023.
set -eu
usage() { sed -n '2,11p' "$0" >&2; exit 2; }
p12= module= p11key= cert= key= ts=
while [ $# -gt 0 ]; do
  case $1 in
    --pkcs12) p12=$2; shift 2 ;;
    --pkcs11-module) module=$2; shift 2 ;;
    --pkcs11-key) p11key=$2; shift 2 ;;
    --cert) cert=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --timestamp) ts=$2; shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || usage
if [ -n "$p12" ]; then
  set -- "$@"; creds="-pkcs12 $p12"
  [ -n "${HEIDI_TRAY_SIGN_PASSWORD:-}" ] && creds="$creds -pass $HEIDI_TRAY_SIGN_PASSWORD"
elif [ -n "$module" ]; then
  [ -n "$p11key" ] && [ -n "$cert" ] || usage
  creds="-pkcs11module $module -key $p11key -certs $cert"
elif [ -n "$cert" ] && [ -n "$key" ]; then
  creds="-certs $cert -key $key"
else
  usage
fi
for f in "$@"; do
  tmp="$f.signing"
  # shellcheck disable=SC2086 # creds holds several options
  osslsigncode sign $creds -n "heidi-tray" -i "https://www.heidihealth.com/" -h sha256 \
    ${ts:+-ts "$ts"} -in "$f" -out "$tmp" >/dev/null
  mv "$tmp" "$f"
  echo "signed: $f"
done
