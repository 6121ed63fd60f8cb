-- POST /v1/inbound: a mix of new and existing contacts. Each thread cycles through EXISTING
-- known senders (user<i>@bench.example, i < EXISTING) and, every NEW_EVERY-th message, a sender never
-- seen before. Every message has a unique externalId. TOKEN is a service token.
local token = os.getenv("TOKEN")
local existing = tonumber(os.getenv("EXISTING") or "2000")
local newEvery = tonumber(os.getenv("NEW_EVERY") or "2")
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
function init(args) math.randomseed(99 + (tid or 0) * 7919); counter = 0; run = os.time() end
function request()
  counter = counter + 1
  local from
  if counter % newEvery == 0 then
    from = string.format("new-%d-%d-%d@bench.example", run, tid, counter)
  else
    from = string.format("user%d@bench.example", math.random(0, existing - 1))
  end
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  local body = string.format('{"channel":"email","from":"%s","subject":"Order","body":"Hello, where is my order %d?","externalId":"bench-%d-%d-%d"}',
    from, counter, run, tid, counter)
  return wrk.format("POST", "/v1/inbound", headers, body)
end
