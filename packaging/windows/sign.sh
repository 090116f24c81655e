#!/bin/sh
# sign.sh — Authenticode-sign heidi-tray.exe and the MSIs with osslsigncode.
#
#   sign.sh --pkcs12 cert.p12 [--password-file FILE] [--timestamp URL] FILE...
#           (password: FILE, else $HEIDI_TRAY_SIGN_PASSWORD, else none)
#   sign.sh --pkcs11-module /usr/lib/…/p11.so --pkcs11-key 'pkcs11:object=…' --cert cert.pem [--timestamp URL] FILE...
#   sign.sh --cert cert.pem --key key.pem FILE...               (tests only: a throwaway key on disk)
#
# Each FILE is signed in place (SHA-256, with the product name and URL). In
# production pass --timestamp (an RFC 3161 server) so signatures outlive the
# certificate; code-signing keys live in a token or HSM (PKCS#11) since 2023.
# The password never reaches a command line (other users can read those):
# osslsigncode reads it from a file (-readpass), or from its standard input.
set -eu
usage() { sed -n '2,14p' "$0" >&2; exit 2; }
need() { [ $# -ge 2 ] || usage; }
p12= passfile= module= p11key= cert= key= ts=
while [ $# -gt 0 ]; do
  case $1 in
    --pkcs12) need "$@"; p12=$2; shift 2 ;;
    --password-file) need "$@"; passfile=$2; shift 2 ;;
    --pkcs11-module) need "$@"; module=$2; shift 2 ;;
    --pkcs11-key) need "$@"; p11key=$2; shift 2 ;;
    --cert) need "$@"; cert=$2; shift 2 ;;
    --key) need "$@"; key=$2; shift 2 ;;
    --timestamp) need "$@"; ts=$2; shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || usage
if [ -n "$p12" ]; then :
elif [ -n "$module" ]; then [ -n "$p11key" ] && [ -n "$cert" ] || usage
elif [ -n "$cert" ] && [ -n "$key" ]; then :
else usage
fi
[ -z "$passfile" ] || [ -r "$passfile" ] || { echo "sign.sh: cannot read the password file $passfile" >&2; exit 2; }

# sign IN OUT: one osslsigncode run; every value stays one argument.
sign() {
  if [ -n "$p12" ]; then
    if [ -n "$passfile" ]; then
      set -- -pkcs12 "$p12" -readpass "$passfile" -in "$1" -out "$2"
    elif [ -n "${HEIDI_TRAY_SIGN_PASSWORD:-}" ]; then
      set -- -pkcs12 "$p12" -readpass - -in "$1" -out "$2"
    else
      set -- -pkcs12 "$p12" -in "$1" -out "$2"
    fi
  elif [ -n "$module" ]; then
    set -- -pkcs11module "$module" -key "$p11key" -certs "$cert" -in "$1" -out "$2"
  else
    set -- -certs "$cert" -key "$key" -in "$1" -out "$2"
  fi
  [ -z "$ts" ] || set -- "$@" -ts "$ts"
  if [ -n "$p12" ] && [ -z "$passfile" ] && [ -n "${HEIDI_TRAY_SIGN_PASSWORD:-}" ]; then
    printf '%s\n' "$HEIDI_TRAY_SIGN_PASSWORD" | osslsigncode sign -n "heidi-tray" -i "https://www.heidihealth.com/" -h sha256 "$@" >/dev/null
  else
    osslsigncode sign -n "heidi-tray" -i "https://www.heidihealth.com/" -h sha256 "$@" </dev/null >/dev/null
  fi
}
for f in "$@"; do
  tmp="$f.signing"
  rm -f "$tmp"
  sign "$f" "$tmp" || { rm -f "$tmp"; echo "sign.sh: signing $f failed" >&2; exit 1; }
  mv "$tmp" "$f"
  echo "signed: $f"
done
