//! Handler tests with in-memory adapters: every route, every bad input, every outcome.

use super::*;
use base64::Engine;
use chrono::{DateTime, Utc};
use remediate_adapters::config::{RunSettings, WebhookSettings};
use remediate_adapters::pagerduty::signature;
use remediate_core::Error;
use remediate_core::catalog::Catalog;
use remediate_core::catalog_store::CatalogStore;
use remediate_core::clock::SystemClock;
use remediate_core::decision;
use remediate_core::kill_switch::KillSwitch;
use remediate_core::ledger::{ClaimResult, Ledger};
use remediate_core::pipeline::CLAIM_HOLD;
use remediate_core::plan::CommandRequest;
use remediate_core::ports::CommandExecutor;
use remediate_core::ports::incidents::LogEntry;
use remediate_core::secrets::Secret;
use remediate_core::secrets::StaticSecrets;
use remediate_core::testing::{
    InMemoryGuards, InMemoryLedger, InMemoryPagerDuty, ManualClock, RecordingExecutor,
    RecordingPublisher,
};
use remediate_core::trigger::{Incident, Reference};
use serde_json::json;

const SECRET: &str = "test-webhook-secret";
const TOKEN: &str = "test-action-token";

const CATALOG: &str = "\
version: 1
custom_actions:
  restart-web: { label: Restart web tier }
  flush-cache: { label: Flush cache }
runbooks:
  - name: restart-web
    when:
      sources: [pagerduty-action]
      actions: [restart-web]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: web } }
        parameters: { commands: [systemctl restart nginx] }
  - name: flush-cache
    dry_run: true
    when:
      actions: [flush-cache]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: cache } }
  - name: diagnose-api
    when:
      sources: [pagerduty-v3]
      event_types: [incident.triggered]
      title: '(?i)latency'
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: [i-0123456789abcdef0] }
        parameters: { commands: [uptime] }
";

struct Harness {
    app: WebhookApp,
    pagerduty: Arc<InMemoryPagerDuty>,
    executor: Arc<RecordingExecutor>,
    ledger: Arc<InMemoryLedger>,
    clock: Arc<ManualClock>,
    results: Arc<RecordingPublisher>,
}

/// PagerDuty's log entry of Alice tapping the button labelled `label`.
fn tap_entry(id: &str, label: &str, at: DateTime<Utc>) -> LogEntry {
    LogEntry {
        id: Some(id.into()),
        kind: "custom_log_entry".into(),
        agent_id: Some("PALICE1".into()),
        agent_name: Some("Alice Oncall".into()),
        summary: Some(format!("Alice Oncall ran the {label} action")),
        created_at: Some(at),
    }
}

fn settings() -> WebhookSettings {
    WebhookSettings {
        webhook_secrets_parameter: Some("/remediate/webhook-secrets".into()),
        action_token_parameter: Some("/remediate/action-token".into()),
        action_token_header: "x-remediate-token".into(),
        confirm_taps: true,
        bot_user_id: None,
        run: RunSettings {
            api_token_parameter: "/remediate/api-token".into(),
            from_email: "bot@example.com".into(),
            api_url: "http://127.0.0.1:9".into(),
            ledger_table: "unused".into(),
            max_trigger_age: Duration::from_secs(900),
            global_dry_run: None,
            region: "eu-west-1".into(),
            results_topic_arn: None,
            incident_key: None,
            rundeck: None,
        },
    }
}

fn harness_with(settings: WebhookSettings) -> Harness {
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    let executor = Arc::new(RecordingExecutor::default());
    let ledger = Arc::new(InMemoryLedger::default());
    let clock = Arc::new(ManualClock::new(now()));
    let results = Arc::new(RecordingPublisher::default());
    pagerduty.incidents.lock().unwrap().insert(
        "PINC001".into(),
        Incident {
            id: "PINC001".into(),
            number: Some(42),
            title: "Web tier returns 502".into(),
            status: "acknowledged".into(),
            service: Some(Reference {
                id: "PWEB".into(),
                name: "Web".into(),
            }),
            ..Incident::default()
        },
    );
    pagerduty.log_entries.lock().unwrap().insert(
        "PINC001".into(),
        vec![
            tap_entry(
                "RLOGENTRY1",
                "Restart web tier",
                now() - chrono::Duration::seconds(3),
            ),
            tap_entry(
                "RLOGENTRY2",
                "Flush cache",
                now() - chrono::Duration::seconds(2),
            ),
        ],
    );
    let app = WebhookApp {
        pipeline: Pipeline {
            settings: settings.pipeline(),
            catalogs: Arc::new(CatalogStore::fixed(
                Catalog::parse(CATALOG, "test").unwrap(),
                Arc::new(SystemClock),
            )),
            kill_switch: Arc::new(KillSwitch::absent(Arc::new(SystemClock))),
            pagerduty: pagerduty.clone(),
            executor: executor.clone(),
            automation: executor.clone(),
            rundeck: None,
            ledger: ledger.clone(),
            guards: Arc::new(InMemoryGuards::default()),
            clock: clock.clone(),
            results: Some(results.clone()),
        },
        settings,
        secrets: Arc::new(StaticSecrets::new([
            (
                "/remediate/webhook-secrets",
                "old-secret\ntest-webhook-secret\n",
            ),
            ("/remediate/action-token", TOKEN),
            ("/remediate/api-token", "pd-token"),
        ])),
    };
    Harness {
        app,
        pagerduty,
        executor,
        ledger,
        clock,
        results,
    }
}

fn harness() -> Harness {
    harness_with(settings())
}

fn now() -> DateTime<Utc> {
    "2026-11-25T03:12:09Z".parse().unwrap()
}

fn v3_body(event_id: &str, event_type: &str, title: &str, occurred_at: DateTime<Utc>) -> String {
    json!({
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": occurred_at.to_rfc3339(),
            "agent": { "id": "PAGENT1", "type": "user_reference", "summary": "Bob" },
            "data": {
                "id": "PINC001", "type": "incident", "number": 42, "status": "triggered",
                "title": title, "urgency": "high",
                "html_url": "https://acme.pagerduty.com/incidents/PINC001",
                "service": { "id": "PAPI", "summary": "API Service", "type": "service_reference" }
            }
        }
    })
    .to_string()
}

fn tap_body(message_id: &str, agent_id: &str, at: DateTime<Utc>) -> String {
    json!({
        "messages": [{
            "id": message_id,
            "event": "incident.custom",
            "created_on": at.to_rfc3339(),
            "incident": {
                "id": "PINC001", "incident_number": 42, "title": "Web tier returns 502",
                "status": "triggered", "urgency": "high",
                "service": { "id": "PWEB", "summary": "Web", "type": "service_reference" }
            },
            "log_entries": [{
                "type": "custom_log_entry", "created_at": at.to_rfc3339(),
                "agent": { "id": agent_id, "type": "user_reference", "summary": "Alice Oncall" }
            }]
        }]
    })
    .to_string()
}

fn request(path: &str, body: &str, headers: &[(&str, &str)]) -> Request {
    let mut builder = http::Request::builder().method("POST").uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::Text(body.to_owned())).unwrap()
}

fn signed(body: &str) -> Request {
    let signature = signature::sign(SECRET, body.as_bytes());
    request(
        "/",
        body,
        &[
            ("content-type", "application/json"),
            ("x-pagerduty-signature", &signature),
        ],
    )
}

fn tapped(action: &str, body: &str) -> Request {
    request(
        &format!("/actions/{action}"),
        body,
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("x-remediate-token", TOKEN),
        ],
    )
}

async fn send(harness: &Harness, request: Request) -> (u16, serde_json::Value) {
    let response = harness.app.handle(request).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("unexpected body {other:?}"),
    };
    (status, body)
}

#[tokio::test]
async fn signed_v3_incident_runs_its_runbook_and_notes_it() {
    let h = harness();
    let body = v3_body("ev-1", "incident.triggered", "API latency over SLO", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["outcome"], "executed");
    assert_eq!(reply["runbook"], "diagnose-api");
    assert_eq!(reply["note"], "posted");
    let sent = h.executor.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].document, "AWS-RunShellScript");
    assert!(sent[0].comment.contains(reply["run_id"].as_str().unwrap()));
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].0, "PINC001");
    assert!(
        notes[0]
            .1
            .contains("diagnose-api started by incident.triggered (by Bob)"),
        "{}",
        notes[0].1
    );
    assert!(notes[0].1.contains(reply["command_id"].as_str().unwrap()));
    assert!(
        notes[0]
            .1
            .contains("https://eu-west-1.console.aws.amazon.com/systems-manager/run-command/")
    );
    let stored = h
        .ledger
        .completed("pagerduty-v3:ev-1")
        .expect("completed claim");
    assert_eq!(stored.outcome, Outcome::Executed);
    let published = h.results.published();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0].outcome, Outcome::Executed);
    assert_eq!(published[0].runbook.as_deref(), Some("diagnose-api"));
    assert_eq!(published[0].incident_id.as_deref(), Some("PINC001"));
    assert_eq!(
        published[0].run_id.as_deref(),
        reply["run_id"].as_str(),
        "the results topic names the same run"
    );
}

#[tokio::test]
async fn only_outcomes_about_a_runbook_reach_the_results_topic_and_a_failed_publish_changes_nothing()
 {
    let h = harness();
    // Nothing wants a resolved-incident event: ignored, not published.
    let body = v3_body("ev-ign", "incident.resolved", "API latency over SLO", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("ignored")));
    assert!(h.results.published().is_empty());
    // A publish that fails is logged; the run and its answer stand.
    *h.results.fail_next.lock().unwrap() = Some(Error::Aws {
        service: "sns",
        operation: "Publish",
        message: "throttled".into(),
        transient: true,
    });
    let body = v3_body(
        "ev-pub",
        "incident.triggered",
        "API latency over SLO",
        now(),
    );
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!((status, reply["outcome"].as_str()), (202, Some("executed")));
    assert_eq!(h.executor.sent().len(), 1);
    assert!(h.results.published().is_empty());
    // Its redelivery is a duplicate: recorded, not published a second time.
    let (_, reply) = send(&h, signed(&body)).await;
    assert_eq!(reply["outcome"], "duplicate");
    assert!(h.results.published().is_empty());
}

#[tokio::test]
async fn a_replayed_v3_body_runs_once() {
    let h = harness();
    let body = v3_body("ev-2", "incident.triggered", "API latency", now());
    assert_eq!(send(&h, signed(&body)).await.0, 202);
    for _ in 0..3 {
        // The unsigned X-Webhook-Id header changes on a replay; the signed event.id does not.
        let mut replay = signed(&body);
        replay
            .headers_mut()
            .insert("x-webhook-id", "different".parse().unwrap());
        let (status, reply) = send(&h, replay).await;
        assert_eq!(status, 200);
        assert_eq!(reply["outcome"], "duplicate");
        assert_eq!(reply["reason"], "already handled: executed");
        assert_eq!(reply["runbook"], "diagnose-api");
    }
    assert_eq!(h.executor.sent().len(), 1);
    assert_eq!(h.pagerduty.notes().len(), 1);
}

#[tokio::test]
async fn v3_signature_failures_are_rejected_before_parsing() {
    let h = harness();
    let body = v3_body("ev-3", "incident.triggered", "API latency", now());
    let unsigned = request("/", &body, &[("content-type", "application/json")]);
    let (status, reply) = send(&h, unsigned).await;
    assert_eq!((status, reply["outcome"].as_str()), (401, Some("rejected")));

    let wrong = signature::sign("not-the-secret", body.as_bytes());
    let forged = request(
        "/",
        &body,
        &[
            ("content-type", "application/json"),
            ("x-pagerduty-signature", &wrong),
        ],
    );
    assert_eq!(send(&h, forged).await.0, 403);

    // A signature over other bytes fails even when the body is garbage: nothing parses it.
    let garbage = "{not json";
    let mismatched = request(
        "/",
        garbage,
        &[
            ("content-type", "application/json"),
            ("x-pagerduty-signature", &signature::sign(SECRET, b"other")),
        ],
    );
    assert_eq!(send(&h, mismatched).await.0, 403);
    assert!(h.executor.sent().is_empty());
    assert!(h.pagerduty.notes().is_empty());
}

#[tokio::test]
async fn rotated_secret_is_accepted() {
    let h = harness();
    let body = v3_body("ev-rot", "incident.triggered", "API latency", now());
    let signature = format!(
        "{}, {}",
        signature::sign("old-secret", body.as_bytes()),
        signature::sign("brand-new", body.as_bytes())
    );
    let req = request(
        "/",
        &body,
        &[
            ("content-type", "application/json"),
            ("x-pagerduty-signature", &signature),
        ],
    );
    assert_eq!(send(&h, req).await.0, 202);
}

#[tokio::test]
async fn bad_requests_get_clear_4xx() {
    let h = harness();
    let (status, reply) = send(&h, signed("{not json")).await;
    assert_eq!(status, 400);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("not a PagerDuty v3 webhook")
    );

    let body = v3_body("ev-4", "incident.triggered", "API latency", now());
    let signature = signature::sign(SECRET, body.as_bytes());
    let text_plain = request(
        "/",
        &body,
        &[
            ("content-type", "text/plain"),
            ("x-pagerduty-signature", &signature),
        ],
    );
    assert_eq!(send(&h, text_plain).await.0, 400);
    let no_type = request("/", &body, &[("x-pagerduty-signature", &signature)]);
    assert_eq!(send(&h, no_type).await.0, 400);

    let mut get = signed(&body);
    *get.method_mut() = http::Method::GET;
    assert_eq!(send(&h, get).await.0, 405);

    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
    let (status, reply) = send(&h, signed(&huge)).await;
    assert_eq!(status, 413, "{reply}");

    let unknown_event = signed(
        r#"{"event":{"id":"x","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-11-25T03:12:09Z","data":{"id":"../../users","type":"incident","status":"triggered"}}}"#,
    );
    let (status, reply) = send(&h, unknown_event).await;
    assert_eq!(status, 400);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("not a PagerDuty id")
    );

    assert_eq!(send(&h, tapped("Bad_Name", "{}")).await.0, 404);
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn ping_other_resources_and_unwanted_events_are_ignored() {
    let h = harness();
    let ping = r#"{"event":{"id":"p1","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-11-25T03:12:09Z","data":{"type":"ping"}}}"#;
    let (status, reply) = send(&h, signed(ping)).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("ignored")));

    let service = include_str!("../../../events/fixtures/v3-service.updated.json");
    let (status, reply) = send(&h, signed(service)).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("ignored")));
    assert!(reply["reason"].as_str().unwrap().contains("service"));

    let acknowledged = v3_body("ev-5", "incident.acknowledged", "API latency", now());
    let (status, reply) = send(&h, signed(&acknowledged)).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("ignored")));
    assert!(
        reply["reason"]
            .as_str()
            .unwrap()
            .contains("no runbook matches"),
        "{reply}"
    );
    // Ignored events cost no ledger write.
    assert!(
        !h.ledger.is_held("pagerduty-v3:ev-5") && h.ledger.completed("pagerduty-v3:ev-5").is_none()
    );
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn stale_events_are_refused_with_a_note() {
    let h = harness();
    let old = v3_body(
        "ev-6",
        "incident.triggered",
        "API latency",
        now() - chrono::Duration::hours(2),
    );
    let (status, reply) = send(&h, signed(&old)).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("refused")));
    assert!(h.executor.sent().is_empty());
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].1.contains("diagnose-api not run"),
        "{}",
        notes[0].1
    );
    assert!(notes[0].1.contains("2 h 0 min old"), "{}", notes[0].1);
}

#[tokio::test]
async fn a_confirmed_tap_runs_and_names_the_person() {
    let h = harness();
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-1", "PALICE1", now())),
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["outcome"], "executed");
    let sent = h.executor.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].targets.describe(), "tag:Role=web");
    let notes = h.pagerduty.notes();
    assert!(
        notes[0]
            .1
            .starts_with("remediate: restart-web started by Alice Oncall on tag:Role=web"),
        "{}",
        notes[0].1
    );
    // A second tap message (a new message id) is a new trigger; the same one is a duplicate.
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-1", "PALICE1", now())),
    )
    .await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn action_token_failures_are_rejected() {
    let h = harness();
    let body = tap_body("m-2", "PALICE1", now());
    let missing = request(
        "/actions/restart-web",
        &body,
        &[("content-type", "application/json")],
    );
    assert_eq!(send(&h, missing).await.0, 401);
    let wrong = request(
        "/actions/restart-web",
        &body,
        &[
            ("content-type", "application/json"),
            ("x-remediate-token", "test-action-tokeN"),
        ],
    );
    let (status, reply) = send(&h, wrong).await;
    assert_eq!((status, reply["outcome"].as_str()), (403, Some("rejected")));
    let prefix = request(
        "/actions/restart-web",
        &body,
        &[
            ("content-type", "application/json"),
            ("x-remediate-token", "test-action"),
        ],
    );
    assert_eq!(send(&h, prefix).await.0, 403);
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn custom_token_header_name_is_honoured() {
    let mut custom = settings();
    custom.action_token_header = "x-acme-secret".into();
    let h = harness_with(custom);
    let body = tap_body("m-h", "PALICE1", now());
    let default_header = tapped("restart-web", &body);
    assert_eq!(send(&h, default_header).await.0, 401);
    let req = request(
        "/actions/restart-web",
        &body,
        &[
            ("content-type", "application/json"),
            ("x-acme-secret", TOKEN),
        ],
    );
    assert_eq!(send(&h, req).await.0, 202);
}

#[tokio::test]
async fn a_tap_on_a_resolved_incident_runs_nothing() {
    let h = harness();
    h.pagerduty
        .incidents
        .lock()
        .unwrap()
        .get_mut("PINC001")
        .unwrap()
        .status = "resolved".into();
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-3", "PALICE1", now())),
    )
    .await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("refused")));
    assert_eq!(reply["reason"], "incident #42 is resolved");
    assert!(h.executor.sent().is_empty());
    assert!(h.pagerduty.notes()[0].1.contains("not run"));
}

#[tokio::test]
async fn an_unconfirmed_tap_is_refused_unless_confirmation_is_off() {
    let h = harness();
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-4", "PMALLORY", now())),
    )
    .await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("refused")),
        "{reply}"
    );
    assert!(reply["reason"].as_str().unwrap().contains("PMALLORY"));
    assert!(h.executor.sent().is_empty());

    let mut trusting = settings();
    trusting.confirm_taps = false;
    let h = harness_with(trusting);
    let (status, _) = send(
        &h,
        tapped("restart-web", &tap_body("m-4", "PMALLORY", now())),
    )
    .await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn unknown_actions_and_non_taps_are_ignored() {
    let h = harness();
    let (status, reply) = send(&h, tapped("reboot-db", &tap_body("m-5", "PALICE1", now()))).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("ignored")));
    let trigger = include_str!("../../../events/fixtures/v2-incident.trigger.json");
    let (status, reply) = send(&h, tapped("restart-web", trigger)).await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("ignored")));
    let (status, _) = send(&h, tapped("restart-web", "{\"messages\": 3}")).await;
    assert_eq!(status, 400);
    assert!(h.executor.sent().is_empty());
}

mod failures;
mod no_panic;
mod real_account;
