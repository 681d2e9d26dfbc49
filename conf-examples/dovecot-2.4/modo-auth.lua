-- modo-auth.lua: Dovecot 2.4 passdb and userdb (driver = lua) answered by modo-dictd.
--
-- Dovecot 2.4 removed the checkpassword driver and passdb/userdb { driver = dict }; its
-- Lua scripts have an HTTP client (dovecot.http) and no socket or dict access, so they ask
-- modo-dictd's HTTP endpoint ([dictd] stats_listen, loopback only), which answers with the
-- same rules and fields as modo-dictd's dict keys and modo-checkpassword (modo-dictd(8)):
--   GET /passdb/PROTOCOL/USER  /userdb/PROTOCOL/USER  /master/USER  /users
--   200 name=value fields (TAB-separated, \001-escaped), 404 unknown, 503 temporary failure
-- The master passdb loads this file with MODO_MASTER = true (modo-auth-master.lua).

MODO_URL = MODO_URL or "http://127.0.0.1:10026" -- modo-dictd's [dictd] stats_listen

local client

function script_init()
  client = dovecot.http.client({ request_timeout = "5s", request_max_attempts = "1" })
  return 0
end

local unescapes = { ["1"] = "\1", t = "\t", r = "\r", n = "\n", ["0"] = "\0" }

-- "name=value<TAB>..." with \001-escaped values -> table
local function fields(body)
  local t = {}
  for pair in string.gmatch(body or "", "[^\t\n]+") do
    local name, value = string.match(pair, "^([^=]+)=(.*)$")
    if name then
      t[name] = (string.gsub(value, "\1(.)", function(c) return unescapes[c] or c end))
    end
  end
  return t
end

local function escape_path(s)
  return (string.gsub(s, "[^%w%.%-_@+]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local function ask(kind, req)
  local path = "/" .. kind .. "/"
  local protocol = req.protocol or req.service or ""
  if kind ~= "master" and protocol ~= "" then
    path = path .. escape_path(protocol) .. "/"
  end
  path = path .. escape_path(req.user or "")
  local response = client:request({ url = MODO_URL .. path, method = "GET" }):submit()
  return response:status(), response:payload()
end

function auth_passdb_lookup(req)
  local status, body = ask(MODO_MASTER and "master" or "passdb", req)
  if status == 200 then
    local f = fields(body)
    return dovecot.auth.PASSDB_RESULT_OK, { user = f.user, password = f.password }
  elseif status == 404 then
    return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, "no such user"
  end
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE,
    "modo-dictd: " .. tostring(status) .. " " .. tostring(body)
end

function auth_userdb_lookup(req)
  local status, body = ask("userdb", req)
  if status == 200 then
    local f = fields(body)
    local t = { home = f.home, uid = f.uid, gid = f.gid }
    -- Modoboa's quota rule in MB, as Dovecot 2.4's quota_storage_size (none: unlimited)
    local mb = f.quota_rule and string.match(f.quota_rule, "^%*:bytes=(%d+)M$")
    if mb then
      t.quota_storage_size = mb .. "M"
    end
    return dovecot.auth.USERDB_RESULT_OK, t
  elseif status == 404 then
    return dovecot.auth.USERDB_RESULT_USER_UNKNOWN, "no such user"
  end
  return dovecot.auth.USERDB_RESULT_INTERNAL_FAILURE,
    "modo-dictd: " .. tostring(status) .. " " .. tostring(body)
end

function auth_userdb_iterate()
  local response = client:request({ url = MODO_URL .. "/users", method = "GET" }):submit()
  local users = {}
  if response:status() == 200 then
    for user in string.gmatch(response:payload() or "", "[^\n]+") do
      users[#users + 1] = user
    end
  end
  return users
end
