-- POST /v1/route for a new conversation each time, to a hero inbox picked at random from
-- INBOXES_FILE (one inbox id per line), so decisions spread over every inbox like real traffic.
-- TOKEN (a service token) is sent as a bearer token. Conversation ids are unique per thread.
local token = os.getenv("TOKEN")
local inboxes = {}
for line in io.lines(os.getenv("INBOXES_FILE")) do if #line > 0 then inboxes[#inboxes + 1] = line end end
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
function init(args) math.randomseed(777 + (tid or 0) * 7919); counter = 0; run = os.time() end
function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  local body = string.format(
    '{"conversationId":"bench-%d-%d-%d","event":"new","channel":"messaging","contact":{"id":"c-%d","dedicatedHero":{"type":"inbox","id":"%s"}},"message":{"id":"m1","body":"hello"}}',
    run, tid, counter, counter, inboxes[math.random(1, #inboxes)])
  return wrk.format("POST", "/v1/route", headers, body)
end
