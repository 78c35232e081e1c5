-- wrk script for `scripts/bench soak`: like bench-agents.lua (each thread walks its own file of pre-generated
-- bodies, one fresh private_key_jwt assertion per request) but paced to a rate, not a saturation: each thread sends
-- one request every BENCH_INTERVAL_MS (its share of the rate) on a fixed schedule — a connection whose answer came
-- late waits less, so the broker's latency does not lower the rate (a fixed pause per connection did: the rate fell
-- to connections / (pause + latency)). A thread that falls behind its schedule catches up at most one interval
-- back, it does not burst.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } deputy_timespec;
  int clock_gettime(int clk_id, deputy_timespec *tp);
]]
local ts = ffi.new("deputy_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

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
  interval = tonumber(os.getenv("BENCH_INTERVAL_MS") or "0")
  slot = nil
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function delay()
  local t = now_ms()
  if slot == nil or slot < t - interval then
    slot = t
  else
    slot = slot + interval
  end
  return math.max(0, math.floor(slot - t + 0.5))
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
