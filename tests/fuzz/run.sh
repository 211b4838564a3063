#!/bin/sh
# Run fuzz targets one after another, each over its seed corpus and then
# for SECONDS more, and report the executions of each.
#
#	run.sh [-s] SECONDS NAME...
#
# Without -s, new inputs are kept in BUILDDIR/corpus/NAME for the next
# run; with -s (the smoke of make check) they go to a scratch directory.
# A crash, a sanitizer report, a leak or a timeout stops the target; its
# input lands in BUILDDIR/artifacts/ and the script fails at the end.
set -eu
B=${BUILDDIR:-build-fuzz}
smoke=0
if [ "${1:-}" = -s ]; then
	smoke=1
	shift
fi
seconds=$1
shift
mkdir -p "$B/artifacts" "$B/logs"
failed=
total=0
start=$(date +%s)
for t in "$@"; do
	if [ "$smoke" = 1 ]; then
		work="$B/smoke/$t"
		rm -rf "$work"
	else
		work="$B/corpus/$t"
	fi
	mkdir -p "$work"
	dict=
	if [ -f "tests/fuzz/$t.dict" ]; then
		dict="-dict=tests/fuzz/$t.dict"
	fi
	log="$B/logs/$t.log"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	if nice -n 10 "$B/fuzz/fuzz_$t" -max_total_time="$seconds" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$B/artifacts/$t-" $dict \
	    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
		status=ok
	else
		status=FAILED
		failed="$failed $t"
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	runs=${runs:-0}
	total=$((total + runs))
	echo "fuzz: $t: $runs runs in $(($(date +%s) - t0)) s, $status"
	if [ "$status" != ok ]; then
		grep -E 'ERROR|SUMMARY|Test unit written|exited' "$log" |
		    head -n 20 >&2 || true
	fi
	if [ "$smoke" = 1 ]; then
		rm -rf "$work"
	fi
done
echo "fuzz: $total runs in $(($(date +%s) - start)) s"
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed (logs in $B/logs, inputs in" \
	    "$B/artifacts)" >&2
	exit 1
fi
