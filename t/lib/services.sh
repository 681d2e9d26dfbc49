# services.sh - private PostgreSQL, Redis, Postfix and Dovecot for integration tests.
#
# Sourced by bash tests. Everything lives in one temp dir ($T) and listens on
# 127.0.0.1 or unix sockets there; every server started is stopped by PID when
# the test exits, also on failure (trap). Daemons never inherit the test's
# stdout/stderr: their output goes to $T/log/.
#
#   services_init            create $T and install the cleanup trap
#   free_port                print a free TCP port in 21000-26999, reserved for this test
#   start_pgsql              initdb + start; sets PG_URL, PG_PORT, PG_SOCKDIR
#   stop_pgsql / start_pgsql_again   stop (immediate) and restart the same cluster
#   pg_psql SQL              run SQL in the test database (as the cluster owner)
#   start_redis              sets REDIS_ADDR (127.0.0.1:PORT), REDIS_PORT, REDIS_SOCK
#   stop_redis               kill it (SIGKILL: a crash, not a shutdown)
#   start_postfix DIR-NAME   private Postfix instance (config in $T/postfix/etc)
#   start_dovecot            private Dovecot instance (config in $T/dovecot/dovecot.conf;
#                            DOVECOT_AUTH replaces its passdb/userdb, DOVECOT_EXTRA is appended)
#   stop_dovecot             stop it (to start it again with another configuration)

T=""
PG_BINDIR=${PG_BINDIR:-}
if [ -z "$PG_BINDIR" ]; then
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && PG_BINDIR=$d; done
fi

services_cleanup() {
    set +e
    if [ -n "${POSTFIX_DIR:-}" ] && [ -f "$POSTFIX_DIR/etc/main.cf" ]; then
        # a stuck Postfix (its log service, after a reload) must not hang the test run
        if ! timeout 30 postfix -c "$POSTFIX_DIR/etc" stop >/dev/null 2>&1; then
            pkill -KILL -f "$POSTFIX_DIR/etc" 2>/dev/null
            [ -f "$POSTFIX_DIR/queue/pid/master.pid" ] &&
                kill -KILL "$(tr -d ' ' <"$POSTFIX_DIR/queue/pid/master.pid")" 2>/dev/null
        fi
    fi
    if [ -n "${DOVECOT_CONF:-}" ]; then
        doveadm -c "$DOVECOT_CONF" stop >/dev/null 2>&1
    fi
    for pidfile in "$T"/run/*.pid; do
        [ -f "$pidfile" ] || continue
        kill_pidfile "$pidfile" KILL
    done
    if [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
    fi
    if [ -n "$T" ] && [ -z "${MODO_KEEP_TMP:-}" ]; then
        rm -rf "$T"
    fi
    release_ports
}

services_init() {
    T=$(mktemp -d /tmp/modo-test.XXXXXX)
    chmod 755 "$T"
    mkdir -p "$T/log" "$T/run"
    chmod 1777 "$T/log"
    trap services_cleanup EXIT
    trap 'exit 1' INT TERM
}

# kill_pidfile FILE [SIGNAL]: signal the process only if it still is the one we started
kill_pidfile() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
    kill "-${2:-TERM}" "$pid" 2>/dev/null
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
    rm -f "$1"
}

# Ports are reserved in a directory every test shares (mkdir is atomic), so two tests run
# in parallel never pick the same port between "free now" and "bound by a server"; a
# reservation whose test is gone (its pid no longer runs) is taken over.
PORT_RESERVATIONS=${TMPDIR:-/tmp}/modo-test-ports
free_port() {
    local p r owner
    mkdir -p "$PORT_RESERVATIONS" 2>/dev/null && chmod 1777 "$PORT_RESERVATIONS" 2>/dev/null
    for _ in $(seq 400); do
        p=$((21000 + RANDOM % 6000))
        r=$PORT_RESERVATIONS/$p
        if ! mkdir "$r" 2>/dev/null; then
            owner=$(cat "$r/pid" 2>/dev/null)
            # a reservation without its pid yet is being made: leave it
            [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null || continue
            rm -rf "$r" && mkdir "$r" 2>/dev/null || continue
        fi
        echo $$ >"$r/pid"
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
        rm -rf "$r"
    done
    return 1
}

# release_ports: drop this test's reservations
release_ports() {
    local r
    for r in "$PORT_RESERVATIONS"/*/pid; do
        [ -f "$r" ] && [ "$(cat "$r" 2>/dev/null)" = "$$" ] && rm -rf "${r%/pid}"
    done
    return 0
}

wait_port() { # wait_port PORT [SECONDS]
    for _ in $(seq $((${2:-10} * 20))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

# PostgreSQL refuses to run as root: use the postgres account then.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_pgsql() {
    [ -x "$PG_BINDIR/initdb" ] || { echo "initdb not found (install postgresql)" >&2; return 1; }
    PG_DATA=$T/pgdata
    PG_SOCKDIR=$T/pgsock
    mkdir -p "$PG_DATA" "$PG_SOCKDIR"
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DATA" "$PG_SOCKDIR"; fi
    chmod 700 "$PG_DATA"
    chmod 755 "$PG_SOCKDIR"
    as_pg "$PG_BINDIR/initdb" -D "$PG_DATA" -U modo --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$T/log/initdb.log" 2>&1 || { cat "$T/log/initdb.log" >&2; return 1; }
    PG_PORT=$(free_port)
    cat >>"$PG_DATA/postgresql.conf" <<EOC
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
max_connections = 200
EOC
    start_pgsql_again || return 1
    as_pg "$PG_BINDIR/createdb" -h "$PG_SOCKDIR" -p "$PG_PORT" -U modo modo || return 1
    PG_URL="postgresql://modo@127.0.0.1:$PG_PORT/modo"
    export PG_URL PG_PORT PG_SOCKDIR
}

start_pgsql_again() {
    as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$T/log/postgresql.log" -w start >/dev/null 2>&1 ||
        { cat "$T/log/postgresql.log" >&2; return 1; }
}

stop_pgsql() {
    as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
}

pg_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U modo -d modo -At "$@"
}

start_redis() {
    REDIS_PORT=$(free_port)
    REDIS_SOCK=$T/redis.sock
    cat >"$T/redis.conf" <<EOC
bind 127.0.0.1
port $REDIS_PORT
unixsocket $REDIS_SOCK
unixsocketperm 777
save ""
appendonly no
daemonize yes
pidfile $T/run/redis.pid
logfile $T/log/redis.log
dir $T
EOC
    redis-server "$T/redis.conf" >/dev/null 2>&1 </dev/null || return 1
    wait_port "$REDIS_PORT" || return 1
    REDIS_ADDR=127.0.0.1:$REDIS_PORT
    export REDIS_ADDR REDIS_PORT REDIS_SOCK
}

stop_redis() {
    kill_pidfile "$T/run/redis.pid" KILL
}

# start_postfix: a private Postfix instance, smtpd on 127.0.0.1:$POSTFIX_PORT, mail that
# would leave the machine bounces through error:. Extra main.cf lines may be given in
# $POSTFIX_EXTRA_MAIN (appended). Log: $POSTFIX_DIR/log/maillog.
start_postfix() {
    POSTFIX_DIR=$T/postfix
    POSTFIX_PORT=$(free_port)
    mkdir -p "$POSTFIX_DIR/etc" "$POSTFIX_DIR/queue" "$POSTFIX_DIR/data" "$POSTFIX_DIR/log"
    chown postfix "$POSTFIX_DIR/data" "$POSTFIX_DIR/log" 2>/dev/null
    cat >"$POSTFIX_DIR/etc/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $POSTFIX_DIR/queue
data_directory = $POSTFIX_DIR/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.modo.test
mydomain = modo.test
myorigin = \$myhostname
mydestination =
mynetworks = 192.0.2.1/32
alias_maps =
alias_database =
local_recipient_maps =
default_transport = error:no mail leaves the test machine
relay_transport = error:no mail leaves the test machine
local_transport = error:no local delivery in tests
maillog_file = $POSTFIX_DIR/log/maillog
maillog_file_prefixes = $POSTFIX_DIR/log
smtpd_banner = \$myhostname ESMTP modo-test
biff = no
${POSTFIX_EXTRA_MAIN:-}
EOC
    cat >"$POSTFIX_DIR/etc/master.cf" <<EOC
127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOC
    postfix -c "$POSTFIX_DIR/etc" check >"$T/log/postfix-check.log" 2>&1
    postfix -c "$POSTFIX_DIR/etc" start >"$T/log/postfix-start.log" 2>&1 ||
        { cat "$T/log/postfix-start.log" >&2; return 1; }
    wait_port "$POSTFIX_PORT" || return 1
    export POSTFIX_DIR POSTFIX_PORT
}

# start_dovecot: a private Dovecot 2.3, IMAP on $DOVECOT_IMAP_PORT, LMTP on
# $DOVECOT_LMTP_PORT, auth socket for Postfix SASL at $DOVECOT_DIR/run/auth-postfix.
# The passdb/userdb section comes from $DOVECOT_AUTH (default: a passwd-file
# $DOVECOT_DIR/users). Mail goes to $DOVECOT_DIR/mail as the invoking user (or vmail).
start_dovecot() {
    DOVECOT_DIR=$T/dovecot
    DOVECOT_CONF=$DOVECOT_DIR/dovecot.conf
    DOVECOT_IMAP_PORT=$(free_port)
    DOVECOT_LMTP_PORT=$(free_port)
    mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/mail" "$DOVECOT_DIR/state"
    local mailuser
    mailuser=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        id vmail >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin vmail
        mailuser=vmail
        chown vmail "$DOVECOT_DIR/mail"
    fi
    touch "$DOVECOT_DIR/users"
    cat >"$DOVECOT_CONF" <<EOC
protocols = imap lmtp
listen = 127.0.0.1
base_dir = $DOVECOT_DIR/run
state_dir = $DOVECOT_DIR/state
log_path = $T/log/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 0
auth_failure_delay = 0
default_internal_user = dovecot
default_login_user = dovenull
mail_uid = $mailuser
mail_gid = $(id -gn "$mailuser")
first_valid_uid = 0
mail_home = $DOVECOT_DIR/mail/%d/%n
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_PORT
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DOVECOT_LMTP_PORT
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
${DOVECOT_AUTH:-passdb {
  driver = passwd-file
  args = scheme=PLAIN $DOVECOT_DIR/users
\}
userdb {
  driver = static
  args = uid=$mailuser gid=$(id -gn "$mailuser")
\}}
${DOVECOT_EXTRA:-}
EOC
    sed -i 's/\\}/}/' "$DOVECOT_CONF"
    dovecot -c "$DOVECOT_CONF" >"$T/log/dovecot-start.log" 2>&1 ||
        { cat "$T/log/dovecot-start.log" "$T/log/dovecot.log" >&2; return 1; }
    wait_port "$DOVECOT_IMAP_PORT" || return 1
    export DOVECOT_DIR DOVECOT_CONF DOVECOT_IMAP_PORT DOVECOT_LMTP_PORT
}

stop_dovecot() {
    local pid
    pid=$(cat "$DOVECOT_DIR/run/master.pid" 2>/dev/null)
    doveadm -c "$DOVECOT_CONF" stop >/dev/null 2>&1
    for _ in $(seq 100); do
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
}

# wait_exit PID [SECONDS]: wait for a child of this shell to exit, at most SECONDS
# (default 10), then SIGKILL it; returns its exit status (a test never hangs).
wait_exit() {
    local pid=$1 st
    for _ in $(seq $((${2:-10} * 20))); do
        st=$(ps -o stat= -p "$pid" 2>/dev/null)
        case "$st" in "" | Z*) break ;; esac
        sleep 0.05
    done
    st=$(ps -o stat= -p "$pid" 2>/dev/null)
    case "$st" in "" | Z*) ;; *) kill -KILL "$pid" 2>/dev/null ;; esac
    wait "$pid"
}
