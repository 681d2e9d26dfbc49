# modo-logd's tests: a database with the generator's domains, the daemon started and stopped,
# and what it wrote checked against the generator's ground truth (t/lib/logd-check).
# Sourced after tap.sh and services.sh.
export TZ=UTC
M=$builddir/services/modoctl/modoctl
LOGD=$builddir/services/logd/modo-logd
gen=$srcdir/t/lib/maillog-gen
check=$srcdir/t/lib/logd-check
user=""
[ "$(id -u)" = 0 ] && user=nobody

# setup NAME URL [SOURCE]: a database with the generator's domains, a conf in
# $T/NAME/modo.conf reading SOURCE ($T/NAME/mail.log)
setup() {
    local d=$T/$1
    mkdir -p "$d/rrd"
    cat >"$d/modo.conf" <<EOC
[database]
url = $2
owner =
[logd]
source = ${3:-$d/mail.log}
rrd_rootdir = $d/rrd
log = stderr
poll_interval = 100ms
commit_interval = 0
batch_lines = 700
user = $user
EOC
    "$M" -c "$d/modo.conf" db init >/dev/null 2>&1 || return 1
    for i in 1 2 3 4 5; do "$M" -c "$d/modo.conf" domain add "dom$i.test" >/dev/null || return 1; done
    "$M" -c "$d/modo.conf" domainalias add alias1.test dom1.test >/dev/null || return 1
    [ -n "$user" ] && chown -R "$user" "$d"
    return 0
}

# verify NAME DB WHAT [UPTO]: history, traffic and RRD rows against the expectation
# ($EXP, else $T/exp.json)
verify() {
    local out exp=${EXP:-$T/exp.json}
    out=$("$check" history "$exp" "$2" 2>&1)
    ok "$3: the message history is the generator's" test $? = 0 || diag "$out"
    out=$("$check" traffic "$exp" "$2" 2>&1)
    ok "$3: the mailboxes' daily traffic is the generator's" test $? = 0 || diag "$out"
    out=$("$check" rrd "$exp" "$T/$1/rrd" ${4:-} 2>&1)
    ok "$3: every 8-minute RRD row of every domain is the generator's" test $? = 0 || diag "$out"
}

start_logd() { # start_logd NAME
    "$LOGD" -c "$T/$1/modo.conf" -f >>"$T/log/logd-$1.log" 2>&1 &
    echo $! >"$T/run/logd-$1.pid"
}

stop_logd() { # stop_logd NAME [SIGNAL]
    kill_pidfile "$T/run/logd-$1.pid" "${2:-TERM}"
}

# sql DB QUERY: one value from SQLite or PostgreSQL
sql() {
    case $1 in
    postgresql://*) psql -X -At "$1" -c "$2" 2>/dev/null ;;
    *) sqlite3 "$1" "$2" 2>/dev/null ;;
    esac
}
