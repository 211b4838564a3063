#!/usr/bin/env bash
# Compare the daemon's key table (`stabild --list-keys`) with the example
# configuration and the README: every key must be documented in both, and
# the example must not mention keys the daemon does not know.
set -euo pipefail

cd "$(dirname "$0")/.."

stabild=${BUILDDIR:-build}/stabild
conf=config/stabild.conf
readme=README.md

fail() {
	echo "check-options: $*" >&2
	exit 1
}

[ -x "$stabild" ] || fail "$stabild not found; build it first"
[ -r "$conf" ] || fail "$conf not found"
[ -r "$readme" ] || fail "$readme not found"

list=$("$stabild" --list-keys) || fail "$stabild --list-keys failed"
[ -n "$list" ] || fail "$stabild --list-keys printed nothing"

# Lines are "section.key<TAB>reloadable|restart<TAB>help".
keys=$(printf '%s\n' "$list" | awk -F'\t' '
	NF != 3 || $1 !~ /^[a-z_]+\.[a-z0-9_]+$/ ||
	    ($2 != "reloadable" && $2 != "restart") || $3 == "" {
		print "bad line " NR ": " $0 > "/dev/stderr"
		bad = 1
	}
	{ print $1 }
	END { exit bad }') || fail "unexpected --list-keys output"

# The keys of the example as "section.key", commented out or not. Sections
# may be commented out too; every [receiver "NAME"] counts as "receiver",
# [route "NAME"] as "route", every [explanation "ID"] as "explanation",
# every [indicator "NAME"] as "indicator".
documented=$(awk '
	{
		line = $0
		sub(/^[ \t]*[;#]*[ \t]*/, "", line)
	}
	line ~ /^\[/ {
		section = line
		sub(/^\[/, "", section)
		sub(/\].*$/, "", section)
		if (section ~ /^(receiver|route|explanation|indicator)[ "]/)
			sub(/[ "].*$/, "", section)
		next
	}
	section != "" && line ~ /^[a-z_][a-z0-9_]*[ \t]*=/ {
		key = line
		sub(/[ \t]*=.*$/, "", key)
		print section "." key
	}' "$conf" | sort -u)

problems=0
for key in $keys; do
	if ! grep -qxF "$key" <<<"$documented"; then
		echo "check-options: $key: missing from $conf" >&2
		problems=$((problems + 1))
	fi
	if ! grep -qF "$key" "$readme"; then
		echo "check-options: $key: missing from $readme" >&2
		problems=$((problems + 1))
	fi
done
for key in $documented; do
	if ! grep -qxF "$key" <<<"$keys"; then
		echo "check-options: $key: in $conf but not a key of stabild" >&2
		problems=$((problems + 1))
	fi
done

[ "$problems" -eq 0 ] || fail "$problems problem(s)"
echo "check-options: $(printf '%s\n' "$keys" | wc -l) keys documented"
