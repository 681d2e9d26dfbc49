-- fake-dovecot.lua URL SCRIPT CALL...: runs a Dovecot 2.4 auth Lua script under plain
-- lua5.4 with a small stand-in for Dovecot's `dovecot` table (the auth result codes and
-- dovecot.http, whose requests really go to URL through curl). Each CALL is
-- passdb|master|userdb:PROTOCOL:USER or iterate; one line is printed per call:
-- RESULT-NAME field=value... (fields sorted).
local url, script = arg[1], arg[2]
local names = {}
local function enum(t)
  for k, v in pairs(t) do names[v] = k end
  return t
end
dovecot = {
  auth = enum({
    PASSDB_RESULT_INTERNAL_FAILURE = -1, PASSDB_RESULT_USER_UNKNOWN = -3,
    PASSDB_RESULT_OK = 1, USERDB_RESULT_INTERNAL_FAILURE = -101,
    USERDB_RESULT_USER_UNKNOWN = -102, USERDB_RESULT_OK = 101,
  }),
  http = {
    client = function(settings)
      assert(type(settings) == "table", "dovecot.http.client takes a table")
      return {
        request = function(self, r)
          assert(r.url, "a request needs its url")
          return {
            submit = function()
              local tmp = os.tmpname()
              local p = io.popen("curl -s -m 10 -o " .. tmp .. " -w '%{http_code}' '" ..
                r.url:gsub("'", "") .. "'")
              local code = tonumber(p:read("a"))
              p:close()
              local f = io.open(tmp, "rb")
              local body = f:read("a")
              f:close()
              os.remove(tmp)
              if code == 0 then code = 9002 end -- Dovecot: connection failed
              return { status = function() return code end,
                       payload = function() return body end }
            end,
          }
        end,
      }
    end,
  },
}
MODO_URL = url
local function run(master)
  MODO_MASTER = master
  dofile(script)
  assert(script_init() == 0)
end
for i = 3, #arg do
  local call = arg[i]
  if call == "iterate" then
    run(false)
    print("users " .. table.concat(auth_userdb_iterate(), " "))
  else
    local kind, protocol, user = call:match("^(%a+):([^:]*):(.*)$")
    run(kind == "master")
    local req = { user = user, protocol = protocol ~= "" and protocol or nil }
    local res, t
    if kind == "userdb" then res, t = auth_userdb_lookup(req) else res, t = auth_passdb_lookup(req) end
    local out = { names[res] }
    if type(t) == "table" then
      local keys = {}
      for k in pairs(t) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. t[k] end
    end
    print(table.concat(out, " "))
  end
end
