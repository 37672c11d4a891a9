//! The record loop with in-memory ports and real signatures: every outcome, every bad input.

use super::*;
use aws_lambda_events::sns::SnsRecord;
use chrono::{DateTime, Utc};
use remediate_adapters::config::RunSettings;
use remediate_core::Error;
use remediate_core::catalog::{Catalog, Targets};
use remediate_core::catalog_store::CatalogStore;
use remediate_core::kill_switch::KillSwitch;
use remediate_core::outcome::Outcome;
use remediate_core::template::Template;
use remediate_core::testing::{
    InMemoryGuards, InMemoryLedger, InMemoryPagerDuty, ManualClock, RecordingExecutor,
    RecordingPublisher,
};
use remediate_core::trigger::Incident;
use remediate_sns_signature::testing::{CERT_FILE_NAME, CERT_URL, sign, test_certificate};
use remediate_sns_signature::{
    CertUrl, CertificateSource, DirectoryCertificates, FetchError, SignatureVersion, SignedMessage,
    Verifier,
};
use serde_json::json;
use std::sync::{Arc, OnceLock};

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:remediate-alarms";
const INSTANCE: &str = "i-0abc123def4567890";
const ALARM_ARN: &str = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-1-disk-used";

const CATALOG: &str = "\
version: 1
runbooks:
  - name: clean-disk
    when:
      sources: [cloudwatch-alarm]
      alarm:
        name: '*-disk-used'
        dimensions: { InstanceId: 'i-*' }
    params:
      instance:
        from: '{{ alarm.dimensions.InstanceId }}'
        pattern: 'i-[0-9a-f]{8,17}'
    guards:
      cooldown_seconds: 600
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets:
          instance_ids: ['{{ params.instance }}']
        parameters:
          commands: [journalctl --vacuum-size=200M]
  - name: restart-unhealthy
    when:
      sources: [cloudwatch-alarm]
      alarm:
        metric: [StatusCheckFailed_Instance]
    params:
      instance:
        from: '{{ alarm.dimensions.InstanceId }}'
        pattern: 'i-[0-9a-f]{8,17}'
    guards:
      cooldown_seconds: 3600
    action:
      ssm_automation:
        document: AWS-RestartEC2Instance
        parameters:
          InstanceId: ['{{ params.instance }}']
  - name: capture-forensics
    when:
      sources: [aws-event]
      event:
        source: [aws.guardduty]
        finding_type: ['UnauthorizedAccess:EC2/*']
        min_severity: HIGH
        resource: ['i-*']
    params:
      instance:
        from: '{{ event.resource }}'
        pattern: 'i-[0-9a-f]{8,17}'
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets:
          instance_ids: ['{{ params.instance }}']
        parameters:
          commands: [ss -tanp]
";
/// AWS's documented GuardDuty finding (see events/fixtures/aws/README.md).
const GUARDDUTY: &str =
    include_str!("../../../events/fixtures/aws/eventbridge-guardduty-finding-ec2.json");

fn now() -> DateTime<Utc> {
    "2026-11-25T03:12:09.123Z".parse().unwrap()
}

/// One signing key and certificate for the whole test binary (RSA key generation is slow).
fn key_and_directory() -> &'static (String, tempfile::TempDir) {
    static KEY: OnceLock<(String, tempfile::TempDir)> = OnceLock::new();
    KEY.get_or_init(|| {
        let (certificate, key) = test_certificate(
            "2026-01-01T00:00:00Z".parse().unwrap(),
            "2027-01-01T00:00:00Z".parse().unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CERT_FILE_NAME), certificate).unwrap();
        (key, dir)
    })
}

fn alarm_message(state: &str, instance: &str) -> String {
    json!({
        "AlarmName": "web-1-disk-used",
        "AlarmDescription": null,
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [91.2] was greater than the threshold (90.0).",
        "StateChangeTime": "2026-11-25T03:12:08.950+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": ALARM_ARN,
        "OldStateValue": if state == "ALARM" { "OK" } else { "ALARM" },
        "Trigger": {
            "MetricName": "disk_used_percent",
            "Namespace": "CWAgent",
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Dimensions": [
                { "value": instance, "name": "InstanceId" },
                { "value": "/", "name": "path" }
            ],
            "Period": 60,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 90.0
        }
    })
    .to_string()
}

/// A record as Lambda delivers it, signed (SignatureVersion 2) with the test certificate.
fn record_at(message_id: &str, message: &str, at: DateTime<Utc>) -> SnsRecord {
    let mut signed = SignedMessage {
        kind: "Notification".into(),
        message_id: message_id.into(),
        topic_arn: TOPIC.into(),
        subject: None,
        message: message.into(),
        timestamp: remediate_sns_signature::sns_timestamp(&at),
        signature_version: String::new(),
        signature: String::new(),
        signing_cert_url: CERT_URL.into(),
    };
    sign(&mut signed, &key_and_directory().0, SignatureVersion::V2);
    lambda_record(&signed)
}

fn record(message_id: &str, message: &str) -> SnsRecord {
    record_at(message_id, message, now())
}

fn lambda_record(signed: &SignedMessage) -> SnsRecord {
    serde_json::from_value(json!({
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{TOPIC}:5d2a4c1e-0000-4000-8000-000000000001"),
        "Sns": {
            "Type": signed.kind,
            "MessageId": signed.message_id,
            "TopicArn": signed.topic_arn,
            "Subject": signed.subject,
            "Message": signed.message,
            "Timestamp": signed.timestamp,
            "SignatureVersion": signed.signature_version,
            "Signature": signed.signature,
            "SigningCertUrl": signed.signing_cert_url,
            "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {}
        }
    }))
    .unwrap()
}

struct Harness {
    app: AlarmApp,
    pagerduty: Arc<InMemoryPagerDuty>,
    executor: Arc<RecordingExecutor>,
    ledger: Arc<InMemoryLedger>,
    results: Arc<RecordingPublisher>,
}

fn settings() -> AlarmSettings {
    AlarmSettings {
        verify_signatures: true,
        topic_allowlist: vec![TOPIC.into()],
        run: RunSettings {
            api_token_parameter: "/remediate/api-token".into(),
            from_email: "bot@example.com".into(),
            api_url: "http://127.0.0.1:9".into(),
            ledger_table: "unused".into(),
            max_trigger_age: std::time::Duration::from_secs(900),
            global_dry_run: None,
            region: "eu-west-1".into(),
            results_topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:results".into()),
            incident_key: Some(Template::parse("{{ alarm.arn }}").unwrap()),
            rundeck: None,
        },
    }
}

fn harness_with(settings: AlarmSettings, source: Box<dyn CertificateSource>) -> Harness {
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    let executor = Arc::new(RecordingExecutor::default());
    let ledger = Arc::new(InMemoryLedger::default());
    let results = Arc::new(RecordingPublisher::default());
    let clock = Arc::new(ManualClock::new(now() + chrono::Duration::seconds(2)));
    pagerduty.incidents.lock().unwrap().insert(
        "PDISK01".into(),
        Incident {
            id: "PDISK01".into(),
            number: Some(77),
            key: Some(ALARM_ARN.into()),
            title: "web-1-disk-used in ALARM".into(),
            status: "triggered".into(),
            ..Incident::default()
        },
    );
    let app = AlarmApp {
        pipeline: Pipeline {
            settings: settings.run.pipeline(false, None),
            catalogs: Arc::new(CatalogStore::fixed(
                Catalog::parse(CATALOG, "test").unwrap(),
                clock.clone(),
            )),
            kill_switch: Arc::new(KillSwitch::absent(clock.clone())),
            pagerduty: pagerduty.clone(),
            executor: executor.clone(),
            automation: executor.clone(),
            rundeck: None,
            ledger: ledger.clone(),
            guards: Arc::new(InMemoryGuards::default()),
            clock,
            results: Some(results.clone()),
        },
        authentication: if settings.verify_signatures {
            Authentication::Verify(Verifier::new(source))
        } else {
            Authentication::Unverified
        },
        settings,
    };
    Harness {
        app,
        pagerduty,
        executor,
        ledger,
        results,
    }
}

fn harness() -> Harness {
    let directory = DirectoryCertificates::new(key_and_directory().1.path());
    harness_with(settings(), Box::new(directory))
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

async fn one(h: &Harness, record: SnsRecord) -> RecordReport {
    let mut batch = h
        .app
        .handle_records(&[record], deadline())
        .await
        .expect("no retry");
    assert_eq!(batch.records.len(), 1);
    batch.records.remove(0)
}

#[tokio::test]
async fn an_alarm_runs_its_runbook_on_exactly_its_instance_and_notes_its_incident() {
    let h = harness();
    let batch = h
        .app
        .handle_records(
            &[record("m-1", &alarm_message("ALARM", INSTANCE))],
            deadline(),
        )
        .await
        .unwrap();
    // The documented answer shape.
    let answer = serde_json::to_value(&batch).unwrap();
    assert_eq!(answer["records"][0]["message_id"], "m-1");
    assert_eq!(answer["records"][0]["outcome"], "executed");
    assert!(answer["records"][0]["reason"].is_null());
    let run_id = answer["records"][0]["run_id"].as_str().unwrap().to_owned();
    let sent = h.executor.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].targets, Targets::InstanceIds(vec![INSTANCE.into()]));
    // The alarm's open incident, found by its key, gets the note.
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, "PDISK01");
    assert!(
        notes[0].1.contains("clean-disk started by"),
        "{}",
        notes[0].1
    );
    assert!(notes[0].1.contains("web-1-disk-used"), "{}", notes[0].1);
    // The results topic hears of it, naming the run and the incident.
    let published = h.results.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(published[0].incident_id.as_deref(), Some("PDISK01"));
    assert_eq!(
        h.ledger.completed("sns:m-1").map(|r| r.outcome),
        Some(Outcome::Executed)
    );
}

#[tokio::test]
async fn a_redelivered_notification_never_runs_twice() {
    let h = harness();
    let delivery = record("m-2", &alarm_message("ALARM", INSTANCE));
    assert_eq!(one(&h, delivery.clone()).await.outcome, Outcome::Executed);
    let again = one(&h, delivery).await;
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(h.executor.sent().len(), 1);
    assert_eq!(h.results.published().len(), 1, "published once");
}

#[tokio::test]
async fn a_second_notification_within_the_cooldown_is_suppressed() {
    let h = harness();
    assert_eq!(
        one(&h, record("m-3", &alarm_message("ALARM", INSTANCE)))
            .await
            .outcome,
        Outcome::Executed
    );
    let second = one(&h, record("m-4", &alarm_message("ALARM", INSTANCE))).await;
    assert_eq!(second.outcome, Outcome::Suppressed, "{second:?}");
    assert!(second.reason.unwrap().contains("cooling down"));
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn tampering_with_any_signed_field_is_rejected_before_parsing() {
    let h = harness();
    let good = record("m-5", &alarm_message("ALARM", INSTANCE));
    let mut tampered_message = good.clone();
    tampered_message.sns.message = alarm_message("ALARM", "i-0fffffffffffffff0");
    let mut tampered_time = good.clone();
    tampered_time.sns.timestamp += chrono::Duration::seconds(1);
    let mut tampered_subject = good.clone();
    tampered_subject.sns.subject = Some("hello".into());
    let mut bad_url = good.clone();
    bad_url.sns.signing_cert_url =
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem".into();
    let mut tampered_id = good.clone();
    tampered_id.sns.message_id = "m-5-replayed".into();
    let mut version_3 = good;
    version_3.sns.signature_version = "3".into();
    for record in [
        tampered_id,
        tampered_message,
        tampered_time,
        tampered_subject,
        bad_url,
        version_3,
    ] {
        let report = one(&h, record).await;
        assert_eq!(report.outcome, Outcome::Rejected, "{report:?}");
        assert!(report.reason.unwrap().starts_with("SNS signature"));
    }
    assert!(h.executor.sent().is_empty());
    assert!(
        h.ledger.records().is_empty(),
        "nothing is recorded for a forgery"
    );
}

#[tokio::test]
async fn a_topic_outside_the_allowlist_is_rejected() {
    let h = harness();
    let mut signed = SignedMessage {
        kind: "Notification".into(),
        message_id: "m-6".into(),
        topic_arn: "arn:aws:sns:eu-west-1:999999999999:someone-else".into(),
        subject: None,
        message: alarm_message("ALARM", INSTANCE),
        timestamp: remediate_sns_signature::sns_timestamp(&now()),
        signature_version: String::new(),
        signature: String::new(),
        signing_cert_url: CERT_URL.into(),
    };
    sign(&mut signed, &key_and_directory().0, SignatureVersion::V1);
    let report = one(&h, lambda_record(&signed)).await;
    assert_eq!(report.outcome, Outcome::Rejected);
    assert!(report.reason.unwrap().contains("SNS_TOPIC_ARNS"));
    assert!(h.executor.sent().is_empty());
}

/// A certificate source that cannot reach SNS.
struct Unreachable;

#[async_trait::async_trait]
impl CertificateSource for Unreachable {
    async fn fetch(&self, _url: &CertUrl) -> Result<Vec<u8>, FetchError> {
        Err(FetchError::Unavailable("connection timed out".into()))
    }
}

#[tokio::test]
async fn a_certificate_that_cannot_be_fetched_fails_the_invocation_so_lambda_retries() {
    let h = harness_with(settings(), Box::new(Unreachable));
    let failure = h
        .app
        .handle_records(
            &[record("m-7", &alarm_message("ALARM", INSTANCE))],
            deadline(),
        )
        .await
        .expect_err("retry");
    assert_eq!(failure.message_id, "m-7");
    assert!(failure.reason.contains("connection timed out"), "{failure}");
    assert!(h.executor.sent().is_empty());
    let diagnostic = lambda_runtime::Diagnostic::from(failure);
    assert_eq!(diagnostic.error_type, "RetryLater");
}

#[tokio::test]
async fn a_certificate_the_directory_lacks_is_a_rejection_not_a_retry() {
    let empty = tempfile::tempdir().unwrap();
    let h = harness_with(
        settings(),
        Box::new(DirectoryCertificates::new(empty.path())),
    );
    let report = one(&h, record("m-8", &alarm_message("ALARM", INSTANCE))).await;
    assert_eq!(report.outcome, Outcome::Rejected);
}

#[tokio::test]
async fn a_recovery_is_recorded_and_noted_never_executed() {
    let h = harness();
    for (id, state) in [("m-9", "OK"), ("m-10", "INSUFFICIENT_DATA")] {
        let report = one(&h, record(id, &alarm_message(state, INSTANCE))).await;
        assert_eq!(report.outcome, Outcome::Ignored, "{report:?}");
        assert_eq!(report.runbook.as_deref(), Some("clean-disk"));
        assert!(
            report
                .reason
                .unwrap()
                .contains("only a transition into ALARM")
        );
        assert!(
            h.ledger.completed(&format!("sns:{id}")).is_some(),
            "recorded"
        );
    }
    assert!(h.executor.sent().is_empty());
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 2);
    assert!(
        notes[0].1.contains("web-1-disk-used is OK again"),
        "{}",
        notes[0].1
    );
    assert_eq!(h.results.published().len(), 2, "recoveries are published");
    // A redelivered recovery is a duplicate: no second note.
    let again = one(&h, record("m-9", &alarm_message("OK", INSTANCE))).await;
    assert_eq!(again.outcome, Outcome::Duplicate);
    assert_eq!(h.pagerduty.notes().len(), 2);
}

#[tokio::test]
async fn the_recovery_of_an_alarm_no_runbook_watches_is_ignored_without_a_record() {
    let h = harness();
    let other = alarm_message("OK", INSTANCE).replace("web-1-disk-used", "api-latency");
    let report = one(&h, record("m-11", &other)).await;
    assert_eq!(report.outcome, Outcome::Ignored);
    assert!(report.runbook.is_none());
    assert!(h.ledger.records().is_empty());
    assert!(h.pagerduty.notes().is_empty());
}

#[tokio::test]
async fn messages_of_no_shape_we_act_on_are_ignored_with_their_reason() {
    let h = harness();
    for (id, message, expected) in [
        ("m-12", "Hello from the SNS console", "not JSON"),
        (
            "m-13",
            r#"{"greeting": "hello"}"#,
            "neither a CloudWatch alarm",
        ),
        ("m-14", "[1, 2, 3]", "neither a CloudWatch alarm"),
        (
            "m-15",
            r#"{"AlarmName": "x", "NewStateValue": "ALARM", "StateChangeTime": "yesterday"}"#,
            "invalid",
        ),
    ] {
        let report = one(&h, record(id, message)).await;
        assert_eq!(report.outcome, Outcome::Ignored, "{message}");
        let reason = report.reason.unwrap();
        assert!(reason.contains(expected), "{reason}");
    }
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn a_notification_older_than_the_age_limit_is_refused_not_run() {
    let h = harness();
    let late = record_at(
        "m-16",
        &alarm_message("ALARM", INSTANCE),
        now() - chrono::Duration::hours(3),
    );
    let report = one(&h, late).await;
    assert_eq!(report.outcome, Outcome::Refused, "{report:?}");
    assert!(report.reason.unwrap().contains("old"));
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn a_pagerduty_outage_during_the_incident_lookup_does_not_stop_the_run() {
    let h = harness();
    *h.pagerduty.fail_reads.lock().unwrap() = Some(Error::PagerDuty {
        operation: "ListIncidents",
        status: Some(503),
        message: "Service Unavailable".into(),
        transient: true,
    });
    let report = one(&h, record("m-17", &alarm_message("ALARM", INSTANCE))).await;
    assert_eq!(report.outcome, Outcome::Executed, "{report:?}");
    assert_eq!(h.executor.sent().len(), 1);
    assert!(h.pagerduty.notes().is_empty(), "no incident found, no note");
    let published = h.results.published();
    assert_eq!(
        published.len(),
        1,
        "the outcome still reaches the results topic"
    );
    assert!(published[0].incident_id.is_none());
}

#[tokio::test]
async fn a_redelivery_is_answered_from_the_ledger_without_asking_pagerduty() {
    let h = harness();
    let delivery = record("m-25", &alarm_message("ALARM", INSTANCE));
    assert_eq!(one(&h, delivery.clone()).await.outcome, Outcome::Executed);
    // Were PagerDuty asked again, this read would fail the lookup (and be consumed).
    *h.pagerduty.fail_reads.lock().unwrap() = Some(Error::PagerDuty {
        operation: "ListIncidents",
        status: Some(429),
        message: "rate limited".into(),
        transient: true,
    });
    assert_eq!(one(&h, delivery).await.outcome, Outcome::Duplicate);
    assert!(
        h.pagerduty.fail_reads.lock().unwrap().is_some(),
        "the duplicate never reached PagerDuty"
    );
}

#[tokio::test]
async fn a_record_with_too_little_time_left_is_left_to_lambdas_retry_untouched() {
    let h = harness();
    let failure = h
        .app
        .handle_records(
            &[record("m-26", &alarm_message("ALARM", INSTANCE))],
            Instant::now() + Duration::from_secs(5),
        )
        .await
        .expect_err("retry later");
    assert!(failure.reason.contains("too little time"), "{failure}");
    assert!(h.ledger.records().is_empty());
    assert!(!h.ledger.is_held("sns:m-26"));
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn one_failing_record_fails_the_event_but_the_others_are_handled_and_deduplicated() {
    let h = harness();
    let fine = record("m-18", &alarm_message("ALARM", INSTANCE));
    let other_instance = record("m-19", &alarm_message("ALARM", "i-0def4567890abc123"));
    h.executor.fail_next(vec![Error::Aws {
        service: "ssm",
        operation: "SendCommand",
        message: "ThrottlingException".into(),
        transient: true,
    }]);
    let records = [other_instance, fine];
    assert!(h.app.handle_records(&records, deadline()).await.is_err());
    // Lambda retries the whole event: the record that ran is a duplicate, the other runs now.
    let batch = h.app.handle_records(&records, deadline()).await.unwrap();
    let outcomes: Vec<_> = batch.records.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Outcome::Executed, Outcome::Duplicate]);
    assert_eq!(h.executor.sent().len(), 2);
}

#[tokio::test]
async fn with_verification_off_unsigned_records_are_read_but_the_allowlist_still_holds() {
    let mut settings = settings();
    settings.verify_signatures = false;
    let h = harness_with(settings, Box::new(Unreachable));
    let mut unsigned = record("m-20", &alarm_message("ALARM", INSTANCE));
    unsigned.sns.signature = "not-a-signature".into();
    assert_eq!(one(&h, unsigned.clone()).await.outcome, Outcome::Executed);
    unsigned.sns.topic_arn = "arn:aws:sns:eu-west-1:999999999999:other".into();
    unsigned.sns.message_id = "m-21".into();
    assert_eq!(one(&h, unsigned).await.outcome, Outcome::Rejected);
}

#[tokio::test]
async fn without_an_incident_key_template_no_incident_is_looked_up_and_the_run_still_happens() {
    let mut settings = settings();
    settings.run.incident_key = None;
    let directory = DirectoryCertificates::new(key_and_directory().1.path());
    let h = harness_with(settings, Box::new(directory));
    *h.pagerduty.fail_reads.lock().unwrap() = Some(Error::PagerDuty {
        operation: "ListIncidents",
        status: Some(503),
        message: "must not be called".into(),
        transient: true,
    });
    let report = one(&h, record("m-22", &alarm_message("ALARM", INSTANCE))).await;
    assert_eq!(report.outcome, Outcome::Executed);
    assert!(h.pagerduty.notes().is_empty(), "no incident, no note");
    assert_eq!(
        h.results.published().len(),
        1,
        "the results topic still hears"
    );
}

#[tokio::test]
async fn a_guardduty_finding_runs_the_runbook_that_matches_its_type_severity_and_resource() {
    let h = harness();
    let report = one(&h, record("m-23", GUARDDUTY)).await;
    assert_eq!(report.outcome, Outcome::Executed, "{report:?}");
    assert_eq!(report.runbook.as_deref(), Some("capture-forensics"));
    let sent = h.executor.sent();
    assert_eq!(
        sent[0].targets,
        Targets::InstanceIds(vec!["i-99999999".into()])
    );
    // A finding below the runbook's severity is of no interest to it.
    let low = GUARDDUTY.replace("\"severity\": 8", "\"severity\": 2");
    assert_ne!(low, GUARDDUTY, "the fixture's severity was replaced");
    let report = one(&h, record("m-24", &low)).await;
    assert_eq!(report.outcome, Outcome::Ignored, "{report:?}");
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn an_empty_event_is_an_empty_report() {
    let h = harness();
    let batch = h.app.handle_records(&[], deadline()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&batch).unwrap(),
        json!({ "records": [] })
    );
}

mod automation;
mod no_panic;
