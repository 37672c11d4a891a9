//! Every sample in events/webhook/ goes through the function's handler exactly as Lambda would
//! deliver it (lambda_http parses the Function URL event), and gets the answer expected.json
//! promises. Adapters are in memory here: this test is about the samples and the routing.

use chrono::{DateTime, Utc};
use lambda_http::Body;
use pagerduty_webhook::WebhookApp;
use remediate_adapters::config::{RunSettings, WebhookSettings};
use remediate_core::catalog::Catalog;
use remediate_core::pipeline::Pipeline;
use remediate_core::ports::incidents::LogEntry;
use remediate_core::secrets::StaticSecrets;
use remediate_core::testing::InMemoryLedger;
use remediate_core::testing::InMemoryPagerDuty;
use remediate_core::testing::ManualClock;
use remediate_core::testing::RecordingExecutor;
use remediate_core::trigger::Incident;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SAMPLE_TIME: &str = "2026-11-25T03:12:07Z";

fn app(executor: Arc<RecordingExecutor>) -> WebhookApp {
    let at: DateTime<Utc> = SAMPLE_TIME.parse().unwrap();
    let pagerduty = InMemoryPagerDuty::default();
    pagerduty.incidents.lock().unwrap().insert(
        "PRORDTY".into(),
        Incident {
            id: "PRORDTY".into(),
            number: Some(33),
            title: "My new incident".into(),
            status: "triggered".into(),
            // The workflow sample's runbook asks for the team, which only the re-read incident has.
            teams: vec![remediate_core::trigger::Reference {
                id: "PQ9K7I8".into(),
                name: "Engineering".into(),
            }],
            ..Incident::default()
        },
    );
    pagerduty.log_entries.lock().unwrap().insert(
        "PRORDTY".into(),
        // Two taps in the samples (restart-web and flush-cache): two log entries, each naming its
        // button by the label the example catalog declares.
        ["Restart web tier", "Flush cache"]
            .iter()
            .enumerate()
            .map(|(n, label)| LogEntry {
                id: Some(format!("RLOGENTRY{n}")),
                kind: "custom_log_entry".into(),
                agent_id: Some("PALICE1".into()),
                agent_name: Some("Alice Oncall".into()),
                summary: Some(format!("Alice Oncall ran the {label} action")),
                created_at: Some(at),
            })
            .collect(),
    );
    let settings = WebhookSettings {
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
    };
    WebhookApp {
        pipeline: Pipeline {
            settings: settings.pipeline(),
            catalogs: Arc::new(remediate_core::catalog_store::CatalogStore::fixed(
                Catalog::built_in().unwrap(),
                Arc::new(remediate_core::clock::SystemClock),
            )),
            kill_switch: Arc::new(remediate_core::kill_switch::KillSwitch::absent(Arc::new(
                remediate_core::clock::SystemClock,
            ))),
            pagerduty: Arc::new(pagerduty),
            executor: executor.clone(),
            automation: executor,
            rundeck: None,
            ledger: Arc::new(InMemoryLedger::default()),
            guards: Arc::new(remediate_core::testing::InMemoryGuards::default()),
            clock: Arc::new(ManualClock::new(at + chrono::Duration::seconds(5))),
            results: None,
        },
        settings,
        secrets: Arc::new(StaticSecrets::new([
            (
                "/remediate/webhook-secrets",
                "remediate-demo-signing-secret",
            ),
            ("/remediate/action-token", "remediate-demo-action-token"),
            ("/remediate/api-token", "unused"),
        ])),
    }
}

#[tokio::test]
async fn every_sample_gets_its_expected_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/webhook");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut samples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "json") && !path.ends_with("expected.json")
        })
        .collect();
    samples.sort();
    assert!(samples.len() >= 10, "samples found: {samples:?}");
    let executor = Arc::new(RecordingExecutor::default());
    let app = app(executor.clone());
    let mut executed = 0;
    for path in &samples {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("{name} has no entry in expected.json"));
        let request = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|error| panic!("{name} is not a Function URL event: {error}"));
        let response = app.handle(request).await;
        let Body::Text(text) = response.body() else {
            panic!("{name}: no JSON body")
        };
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            response.status().as_u16() as u64,
            want["status"].as_u64().unwrap(),
            "{name}: {body}"
        );
        assert_eq!(
            body.get("outcome").unwrap_or(&Value::Null),
            &want["outcome"],
            "{name}: {body}"
        );
        if body["outcome"] == "executed" {
            executed += 1;
        }
    }
    assert_eq!(
        executor.sent().len(),
        executed,
        "one command per executed sample, none for the rest"
    );
}
