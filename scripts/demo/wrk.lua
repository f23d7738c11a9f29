-- wrk script for `make demo`: the LS load, one short window per wrk run.
--
-- Each connection waits an exponentially distributed think time between
-- requests (mean COLOD_DEMO_THINK_MS), so that nginx gets about one core of
-- the two, not all it can take: a service with headroom, which BE may fill.
-- wrk's latency is from writing a request to reading its whole response;
-- think time is not in it.
--
-- done() prints one line, "COLOD_DEMO_JSON {...}", with the window's
-- request count, errors, p50/p99 and its quantile function: "q" holds the
-- latency at the middle of each slice of the requests, "qw" each slice's
-- share of them (1% slices up to p99, 0.01% slices above). From these the
-- demo rebuilds each phase's per-request latency distribution across
-- windows. (wrk's percentile() scans its histogram, so a few hundred
-- points, not thousands, keep the gap between windows short.)

local think_ms = tonumber(os.getenv("COLOD_DEMO_THINK_MS") or "3")

wrk.headers["Accept-Encoding"] = "gzip"

function setup(thread)
	thread:set("seed", os.time() + math.random(1, 1000000))
end

function init(args)
	math.randomseed(seed or os.time())
end

function delay()
	-- exponential with mean think_ms, in whole milliseconds (wrk's unit)
	return math.floor(-math.log(1 - math.random()) * think_ms + 0.5)
end

function done(summary, latency, requests)
	local e = summary.errors
	local q, qw = {}, {}
	if summary.requests > 0 then
		for k = 0, 98 do
			q[#q + 1] = string.format("%d", latency:percentile(k + 0.5))
			qw[#qw + 1] = "0.01"
		end
		for k = 0, 99 do
			q[#q + 1] = string.format("%d", latency:percentile(99 + (k + 0.5) / 100))
			qw[#qw + 1] = "0.0001"
		end
	end
	io.write(string.format('COLOD_DEMO_JSON {"duration_us":%d,"requests":%d,' ..
		'"errors":%d,"timeouts":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d,' ..
		'"max_us":%d,"q":[%s],"qw":[%s]}\n',
		summary.duration, summary.requests,
		e.connect + e.read + e.write + e.status + e.timeout, e.timeout, e.status,
		summary.requests > 0 and latency:percentile(50) or 0,
		summary.requests > 0 and latency:percentile(99) or 0,
		summary.requests > 0 and latency.max or 0, table.concat(q, ","), table.concat(qw, ",")))
end
