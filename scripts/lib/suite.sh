# Shared pass/fail bookkeeping for the test scripts (sourced, not run).
#
#   suite NAME CMD...   runs CMD; prints "=== NAME" before and "=== NAME: ok (N s)" or
#                       "=== NAME: FAILED (N s)" after; counts one pass or one failure.
#   check NAME CMD...   runs CMD with its output kept aside (shown, last 40 lines, only on
#                       failure); prints "PASS NAME" or "FAIL NAME"; counts it.
#   pass NAME / fail NAME [WHY]
#                       records a result the caller decided itself.
#   tally FILE          counts the "PASS ..." and "FAIL ..." lines of FILE (a client's
#                       own report) as results.
#   add_counts N M      adds N passes and M failures (a sub-suite's "N passed, M failed").
#   suite_end           prints the failed names, then "N passed, M failed"; returns
#                       non-zero when anything failed. Call it last: `suite_end; exit`.
#
# CHECK_TIMEOUT (seconds, default 300) bounds each `check`.

SUITE_PASSED=0
SUITE_FAILED=0
SUITE_FAILURES=()

pass() {
    SUITE_PASSED=$((SUITE_PASSED + 1))
    echo "PASS $1"
}

fail() {
    SUITE_FAILED=$((SUITE_FAILED + 1))
    SUITE_FAILURES+=("$1")
    echo "FAIL $1${2:+: $2}"
}

suite() {
    local name=$1 start=$SECONDS
    shift
    echo "=== $name"
    if "$@"; then
        SUITE_PASSED=$((SUITE_PASSED + 1))
        echo "=== $name: ok ($((SECONDS - start)) s)"
    else
        SUITE_FAILED=$((SUITE_FAILED + 1))
        SUITE_FAILURES+=("$name")
        echo "=== $name: FAILED ($((SECONDS - start)) s)"
    fi
}

check() {
    local name=$1 out
    shift
    out=$(mktemp)
    if timeout "${CHECK_TIMEOUT:-300}" "$@" >"$out" 2>&1; then
        pass "$name"
    else
        fail "$name"
        sed 's/^/    /' "$out" | tail -40
    fi
    rm -f "$out"
}

tally() {
    local line
    while IFS= read -r line; do
        case "$line" in
            "PASS "*) SUITE_PASSED=$((SUITE_PASSED + 1)) ;;
            "FAIL "*)
                SUITE_FAILED=$((SUITE_FAILED + 1))
                SUITE_FAILURES+=("${line#FAIL }")
                ;;
        esac
    done <"$1"
}

add_counts() {
    SUITE_PASSED=$((SUITE_PASSED + $1))
    SUITE_FAILED=$((SUITE_FAILED + $2))
}

suite_end() {
    echo
    if [ ${#SUITE_FAILURES[@]} -gt 0 ]; then
        echo "failed: ${SUITE_FAILURES[*]}"
    fi
    echo "$SUITE_PASSED passed, $SUITE_FAILED failed"
    [ "$SUITE_FAILED" -eq 0 ]
}
