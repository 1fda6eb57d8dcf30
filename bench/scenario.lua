-- One wrk scenario, described by environment variables (bench/throughput.py sets them):
--   BENCH_METHOD        GET or POST
--   BENCH_HEADERS       a file of "Name: value" lines sent with every request
--   BENCH_BODIES        optional: a file of request bodies, one a line, taken in turn; a line
--                       "value<TAB>body" also sends value in the BENCH_BODY_HEADER header
--   BENCH_BODY_HEADER   the header for those per-body values (e.g. a callback signature)
--   BENCH_EXPECT        the status every answer should have; others are counted as unexpected
-- "{n}" in a body becomes a number unique to the request (idempotency keys).
-- done() prints one line: BENCH {json}.

local method = os.getenv("BENCH_METHOD") or "GET"
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")
local body_header = os.getenv("BENCH_BODY_HEADER") or ""
local threads = {}
local count = 0

headers = {}
for line in io.lines(os.getenv("BENCH_HEADERS")) do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end

bodies = {}
local bodies_file = os.getenv("BENCH_BODIES") or ""
if bodies_file ~= "" then
  for line in io.lines(bodies_file) do bodies[#bodies + 1] = line end
end

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  unexpected = 0
  next_body = id
end

function request()
  sent = sent + 1
  if #bodies == 0 then
    return wrk.format(method, nil, headers, nil)
  end
  local line = bodies[(next_body - 1) % #bodies + 1]
  next_body = next_body + count
  local value, body = line:match("^([^\t]*)\t(.*)$")
  if value == nil then body = line end
  body = body:gsub("{n}", string.format("%d%09d", id, sent))
  local these = {}
  for k, v in pairs(headers) do these[k] = v end
  if value ~= nil and body_header ~= "" then these[body_header] = value end
  these["Content-Length"] = tostring(#body)
  return wrk.format(method, nil, these, body)
end

function response(status, response_headers, body)
  if status ~= expect then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local odd = 0
  for _, thread in ipairs(threads) do odd = odd + thread:get("unexpected") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"unexpected": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), odd, e.connect + e.read + e.write + e.timeout))
end
