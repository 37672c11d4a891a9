//! Every sample in events/sns/ goes through the sns-alarm function's record loop exactly as
//! Lambda would deliver it (deserialized as `SnsEvent`), with the example catalog and the
//! certificate shipped beside the samples, and gets the answer expected.json promises. Adapters
//! are in memory here: this test is about the samples, their signatures and the routing.

use aws_lambda_events::sns::SnsEvent;
use chrono::{DateTime, Utc};
use remediate_adapters::config::{AlarmSettings, RunSettings};
use remediate_core::catalog::{Catalog, Targets};
use remediate_core::catalog_store::CatalogStore;
use remediate_core::clock::SystemClock;
use remediate_core::kill_switch::KillSwitch;
use remediate_core::pipeline::Pipeline;
use remediate_core::template::Template;
use remediate_core::testing::{
    InMemoryGuards, InMemoryLedger, InMemoryPagerDuty, ManualClock, RecordingExecutor,
    RecordingPublisher,
};
use remediate_core::trigger::Incident;
use remediate_sns_signature::{DirectoryCertificates, Verifier};
use serde_json::Value;
use sns_alarm::{AlarmApp, Authentication, signed_message};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The topic the samples come from (see events/sns/README.md).
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:remediate-alarms";
const DISK_ALARM_ARN: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-disk-used";
/// Ten years, as MAX_TRIGGER_AGE_SECONDS=315360000: the samples' times are fixed.
const AGE_LIMIT: Duration = Duration::from_secs(315_360_000);

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/sns")
}

fn certificates() -> DirectoryCertificates {
    DirectoryCertificates::new(dir().join("certificates"))
}

/// Every sample's name and event, sorted by name.
fn samples() -> Vec<(String, SnsEvent)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "json") && !path.ends_with("expected.json")
        })
        .collect();
    paths.sort();
    assert!(paths.len() >= 9, "samples found: {paths:?}");
    paths
        .iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let event: SnsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
                .unwrap_or_else(|error| panic!("{name} is not a Lambda SNS event: {error}"));
            assert_eq!(event.records.len(), 1, "{name}: one record per sample");
            (name, event)
        })
        .collect()
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

struct Harness {
    app: AlarmApp,
    executor: Arc<RecordingExecutor>,
    pagerduty: Arc<InMemoryPagerDuty>,
}

/// The function as it is configured for the samples: their topic allowed, certificates from
/// the samples' folder, the example catalog, the disk alarm's incident open in PagerDuty.
fn harness(at: DateTime<Utc>) -> Harness {
    let executor = Arc::new(RecordingExecutor::default());
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    pagerduty.incidents.lock().unwrap().insert(
        "PDISK01".into(),
        Incident {
            id: "PDISK01".into(),
            number: Some(77),
            key: Some(DISK_ALARM_ARN.into()),
            title: "web-1-disk-used in ALARM".into(),
            status: "triggered".into(),
            ..Incident::default()
        },
    );
    let settings = AlarmSettings {
        verify_signatures: true,
        topic_allowlist: vec![TOPIC.into()],
        run: RunSettings {
            api_token_parameter: "/remediate/api-token".into(),
            from_email: "bot@example.com".into(),
            api_url: "http://127.0.0.1:9".into(),
            ledger_table: "unused".into(),
            max_trigger_age: AGE_LIMIT,
            global_dry_run: None,
            region: "us-east-1".into(),
            results_topic_arn: Some("arn:aws:sns:us-east-1:123456789012:remediate-results".into()),
            incident_key: Some(Template::parse("{{ alarm.arn }}").unwrap()),
            rundeck: None,
        },
    };
    let app = AlarmApp {
        pipeline: Pipeline {
            settings: settings.run.pipeline(false, None),
            catalogs: Arc::new(CatalogStore::fixed(
                Catalog::built_in().unwrap(),
                Arc::new(SystemClock),
            )),
            kill_switch: Arc::new(KillSwitch::absent(Arc::new(SystemClock))),
            pagerduty: pagerduty.clone(),
            executor: executor.clone(),
            automation: executor.clone(),
            rundeck: None,
            ledger: Arc::new(InMemoryLedger::default()),
            guards: Arc::new(InMemoryGuards::default()),
            clock: Arc::new(ManualClock::new(at + chrono::Duration::seconds(1))),
            results: Some(Arc::new(RecordingPublisher::default())),
        },
        authentication: Authentication::Verify(Verifier::new(Box::new(certificates()))),
        settings,
    };
    Harness {
        app,
        executor,
        pagerduty,
    }
}

#[tokio::test]
async fn every_sns_sample_gets_its_expected_answer() {
    let expected = expected();
    let samples = samples();
    assert_eq!(
        samples.len(),
        expected.as_object().unwrap().len(),
        "one expected.json entry per sample"
    );
    for (name, event) in &samples {
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("{name} has no entry in expected.json"));
        // A fresh function per sample: each answer is the one a first delivery gets.
        let h = harness(event.records[0].sns.timestamp);
        let batch = h
            .app
            .handle_records(&event.records, Instant::now() + Duration::from_secs(30))
            .await
            .unwrap_or_else(|retry| panic!("{name}: {retry}"));
        let answer = serde_json::to_value(&batch).unwrap();
        let record = &answer["records"][0];
        assert_eq!(
            record["message_id"], event.records[0].sns.message_id,
            "{name}"
        );
        assert_eq!(record["outcome"], want["outcome"], "{name}: {answer}");
        assert_eq!(
            record.get("runbook").unwrap_or(&Value::Null),
            want.get("runbook").unwrap_or(&Value::Null),
            "{name}: {answer}"
        );
        assert!(
            record["reason"].is_string() || record["outcome"] == "executed",
            "{name}: {answer}"
        );
        let sent = h.executor.sent();
        if want["outcome"] == "executed" {
            assert_eq!(sent.len(), 1, "{name}");
            assert_eq!(
                sent[0].targets,
                Targets::InstanceIds(vec!["i-0a1b2c3d4e5f67890".into()]),
                "{name}: exactly the alarm's instance"
            );
        } else {
            assert!(sent.is_empty(), "{name}: nothing runs: {sent:?}");
        }
        if want["outcome"] == "rejected" {
            assert!(
                h.pagerduty.notes().is_empty(),
                "{name}: a forgery reaches nobody"
            );
        }
    }
}

#[tokio::test]
async fn the_disk_alarm_notes_its_incident_and_a_redelivery_is_a_duplicate() {
    let (_, event) = samples()
        .into_iter()
        .find(|(name, _)| name == "alarm-disk-used")
        .unwrap();
    let h = harness(event.records[0].sns.timestamp);
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = h
        .app
        .handle_records(&event.records, deadline)
        .await
        .unwrap();
    assert_eq!(first.records[0].outcome.as_str(), "executed");
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, "PDISK01");
    let again = h
        .app
        .handle_records(&event.records, deadline)
        .await
        .unwrap();
    assert_eq!(again.records[0].outcome.as_str(), "duplicate");
    assert_eq!(h.executor.sent().len(), 1);
}

/// A regeneration that forgot a sample, or a certificate replaced without re-signing, fails
/// here with the sample named, not as a puzzling `rejected` elsewhere.
#[tokio::test]
async fn every_sample_verifies_against_the_shipped_certificate_except_the_forgeries() {
    let expected = expected();
    let verifier = Verifier::new(certificates());
    for (name, event) in samples() {
        let want_valid = match expected[&name]["signature"].as_str() {
            Some("valid") => true,
            Some("invalid") => false,
            other => panic!("{name}: expected.json signature is {other:?}, not valid|invalid"),
        };
        let result = verifier
            .verify(&signed_message(&event.records[0].sns))
            .await;
        assert_eq!(result.is_ok(), want_valid, "{name}: {result:?}");
    }
}
