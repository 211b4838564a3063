#!/bin/sh
# The unit must stay sandboxed: systemd-analyze security rates it OK or
# better (skipped where systemd-analyze cannot check a unit file offline).
set -eu
unit=$(mktemp -d)/stabild.service
trap 'rm -rf "$(dirname "$unit")"' EXIT
sed 's|@SBINDIR@|/usr/local/sbin|g' systemd/stabild.service > "$unit"
if ! command -v systemd-analyze >/dev/null ||
    ! systemd-analyze security --offline=yes "$unit" >/dev/null 2>&1; then
	echo "check-systemd: systemd-analyze --offline not available, skipped"
	exit 0
fi
line=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | grep 'Overall exposure level')
echo "check-systemd: $line"
case "$line" in
*" OK"*|*" SAFE"*) exit 0 ;;
*) echo "check-systemd: the unit is rated worse than OK" >&2; exit 1 ;;
esac
