//! The `rundeck-notification` function with the real Rundeck results (`HttpRundeck` behind
//! `ExecutorResults`) against the stub Rundeck (wiremock, written from Rundeck's API reference:
//! "Execution Info", "Execution Output"), the ledger and PagerDuty in memory: a notification is
//! only a hint, and what is recorded is what Rundeck's API says.

use crate::rundeck::{RUN_ID, TOKEN, error_body, execution, rundeck};
use lambda_http::{Body, http};
use remediate_adapters::executors::ExecutorResults;
use remediate_core::catalog::Catalog;
use remediate_core::catalog_store::CatalogStore;
use remediate_core::ledger::RunRecord;
use remediate_core::pipeline::Finisher;
use remediate_core::ports::executor::rundeck_handle;
use remediate_core::ports::runs::RunResults;
use remediate_core::secrets::StaticSecrets;
use remediate_core::testing::{InMemoryLedger, InMemoryPagerDuty, ManualClock, ScriptedRunResults};
use remediate_core::trigger::Incident;
use rundeck_notification::NotificationApp;
use serde_json::{Value, json};
use std::sync::Arc;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PARAMETER: &str = "/remediate/rundeck-notification-token";
const SECRET: &str = "3b1f0c9e8d7a6b5c4d3e2f1a0b9c8d7e";

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

struct World {
    app: NotificationApp,
    ledger: Arc<InMemoryLedger>,
    pagerduty: Arc<InMemoryPagerDuty>,
}

fn world(server: &MockServer) -> World {
    let clock = Arc::new(ManualClock::new("2026-11-25T03:13:00Z".parse().unwrap()));
    let ledger = Arc::new(InMemoryLedger::default());
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    pagerduty.incidents.lock().unwrap().insert(
        "PINC001".into(),
        Incident {
            id: "PINC001".into(),
            status: "triggered".into(),
            ..Incident::default()
        },
    );
    let rundeck: Arc<dyn RunResults> = Arc::new(rundeck(&server.uri(), 41));
    // SSM is never asked here: a scripted one that knows no run.
    let executors =
        ExecutorResults::from_parts(Arc::new(ScriptedRunResults::default()), Some(rundeck));
    let app = NotificationApp {
        token_parameter: PARAMETER.into(),
        secrets: Arc::new(StaticSecrets::new([(PARAMETER, SECRET)])),
        finisher: Finisher {
            region: "eu-west-1".into(),
            catalogs: Arc::new(CatalogStore::fixed(
                Catalog::parse(CATALOG, "test").unwrap(),
                clock.clone(),
            )),
            pagerduty: pagerduty.clone(),
            executors: Arc::new(executors),
            runs: ledger.clone(),
            clock,
            results: None,

            alarms: None,
        },
    };
    World {
        app,
        ledger,
        pagerduty,
    }
}

fn started(execution_id: u64) -> RunRecord {
    remediate_core::testing::started_run(
        &format!("pagerduty-v3:ev-{execution_id}"),
        "rollback-web",
        RUN_ID,
        remediate_core::finish::ExecutorKind::Rundeck,
        rundeck_handle(execution_id),
        "2026-11-25T03:12:09Z".parse().unwrap(),
    )
}

/// Execution Info of an execution that ended: the reference's execution with its end and nodes.
fn ended(id: u64, status: &str, base: &str) -> Value {
    let mut execution = execution(
        id,
        json!({ "host": "web-12", "remediate_run_id": RUN_ID }),
        &format!("-host web-12 -remediate_run_id {RUN_ID}"),
        base,
    );
    execution["status"] = json!(status);
    execution["date-ended"] =
        json!({ "unixtime": 1_431_536_346_423_u64, "date": "2015-05-13T16:59:06Z" });
    execution["successfulNodes"] = json!(["web-11"]);
    execution["failedNodes"] = json!(["web-12"]);
    execution
}

async fn notify(world: &World, execution_id: u64, status: &str) -> (u16, Value) {
    let body = json!({ "trigger": "failure", "status": status, "executionId": execution_id,
                       "execution": { "id": execution_id, "status": status } });
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("/notify/{SECRET}"))
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .unwrap();
    let response = world.app.handle(request).await;
    let Body::Text(text) = response.body() else {
        panic!("no JSON body")
    };
    (
        response.status().as_u16(),
        serde_json::from_str(text).unwrap(),
    )
}

#[tokio::test]
async fn a_notification_of_a_recorded_run_is_recorded_as_rundeck_says() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/api/41/execution/390"))
        .and(header("X-Rundeck-Auth-Token", TOKEN))
        .and(header("Accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ended(390, "failed", &base)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/41/execution/390/output"))
        .and(header("X-Rundeck-Auth-Token", TOKEN))
        .and(query_param("format", "json"))
        .and(query_param("maxlines", "50"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 390, "completed": true, "execCompleted": true, "execState": "failed",
            "entries": [
                { "time": "16:59:01", "level": "NORMAL", "log": "rolling back to v41", "node": "web-12", "stepctx": "1" },
                { "time": "16:59:05", "level": "ERROR", "log": "health check failed", "node": "web-12", "stepctx": "2" }
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let world = world(&server);
    world.ledger.insert_record(started(390));

    // The notification says it succeeded; Rundeck says it failed: Rundeck is believed.
    let (status, body) = notify(&world, 390, "succeeded").await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "recorded", "{body}");
    assert_eq!(body["run_state"], "failed", "{body}");
    assert_eq!(body["run_id"], RUN_ID);
    let record = world.ledger.records().remove(0);
    let ending = record.ending.expect("an ending");
    assert_eq!(ending.executor_status, "failed");
    // From the reference's date-started to its date-ended, in milliseconds: 6.614 s.
    assert_eq!(ending.duration_seconds, Some(6));
    let note = world.pagerduty.notes().remove(0).1;
    assert!(note.contains("1/2 nodes succeeded"), "{note}");
    assert!(note.contains("- web-12: failed"), "{note}");
    assert!(note.contains("[web-12] health check failed"), "{note}");
    assert!(!note.contains(TOKEN), "{note}");
    assert!(
        note.contains("Rundeck execution rundeck:390: failed."),
        "{note}"
    );
}

#[tokio::test]
async fn an_execution_rundeck_does_not_know_is_ignored_and_a_rundeck_outage_is_a_503() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/41/execution/77"))
        .respond_with(ResponseTemplate::new(404).set_body_json(error_body(
            "api.error.item.doesnotexist",
            "Execution ID does not exist: 77",
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/41/execution/390"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let world = world(&server);
    world.ledger.insert_record(started(390));

    let (status, body) = notify(&world, 77, "succeeded").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "ignored", "{body}");

    let (status, body) = notify(&world, 390, "failed").await;
    assert_eq!(status, 503, "{body}");
    assert!(world.ledger.records()[0].ending.is_none());
    assert!(world.pagerduty.notes().is_empty());
}
