#!/bin/sh
# make demo: a private redis-server on a free loopback port, stabild, a
# local webhook receiver and SMTP server, and the simulator writing two
# years of decisions for 58 offices, with the reconsiderations, court
# rulings and rehabilitation-chain assessments that follow them (injected
# drifts, some malformed entries and resent duplicates); then a report of
# what stabild counted, straight from its HTTP API, per indicator, and of
# the alerts that reached the receivers.
set -eu
BUILDDIR=${BUILDDIR:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/$BUILDDIR"
work=$(mktemp -d "${TMPDIR:-/tmp}/stabild-demo.XXXXXX")
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(port)
hport=$(port)
wport=$(port)
sport=$(port)
token=demo-read-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
redis_pid=
stabild_pid=
sinks_pid=

cleanup() {
	[ -n "$stabild_pid" ] && kill "$stabild_pid" 2>/dev/null && wait "$stabild_pid" 2>/dev/null
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	[ -n "$sinks_pid" ] && kill "$sinks_pid" 2>/dev/null && wait "$sinks_pid" 2>/dev/null
	echo "kept $work"
}
trap cleanup EXIT INT TERM

echo "demo: redis-server on 127.0.0.1:$rport, stabild API on 127.0.0.1:$hport"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work" --save '' \
	--appendonly no --daemonize no --logfile "$work/redis.log" &
redis_pid=$!

printf 'read %s\n' "$token" > "$work/tokens"
chmod 600 "$work/tokens"
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$work/webhook.secret"
chmod 600 "$work/webhook.secret"
echo "demo: webhook receiver on 127.0.0.1:$wport, SMTP server on 127.0.0.1:$sport"
python3 "$top/tests/demo_sinks.py" --webhook-port "$wport" --smtp-port "$sport" \
	--secret "$(cat "$work/webhook.secret")" --out "$work/received.jsonl" &
sinks_pid=$!
cat > "$work/stabild.conf" <<CONF
[redis]
host = 127.0.0.1
port = $rport
block = 500ms
[http]
bind = 127.0.0.1
port = $hport
tokens_file = $work/tokens
[state]
dir = $work/state
[alerts]
# The simulator replays past years: deliver what it raises all the same.
historical_age = 50y
[receiver "ops-hook"]
type = webhook
url = http://127.0.0.1:$wport/hook
secret_file = $work/webhook.secret
[receiver "ops-mail"]
type = email
url = smtp://127.0.0.1:$sport
starttls = off
from = stabild <stabild@demo.example>
to = Drift desk <drift@demo.example>
# The four indicators of config/stabild.conf beside the rejection rate.
[indicator "reconsideration"]
event = reconsideration
yes = changed
no = unchanged
label = change rate at reconsideration
[indicator "appeal"]
event = appeal
yes = changed
no = unchanged
label = change rate in court
design_or_office = 2.0
[indicator "timeliness"]
event = assessment
yes = late
no = on_time
label = late assessment rate
[indicator "supplement"]
event = decision
field = supplement_requested
yes = yes
no = no
label = supplement request rate
[route "explained"]
classifications = explained
receivers =
[route "hook"]
receivers = ops-hook
continue = on
[route "mail"]
receivers = ops-mail
group_wait = 3s
CONF

for i in $(seq 50); do
	redis-cli -p "$rport" ping >/dev/null 2>&1 && break
	sleep 0.1
done

"$bin/stabild" -c "$work/stabild.conf" 2> "$work/stabild.log" &
stabild_pid=$!

echo "demo: simulating 104 weeks of decisions for 58 offices, with every event"
echo "demo: kind: from week 70 K017 rejects more (odds ratio 1.8), the whole"
echo "demo: country approves more sjukersattning/ongoing (odds ratio 0.75), and"
echo "demo: K057's reconsiderations change its decisions more often (odds ratio 3)"
"$bin/stabild-sim" --port "$rport" --seed 7 --weeks 104 --per-week 20000 \
	--start 2023-01-02 --events all --drift K017:*:*:70:1.8 \
	--drift national:sjukersattning:ongoing:70:0.75 \
	--drift K057:*:*:70:3@reconsideration \
	--malformed 0.001 --duplicates 0.001 --truth "$work/truth.tsv"

python3 "$top/tests/demo_report.py" --port "$hport" --token "$token" \
	--truth "$work/truth.tsv" --redis-port "$rport" \
	--received "$work/received.jsonl"

echo
echo "demo: last lines of the daemon log"
tail -n 5 "$work/stabild.log"
kill -TERM "$stabild_pid"
wait "$stabild_pid" && echo "demo: stabild stopped cleanly (exit 0)"
stabild_pid=
