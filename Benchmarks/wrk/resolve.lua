-- POST /v1/contacts/resolve of a known address: user<i>@example.com for i in 0..CONTACTS-1.
-- TOKEN (a service token) is sent as a bearer token. Deterministic per-thread seeds.
local token = os.getenv("TOKEN")
local count = tonumber(os.getenv("CONTACTS") or "10000")
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
function init(args) math.randomseed(4242 + (tid or 0) * 7919) end
function request()
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  local body = string.format('{"channel":"email","address":"user%d@example.com"}', math.random(0, count - 1))
  return wrk.format("POST", "/v1/contacts/resolve", headers, body)
end
