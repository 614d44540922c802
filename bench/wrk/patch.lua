-- PATCH /notes/{id} of a random one of the notes in BENCH_IDS (comma-separated), a new
-- title each time, with the bearer token from BENCH_TOKEN: writers rarely wait on a row lock.
local ids = {}
for id in string.gmatch(os.getenv("BENCH_IDS"), "[^,]+") do
  ids[#ids + 1] = id
end
local counter = 0
wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  local path = "/notes/" .. ids[math.random(#ids)]
  return wrk.format(nil, path, nil, '{"title": "Groceries ' .. counter .. '"}')
end
