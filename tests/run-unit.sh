#!/bin/sh
# Run each unit test binary; stop at the first failure.
set -eu
for t in "$@"; do
	echo "== $t"
	"$t"
done
