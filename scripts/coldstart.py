"""Cold start, first invocation, peak memory and size of each function's release binary, side by
side with a hello-world lambda_runtime binary built with the same profile in the same run.

Each binary is started as Lambda starts a `provided.al2023` bootstrap: a fresh process whose only
link to the world is the Runtime API named by AWS_LAMBDA_RUNTIME_API. This file serves that API
(the four routes a runtime uses: next, response, error, init/error) on a loopback port and
measures, for every cold start:

  init    exec to the runtime's first GET /next (what Lambda bills as Init Duration)
  first   the first event handed over to its response (secrets read, catalog in use, every
          client's first connection: AWS on moto, PagerDuty on Prism)
  warm    the median of the next WARM events (the same event again: see each function's note)
  rss     peak resident memory (VmHWM) after the first and the warm invocations

It fails (exit 1) when a function exits, reports an error, answers no event, or answers anything
but what the plan expects of it (`expect`: the outcome of the first and of the warm answers): a
figure is only printed for a run that did the work.

  python scripts/coldstart.py PLAN.json RELEASE_DIR

PLAN.json (scripts/coldstart-plan.json): {"runs", "warm", "functions": [{"name", "event",
"env_files": [...], "env": {...}, "fresh_table": bool, "expect": {"first": {...}, "warm": {...}},
"note"}]}; paths are relative to the
repository, the binary is RELEASE_DIR/<name>. fresh_table gives each cold start its own copy of
the ledger table named by LEDGER_TABLE (moto), so that every first invocation takes one path.
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_PREFIX = "/2018-06-01/runtime"
# How long a function may take to start or to answer one event before the run is declared failed.
STEP_TIMEOUT = 60.0


class Runtime:
    """The Runtime API's state for one process: events waiting, the times seen, the answers."""

    def __init__(self):
        self.process = None  # the function's process, once started
        self.lock = threading.Condition()
        self.pending = []  # (request_id, body) handed out by the next GET /next
        self.first_next_at = None
        self.answers = {}  # request_id -> (ok, body, time)
        self.init_error = None
        self.closing = False

    def give(self, body: bytes) -> str:
        request_id = str(uuid.uuid4())
        with self.lock:
            self.pending.append((request_id, body))
            self.lock.notify_all()
        return request_id

    def wait_for(self, predicate, what: str):
        deadline = time.monotonic() + STEP_TIMEOUT
        with self.lock:
            while not predicate():
                if self.init_error is not None:
                    raise RuntimeError(f"init error: {self.init_error}")
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"the process exited with code {self.process.returncode}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"timed out waiting for {what}")
                self.lock.wait(min(left, 0.2))


def handler_for(runtime: Runtime):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the figures are the output
            pass

        def body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def reply(self, status: int, body: bytes = b"", headers=None):
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != f"{API_PREFIX}/invocation/next":
                return self.reply(404)
            now = time.perf_counter()
            with runtime.lock:
                if runtime.first_next_at is None:
                    runtime.first_next_at = now
                    runtime.lock.notify_all()
                while not runtime.pending and not runtime.closing:
                    runtime.lock.wait(1.0)
                if runtime.closing:
                    self.close_connection = True
                    return
                request_id, event = runtime.pending.pop(0)
            deadline_ms = int((time.time() + 30) * 1000)
            self.reply(200, event, {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:123456789012:function:bench",
                "Lambda-Runtime-Trace-Id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
            })

        def do_POST(self):
            body = self.body()
            now = time.perf_counter()
            parts = self.path[len(API_PREFIX):].strip("/").split("/")
            with runtime.lock:
                if parts == ["init", "error"]:
                    runtime.init_error = body.decode(errors="replace")
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    runtime.answers[parts[1]] = (parts[2] == "response", body, now)
                else:
                    return self.reply(404)
                runtime.lock.notify_all()
            self.reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

    return Handler


def peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


def summary(answer: bytes) -> dict:
    """What an answer says, flat: a Function URL response's status and JSON body, the first
    record of a record report, or the object itself."""
    try:
        data = json.loads(answer)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    if "statusCode" in data:
        try:
            body = json.loads(data.get("body") or "{}")
        except ValueError:
            body = {}
        return {"statusCode": data["statusCode"], **(body if isinstance(body, dict) else {})}
    if isinstance(data.get("records"), list):
        return data["records"][0] if data["records"] else {}
    return data


def check(spec: dict, which: str, answer: bytes) -> None:
    expected = spec.get("expect", {}).get(which, {})
    said = summary(answer)
    wrong = {key: said.get(key) for key, value in expected.items() if said.get(key) != value}
    if wrong:
        raise RuntimeError(f"{which} answer {wrong} is not the expected {expected}: {answer[:300]!r}")


def read_env_file(path: str) -> dict:
    """KEY=VALUE lines, as `cargo lambda watch --env-file` reads them (quotes around a value
    dropped)."""
    values = {}
    with open(os.path.join(ROOT, path)) as env_file:
        for line in env_file:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[key] = value
    return values


def copy_table(name: str, copy: str) -> None:
    """A fresh copy of the ledger table's schema on moto (boto3 comes with moto in the venv)."""
    import boto3
    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ["REMEDIATE_TEST_MOTO_URL"],
                            region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")
    table = dynamodb.describe_table(TableName=name)["Table"]
    indexes = [{"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
               for i in table.get("GlobalSecondaryIndexes", [])]
    dynamodb.create_table(TableName=copy, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=table["AttributeDefinitions"],
                          KeySchema=table["KeySchema"], GlobalSecondaryIndexes=indexes)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A function killed at the end of its run resets its connection: expected, not news.
        pass


def cold_start(spec: dict, warm: int, run: int) -> dict:
    runtime = Runtime()
    server = QuietServer(("127.0.0.1", 0), handler_for(runtime))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": spec["name"],
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec['name']}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
    }
    for env_file in spec.get("env_files", []):
        env.update(read_env_file(env_file))
    env.update(spec.get("env", {}))
    if spec.get("fresh_table"):
        table = f"{env['LEDGER_TABLE']}-{run}-{uuid.uuid4().hex[:8]}"
        copy_table(env["LEDGER_TABLE"], table)
        env["LEDGER_TABLE"] = table
    with open(os.path.join(ROOT, spec["event"]), "rb") as event_file:
        event = event_file.read()
    log = open(spec["log"], "ab")
    started = time.perf_counter()
    process = subprocess.Popen([spec["binary"]], env=env, stdout=log, stderr=subprocess.STDOUT)
    runtime.process = process
    try:
        runtime.wait_for(lambda: runtime.first_next_at is not None, "the first GET /next")
        init = runtime.first_next_at - started

        def invoke(which: str) -> tuple:
            handed = time.perf_counter()
            request_id = runtime.give(event)
            runtime.wait_for(lambda: request_id in runtime.answers, "an answer")
            ok, body, answered = runtime.answers[request_id]
            if not ok:
                raise RuntimeError(f"{spec['name']} answered an error: {body[:400]!r}")
            check(spec, which, body)
            return answered - handed, body

        first, first_answer = invoke("first")
        rss_first = peak_rss_kib(process.pid)
        warm_times = [invoke("warm")[0] for _ in range(warm)]
        rss_warm = peak_rss_kib(process.pid)
    finally:
        with runtime.lock:
            runtime.closing = True
            runtime.lock.notify_all()
        process.kill()
        process.wait()
        log.close()
        server.shutdown()
        server.server_close()
    return {
        "init_ms": init * 1000,
        "first_ms": first * 1000,
        "warm_ms": statistics.median(warm_times) * 1000 if warm_times else None,
        "rss_first_mib": rss_first / 1024,
        "rss_warm_mib": rss_warm / 1024,
        "answer": first_answer.decode(errors="replace"),
    }


def main() -> int:
    with open(sys.argv[1]) as plan_file:
        plan = json.load(plan_file)
    release_dir = sys.argv[2]
    runs = int(os.environ.get("COLDSTART_RUNS") or plan.get("runs", 5))
    warm = int(os.environ.get("COLDSTART_WARM") or plan.get("warm", 20))
    rows = []
    failed = False
    for spec in plan["functions"]:
        spec["binary"] = os.path.join(release_dir, spec["name"])
        spec["log"] = os.path.join(ROOT, ".tools", "logs", f"coldstart-{spec['name']}.log")
        try:
            results = [cold_start(spec, warm, run) for run in range(runs)]
        except (RuntimeError, OSError) as error:
            print(f"FAILED {spec['name']}: {error} (log: {spec['log']})", file=sys.stderr)
            failed = True
            continue
        size = os.path.getsize(spec["binary"])
        median = lambda key: (statistics.median(r[key] for r in results)
                              if results[0][key] is not None else None)
        rows.append((spec["name"], size, median("init_ms"), min(r["init_ms"] for r in results),
                     median("first_ms"), median("warm_ms"), max(r["rss_first_mib"] for r in results),
                     max(r["rss_warm_mib"] for r in results), spec.get("note", ""),
                     results[0]["answer"]))
    print(f"{runs} cold starts per binary, {warm} warm invocations each; medians unless said")
    print()
    print("| binary | size | init (median / min) | first invocation | warm invocation | peak RSS after first / warm |")
    print("|---|---|---|---|---|---|")
    for name, size, init, init_min, first, warm_ms, rss_first, rss_warm, _, _ in rows:
        warm_text = f"{warm_ms:.2f} ms" if warm_ms is not None else "-"
        print(f"| {name} | {size / 1e6:.2f} MB | {init:.1f} / {init_min:.1f} ms | {first:.1f} ms | "
              f"{warm_text} | {rss_first:.1f} / {rss_warm:.1f} MiB |")
    print()
    for name, *_, note, answer in rows:
        print(f"{name}: {note}\n    first answer: {answer[:300]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
