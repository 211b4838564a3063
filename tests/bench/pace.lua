-- wrk script for tests/bench/api.py: every connection waits PACE ms after
-- each answer before its next request (wrk has no fixed-rate mode), so
-- that C connections make about 1000 * C / PACE requests a second. The
-- results are printed in one line for the caller to parse.
--   wrk -t1 -cC -dD -s pace.lua URL -- PACE

local pace = 10

function init(args)
	pace = tonumber(args[1]) or pace
end

function delay()
	return pace
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("pace: requests=%d duration_us=%d p50_us=%d " ..
	    "p99_us=%d max_us=%d errors=%d bytes=%d\n", summary.requests,
	    summary.duration, latency:percentile(50), latency:percentile(99),
	    latency.max, e.connect + e.read + e.write + e.status + e.timeout,
	    summary.bytes))
end
