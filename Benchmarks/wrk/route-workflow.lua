-- POST /v1/route for a new conversation each time (unique ids per run and thread), from a contact
-- with no dedicated hero whose email is one of the CUSTOMERS directory customers seeded by
-- Benchmarks/seed_workflow.py (customer<i>@wf-bench.example, i random), on the messaging channel.
-- RUN (a label) keeps ids unique across runs; TOKEN (a service token) is the bearer token.
local token = os.getenv("TOKEN")
local customers = tonumber(os.getenv("CUSTOMERS") or "5000")
local label = os.getenv("RUN") or tostring(os.time())
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
function init(args) math.randomseed(4242 + (tid or 0) * 7919); counter = 0 end
function request()
  counter = counter + 1
  local i = math.random(0, customers - 1)
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  local body = string.format(
    '{"conversationId":"wf-%s-%d-%d","event":"new","channel":"messaging","contact":{"id":"contact-%d","name":"Customer %d","emails":["customer%d@wf-bench.example"]},"message":{"id":"m1","body":"Hello, I have a question about my order."}}',
    label, tid, counter, i, i, i)
  return wrk.format("POST", "/v1/route", headers, body)
end
