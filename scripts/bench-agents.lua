-- wrk script for scripts/bench-agents: each thread walks its own file of pre-generated request bodies
-- (one fresh private_key_jwt assertion per request; a Lua script cannot sign ES256).
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
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  i = i + 1
  if i > #bodies then
    -- never reuse an assertion (it would be a replay): stop sending fresh ones
    exhausted = exhausted + 1
    i = #bodies
  end
  return wrk.format(nil, wrk.path, nil, bodies[i])
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
