//! The sns-alarm function wired to every real adapter on the emulators: signed notifications in,
//! Run Command on moto's SSM against exactly the alarm's instance, the ledger on moto's DynamoDB,
//! the results topic on moto's SNS (read back through a subscribed SQS queue), PagerDuty on Prism.

use crate::support::*;
use aws_lambda_events::sns::SnsRecord;
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_adapters::aws::results_topic::SnsResults;
use remediate_adapters::aws::secrets::ParameterStoreSecrets;
use remediate_adapters::config::{AlarmSettings, RunSettings};
use remediate_adapters::executors::{SsmAutomationExecutor, SsmCommandExecutor};
use remediate_adapters::pagerduty::HttpPagerDuty;
use remediate_core::catalog::Catalog;
use remediate_core::catalog_store::CatalogStore;
use remediate_core::clock::SystemClock;
use remediate_core::kill_switch::KillSwitch;
use remediate_core::ledger::RunHistory;
use remediate_core::outcome::Outcome;
use remediate_core::pipeline::Pipeline;
use remediate_core::template::Template;
use remediate_sns_signature::testing::{CERT_FILE_NAME, CERT_URL, sign, test_certificate};
use remediate_sns_signature::{DirectoryCertificates, SignatureVersion, SignedMessage, Verifier};
use sns_alarm::{AlarmApp, Authentication};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:remediate-alarms";

struct AlarmWorld {
    app: AlarmApp,
    key: String,
    _certificates: tempfile::TempDir,
    ssm: aws_sdk_ssm::Client,
    ledger: DynamoLedger,
    results_queue: String,
    instance: String,
}

async fn alarm_world() -> AlarmWorld {
    let aws = moto_config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let sns = aws_sdk_sns::Client::new(&aws);
    let instance = run_tagged_instances(1, "Role", &unique("disk"))
        .await
        .remove(0);
    let prefix = unique("/remediate-alarm");
    put_secure_parameter(&ssm, &format!("{prefix}/api-token"), "y_NbAkKc66ryYTWUXYEu").await;
    let table = unique("ledger");
    create_ledger_table(&dynamodb, &table).await;
    let topic = sns
        .create_topic()
        .name(unique("results"))
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("arn");
    let (results_queue, queue_arn) = sqs_queue(&unique("results-subscriber")).await;
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("Subscribe");
    let now = chrono::Utc::now();
    let (certificate, key) = test_certificate(
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(1),
    );
    let certificates = tempfile::tempdir().expect("temp dir");
    std::fs::write(certificates.path().join(CERT_FILE_NAME), certificate).expect("write PEM");
    let catalog = Catalog::parse(
        "version: 1
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
      max_targets: 1
      cooldown_seconds: 600
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets:
          instance_ids: ['{{ params.instance }}']
        parameters:
          commands: [journalctl --vacuum-size=200M]
",
        "emulated",
    )
    .expect("catalog");
    let settings = AlarmSettings {
        verify_signatures: true,
        topic_allowlist: vec![TOPIC.into()],
        run: RunSettings {
            api_token_parameter: format!("{prefix}/api-token"),
            from_email: "remediate-bot@example.com".into(),
            api_url: prism_url(),
            ledger_table: table.clone(),
            max_trigger_age: Duration::from_secs(900),
            global_dry_run: None,
            region: REGION.into(),
            results_topic_arn: Some(topic.clone()),
            incident_key: Some(Template::parse("{{ alarm.arn }}").expect("template")),
            rundeck: None,
        },
    };
    let secrets = Arc::new(ParameterStoreSecrets::new(
        ssm.clone(),
        Duration::from_secs(60),
    ));
    let pagerduty = HttpPagerDuty::new(
        &settings.run.api_url,
        settings.run.from_email.clone(),
        secrets,
        settings.run.api_token_parameter.clone(),
    )
    .expect("client");
    let ledger = Arc::new(DynamoLedger::new(dynamodb.clone(), table.clone()));
    let app = AlarmApp {
        pipeline: Pipeline {
            settings: settings.run.pipeline(false, None),
            catalogs: Arc::new(CatalogStore::fixed(catalog, Arc::new(SystemClock))),
            kill_switch: Arc::new(KillSwitch::absent(Arc::new(SystemClock))),
            pagerduty: Arc::new(pagerduty),
            executor: Arc::new(SsmCommandExecutor::new(ssm.clone())),
            automation: Arc::new(SsmAutomationExecutor::new(ssm.clone())),
            rundeck: None,
            ledger: ledger.clone(),
            guards: ledger,
            clock: Arc::new(SystemClock),
            results: Some(Arc::new(SnsResults::new(sns, topic))),
        },
        authentication: Authentication::Verify(Verifier::new(Box::new(
            DirectoryCertificates::new(certificates.path()),
        ))),
        settings,
    };
    AlarmWorld {
        app,
        key,
        _certificates: certificates,
        ssm,
        ledger: DynamoLedger::new(dynamodb, table),
        results_queue,
        instance,
    }
}

fn alarm(state: &str, instance: &str) -> String {
    serde_json::json!({
        "AlarmName": "web-1-disk-used",
        "AlarmDescription": null,
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed",
        "StateChangeTime": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-1-disk-used",
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": "disk_used_percent",
            "Namespace": "CWAgent",
            "Dimensions": [{ "value": instance, "name": "InstanceId" }]
        }
    })
    .to_string()
}

fn signed_record(world: &AlarmWorld, message_id: &str, message: &str) -> SnsRecord {
    let mut signed = SignedMessage {
        kind: "Notification".into(),
        message_id: message_id.into(),
        topic_arn: TOPIC.into(),
        subject: Some("ALARM: \"web-1-disk-used\" in US East (N. Virginia)".into()),
        message: message.into(),
        timestamp: remediate_sns_signature::sns_timestamp(&chrono::Utc::now()),
        signature_version: String::new(),
        signature: String::new(),
        signing_cert_url: CERT_URL.into(),
    };
    sign(&mut signed, &world.key, SignatureVersion::V1);
    serde_json::from_value(serde_json::json!({
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{TOPIC}:0b7e1c2d-0000-4000-8000-000000000001"),
        "Sns": {
            "Type": signed.kind, "MessageId": signed.message_id, "TopicArn": signed.topic_arn,
            "Subject": signed.subject, "Message": signed.message, "Timestamp": signed.timestamp,
            "SignatureVersion": signed.signature_version, "Signature": signed.signature,
            "SigningCertUrl": signed.signing_cert_url,
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {}
        }
    }))
    .expect("a Lambda SNS record")
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

#[tokio::test]
async fn a_signed_alarm_runs_on_its_instance_is_recorded_and_published_once() {
    let world = alarm_world().await;
    let message_id = uuid::Uuid::new_v4().to_string();
    let delivery = signed_record(&world, &message_id, &alarm("ALARM", &world.instance));
    let batch = world
        .app
        .handle_records(std::slice::from_ref(&delivery), deadline())
        .await
        .expect("no retry");
    let report = &batch.records[0];
    assert_eq!(report.outcome, Outcome::Executed, "{report:?}");
    let run_id = report.run_id.clone().expect("run id");

    // SSM received exactly one command, for exactly the alarm's instance.
    let commands = world
        .ssm
        .list_commands()
        .send()
        .await
        .expect("ListCommands")
        .commands
        .unwrap_or_default();
    let ours: Vec<_> = commands
        .iter()
        .filter(|command| {
            command
                .comment()
                .unwrap_or_default()
                .contains(run_id.as_str())
        })
        .collect();
    assert_eq!(ours.len(), 1, "{commands:?}");
    // Sent as InstanceIds, never as tag targets. (moto then lists every instance it has: with
    // no Targets, its `_get_instance_ids_from_targets` matches all reservations; real SSM runs on
    // the ids given. The unit tests pin the exact request.)
    assert!(ours[0].targets().is_empty(), "{:?}", ours[0]);
    assert!(
        ours[0].instance_ids().contains(&world.instance),
        "{:?}",
        ours[0]
    );

    // Lambda redelivers the event: a duplicate, nothing sent again.
    let again = world
        .app
        .handle_records(&[delivery], deadline())
        .await
        .expect("no retry");
    assert_eq!(again.records[0].outcome, Outcome::Duplicate);

    // The ledger has the run; the results topic had one message for it.
    let runs = world
        .ledger
        .runs_for_runbook(
            "clean-disk",
            chrono::Utc::now() - chrono::Duration::hours(1),
            chrono::Utc::now() + chrono::Duration::hours(1),
        )
        .await
        .expect("history");
    assert!(
        runs.iter()
            .any(|run| run.run_id.as_deref() == Some(run_id.as_str())),
        "{runs:?}"
    );
    let published = sqs_drain(&world.results_queue).await;
    assert_eq!(published.len(), 1, "{published:?}");
    let envelope: serde_json::Value = serde_json::from_str(&published[0]).expect("SNS envelope");
    assert_eq!(
        envelope["MessageAttributes"]["outcome"]["Value"],
        "executed"
    );
    assert!(
        envelope["Message"]
            .as_str()
            .unwrap_or_default()
            .contains(run_id.as_str())
    );
}

#[tokio::test]
async fn a_recovery_is_recorded_in_the_ledger_and_published_but_nothing_runs() {
    let world = alarm_world().await;
    let message_id = uuid::Uuid::new_v4().to_string();
    let batch = world
        .app
        .handle_records(
            &[signed_record(
                &world,
                &message_id,
                &alarm("OK", &world.instance),
            )],
            deadline(),
        )
        .await
        .expect("no retry");
    assert_eq!(batch.records[0].outcome, Outcome::Ignored);
    assert_eq!(batch.records[0].runbook.as_deref(), Some("clean-disk"));
    assert!(batch.records[0].run_id.is_none(), "no run");
    let runs = world
        .ledger
        .runs_for_runbook(
            "clean-disk",
            chrono::Utc::now() - chrono::Duration::hours(1),
            chrono::Utc::now() + chrono::Duration::hours(1),
        )
        .await
        .expect("history");
    assert_eq!(runs.len(), 1, "the recovery is on the timeline: {runs:?}");
    assert_eq!(runs[0].outcome, Outcome::Ignored);
    assert!(
        runs[0].command_id.is_none() && runs[0].run_id.is_none(),
        "nothing was sent: {runs:?}"
    );
    let published = sqs_drain(&world.results_queue).await;
    assert_eq!(published.len(), 1);
}

#[tokio::test]
async fn a_forged_notification_is_rejected_and_leaves_no_trace() {
    let world = alarm_world().await;
    let mut forged = signed_record(&world, "forged-1", &alarm("ALARM", &world.instance));
    forged.sns.message = alarm("ALARM", "i-0123456789abcdef0");
    let batch = world
        .app
        .handle_records(&[forged], deadline())
        .await
        .expect("a forgery is final, not retried");
    assert_eq!(batch.records[0].outcome, Outcome::Rejected);
    assert!(sqs_drain(&world.results_queue).await.is_empty());
    let runs = world
        .ledger
        .runs_for_runbook(
            "clean-disk",
            chrono::Utc::now() - chrono::Duration::hours(1),
            chrono::Utc::now() + chrono::Duration::hours(1),
        )
        .await
        .expect("history");
    assert!(runs.is_empty(), "nothing recorded for a forgery: {runs:?}");
}
