-- wrk script for `scripts/bench authzen`: POSTs the AuthZEN body of BENCH_BODY (a file) to the decision endpoint,
-- authenticated as the bench's decision client by mTLS through the trusted proxy header (BENCH_CERT_HEADER, the
-- URL-encoded PEM a TLS-terminating proxy would forward) with its client id in Deputy-Client-Id. Prints p50/p99 like
-- the other bench scripts.
function init(args)
  local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
  body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Client-Cert"] = os.getenv("BENCH_CERT_HEADER")
  wrk.headers["Deputy-Client-Id"] = "bench-pep"
end

function request()
  return wrk.format(nil, wrk.path, nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, non-2xx %d (p90 %.2f, p95 %.2f, p99.9 %.2f ms, max %.2f ms)\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    latency:percentile(90) / 1000, latency:percentile(95) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end
