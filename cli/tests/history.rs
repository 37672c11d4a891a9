//! `remediate history` against moto's DynamoDB (started by scripts/test).

use chrono::Utc;
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_core::ledger::{ClaimResult, Ledger};
use remediate_core::outcome::{Outcome, Report};
use remediate_core::trigger::{Actor, Incident, Source, Trigger};
use std::process::Command;

fn moto_url() -> String {
    std::env::var("REMEDIATE_TEST_MOTO_URL")
        .expect("REMEDIATE_TEST_MOTO_URL is not set: the moto server is not running. Run the tests with scripts/test.")
}

fn aws_env(command: &mut Command) -> &mut Command {
    command
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
}

#[tokio::test]
async fn history_prints_a_postmortem_timeline() {
    // SAFETY of the process environment is not at stake: the SDK here reads explicit config.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .http_client(
            remediate_adapters::tls::SharedTls::process()
                .unwrap()
                .sdk_http_client(),
        )
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("history-{}", Utc::now().timestamp_nanos_opt().unwrap());
    remediate_adapters::aws::ledger::create_table(&client, &table)
        .await
        .unwrap();
    let ledger = DynamoLedger::new(client, table.clone());
    let trigger = Trigger {
        source: Source::PagerDutyAction,
        dedupe_id: "pagerduty-action:history-1".into(),
        event_type: "incident.custom".into(),
        action: Some("restart-web".into()),
        occurred_at: Utc::now(),
        incident: Some(Incident {
            id: "PHIST01".into(),
            number: Some(9),
            title: "Web down".into(),
            status: "triggered".into(),
            ..Incident::default()
        }),
        actor: Some(Actor {
            id: "PALICE1".into(),
            name: "Alice Oncall".into(),
            kind: "user_reference".into(),
            unconfirmed: false,
        }),
        alarm: None,
        event: None,
        workflow: None,
    };
    let ClaimResult::Claimed(claim) = ledger
        .claim(
            &trigger.dedupe_id,
            Utc::now(),
            chrono::Duration::seconds(60),
        )
        .await
        .unwrap()
    else {
        panic!("claim")
    };
    let mut report = Report::new(Outcome::Executed, None);
    report.runbook = Some("restart-web".into());
    report.run_id = Some("928bac18-77b0-576c-b4e5-78519e0eb321".into());
    report.command_id = Some("5df73574-5cac-4342-83ab-9cd76931badf".into());
    report.targets = Some("tag:Role=web".into());
    ledger
        .complete(&claim, &trigger, &report, Utc::now())
        .await
        .unwrap();

    let output = aws_env(&mut Command::new(env!("CARGO_BIN_EXE_remediate")))
        .args(["history", "--table", &table, "--incident", "PHIST01"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        text.starts_with("## Automated actions on incident PHIST01"),
        "{text}"
    );
    assert!(text.contains("| restart-web | executed (started) | Alice Oncall (PALICE1) | tag:Role=web | SSM command 5df73574"), "{text}");

    let output = aws_env(&mut Command::new(env!("CARGO_BIN_EXE_remediate")))
        .args([
            "history",
            "--table",
            &table,
            "--runbook",
            "restart-web",
            "--json",
        ])
        .output()
        .unwrap();
    let records: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(records.as_array().unwrap().len(), 1, "{records}");
    assert_eq!(records[0]["incident_id"], "PHIST01");
}
