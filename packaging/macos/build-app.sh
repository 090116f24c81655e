#!/bin/sh
# build-app.sh BINARY OUT_DIR (--sign IDENTITY | --adhoc | --unsigned)
#
# Assembles heidi-tray.app from a darwin binary (a universal one from
# 'lipo -create', see .github/workflows/macos.yml): Info.plist with the
# version the binary reports, LSUIElement (no Dock icon), CFBundleURLTypes for
# heidi-tray://, and the icon. It refuses to produce an unsigned bundle unless
# asked (--unsigned, for checks on Linux). Signing needs a Mac:
#   --sign "Developer ID Application: …"  hardened runtime + secure timestamp,
#                                          ready for notarization (docs/macos.md)
#   --adhoc                                 ad-hoc signature (local testing)
set -eu
usage() { sed -n '2,13p' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
bin=$1 out=$2 mode=$3 identity=${4:-}
case $mode in
  --sign) [ -n "$identity" ] || usage ;;
  --adhoc|--unsigned) ;;
  *) echo "build-app.sh: refusing to build an unsigned bundle; pass --sign IDENTITY, --adhoc, or --unsigned" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# The version comes from the binary itself when it can run here, else from VERSION.
version=${VERSION:-}
if [ -z "$version" ]; then
  version=$("$bin" version 2>/dev/null | awk '{print $2}') || true
fi
[ -n "$version" ] || { echo "build-app.sh: cannot run $bin here to read its version; set VERSION" >&2; exit 2; }
app="$out/heidi-tray.app"
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
cp "$bin" "$app/Contents/MacOS/heidi-tray"
chmod 755 "$app/Contents/MacOS/heidi-tray"
(cd "$root" && go run ./packaging/macos/mkbundle -version "$version" -out "$app/Contents/Info.plist")
cp "$root/assets/icons/heidi-tray.icns" "$app/Contents/Resources/heidi-tray.icns"
printf 'APPL????' > "$app/Contents/PkgInfo"
case $mode in
  --sign)  codesign --force --options runtime --timestamp --sign "$identity" "$app" ;;
  --adhoc) codesign --force --sign - "$app" ;;
  --unsigned) echo "build-app.sh: $app is UNSIGNED (checks only; do not ship it)" >&2 ;;
esac
echo "$app"
