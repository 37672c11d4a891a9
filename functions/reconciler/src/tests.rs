use super::*;
use chrono::{DateTime, Utc};
use remediate_core::finish::{ExecutorKind, FinalState, RunResult};
use remediate_core::testing::{InMemoryLedger, InMemoryPagerDuty, ScriptedRunResults, started_run};
use std::sync::Arc;

const HANDLE: &str = "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .unwrap_or_default()
}

struct Harness {
    app: ReconcilerApp,
    ledger: Arc<InMemoryLedger>,
    pagerduty: Arc<InMemoryPagerDuty>,
    executors: Arc<ScriptedRunResults>,
}

fn harness() -> Harness {
    let world = remediate_core::testing::finisher_world(
        "version: 1\nrunbooks: []\n",
        at("2026-12-02T09:00:00Z"),
    );
    Harness {
        app: ReconcilerApp {
            finisher: world.finisher,
            settings: ReconcileSettings::default(),
        },
        ledger: world.ledger,
        pagerduty: world.pagerduty,
        executors: world.executors,
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

#[tokio::test]
async fn a_pass_ends_the_overdue_runs_and_says_what_it_did() {
    let h = harness();
    // Its runbook is gone from the catalog since: the ending is noted with the defaults.
    h.ledger.insert_record(started_run(
        "action:tap-1",
        "retired-runbook",
        "run-1",
        ExecutorKind::SsmCommand,
        HANDLE.into(),
        at("2026-12-02T08:00:00Z"),
    ));
    h.ledger.insert_record(started_run(
        "action:tap-2",
        "restart-web",
        "run-2",
        ExecutorKind::SsmCommand,
        "f00dfeed-71f7-4491-898f-c9b35bee5f3b".into(),
        at("2026-12-02T08:55:00Z"),
    ));
    h.executors.set(
        ExecutorKind::SsmCommand,
        HANDLE,
        RunResult {
            state: Some(FinalState::Failed),
            executor_status: "Failed".to_owned(),
            ..RunResult::default()
        },
    );

    let report = h.app.pass(deadline()).await.expect("a pass");

    // The run of 08:55 is younger than 15 minutes: left to its status event.
    assert_eq!(report.looked_at, 1, "{report:?}");
    assert_eq!(report.recorded, 1);
    assert_eq!(report.runs[0].run_state, Some(FinalState::Failed));
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["runs"][0]["result"], "recorded");
    assert_eq!(json["runs"][0]["run_id"], "run-1");
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].1.starts_with("remediate: retired-runbook failed"),
        "{}",
        notes[0].1
    );
}

#[tokio::test]
async fn an_empty_ledger_is_a_quiet_pass() {
    let h = harness();
    let report = h.app.pass(deadline()).await.expect("a pass");
    assert_eq!(report, ReconcileReport::default());
    assert!(h.executors.asked().is_empty());
}
