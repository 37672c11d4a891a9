//! The ledger as people read it after an incident: every automated action on the incident, in
//! order, from the run records the function wrote (moto's DynamoDB, with the template's indexes).

use crate::support::emulated::*;
use crate::support::*;
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_adapters::pagerduty::signature::sign;
use remediate_core::ledger::{RunHistory, timeline_markdown};

#[tokio::test]
async fn an_incident_timeline_lists_every_automated_action() {
    let world = world(false).await;
    // A tap runs restart-web; a webhook runs diagnose-api; both on incident PGR0VU2.
    let tap = tap_body(&unique("msg"));
    let (status, tapped) = send(
        &world.app,
        post(
            "/actions/restart-web",
            &tap,
            &[("x-remediate-token", ACTION_TOKEN.into())],
        ),
    )
    .await;
    assert_eq!(status, 202, "{tapped}");
    let webhook = v3_body(&unique("ev"));
    let (status, diagnosed) = send(
        &world.app,
        post(
            "/",
            &webhook,
            &[(
                "x-pagerduty-signature",
                sign(SIGNING_SECRET, webhook.as_bytes()),
            )],
        ),
    )
    .await;
    assert_eq!(status, 202, "{diagnosed}");

    let aws = moto_config().await;
    let ledger = DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&aws),
        world.app.settings.run.ledger_table.clone(),
    );
    let records = ledger.runs_for_incident("PGR0VU2").await.unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0].runbook.as_deref(), Some("restart-web"));
    assert_eq!(
        records[0].actor.as_deref(),
        // The tap ran with confirmation off (Prism cannot know of taps): the record says so.
        Some("Earline Greenholt (PXPGF42, unconfirmed)")
    );
    assert_eq!(records[0].run_state, "started");
    assert_eq!(
        records[0].catalog_version.as_deref(),
        Some(world.app.pipeline.catalogs.current().await.version.as_str())
    );
    assert_eq!(records[1].runbook.as_deref(), Some("diagnose-api"));
    assert!(records[0].decided_at <= records[1].decided_at);

    // A completion event names only the command: the handle index finds its run.
    let command_id = diagnosed["command_id"].as_str().unwrap();
    let run = ledger
        .run_by_handle(command_id)
        .await
        .unwrap()
        .expect("run found by its command id");
    assert_eq!(run.run_id.as_deref(), diagnosed["run_id"].as_str());

    let now = chrono::Utc::now();
    let by_runbook = ledger
        .runs_for_runbook(
            "restart-web",
            now - chrono::Duration::hours(1),
            now + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(by_runbook.len(), 1);
    let in_range = ledger
        .runs_between(
            now - chrono::Duration::hours(1),
            now + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(in_range.len(), 2);

    let markdown = timeline_markdown("Automated actions on incident PGR0VU2", "ledger", &records);
    assert!(
        markdown.starts_with("## Automated actions on incident PGR0VU2\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "| restart-web | executed (started) | Earline Greenholt (PXPGF42, unconfirmed) | tag:Role="
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("SSM command {command_id}")),
        "{markdown}"
    );
    assert!(markdown.contains("2 record(s)"), "{markdown}");
}

#[tokio::test]
async fn a_mark_is_used_once_by_one_owner_on_dynamodb() {
    use remediate_core::ledger::Ledger;
    let aws = moto_config().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let table = unique("marks");
    create_ledger_table(&client, &table).await;
    let ledger = DynamoLedger::new(client, table);
    let now = chrono::Utc::now();
    let key = "pagerduty-log-entry:RLOG1";
    assert!(
        ledger
            .mark_once(key, &"pagerduty-action:m1".into(), now)
            .await
            .unwrap()
    );
    assert!(
        ledger
            .mark_once(key, &"pagerduty-action:m1".into(), now)
            .await
            .unwrap(),
        "a redelivery of its owner"
    );
    assert!(
        !ledger
            .mark_once(key, &"pagerduty-action:m2".into(), now)
            .await
            .unwrap(),
        "a replay under another id"
    );
}
