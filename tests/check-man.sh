#!/usr/bin/env bash
# Compare the daemon's key table (`stabild --list-keys`) with
# stabild.conf(5): every key must have an entry in the page, and every
# entry must be a key. An entry is a ".TP" paragraph whose tag line is
# ".B key", under a ".SS [section]" (or ".SS "[section \(dqNAME\(dq]"")
# heading of the KEYS section. A new key needs only its entry.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."

stabild=${BUILDDIR:-build}/stabild
page=daemon/man/stabild.conf.5

fail() {
	echo "check-man: $*" >&2
	exit 1
}

[ -x "$stabild" ] || fail "$stabild not found; build it first"
[ -r "$page" ] || fail "$page not found"

list=$("$stabild" --list-keys) || fail "$stabild --list-keys failed"
keys=$(printf '%s\n' "$list" | cut -f1 | sort)
[ -n "$keys" ] || fail "$stabild --list-keys printed nothing"

# The entries as "section.key". A tag line in KEYS that is not ".B key",
# or an entry outside a [section], is an error rather than silently
# skipped, so the check cannot miss a key written another way.
documented=$(awk -v page="$page" '
	/^\.SH/ {
		inkeys = ($0 ~ /^\.SH "?KEYS"?[ \t]*$/)
		section = ""
		next
	}
	!inkeys { next }
	/^\.SS/ {
		section = ""
		if (match($0, /\[[a-z_][a-z0-9_]*/))
			section = substr($0, RSTART + 1, RLENGTH - 1)
		next
	}
	/^\.TP/ { tag = 1; next }
	tag {
		tag = 0
		if ($1 != ".B" || NF != 2 || $2 !~ /^[a-z_][a-z0-9_]*$/ ||
		    section == "") {
			printf "%s:%d: not a key entry: %s\n", page, NR, $0 \
			    > "/dev/stderr"
			bad = 1
			next
		}
		print section "." $2
	}
	END { exit bad }' "$page") || fail "unexpected entries in $page"
documented=$(printf '%s\n' "$documented" | sort)

problems=0
dups=$(printf '%s\n' "$documented" | uniq -d)
for key in $dups; do
	echo "check-man: $key: more than one entry in $page" >&2
	problems=$((problems + 1))
done
for key in $(comm -23 <(printf '%s\n' "$keys") <(printf '%s\n' "$documented" | uniq)); do
	echo "check-man: $key: missing from $page" >&2
	problems=$((problems + 1))
done
for key in $(comm -13 <(printf '%s\n' "$keys") <(printf '%s\n' "$documented" | uniq)); do
	echo "check-man: $key: in $page but not a key of stabild" >&2
	problems=$((problems + 1))
done

[ "$problems" -eq 0 ] || fail "$problems problem(s)"
echo "check-man: $(printf '%s\n' "$keys" | wc -l) keys documented in $page"
