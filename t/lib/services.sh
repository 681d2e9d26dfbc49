# services.sh - private PostgreSQL, Redis, Postfix and Dovecot for integration tests.
#
# Sourced by bash tests. Everything lives in one temp dir ($T) and listens on
# 127.0.0.1 or unix sockets there; every server started is stopped by PID when
# the test exits, also on failure (trap). Daemons never inherit the test's
# stdout/stderr: their output goes to $T/log/.
#
#   services_init            create $T and install the cleanup trap
#   free_port                print a free TCP port in 21000-26999
#   start_pgsql              initdb + start; sets PG_URL, PG_PORT, PG_SOCKDIR
#   stop_pgsql / start_pgsql_again   stop (immediate) and restart the same cluster
#   pg_psql SQL              run SQL in the test database (as the cluster owner)
#   start_redis              sets REDIS_ADDR (127.0.0.1:PORT), REDIS_PORT, REDIS_SOCK
#   stop_redis               kill it (SIGKILL: a crash, not a shutdown)
#   start_postfix DIR-NAME   private Postfix instance (config in $T/postfix/etc)
#   start_dovecot            private Dovecot instance (config in $T/dovecot/dovecot.conf)

T=""
PG_BINDIR=${PG_BINDIR:-}
if [ -z "$PG_BINDIR" ]; then
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && PG_BINDIR=$d; done
fi

services_cleanup() {
    set +e
    if [ -n "${POSTFIX_DIR:-}" ] && [ -f "$POSTFIX_DIR/etc/main.cf" ]; then
        postfix -c "$POSTFIX_DIR/etc" stop >/dev/null 2>&1
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

free_port() {
    local p
    for _ in $(seq 200); do
        p=$((21000 + RANDOM % 6000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
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
