#!/bin/sh
# msi-version.sh VERSION — prints the Windows Installer ProductVersion for a
# heidi-tray version (docs/windows.md, "Version numbers").
#
# Windows Installer compares only major.minor.build (255.255.65535) and
# ignores a fourth field, so a pre-release and its release must differ in
# the third field: build = patch*1000 + stage, where stage is
#   dev[.N] or dev+N   N          (0–299: development builds, by build number)
#   alpha.N            300 + N    (N 0–199)
#   beta.N             500 + N    (N 0–199)
#   rc.N               700 + N    (N 0–199)
#   (release)          999
# so 1.2.3-dev+7 < 1.2.3-alpha.1 < 1.2.3-rc.2 < 1.2.3 < 1.2.4-dev. Patch is
# at most 64. Build metadata on a release or alpha/beta/rc (+abc) is ignored.
set -eu
v=${1:?usage: msi-version.sh VERSION}
fail() { echo "msi-version.sh: $v: $*" >&2; exit 2; }
core=${v%%[-+]*}
rest=${v#"$core"}
pre= build=
case $rest in
  -*) pre=${rest#-}; case $pre in *+*) build=${pre#*+}; pre=${pre%%+*} ;; esac ;;
  +*) build=${rest#+} ;;
esac
IFS=. read -r major minor patch extra <<END
$core
END
for n in "$major" "$minor" "$patch"; do
  case $n in ''|*[!0-9]*) fail "expected MAJOR.MINOR.PATCH[-PRE][+BUILD]" ;; esac
done
[ -z "${extra:-}" ] || fail "expected MAJOR.MINOR.PATCH, not four numbers"
num() { case $1 in ''|*[!0-9]*) fail "$2 must be a number" ;; esac; [ "$1" -le "$3" ] || fail "$2 must be at most $3"; }
[ "$major" -le 255 ] || fail "major must be at most 255"
[ "$minor" -le 255 ] || fail "minor must be at most 255"
[ "$patch" -le 64 ] || fail "patch must be at most 64 (the MSI build field is patch*1000+stage)"
case $pre in
  '') stage=999 ;;
  dev) n=0; [ -z "$build" ] || { num "$build" "the build number after +" 299; n=$build; }; stage=$n ;;
  dev.*) num "${pre#dev.}" "dev.N" 299; stage=${pre#dev.} ;;
  alpha.*) num "${pre#alpha.}" "alpha.N" 199; stage=$((300 + ${pre#alpha.})) ;;
  beta.*) num "${pre#beta.}" "beta.N" 199; stage=$((500 + ${pre#beta.})) ;;
  rc.*) num "${pre#rc.}" "rc.N" 199; stage=$((700 + ${pre#rc.})) ;;
  *) fail "unknown pre-release \"$pre\" (use dev, dev.N, alpha.N, beta.N or rc.N)" ;;
esac
echo "$((major)).$((minor)).$((patch * 1000 + stage))"
