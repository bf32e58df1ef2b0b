-- wrk script for bench/wizard_load.py: every connection sends the logged-in session's cookie and
-- asks for the plan's wizard sections in turn; anything but a 200 page is counted, and the end
-- prints one machine-readable line that wizard_load.py parses.
-- Arguments (after "--"): the session cookie, then the section paths.

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    wrk.headers["Cookie"] = "sessionid=" .. args[1]
    paths = {}
    for index = 2, #args do
        table.insert(paths, args[index])
    end
    sent = 0
    not_ok = 0
end

function request()
    sent = sent + 1
    return wrk.format("GET", paths[(sent % #paths) + 1])
end

function response(status, headers, body)
    if status ~= 200 then
        not_ok = not_ok + 1
    end
end

function done(summary, latency, requests)
    local failed = 0
    for _, thread in ipairs(threads) do
        failed = failed + thread:get("not_ok")
    end
    io.write(string.format(
        "RESULT requests=%d seconds=%.3f p50_ms=%.1f p95_ms=%.1f max_ms=%.1f not_ok=%d errors=%d\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
        latency:percentile(95) / 1000, latency.max / 1000, failed,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    ))
end
