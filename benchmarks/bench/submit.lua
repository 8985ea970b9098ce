-- wrk script of `make bench`: POST /applications, every request a valid form with a FIN and an
-- Idempotency-Key of its own; paced to a fixed rate unless the rate is 0; a progress file per
-- thread once a second; a one-line summary for benchmarks/bench/wrk.py at the end.
--
--   wrk ... URL/applications -- TEMPLATES SALT KEY_PREFIX RATE_PER_THREAD PROGRESS_DIR
--
-- TEMPLATES holds one form a line with @FIN@ where the FIN goes (benchmarks/bench/templates.py).
-- The FIN is SALT, the thread's digit and the request counter in five base-36 digits: the same
-- scheme as templates.fin_for.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
local PLACEHOLDER = "@FIN@"
local timespec = ffi.new("bench_timespec")

wrk.method = "POST"

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local function base36(number, width)
  local digits = {}
  for i = width, 1, -1 do
    local digit = number % 36
    digits[i] = ALPHABET:sub(digit + 1, digit + 1)
    number = (number - digit) / 36
  end
  return table.concat(digits)
end

-- Main state: number the threads, and gather their counts at the end.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Thread states: the globals `id` (from setup) and those below.
local templates, counter, salt, digit, key_prefix = {}, -1, "", "", ""
local interval, start, slot = 0, nil, 0
local progress_path, next_report = nil, 0
statuses, answered, accepted, behind = {}, 0, 0, 0

local function load_templates(path)
  for line in io.lines(path) do
    local at = line:find(PLACEHOLDER, 1, true)
    templates[#templates + 1] = { line:sub(1, at - 1), line:sub(at + #PLACEHOLDER) }
  end
end

-- The schedule is the thread's, fixed in advance: slot n is due at start + n * interval, whichever
-- connection takes it, so a slow answer does not lower the rate offered while connections last.
local function paced_delay()
  local at = now()
  start = start or at
  local due = start + slot * interval
  slot = slot + 1
  if due <= at then
    behind = math.max(behind, at - due)
    return 0
  end
  return math.floor((due - at) * 1000)
end

function init(args)
  load_templates(args[1])
  salt, key_prefix = args[2], args[3]
  digit = ALPHABET:sub(id + 1, id + 1)
  local rate = tonumber(args[4])
  progress_path = args[5] .. "/progress-" .. id
  -- wrk paces only when the script defines delay(); at rate 0 it sends as fast as answers come.
  if rate > 0 then
    interval = 1 / rate
    delay = paced_delay
  end
end

function request()
  counter = counter + 1
  local form = templates[counter % #templates + 1]
  wrk.headers["Idempotency-Key"] = key_prefix .. digit .. "-" .. counter
  local fin = salt .. digit .. base36(counter, 5)
  return wrk.format(nil, nil, nil, form[1] .. fin .. form[2])
end

local function report(at)
  local file = io.open(progress_path, "w")
  if file then
    file:write(answered, " ", accepted, "\n")
    file:close()
  end
  next_report = at + 1
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if status == 202 then
    accepted = accepted + 1
  end
  local at = now()
  if at >= next_report then
    report(at)
  end
end

local function counts_json(counts)
  local parts = {}
  for status, count in pairs(counts) do
    parts[#parts + 1] = string.format('"%s":%.0f', tostring(status), count)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- No answers leave the mean NaN, which JSON cannot say.
local function finite(number)
  if number ~= number or number == math.huge then
    return 0
  end
  return number
end

function done(summary, latency, requests)
  local counts, late = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
    late = math.max(late, thread:get("behind"))
  end
  local errors = summary.errors
  io.write(string.format(
    'wrk-summary {"duration_us":%.0f,"requests":%.0f,"statuses":%s,'
      .. '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"timeout":%.0f},'
      .. '"latency_us":{"mean":%.1f,"p50":%.0f,"p95":%.0f,"p99":%.0f,"max":%.0f},'
      .. '"behind_seconds":%.3f}\n',
    summary.duration, summary.requests, counts_json(counts),
    errors.connect, errors.read, errors.write, errors.timeout,
    finite(latency.mean), latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, late
  ))
end
