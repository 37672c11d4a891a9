# Shared by scripts/test, scripts/demo and .ci/run: install the pinned tools into local folders
# and start the emulators on free loopback ports. Source it; do not run it.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
CHECKOV_VENV="$TOOLS/checkov"
LOGS="$TOOLS/logs"
PRISM_SPEC="$ROOT/tests/fixtures/pagerduty/openapi-incidents.json"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# pip and npm packages, pinned (tools/requirements.txt, tools/requirements-checkov.txt,
# tools/package-lock.json, infra/cdk/package-lock.json), into .tools/, tools/node_modules and
# infra/cdk/node_modules (the CDK app, which the tests compile and synthesize). checkov gets a
# venv of its own (.tools/checkov): its pins (boto3, policy-sentry) clash with moto's and the IAM
# check's. Skipped when the pins have not changed since the last install.
install_tools() {
    command -v python3 >/dev/null || die "python3 is required"
    command -v npm >/dev/null || die "node and npm are required"
    mkdir -p "$TOOLS" "$LOGS"
    local pins
    pins="$(cat "$ROOT/tools/requirements.txt" "$ROOT/tools/requirements-checkov.txt" \
        "$ROOT/tools/package-lock.json" "$ROOT/infra/cdk/package-lock.json" \
        | sha256sum | cut -c1-16)"
    if [[ -f "$TOOLS/installed" && "$(cat "$TOOLS/installed")" == "$pins" \
          && -x "$VENV/bin/python" && -x "$CHECKOV_VENV/bin/checkov" \
          && -x "$ROOT/tools/node_modules/.bin/prism" \
          && -x "$ROOT/infra/cdk/node_modules/.bin/tsc" ]]; then
        return 0
    fi
    say "installing test tools into .tools/ and tools/node_modules (pinned versions)"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/tools/requirements.txt" \
        || die "pip install of tools/requirements.txt failed"
    [[ -x "$CHECKOV_VENV/bin/python" ]] || python3 -m venv "$CHECKOV_VENV"
    "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check \
        -r "$ROOT/tools/requirements-checkov.txt" \
        || die "pip install of tools/requirements-checkov.txt failed"
    (cd "$ROOT/tools" && npm ci --no-audit --no-fund --loglevel=error) \
        || die "npm ci in tools/ failed"
    (cd "$ROOT/infra/cdk" && npm ci --no-audit --no-fund --loglevel=error) \
        || die "npm ci in infra/cdk/ failed"
    echo "$pins" > "$TOOLS/installed"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

EMULATOR_PIDS=()
stop_emulators() {
    local pid
    for pid in "${EMULATOR_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${EMULATOR_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    EMULATOR_PIDS=()
}

# wait_for NAME URL PID LOG: poll until the URL answers at all, or fail loudly with the log.
wait_for() {
    local name="$1" url="$2" pid="$3" log="$4"
    for _ in $(seq 1 150); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$log" >&2
            die "$name exited while starting (log above: $log)"
        fi
        if curl -s -o /dev/null --max-time 1 "$url"; then
            return 0
        fi
        sleep 0.2
    done
    tail -n 30 "$log" >&2
    die "$name did not answer at $url within 30 s (log above: $log)"
}

# Starts moto (single-threaded) and Prism; exports REMEDIATE_TEST_MOTO_URL and
# REMEDIATE_TEST_PRISM_URL, which the tests and the demo read.
start_emulators() {
    local moto_port prism_port
    moto_port="$(free_port)"
    "$VENV/bin/python" "$ROOT/scripts/moto_server.py" "$moto_port" > "$LOGS/moto.log" 2>&1 &
    EMULATOR_PIDS+=("$!")
    wait_for moto "http://127.0.0.1:$moto_port/moto-api/" "$!" "$LOGS/moto.log"

    prism_port="$(free_port)"
    "$ROOT/tools/node_modules/.bin/prism" mock --host 127.0.0.1 --port "$prism_port" \
        "$PRISM_SPEC" > "$LOGS/prism.log" 2>&1 &
    EMULATOR_PIDS+=("$!")
    wait_for prism "http://127.0.0.1:$prism_port/users/me" "$!" "$LOGS/prism.log"

    export REMEDIATE_TEST_MOTO_URL="http://127.0.0.1:$moto_port"
    export REMEDIATE_TEST_PRISM_URL="http://127.0.0.1:$prism_port"
    say "moto at $REMEDIATE_TEST_MOTO_URL, Prism (PagerDuty spec) at $REMEDIATE_TEST_PRISM_URL"
}

# write_function_envs TABLE: the functions' environment for local runs (scripts/demo and
# scripts/bench), the configuration contract of the README aimed at the emulators started by
# start_emulators and seeded by `demo_moto.py seed TABLE`: $TOOLS/demo.env (the webhook) and
# $TOOLS/demo-sns.env (the same plus the SNS and results-topic settings).
write_function_envs() {
    local table="$1"
    cat > "$TOOLS/demo.env" <<ENV
AWS_ENDPOINT_URL=$REMEDIATE_TEST_MOTO_URL
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
PAGERDUTY_API_URL=$REMEDIATE_TEST_PRISM_URL
PAGERDUTY_FROM_EMAIL=remediate-bot@example.com
PAGERDUTY_WEBHOOK_SECRETS_PARAMETER=/remediate/pagerduty/webhook-secrets
PAGERDUTY_ACTION_TOKEN_PARAMETER=/remediate/pagerduty/action-token
PAGERDUTY_API_TOKEN_PARAMETER=/remediate/pagerduty/api-token
LEDGER_TABLE=$table
RUNBOOKS_FILE=$ROOT/infra/runbooks.yaml
RUST_LOG=info
ENV
    # Prism cannot know that a tap happened, so local runs do not ask it to confirm taps (the
    # tests cover confirmation both ways). The samples carry fixed 2026-11-25 times; the age limit
    # is raised so that they still run when replayed later.
    cat >> "$TOOLS/demo.env" <<ENV
PAGERDUTY_CONFIRM_TAPS=false
PAGERDUTY_BOT_USER_ID=PREMBOT
MAX_TRIGGER_AGE_SECONDS=315360000
ENV
    cp "$TOOLS/demo.env" "$TOOLS/demo-sns.env"
    cat >> "$TOOLS/demo-sns.env" <<ENV
SNS_CERTIFICATES_DIR=$ROOT/events/sns/certificates
SNS_TOPIC_ARNS=arn:aws:sns:us-east-1:123456789012:remediate-alarms
RESULTS_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:remediate-results
PAGERDUTY_INCIDENT_KEY_TEMPLATE="{{ alarm.arn }}"
ENV
}
