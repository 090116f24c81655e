#!/bin/sh
# build-msi.sh VERSION EXE OUT.msi — the per-user MSI, with wixl (Debian: wixl).
# VERSION is heidi-tray's version; MSI wants numbers only (1.2.3), so a
# suffix such as -dev is dropped for the MSI's ProductVersion.
set -eu
version=$1 exe=$2 out=$3
msiver=$(printf '%s' "$version" | sed 's/[^0-9.].*//')
[ -n "$msiver" ] || { echo "build-msi.sh: version $version has no numeric part" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$exe" "$work/heidi-tray.exe"  # wixl resolves Source relative to the .wxs
sed -e "s|@VERSION@|$msiver|" -e "s|@EXE@|heidi-tray.exe|" "$here/heidi-tray.wxs" > "$work/heidi-tray.wxs"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
(cd "$work" && wixl -a x64 -o "$out" heidi-tray.wxs)
