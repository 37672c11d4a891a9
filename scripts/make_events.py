#!/usr/bin/env python3
"""Write the Function URL sample events in events/webhook/ (run from anywhere; deterministic).

Every sample is a Lambda Function URL request (payload format 2.0, the shape of AWS's own sample
in its Lambda docs) carrying a PagerDuty body. Signed samples use the documented test secrets:
  v3 signing secret:   remediate-demo-signing-secret
  action header token: remediate-demo-action-token (header x-remediate-token)
expected.json says what the function answers to each, and a test holds the function to it.
"""
import base64
import copy
import hashlib
import hmac
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "events" / "webhook"
FIXTURES = ROOT / "events" / "fixtures"
SIGNING_SECRET = "remediate-demo-signing-secret"
ACTION_TOKEN = "remediate-demo-action-token"
WHEN = "2026-11-25T03:12:07Z"
TIME_EPOCH_MS = 1795835527000


def sign(body: str, secret: str = SIGNING_SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def url_event(path: str, body: str, headers: dict, base64_body: bool = False, method: str = "POST") -> dict:
    all_headers = {
        "host": "abcdefghij.lambda-url.eu-west-1.on.aws",
        "user-agent": "PagerDuty-Webhook/V3.0",
        "x-forwarded-for": "44.242.69.192",
        "x-forwarded-proto": "https",
        "x-amzn-trace-id": "Root=1-6744ee47-1f2b3c4d5e6f708192a3b4c5",
    }
    all_headers.update(headers)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "44.242.69.192",
                "userAgent": all_headers["user-agent"],
            },
            "requestId": "c3bd3f6b-51a9-4a0e-9d0b-6f2a0f5d9e21",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:03:12:07 +0000",
            "timeEpoch": TIME_EPOCH_MS,
        },
        "body": base64.b64encode(body.encode()).decode() if base64_body else body,
        "isBase64Encoded": base64_body,
    }


def v3_incident(event_id: str, event_type: str, title: str) -> str:
    sample = json.loads((FIXTURES / "v3-incident.priority_updated.json").read_text())
    event = sample["event"]
    event["id"] = event_id
    event["event_type"] = event_type
    event["occurred_at"] = WHEN
    event["data"]["title"] = title
    event["data"]["status"] = "triggered"
    return json.dumps(sample, separators=(",", ":"))


def v3_event(event_id: str, event_type: str, data_file: str, edit=None, agent=None) -> str:
    """A v3 envelope around PagerDuty's own example of a data type (events/fixtures/v3-event-data)."""
    data = json.loads((FIXTURES / "v3-event-data" / data_file).read_text())
    if edit:
        edit(data)
    event = {"event": {"id": event_id, "event_type": event_type, "resource_type": "incident",
                       "occurred_at": WHEN, "agent": agent, "client": None, "data": data}}
    return json.dumps(event, separators=(",", ":"))


def workflow_started(event_id: str) -> str:
    """A person starts the "Restart API service" Incident Workflow on incident PRORDTY."""
    def edit(data: dict) -> None:
        data["id"] = "PWFINST1"
        data["summary"] = "Restart API service"
        data["incident_workflow"].update({"id": "PRSTAPI", "summary": "Restart API service",
                                          "self": "https://api.pagerduty.com/incident_workflows/PRSTAPI",
                                          "html_url": "https://acme.pagerduty.com/incident-workflows/workflows/PRSTAPI"})
        data["workflow_trigger"]["summary"] = "Manual trigger"
        data["incident"].update({"id": "PRORDTY", "summary": "API latency over SLO on checkout",
                                 "self": "https://api.pagerduty.com/incidents/PRORDTY",
                                 "html_url": "https://acme.pagerduty.com/incidents/PRORDTY"})
    agent = {"html_url": "https://acme.pagerduty.com/users/PBOB002", "id": "PBOB002",
             "self": "https://api.pagerduty.com/users/PBOB002", "summary": "Bob Responder",
             "type": "user_reference"}
    return v3_event(event_id, "incident.workflow.started", "incident_workflow_instance.json", edit, agent)


def tap(message_id: str, agent_id: str = "PALICE1") -> str:
    sample = json.loads((FIXTURES / "v2-incident.custom.json").read_text())
    message = sample["messages"][0]
    message["id"] = message_id
    message["created_on"] = WHEN
    message["log_entries"][0]["created_at"] = WHEN
    message["log_entries"][0]["agent"]["id"] = agent_id
    return json.dumps(sample, separators=(",", ":"))


def main() -> None:
    json_type = {"content-type": "application/json"}
    triggered = v3_incident("01HV3TRIGGERED0000000000001", "incident.triggered", "API latency over SLO on checkout")
    acknowledged = v3_incident("01HV3ACKNOWLEDGED000000000001", "incident.acknowledged", "API latency over SLO on checkout")
    ping = json.dumps({"event": {"id": "01HV3PING000000000000000001", "event_type": "pagey.ping",
                                 "resource_type": "pagey", "occurred_at": WHEN, "agent": None,
                                 "client": None, "data": {"message": "Hello from your friend Pagey!", "type": "ping"}}},
                      separators=(",", ":"))
    service = (FIXTURES / "v3-service.updated.json").read_text()
    annotated = v3_event("01HV3ANNOTATED0000000000001", "incident.annotated", "incident_note.json")
    workflow = workflow_started("01HV3WORKFLOW00000000000001")
    restart = tap("7a4c2f10-aa1b-11f0-8de9-0242ac120002")
    flush = tap("7a4c2f10-aa1b-11f0-8de9-0242ac120003")
    action_headers = dict(json_type, **{"x-remediate-token": ACTION_TOKEN, "user-agent": "PagerDuty-Webhook/V2.0"})

    events = {
        # name: (event, expected status, expected outcome or None for a plain error)
        "v3-incident-triggered": (url_event("/", triggered, dict(json_type, **{"x-pagerduty-signature": sign(triggered)})), 202, "executed"),
        "v3-incident-triggered-base64": (url_event("/", v3_incident("01HV3BASE64000000000000001", "incident.triggered", "API latency (base64 body)"), {}, True), None, None),
        "v3-incident-acknowledged": (url_event("/", acknowledged, dict(json_type, **{"x-pagerduty-signature": sign(acknowledged)})), 200, "ignored"),
        "v3-ping": (url_event("/", ping, dict(json_type, **{"x-pagerduty-signature": sign(ping)})), 200, "ignored"),
        "v3-service-updated": (url_event("/", service, dict(json_type, **{"x-pagerduty-signature": sign(service)})), 200, "ignored"),
        # A note (remediate's own notes come back like this): not an incident, 200 ignored.
        "v3-incident-annotated": (url_event("/", annotated, dict(json_type, **{"x-pagerduty-signature": sign(annotated)})), 200, "ignored"),
        # A manual Incident Workflow run: the signed one-tap button.
        "v3-workflow-started": (url_event("/", workflow, dict(json_type, **{"x-pagerduty-signature": sign(workflow)})), 202, "executed"),
        "action-restart-web": (url_event("/actions/restart-web", restart, action_headers), 202, "executed"),
        "action-flush-cache": (url_event("/actions/flush-cache", flush, action_headers), 200, "dry_run"),
        # Bad variants.
        "bad-v3-unsigned": (url_event("/", triggered, json_type), 401, "rejected"),
        "bad-v3-wrong-signature": (url_event("/", triggered, dict(json_type, **{"x-pagerduty-signature": sign(triggered, "not-the-secret")})), 403, "rejected"),
        "bad-v3-tampered-body": (url_event("/", triggered.replace("checkout", "payments"), dict(json_type, **{"x-pagerduty-signature": sign(triggered)})), 403, "rejected"),
        "bad-v3-malformed-json": (url_event("/", '{"event": {"id": ', dict(json_type, **{"x-pagerduty-signature": sign('{"event": {"id": ')})), 400, None),
        "bad-v3-wrong-content-type": (url_event("/", triggered, {"content-type": "text/plain", "x-pagerduty-signature": sign(triggered)}), 400, None),
        "bad-v3-get": (url_event("/", "", {}, method="GET"), 405, None),
        "bad-action-wrong-token": (url_event("/actions/restart-web", restart, dict(action_headers, **{"x-remediate-token": "guessed"})), 403, "rejected"),
        "bad-action-no-token": (url_event("/actions/restart-web", restart, dict(json_type)), 401, "rejected"),
        "bad-action-name": (url_event("/actions/Restart_Web;rm", restart, action_headers), 404, None),
    }
    # The base64 sample is signed over the decoded body, as PagerDuty signs what it sends.
    b64 = events["v3-incident-triggered-base64"][0]
    raw = base64.b64decode(b64["body"]).decode()
    b64["headers"].update(json_type)
    b64["headers"]["x-pagerduty-signature"] = sign(raw)
    events["v3-incident-triggered-base64"] = (b64, 202, "executed")

    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (event, status, outcome) in events.items():
        (OUT / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
        expected[name] = {"status": status, "outcome": outcome}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")


if __name__ == "__main__":
    main()
