-- wrk script for `scripts/bench soak`: like bench-agents.lua (each thread walks its own file of pre-generated
-- bodies, one fresh private_key_jwt assertion per request) but paced: each connection waits BENCH_DELAY_MS
-- between requests, so that the load is a rate (connections * 1000 / delay per second), not a saturation.
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local f = assert(io.open(os.getenv("BENCH_BODIES") .. "." .. id, "r"))
  for line in f:lines() do
    bodies[#bodies + 1] = line
  end
  f:close()
  i = 0
  exhausted = 0
  non200 = 0
  pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function delay()
  return pause
end

function request()
  i = i + 1
  if i > #bodies then
    exhausted = exhausted + 1
    i = #bodies
  end
  return wrk.format(nil, wrk.path, nil, bodies[i])
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad, ex = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non200") or 0)
    ex = ex + (t:get("exhausted") or 0)
  end
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, non-200 %d, replayed (bodies exhausted) %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad, ex))
end
