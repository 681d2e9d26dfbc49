-- modo-auth-master.lua: the master passdb of Dovecot 2.4 (active accounts with
-- master_user), the same script as modo-auth.lua asking /master/USER.
MODO_MASTER = true
dofile("/etc/dovecot/modo-auth.lua")
