-- wrk script for bench/run.py: a new number per send, one prepared session per verify.
--   wrk -t2 -c10 -d5s -s bench/wrk.lua URL -- send OFFSET
--   wrk -t2 -c10 -d5s -s bench/wrk.lua URL -- sandbox OFFSET
--   wrk -t2 -c10 -d5s -s bench/wrk.lua URL -- verify 0 SESSIONS_FILE THREADS
-- Prints one JSON line: requests, seconds, p50/p99 latency (ms), non-2xx and socket errors.

local threads = {}
-- The same area codes as bench/load.py: 864,000 distinct valid numbers.
local areas = {
  "201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213", "214", "215", "216",
  "217", "218", "219", "224", "225", "228", "229", "231", "234", "239", "240", "248", "251", "252",
  "253", "254", "256", "260", "262", "267", "269", "270", "276", "281", "301", "302", "303", "304",
  "305", "307", "308", "309", "310", "312", "313", "314", "315", "316", "317", "318", "319", "320",
  "321", "323", "325", "330", "334", "336", "337", "339", "346", "347", "351", "352", "360", "361",
  "385", "386", "401", "402", "404", "405", "406", "407", "408", "409", "410", "412", "413", "414",
  "415", "417", "419", "423", "424", "425", "430", "432", "434", "435", "440", "443",
}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode, offset, file = args[1], tonumber(args[2]) or 0, args[3]
  local nthreads = tonumber(args[4]) or 1
  counter, sessions = 0, {}
  if mode == "verify" then
    local index = 0
    for line in io.lines(file) do
      if index % nthreads == id then
        local uuid, code = line:match("^(%S+)%s+(%S+)$")
        table.insert(sessions, {uuid, code})
      end
      index = index + 1
    end
  end
end

local function number(i)
  local area = areas[math.floor(i / 9000) % #areas + 1]
  return string.format("1%s555%04d", area, 1000 + i % 9000)
end

function request()
  counter = counter + 1
  local i = offset + id * 50000 + counter
  local headers = {["Content-Type"] = "application/json"}
  if mode == "verify" then
    local pair = sessions[counter] or {"00000000-0000-4000-8000-000000000000", "000000"}
    local body = string.format('{"session_uuid": "%s", "otp": "%s"}', pair[1], pair[2])
    return wrk.format("POST", "/api/otp/verify", headers, body)
  elseif mode == "sandbox" then
    headers["Authorization"] = "Basic TUFTQU5EQk9YMDAwMDAwMDAwMDA6c2FuZGJveC1hdXRoLXRva2Vu"
    local body = string.format('{"recipient": "%s", "channel": "sms", "method": "POST"}', number(i))
    return wrk.format("POST", "/v1/Account/MASANDBOX00000000000/Verify/Session/", headers, body)
  end
  return wrk.format("POST", "/api/otp/send", headers, string.format('{"recipient": "+%s"}', number(i)))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
