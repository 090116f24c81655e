#!/bin/sh
# build-msi.sh [--machine] VERSION EXE OUT.msi — heidi-tray's MSI, with wixl
# (Debian: wixl). Per user by default (heidi-tray.wxs); --machine builds the
# per-machine MSI (heidi-tray-machine.wxs: Program Files, needs elevation).
# The MSI's ProductVersion comes from msi-version.sh (pre-releases order
# before their release); the full VERSION goes into the registry.
set -eu
wxs=heidi-tray.wxs
if [ "${1:-}" = --machine ]; then wxs=heidi-tray-machine.wxs; shift; fi
[ $# -eq 3 ] || { echo "usage: build-msi.sh [--machine] VERSION EXE OUT.msi" >&2; exit 2; }
version=$1 exe=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
msiver=$("$here/msi-version.sh" "$version")
case $version in *[!0-9A-Za-z.+-]*) echo "build-msi.sh: version $version has characters other than 0-9 A-Z a-z . + -" >&2; exit 2 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$exe" "$work/heidi-tray.exe"  # wixl resolves Source relative to the .wxs
cp "$here/../../assets/icons/ready.ico" "$work/heidi-tray.ico"
sed -e "s|@MSIVERSION@|$msiver|g" -e "s|@VERSION@|$version|g" -e "s|@EXE@|heidi-tray.exe|" -e "s|@ICON@|heidi-tray.ico|" \
  "$here/$wxs" > "$work/heidi-tray.wxs"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
(cd "$work" && wixl -a x64 -o "$out" heidi-tray.wxs)
# What wixl cannot write, patched in with msibuild (msitools):
upgrade_code=$(sed -n 's/.*UpgradeCode="\([^"]*\)".*/\1/p' "$here/$wxs" | head -1)
# - a same-version rebuild replaces the installed one (IncludeMaximum 512 +
#   MigrateFeatures 1) instead of installing beside it;
msibuild "$out" -q "DELETE FROM \`Upgrade\` WHERE \`ActionProperty\` = 'WIX_UPGRADE_DETECTED'"
msibuild "$out" -q "INSERT INTO \`Upgrade\` (\`UpgradeCode\`, \`VersionMax\`, \`Attributes\`, \`ActionProperty\`) VALUES ('{$upgrade_code}', '$msiver', 513, 'WIX_UPGRADE_DETECTED')"
# - the custom actions run immediately (wixl marks them deferred): exe from
#   an installed file (18) whose exit code is ignored (64), StartTray
#   without waiting (128);
msibuild "$out" -q "UPDATE \`CustomAction\` SET \`Type\` = 82 WHERE \`Action\` = 'StopTray' OR \`Action\` = 'PurgeUserData'"
msibuild "$out" -q "UPDATE \`CustomAction\` SET \`Type\` = 210 WHERE \`Action\` = 'StartTray'"
# - Add/Remove Programs' install location, set right after the directories
#   are resolved (a property, 51);
msibuild "$out" -q "UPDATE \`CustomAction\` SET \`Type\` = 51 WHERE \`Action\` = 'SetInstallLocation'"
msibuild "$out" -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 1001 WHERE \`Action\` = 'SetInstallLocation'"
# - the Event Log source's message file as REG_EXPAND_SZ (#%; per-machine
#   MSI only);
msibuild "$out" -q "UPDATE \`Registry\` SET \`Value\` = '#%%SystemRoot%\\System32\\EventCreate.exe' WHERE \`Name\` = 'EventMessageFile'"
# - start at login only when allowed (a component condition).
off='AUTOSTART_POLICY_MACHINE="#0" OR AUTOSTART_POLICY_MACHINE~="false" OR (NOT AUTOSTART_POLICY_MACHINE AND (AUTOSTART_POLICY_USER="#0" OR AUTOSTART_POLICY_USER~="false"))'
msibuild "$out" -q "UPDATE \`Component\` SET \`Condition\` = 'AUTOSTART<>\"0\" AND NOT ($off)' WHERE \`Component\` = 'Autostart'"
