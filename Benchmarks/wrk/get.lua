-- GET requests with a bearer TOKEN, cycling through the paths in PATHS_FILE (one a line; each thread
-- starts at its own line). Used for list and folder reads.
local token = os.getenv("TOKEN")
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do if #line > 0 then paths[#paths + 1] = line end end
local nthreads = 0
function setup(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
function init(args) counter = tid or 0 end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], { ["Authorization"] = "Bearer " .. token })
end
