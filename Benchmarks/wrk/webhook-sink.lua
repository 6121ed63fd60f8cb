-- POST of a webhook delivery's size (a contact.created event, ~600 bytes) to Benchmarks/loadgen/webhook_sink.c:
-- how many requests a second the receiver itself takes, to show it is not what limits webhooks.sh.
local n = 0
local pad = string.rep("x", 400)
function request()
  n = n + 1
  local body = string.format('{"id":"e-%d","seq":%d,"type":"contact.created","service":"contacts","data":{"id":"c-%d","name":"%s"}}', n, n, n, pad)
  return wrk.format("POST", "/", { ["Content-Type"] = "application/json", ["webhook-signature"] = "v1,x" }, body)
end
