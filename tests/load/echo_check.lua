-- wrk script of test_wsgi_load.py: every request carries data of its own, every answer must echo
-- it. Run with as many connections as threads (-t N -c N): each thread then has one request in
-- flight at a time, so response() answers the thread's last request(). "Connection: close"
-- makes each request a new connection.
--   odd requests:  POST /v1/books with a unique title -> 201 with that title
--   even requests: GET /v1/books/<unique id>          -> 404 "there is no book <id>"
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

sent, echoed, wrong, errors = 0, 0, 0, 0
local expected_status, expected_text

function request()
  sent = sent + 1
  local unique = string.format("%d%09d", thread_id, sent)
  if sent % 2 == 1 then
    expected_status, expected_text = 201, '"title":"wrk-' .. unique .. '"'
    return wrk.format("POST", "/v1/books",
      {["Content-Type"] = "application/json", ["Connection"] = "close"},
      '{"title": "wrk-' .. unique .. '", "authors": [{"name": "wrk"}]}')
  end
  expected_status, expected_text = 404, "there is no book " .. unique
  return wrk.format("GET", "/v1/books/" .. unique, {["Connection"] = "close"})
end

function response(status, headers, body)
  if status ~= expected_status then
    errors = errors + 1
  elseif string.find(body, expected_text, 1, true) then
    echoed = echoed + 1
  else
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local totals = {echoed = 0, wrong = 0, errors = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "socket_errors": %d, "echoed": %d, "wrong": %d, ' ..
    '"errors": %d, "p50_ms": %.2f, "p99_ms": %.2f, "seconds": %.2f}\n',
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, totals.echoed, totals.wrong, totals.errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
