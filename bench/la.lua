-- wrk script: retrieve the latest contentInstance of a container.
local path = os.getenv("PLAZA_PATH") or "/plaza/bench/data"
local origin = os.getenv("PLAZA_ORIGIN") or "CAdmin"
local token = os.getenv("PLAZA_TOKEN") or ""
local n = 0
wrk.method = "GET"
wrk.path = path .. "/la"
wrk.headers["X-M2M-Origin"] = origin
wrk.headers["X-M2M-RVI"] = "4"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
  n = n + 1
  wrk.headers["X-M2M-RI"] = "l" .. n
  return wrk.format()
end

response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
