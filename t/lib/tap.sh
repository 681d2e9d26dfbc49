# tap.sh - TAP output for the shell integration tests (sourced).
# ok COND-COMMAND... runs the command; is GOT WANT NAME compares strings.
TAP_N=0
TAP_FAILED=0

tap_ok() { # tap_ok STATUS NAME
    TAP_N=$((TAP_N + 1))
    if [ "$1" = 0 ]; then
        echo "ok $TAP_N - $2"
    else
        echo "not ok $TAP_N - $2"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
}

ok() { # ok NAME COMMAND...
    name=$1
    shift
    if "$@" >/dev/null 2>&1; then tap_ok 0 "$name"; else tap_ok 1 "$name"; return 1; fi
}

is() { # is GOT WANT NAME
    if [ "$1" = "$2" ]; then
        tap_ok 0 "$3"
    else
        tap_ok 1 "$3"
        printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
        return 1
    fi
}

diag() { printf '%s\n' "$*" | sed 's/^/# /'; } # every line a comment: output never reads as a result

done_testing() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" = 0 ]
}

bail() {
    echo "Bail out! $*"
    exit 1
}

# run_tap LABEL COMMAND...: run a TAP-emitting program and fold its results into
# this test's stream, labelled; a crash or a missing plan is a failure.
run_tap() {
    local label=$1 out status line planned=""
    shift
    out=$(mktemp)
    "$@" >"$out" 2>"$out.err"
    status=$?
    while IFS= read -r line; do
        case "$line" in
        "ok "*) tap_ok 0 "[$label] ${line#ok * - }" ;;
        "not ok "*) tap_ok 1 "[$label] ${line#not ok * - }" ;;
        1..*) planned=yes ;;
        *) echo "$line" ;;
        esac
    done <"$out"
    if [ "$status" != 0 ] && [ -s "$out.err" ]; then sed 's/^/# stderr: /' "$out.err" | tail -20; fi
    [ -n "$planned" ] || tap_ok 1 "[$label] finished with a plan (exit $status)"
    # a failed assertion already counted; any other non-zero exit (a crash, a sanitizer report) is one more
    if [ "$status" != 0 ] && [ "$status" != 1 ] || { [ "$status" = 1 ] && ! grep -q '^not ok' "$out"; }; then
        tap_ok 1 "[$label] exited with status $status"
    fi
    rm -f "$out" "$out.err"
}
