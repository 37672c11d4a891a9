//! Handler tests with in-memory ports: the secret, every bad request, every outcome, the samples
//! in events/rundeck/, and hostile bodies.

use super::*;
use chrono::{DateTime, Utc};
use lambda_http::http;
use proptest::prelude::*;
use remediate_core::finish::{FinalState, RunResult, TargetCounts, TargetResult};
use remediate_core::ledger::RunRecord;
use remediate_core::secrets::StaticSecrets;
use remediate_core::testing::{InMemoryLedger, InMemoryPagerDuty, ScriptedRunResults};
use serde_json::Value;
use std::path::Path;

const PARAMETER: &str = "/remediate/rundeck-notification-token";
/// The samples' secret (events/rundeck/README.md).
const SECRET: &str = "rundeck-demo-notification-secret";
const SUCCEEDED: &str = include_str!("../../../events/rundeck/notify-succeeded.json");

const CATALOG: &str = "\
version: 1
runbooks:
  - name: rollback-web
    when:
      sources: [pagerduty-v3]
      title: '^web-'
    params:
      host: { from: '{{ incident.title }}', pattern: 'web-[0-9]{1,3}' }
    action:
      rundeck:
        job_id: 7400ff98-31c4-4834-ba3d-aee9646e867f
        options: { host: '{{ params.host }}' }
";

struct Harness {
    app: NotificationApp,
    ledger: Arc<InMemoryLedger>,
    pagerduty: Arc<InMemoryPagerDuty>,
    executors: Arc<ScriptedRunResults>,
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .unwrap_or_default()
}

fn harness_with(secret_lines: &str) -> Harness {
    let world = remediate_core::testing::finisher_world(CATALOG, at("2026-11-25T03:12:53Z"));
    Harness {
        app: NotificationApp {
            token_parameter: PARAMETER.to_owned(),
            secrets: Arc::new(StaticSecrets::new([(PARAMETER, secret_lines)])),
            finisher: world.finisher,
        },
        ledger: world.ledger,
        pagerduty: world.pagerduty,
        executors: world.executors,
    }
}

fn harness() -> Harness {
    harness_with(SECRET)
}

fn run_started_with(execution_id: u64) -> RunRecord {
    remediate_core::testing::started_run(
        &format!("pagerduty-v3:ev-{execution_id}"),
        "rollback-web",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        ExecutorKind::Rundeck,
        rundeck_handle(execution_id),
        at("2026-11-25T03:12:09Z"),
    )
}

fn rundeck_says(state: FinalState, status: &str, node_status: &str) -> RunResult {
    RunResult {
        state: Some(state),
        executor_status: status.to_owned(),
        started_at: Some(at("2026-11-25T03:12:10Z")),
        finished_at: Some(at("2026-11-25T03:12:52Z")),
        run_id: Some("0f8fad5b-d9cb-469f-a165-70867728950e".into()),
        counts: Some(TargetCounts {
            total: 1,
            succeeded: u32::from(state == FinalState::Succeeded),
        }),
        targets: vec![TargetResult {
            target: "web-12".to_owned(),
            status: node_status.to_owned(),
            ..TargetResult::default()
        }],
        outputs: Some("rolled back to v41".to_owned()),
        failure: None,
    }
}

fn post(path: &str, body: &str) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::Text(body.to_owned()))
        .expect("a request")
}

fn notification(execution_id: u64, trigger: &str, status: &str) -> String {
    json!({ "trigger": trigger, "status": status, "executionId": execution_id,
            "execution": { "id": execution_id, "status": status } })
    .to_string()
}

async fn send(h: &Harness, request: Request) -> (u16, Value) {
    let response = h.app.handle(request).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("a JSON answer"),
        other => panic!("unexpected body {other:?}"),
    };
    (status, body)
}

fn notify_path() -> String {
    format!("/notify/{SECRET}")
}

#[tokio::test]
async fn a_notification_of_our_run_records_what_rundeck_says_and_notes_it() {
    let h = harness();
    h.ledger.insert_record(run_started_with(390));
    // The notification says "failed"; Rundeck, asked, says it succeeded: Rundeck is believed.
    h.executors.set(
        ExecutorKind::Rundeck,
        "rundeck:390",
        rundeck_says(FinalState::Succeeded, "succeeded", "succeeded"),
    );

    let (status, body) = send(
        &h,
        post(&notify_path(), &notification(390, "failure", "failed")),
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "execution_id": 390,
            "outcome": "recorded",
            "run_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "runbook": "rollback-web",
            "run_state": "succeeded",
        })
    );
    assert_eq!(
        h.executors.asked(),
        vec![(ExecutorKind::Rundeck, "rundeck:390".to_owned())]
    );
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .1
            .starts_with("remediate: rollback-web succeeded in 42 s: 1/1 nodes succeeded."),
        "{}",
        notes[0].1
    );
    assert!(notes[0].1.contains("rolled back to v41"), "{}", notes[0].1);
}

#[tokio::test]
async fn the_same_notification_twice_is_a_duplicate_with_one_note() {
    let h = harness();
    h.ledger.insert_record(run_started_with(391));
    h.executors.set(
        ExecutorKind::Rundeck,
        "rundeck:391",
        rundeck_says(FinalState::Failed, "failed", "failed"),
    );
    let body = notification(391, "failure", "failed");

    let (_, first) = send(&h, post(&notify_path(), &body)).await;
    let (status, second) = send(&h, post(&notify_path(), &body)).await;

    assert_eq!(first["outcome"], "recorded");
    assert_eq!(first["run_state"], "failed");
    assert_eq!(status, 200);
    assert_eq!(second["outcome"], "duplicate");
    assert_eq!(second["run_state"], "failed");
    assert_eq!(h.pagerduty.notes().len(), 1);
}

#[tokio::test]
async fn a_wrong_or_missing_secret_is_refused_before_the_body_is_read() {
    let h = harness();
    h.ledger.insert_record(run_started_with(390));
    for (path, want) in [
        ("/notify/rundeck-demo-notification-secreT", 403),
        ("/notify/rundeck-demo-notification-secre", 403),
        ("/notify/", 404),
        ("/", 404),
        ("/actions/rundeck-demo-notification-secret", 404),
    ] {
        // A body that is no notification: the answer shows it was never read.
        let (status, body) = send(&h, post(path, "not json")).await;
        assert_eq!(status, want, "{path}: {body}");
        assert!(!body.to_string().contains(SECRET), "{body}");
    }
    assert!(h.executors.asked().is_empty());
}

#[tokio::test]
async fn a_rotated_secret_is_accepted_alongside_the_old_one() {
    let h = harness_with(&format!("{SECRET}\nthe-next-secret-0123456789\nshort"));
    let (old, _) = send(
        &h,
        post(&notify_path(), &notification(5, "start", "running")),
    )
    .await;
    let (new, _) = send(
        &h,
        post(
            "/notify/the-next-secret-0123456789",
            &notification(5, "start", "running"),
        ),
    )
    .await;
    let (short, _) = send(
        &h,
        post("/notify/short", &notification(5, "start", "running")),
    )
    .await;
    assert_eq!((old, new, short), (200, 200, 403));
}

#[tokio::test]
async fn an_unreadable_secret_parameter_asks_for_a_retry_without_detail() {
    let mut h = harness();
    h.app.secrets = Arc::new(StaticSecrets::default());
    let (status, body) = send(
        &h,
        post(&notify_path(), &notification(390, "success", "succeeded")),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(!body.to_string().contains(PARAMETER), "{body}");
}

#[tokio::test]
async fn bad_requests_get_their_status() {
    let h = harness();
    let get = http::Request::builder()
        .method("GET")
        .uri(notify_path())
        .body(Body::Empty)
        .expect("a request");
    assert_eq!(send(&h, get).await.0, 405);
    let huge = "x".repeat(MAX_BODY_BYTES + 1);
    assert_eq!(send(&h, post(&notify_path(), &huge)).await.0, 413);
    let (status, body) = send(&h, post(&notify_path(), "<notification/>")).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap_or_default().contains("JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn a_start_notification_asks_nobody() {
    let h = harness();
    h.ledger.insert_record(run_started_with(392));
    let (status, body) = send(
        &h,
        post(&notify_path(), &notification(392, "start", "running")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["outcome"], "ignored");
    assert_eq!(body["reason"], "status running is not final");
    assert!(h.executors.asked().is_empty());
}

#[tokio::test]
async fn a_transient_failure_is_a_503_and_records_nothing() {
    let h = harness();
    h.ledger.insert_record(run_started_with(390));
    *h.executors.fail_next.lock().expect("lock") = Some(remediate_core::Error::Rundeck {
        operation: "ExecutionInfo",
        status: Some(503),
        error_code: None,
        message: "Rundeck failed to answer".to_owned(),
        transient: true,
    });

    let (status, body) = send(
        &h,
        post(&notify_path(), &notification(390, "success", "succeeded")),
    )
    .await;

    assert_eq!(status, 503, "{body}");
    assert!(h.ledger.records()[0].ending.is_none());
    assert!(h.pagerduty.notes().is_empty());
}

#[tokio::test]
async fn a_note_that_fails_is_left_for_the_reconciler_and_the_ending_is_recorded() {
    let h = harness();
    h.ledger.insert_record(run_started_with(390));
    h.executors.set(
        ExecutorKind::Rundeck,
        "rundeck:390",
        rundeck_says(FinalState::Succeeded, "succeeded", "succeeded"),
    );
    *h.pagerduty.fail_notes.lock().expect("lock") = Some(remediate_core::Error::PagerDuty {
        operation: "CreateIncidentNote",
        status: Some(429),
        message: "rate limited".to_owned(),
        transient: true,
    });

    let (status, body) = send(
        &h,
        post(&notify_path(), &notification(390, "success", "succeeded")),
    )
    .await;

    // Rundeck would not deliver it again: a 5xx would only be an error in its log.
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "recorded");
    assert_eq!(body["left"], json!(["note"]));
    assert_eq!(h.ledger.records()[0].pending, vec![FollowUp::Note]);
}

#[tokio::test]
async fn every_sample_gets_its_expected_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/rundeck");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");
    let mut samples: Vec<_> = std::fs::read_dir(&dir)
        .expect("the samples")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "json") && !path.ends_with("expected.json")
        })
        .collect();
    samples.sort();
    assert_eq!(samples.len(), 8, "{samples:?}");
    let h = harness();
    h.ledger.insert_record(run_started_with(390));
    h.ledger.insert_record(run_started_with(391));
    h.executors.set(
        ExecutorKind::Rundeck,
        "rundeck:390",
        rundeck_says(FinalState::Succeeded, "succeeded", "succeeded"),
    );
    h.executors.set(
        ExecutorKind::Rundeck,
        "rundeck:391",
        rundeck_says(FinalState::Failed, "failed", "failed"),
    );
    let mut other = rundeck_says(FinalState::Succeeded, "succeeded", "succeeded");
    other.run_id = None;
    h.executors.set(ExecutorKind::Rundeck, "rundeck:77", other);
    for path in &samples {
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default();
        let want = &expected[name];
        assert!(want.is_object(), "{name} has no entry in expected.json");
        let event = std::fs::read_to_string(path).expect("a sample");
        let request = lambda_http::request::from_str(&event)
            .unwrap_or_else(|error| panic!("{name} is not a Function URL event: {error}"));
        let (status, body) = send(&h, request).await;
        assert_eq!(u64::from(status), want["status"], "{name}: {body}");
        for field in ["outcome", "run_state"] {
            if let Some(value) = want.get(field) {
                assert_eq!(&body[field], value, "{name}: {body}");
            }
        }
    }
    assert_eq!(h.pagerduty.notes().len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No body panics: a real notification with one leaf replaced by a hostile value, or
    /// arbitrary JSON shaped like one, gets an answer (authenticated, so it reaches the parser
    /// and the finisher) that is a 200 with a reason, a 400, or a 503.
    #[test]
    fn no_notification_panics(
        pick in any::<usize>(),
        value in remediate_core::testing::hostile::hostile_value(),
        arbitrary in remediate_core::testing::hostile::arbitrary_json(
            &["trigger", "status", "executionId", "execution", "id", "date-ended", "unixtime"]
        ),
        use_arbitrary in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let h = harness();
        h.ledger.insert_record(run_started_with(390));
        let body = if use_arbitrary {
            arbitrary
        } else {
            let sample: Value = serde_json::from_str(SUCCEEDED).expect("a sample");
            let mut body: Value =
                serde_json::from_str(sample["body"].as_str().unwrap_or("{}")).expect("JSON");
            remediate_core::testing::hostile::replace_leaf(&mut body, pick, value);
            body
        };
        let (status, answer) = runtime.block_on(send(&h, post(&notify_path(), &body.to_string())));
        prop_assert!(matches!(status, 200 | 400 | 503), "{status}: {answer}");
        if status == 200 && answer["outcome"] == "ignored" {
            prop_assert!(answer["reason"].as_str().is_some_and(|reason| !reason.is_empty()));
        }
    }
}
