//! The reconciler's work list on moto's DynamoDB: a started run is open (the sparse `by_open`
//! index) until its ending is recorded and every follow-up done, then it leaves the index.

use crate::support::*;
use chrono::{Duration, Utc};
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_core::finish::{ExecutorKind, FinalState, FollowUp, RunEnding};
use remediate_core::ledger::{ClaimResult, Ledger};
use remediate_core::outcome::Report;
use remediate_core::ports::runs::{FinishClaim, RunFinishes};
use remediate_core::trigger::{Source, Trigger};
use std::sync::Arc;

async fn started(ledger: &DynamoLedger, trigger_id: &str, executor: ExecutorKind) -> String {
    let now = Utc::now();
    let ClaimResult::Claimed(claim) = ledger
        .claim(&trigger_id.into(), now, Duration::seconds(60))
        .await
        .expect("claim")
    else {
        panic!("a fresh trigger is claimed");
    };
    let trigger = Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: trigger_id.into(),
        event_type: "incident.triggered".into(),
        action: None,
        occurred_at: now,
        incident: None,
        actor: None,
        alarm: None,
        event: None,
        workflow: None,
    };
    let handle = uuid::Uuid::new_v4().to_string();
    let mut report = Report::run(
        &trigger_id.into(),
        "restart-web",
        &format!("run-{trigger_id}").into(),
        "v1",
        "tag Role=web".into(),
    );
    report.command_id = Some(handle.clone().into());
    report.executor = Some(executor);
    ledger
        .complete(&claim, &trigger, &report, now)
        .await
        .expect("complete");
    handle
}

fn ending() -> RunEnding {
    RunEnding {
        executor: ExecutorKind::SsmAutomation,
        state: FinalState::Succeeded,
        executor_status: "Success".into(),
        finished_at: Utc::now(),
        duration_seconds: Some(5),
        summary: None,
        excerpt: None,
    }
}

#[tokio::test]
async fn a_run_is_open_until_its_ending_is_followed_up() {
    let aws = moto_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let table = unique("ledger");
    create_ledger_table(&dynamodb, &table).await;
    let ledger = Arc::new(DynamoLedger::new(dynamodb, table));
    let quiet = unique("v3");
    let noisy = unique("v3");
    started(&ledger, &quiet, ExecutorKind::SsmAutomation).await;
    started(&ledger, &noisy, ExecutorKind::Rundeck).await;
    let later = Utc::now() + Duration::seconds(5);

    let open = ledger.open_runs(later, 10).await.expect("open runs");
    let ids: Vec<&str> = open.iter().map(|run| run.trigger_id.as_str()).collect();
    assert_eq!(ids, [quiet.as_str(), noisy.as_str()], "oldest first");
    assert_eq!(
        open[0].executor,
        Some(ExecutorKind::SsmAutomation),
        "the executor is kept"
    );
    assert_eq!(open[1].executor, Some(ExecutorKind::Rundeck));
    assert!(
        ledger
            .open_runs(Utc::now() - Duration::hours(1), 10)
            .await
            .expect("read")
            .is_empty()
    );
    assert_eq!(
        ledger.open_runs(later, 1).await.expect("read").len(),
        1,
        "the limit holds"
    );

    // An ending with nothing to follow up closes the run at once.
    let claim = ledger
        .begin_finish(
            &quiet.as_str().into(),
            &ending(),
            &[],
            Utc::now(),
            Duration::seconds(60),
        )
        .await
        .expect("begin");
    assert!(matches!(claim, FinishClaim::Claimed { .. }));
    // One with a follow-up left stays open until it is done.
    let FinishClaim::Claimed { token, .. } = ledger
        .begin_finish(
            &noisy.as_str().into(),
            &ending(),
            &[FollowUp::Note],
            Utc::now(),
            Duration::seconds(60),
        )
        .await
        .expect("begin")
    else {
        panic!("claimed");
    };
    ledger
        .end_finish(
            &noisy.as_str().into(),
            &token,
            &[FollowUp::Note],
            Utc::now(),
        )
        .await
        .expect("end");
    let open = ledger.open_runs(later, 10).await.expect("open runs");
    let ids: Vec<&str> = open.iter().map(|run| run.trigger_id.as_str()).collect();
    assert_eq!(
        ids,
        [noisy.as_str()],
        "the run with a pending note is still open"
    );
    assert_eq!(open[0].pending, [FollowUp::Note]);

    let FinishClaim::Claimed { token, .. } = ledger
        .begin_finish(
            &noisy.as_str().into(),
            &ending(),
            &[],
            Utc::now() + Duration::seconds(61),
            Duration::seconds(60),
        )
        .await
        .expect("begin again")
    else {
        panic!("the pending note is claimable after the hold");
    };
    ledger
        .end_finish(&noisy.as_str().into(), &token, &[], Utc::now())
        .await
        .expect("end");
    assert!(ledger.open_runs(later, 10).await.expect("read").is_empty());
}
