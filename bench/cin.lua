-- wrk script: create contentInstances (~100-byte JSON) in one container.
-- Expects PLAZA_PATH (container path) and PLAZA_TOKEN/PLAZA_ORIGIN in env.
local path = os.getenv("PLAZA_PATH") or "/plaza/bench/data"
local origin = os.getenv("PLAZA_ORIGIN") or "CAdmin"
local token = os.getenv("PLAZA_TOKEN") or ""
local n = 0
wrk.method = "POST"
wrk.path = path
wrk.headers["Content-Type"] = "application/json;ty=4"
wrk.headers["X-M2M-Origin"] = origin
wrk.headers["X-M2M-RVI"] = "4"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"m2m:cin":{"cnf":"application/json:0","con":"{\\"t\\":21.5,\\"h\\":48,\\"pm25\\":12.1,\\"ok\\":true}","lbl":["bench"]}}'

request = function()
  n = n + 1
  wrk.headers["X-M2M-RI"] = "b" .. n
  return wrk.format()
end

response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
