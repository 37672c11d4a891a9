//! An alarm storm must not become a restart storm: 10,000 notifications for one instance within a
//! minute, delivered concurrently, against moto's DynamoDB (single-threaded, so its conditional
//! writes behave as DynamoDB's do). One run per cooldown window; every other notification is
//! recorded as suppressed with its reason; nothing is dropped.

use crate::support::emulated::*;
use crate::support::*;
use chrono::{Duration, Utc};
use pagerduty_webhook::WebhookApp;
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_core::catalog::Catalog;
use remediate_core::ledger::RunHistory;
use remediate_core::testing::ManualClock;
use remediate_core::trigger::{Alarm, Source, Trigger};
use std::collections::HashMap;
use std::sync::Arc;

const NOTIFICATIONS: usize = 10_000;
const CONCURRENCY: usize = 16;
const WINDOWS: usize = 3;

fn alarm(n: usize, instance: &str, at: chrono::DateTime<Utc>) -> Trigger {
    Trigger {
        source: Source::CloudwatchAlarm,
        dedupe_id: format!("sns:storm-{n}").into(),
        event_type: "ALARM".into(),
        action: None,
        occurred_at: at,
        incident: None,
        actor: None,
        alarm: Some(Alarm {
            name: "web-1-disk-used".into(),
            state: "ALARM".into(),
            namespace: Some("CWAgent".into()),
            metric: Some("disk_used_percent".into()),
            dimensions: [("InstanceId".to_owned(), instance.to_owned())].into(),
            ..Alarm::default()
        }),
        event: None,
        workflow: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_alarms_make_one_run_per_cooldown_window() {
    let base = world(true).await;
    let instance = base.instances[0].clone();
    let catalog = Catalog::parse(
        "version: 1
runbooks:
  - name: storm-clean-disk
    when: { sources: [cloudwatch-alarm], alarm: { name: '*-disk-used' } }
    params:
      instance: { from: '{{ alarm.dimensions.InstanceId }}', pattern: 'i-[0-9a-f]{8,17}' }
    guards: { cooldown_seconds: 20 }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: ['{{ params.instance }}'] }
        parameters: { commands: [journalctl --vacuum-size=200M] }
",
        "storm",
    )
    .unwrap();
    let start = Utc::now();
    let clock = Arc::new(ManualClock::new(start));
    let mut app = Arc::try_unwrap(base.app)
        .ok()
        .expect("the world's app is not shared yet");
    app.pipeline.catalogs = Arc::new(remediate_core::catalog_store::CatalogStore::fixed(
        catalog,
        clock.clone(),
    ));
    app.pipeline.clock = clock.clone();
    let app: Arc<WebhookApp> = Arc::new(app);

    // Three 20-second windows within one minute; each window's share arrives concurrently.
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    let per_window = NOTIFICATIONS / WINDOWS + 1;
    for window in 0..WINDOWS {
        let at = start + Duration::seconds(20 * window as i64);
        clock.set(at);
        let first = window * per_window;
        let last = ((window + 1) * per_window).min(NOTIFICATIONS);
        let mut workers = tokio::task::JoinSet::new();
        for worker in 0..CONCURRENCY {
            let (app, instance) = (app.clone(), instance.clone());
            workers.spawn(async move {
                let mut seen = Vec::new();
                for n in (first + worker..last).step_by(CONCURRENCY) {
                    let reply = app
                        .handle_trigger(alarm(n, &instance, at), std::time::Duration::from_secs(30))
                        .await;
                    seen.push((
                        reply.status,
                        reply.body["outcome"].as_str().unwrap_or("none").to_owned(),
                    ));
                }
                seen
            });
        }
        while let Some(result) = workers.join_next().await {
            for (status, outcome) in result.unwrap() {
                assert!(
                    status == 200 || status == 202,
                    "unexpected status {status} ({outcome})"
                );
                *outcomes.entry(outcome).or_default() += 1;
            }
        }
    }
    assert_eq!(outcomes.get("executed"), Some(&WINDOWS), "{outcomes:?}");
    assert_eq!(
        outcomes.get("suppressed"),
        Some(&(NOTIFICATIONS - WINDOWS)),
        "{outcomes:?}"
    );
    assert_eq!(outcomes.values().sum::<usize>(), NOTIFICATIONS);

    // SSM received exactly one command per window. The other emulator tests share moto and run
    // alongside (moto lists every instance on a command sent by instance id, and resolves tag
    // targets loosely), so the storm's commands are told apart by their correlation comment,
    // which names the storm's own runbook, on every page.
    let pages: Vec<_> = base
        .ssm
        .list_commands()
        .max_results(50)
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    let ours = pages
        .iter()
        .flat_map(|page| page.commands())
        .filter(|command| {
            command.instance_ids().contains(&instance)
                && command
                    .comment()
                    .is_some_and(|comment| comment.contains("storm-clean-disk"))
        })
        .count();
    let on_instance: Vec<_> = pages
        .iter()
        .flat_map(|page| page.commands())
        .filter(|command| command.instance_ids().contains(&instance))
        .map(|command| command.comment().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ours, WINDOWS, "commands on {instance}: {on_instance:?}");

    // The ledger holds a record of every notification, each suppression with its reason.
    let aws = moto_config().await;
    let ledger = DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&aws),
        app.settings.run.ledger_table.clone(),
    );
    let records = ledger
        .runs_for_runbook(
            "storm-clean-disk",
            start - Duration::minutes(1),
            start + Duration::minutes(2),
        )
        .await
        .unwrap();
    assert_eq!(records.len(), NOTIFICATIONS);
    let suppressed: Vec<_> = records
        .iter()
        .filter(|record| record.run_state == "suppressed")
        .collect();
    assert_eq!(suppressed.len(), NOTIFICATIONS - WINDOWS);
    assert!(suppressed.iter().all(|record| {
        record
            .reason
            .as_deref()
            .is_some_and(|reason| reason.contains("cooling down"))
    }));
}
