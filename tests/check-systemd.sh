#!/bin/sh
# The unit must stay sandboxed: systemd-analyze security rates it OK or
# better, alone and with the drop-in of a second instance
# (systemd/stabild-ha.conf), and systemd-analyze verify finds nothing to
# say about either (an unknown key or a bad value is only a warning to
# systemd, so any output fails). Skipped where systemd-analyze cannot
# check a unit file offline.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
unit=$dir/stabild.service
# A stand-in for the binary, so that verify can check ExecStart.
mkdir "$dir/sbin"
printf '#!/bin/sh\nexit 0\n' > "$dir/sbin/stabild"
chmod 0755 "$dir/sbin/stabild"
sed "s|@SBINDIR@|$dir/sbin|g" systemd/stabild.service > "$unit"
if ! command -v systemd-analyze >/dev/null ||
    ! systemd-analyze security --offline=yes "$unit" >/dev/null 2>&1; then
	echo "check-systemd: systemd-analyze --offline not available, skipped"
	exit 0
fi

check() {
	if ! out=$(systemd-analyze verify --man=no "$unit" 2>&1) || [ -n "$out" ]; then
		echo "$out" >&2
		echo "check-systemd: verify $1 failed" >&2
		exit 1
	fi
	line=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
	    grep 'Overall exposure level')
	echo "check-systemd: $1: $line"
	case "$line" in
	*" OK"*|*" SAFE"*) ;;
	*) echo "check-systemd: $1 is rated worse than OK" >&2; exit 1 ;;
	esac
}

check "the unit"
# verify reads drop-ins from beside the unit file, as systemd does from
# /etc/systemd/system/stabild.service.d/.
mkdir "$unit.d"
cp systemd/stabild-ha.conf "$unit.d/ha.conf"
check "the unit with the HA drop-in"
# The drop-in is read: a setting that systemd refuses is reported.
echo "Restart=sometimes" >> "$unit.d/ha.conf"
if out=$(systemd-analyze verify --man=no "$unit" 2>&1) && [ -z "$out" ]; then
	echo "check-systemd: verify did not read the drop-in" >&2
	exit 1
fi
