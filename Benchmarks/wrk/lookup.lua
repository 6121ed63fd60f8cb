-- GET /v1/lookup?email= of a known customer: customer<i>@example.com for i in 0..CUSTOMERS-1, as
-- written by Benchmarks/customers_ndjson.py. TOKEN (a service token) is sent as a bearer token.
-- Deterministic per-thread seeds.
local token = os.getenv("TOKEN")
local count = tonumber(os.getenv("CUSTOMERS") or "1000000")
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
function init(args) math.randomseed(5151 + (tid or 0) * 7919) end
function request()
  local headers = { ["Authorization"] = "Bearer " .. token }
  return wrk.format("GET", string.format("/v1/lookup?email=customer%d%%40example.com", math.random(0, count - 1)), headers)
end
