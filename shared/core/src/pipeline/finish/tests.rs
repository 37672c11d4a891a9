use super::*;
use crate::finish::TargetCounts;
use crate::ledger::RunHistory;
use chrono::{DateTime, Duration, Utc};
use std::time::Duration as StdDuration;

const CATALOG: &str = r#"
version: 1
runbooks:
  - name: restart-web
    when: { sources: [pagerduty-v3] }
    params:
      token:
        from: "{{ incident.title }}"
        pattern: "^tok-[0-9]{4}$"
        secret: true
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: web } }
        parameters: { commands: ["echo {{ params.token }}"] }
    report:
      resolve_on_success: true
  - name: quiet
    when: { sources: [pagerduty-v3] }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: web } }
        parameters: { commands: ["true"] }
    report:
      note_on_finish: false
      publish: false
"#;

pub(crate) const HANDLE: &str = "11111111-2222-3333-4444-555555555555";

pub(crate) fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
}

pub(crate) type World = crate::testing::FinisherWorld;

pub(crate) fn world() -> World {
    crate::testing::finisher_world(CATALOG, at(60))
}

pub(crate) fn started_run(runbook: &str) -> RunRecord {
    crate::testing::started_run(
        "v3:event-1",
        runbook,
        "run-1",
        ExecutorKind::SsmCommand,
        HANDLE.into(),
        at(1),
    )
}

fn completion() -> Completion {
    Completion {
        executor: ExecutorKind::SsmCommand,
        handle: HANDLE.into(),
        reported_status: "Success".to_owned(),
        event_id: "event-9".to_owned(),
        event_time: at(43),
    }
}

pub(crate) fn succeeded(output: &str) -> RunResult {
    RunResult {
        state: Some(FinalState::Succeeded),
        executor_status: "Success".to_owned(),
        started_at: Some(at(1)),
        finished_at: Some(at(43)),
        run_id: Some("run-1".into()),
        counts: Some(TargetCounts {
            total: 3,
            succeeded: 3,
        }),
        targets: vec![TargetResult {
            target: "i-0abc".to_owned(),
            status: "Success".to_owned(),
            exit_code: Some(0),
            output: Some(output.to_owned()),
            error_output: None,
        }],
        ..RunResult::default()
    }
}

pub(crate) fn deadline() -> Instant {
    Instant::now() + StdDuration::from_secs(10)
}

fn recorded(finished: Finished) -> FinishReport {
    match finished {
        Finished::Recorded(report) => report,
        other => panic!("expected the ending to be recorded, got {other:?}"),
    }
}

#[tokio::test]
async fn a_command_that_succeeded_is_noted_recorded_resolved_and_published() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world.executors.set(
        ExecutorKind::SsmCommand,
        HANDLE,
        succeeded("nginx restarted\nactive"),
    );

    let report = recorded(world.finisher.finish(&completion(), deadline()).await);

    assert_eq!(report.state, FinalState::Succeeded);
    assert!(report.left.is_empty());
    let notes = world.pagerduty.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (incident, text) = &notes[0];
    assert_eq!(incident, "PINC001");
    let first_line = text.lines().next().unwrap_or_default();
    assert_eq!(
        first_line,
        "remediate: restart-web succeeded in 42 s: 3/3 instances succeeded."
    );
    assert!(
        text.contains(&format!("SSM command {HANDLE}: Success.")),
        "{text}"
    );
    assert!(text.contains("- i-0abc: Success (exit 0)"), "{text}");
    assert!(text.contains("[i-0abc]\nnginx restarted\nactive"), "{text}");
    assert!(
        text.contains(&format!(
            "https://eu-west-1.console.aws.amazon.com/systems-manager/run-command/{HANDLE}"
        )),
        "{text}"
    );
    let resolutions = world.pagerduty.resolutions();
    assert_eq!(resolutions.len(), 1);
    assert!(
        resolutions[0].1.contains("restart-web succeeded"),
        "{resolutions:?}"
    );
    let published = world.published.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].run_state, "succeeded");
    assert_eq!(published[0].subject(), "remediate: restart-web succeeded");
    let run = world
        .ledger
        .run_by_handle(HANDLE)
        .await
        .expect("read")
        .expect("the run");
    assert_eq!(run.run_state, "succeeded");
    let ending = run.ending.expect("an ending");
    assert_eq!(ending.duration_seconds, Some(42));
    assert!(run.pending.is_empty());
}

#[tokio::test]
async fn the_output_of_a_runbook_gone_from_the_catalog_is_not_shown() {
    let world = world();
    world.ledger.insert_record(started_run("retired"));
    world.executors.set(
        ExecutorKind::SsmCommand,
        HANDLE,
        succeeded("tok-9999 in the output"),
    );

    recorded(world.finisher.finish(&completion(), deadline()).await);

    let text = world.pagerduty.notes()[0].1.clone();
    assert!(!text.contains("tok-9999"), "{text}");
    assert!(!text.contains("Output"), "{text}");
}

#[tokio::test]
async fn a_resolve_left_pending_is_not_done_long_after_the_run() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("ok"));
    *world.pagerduty.fail_reads.lock().expect("lock") = Some(Error::PagerDuty {
        operation: "GetIncident",
        status: Some(503),
        message: "unavailable".to_owned(),
        transient: true,
    });
    let first = recorded(world.finisher.finish(&completion(), deadline()).await);
    assert_eq!(first.left, [FollowUp::Resolve]);

    world.clock.set(at(43) + chrono::Duration::hours(2));
    let later = recorded(world.finisher.finish(&completion(), deadline()).await);

    assert!(later.left.is_empty(), "{later:?}");
    assert!(
        world.pagerduty.resolutions().is_empty(),
        "too late to resolve"
    );
}

#[tokio::test]
async fn a_redelivered_ending_changes_nothing() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("ok"));
    recorded(world.finisher.finish(&completion(), deadline()).await);

    let again = world.finisher.finish(&completion(), deadline()).await;

    assert!(matches!(again, Finished::Duplicate(_)), "{again:?}");
    assert_eq!(world.pagerduty.notes().len(), 1);
    assert_eq!(world.pagerduty.resolutions().len(), 1);
    assert_eq!(world.published.published().len(), 1);
}

#[tokio::test]
async fn a_failed_note_is_left_pending_and_the_next_delivery_posts_only_it() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("ok"));
    *world.pagerduty.fail_notes.lock().expect("lock") = Some(Error::PagerDuty {
        operation: "CreateIncidentNote",
        status: Some(503),
        message: "unavailable".to_owned(),
        transient: true,
    });

    let first = recorded(world.finisher.finish(&completion(), deadline()).await);

    assert_eq!(first.left, vec![FollowUp::Note]);
    assert!(world.pagerduty.notes().is_empty());
    assert_eq!(world.published.published().len(), 1);
    let pending = world.ledger.run_by_handle(HANDLE).await.expect("read");
    assert_eq!(pending.map(|run| run.pending), Some(vec![FollowUp::Note]));

    let second = recorded(world.finisher.finish(&completion(), deadline()).await);

    assert!(second.left.is_empty());
    assert_eq!(world.pagerduty.notes().len(), 1);
    assert_eq!(world.pagerduty.resolutions().len(), 1, "resolved once");
    assert_eq!(world.published.published().len(), 1, "published once");
}

#[tokio::test]
async fn a_failed_run_is_not_resolved_and_its_errors_are_quoted() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    let mut result = succeeded("");
    result.state = Some(FinalState::Failed);
    result.executor_status = "Failed".to_owned();
    result.counts = Some(TargetCounts {
        total: 3,
        succeeded: 2,
    });
    result.targets = vec![
        TargetResult {
            target: "i-0ok".to_owned(),
            status: "Success".to_owned(),
            exit_code: Some(0),
            output: Some("fine".to_owned()),
            error_output: None,
        },
        TargetResult {
            target: "i-0bad".to_owned(),
            status: "Failed".to_owned(),
            exit_code: Some(3),
            output: Some("starting".to_owned()),
            error_output: Some("nginx: [emerg] bind() failed".to_owned()),
        },
    ];
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, result);

    let report = recorded(world.finisher.finish(&completion(), deadline()).await);

    assert_eq!(report.state, FinalState::Failed);
    assert!(world.pagerduty.resolutions().is_empty());
    let text = world.pagerduty.notes()[0].1.clone();
    assert!(
        text.starts_with("remediate: restart-web failed in 42 s: 2/3 instances succeeded."),
        "{text}"
    );
    assert!(text.contains("- i-0bad: Failed (exit 3)"), "{text}");
    assert!(text.contains("- … and 1 more"), "{text}");
    assert!(
        text.contains("[i-0bad]\nnginx: [emerg] bind() failed"),
        "{text}"
    );
}

#[tokio::test]
async fn secret_parameters_and_key_shapes_never_reach_the_note_or_the_ledger() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world.executors.set(
        ExecutorKind::SsmCommand,
        HANDLE,
        succeeded("token tok-1234 used\naws key AKIAIOSFODNN7EXAMPLE\npassword=hunter2"),
    );

    recorded(world.finisher.finish(&completion(), deadline()).await);

    let text = world.pagerduty.notes()[0].1.clone();
    for secret in ["tok-1234", "AKIAIOSFODNN7EXAMPLE", "hunter2"] {
        assert!(!text.contains(secret), "{secret} in the note: {text}");
    }
    assert!(text.contains("token [redacted] used"), "{text}");
    let run = world.ledger.run_by_handle(HANDLE).await.expect("read");
    let excerpt = run
        .and_then(|run| run.ending)
        .and_then(|ending| ending.excerpt);
    assert!(excerpt.is_some_and(|excerpt| !excerpt.contains("tok-1234")));
}

#[tokio::test]
async fn a_runbook_that_asks_for_no_follow_ups_gets_only_its_ending_recorded() {
    let world = world();
    world.ledger.insert_record(started_run("quiet"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("ok"));

    let report = recorded(world.finisher.finish(&completion(), deadline()).await);

    assert_eq!(report.state, FinalState::Succeeded);
    assert!(world.pagerduty.notes().is_empty());
    assert!(world.published.published().is_empty());
    let run = world.ledger.run_by_handle(HANDLE).await.expect("read");
    assert_eq!(run.map(|run| run.run_state).as_deref(), Some("succeeded"));
}

#[tokio::test]
async fn an_already_resolved_incident_is_not_resolved_again() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    if let Some(incident) = world
        .pagerduty
        .incidents
        .lock()
        .expect("lock")
        .get_mut("PINC001")
    {
        incident.status = "resolved".to_owned();
    }
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("ok"));

    recorded(world.finisher.finish(&completion(), deadline()).await);

    assert!(world.pagerduty.resolutions().is_empty());
    assert_eq!(world.pagerduty.notes().len(), 1);
}

#[tokio::test]
async fn another_tools_command_is_ignored() {
    let world = world();
    let mut foreign = succeeded("ok");
    foreign.run_id = None;
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, foreign);

    let finished = world.finisher.finish(&completion(), deadline()).await;

    assert!(matches!(finished, Finished::Ignored(_)), "{finished:?}");
    assert!(world.pagerduty.notes().is_empty());
}

#[tokio::test]
async fn our_command_that_ended_before_its_start_was_recorded_is_retried() {
    let world = world();
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("ok"));

    let finished = world.finisher.finish(&completion(), deadline()).await;

    assert!(
        matches!(&finished, Finished::Retry(error) if error.is_transient()),
        "{finished:?}"
    );
}

#[tokio::test]
async fn an_executor_that_still_says_running_is_asked_again_later() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    let mut running = succeeded("");
    running.state = None;
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, running);

    let finished = world.finisher.finish(&completion(), deadline()).await;

    assert!(matches!(finished, Finished::StillRunning), "{finished:?}");
    let run = world.ledger.run_by_handle(HANDLE).await.expect("read");
    assert_eq!(run.map(|run| run.run_state).as_deref(), Some("started"));
    assert!(world.pagerduty.notes().is_empty());
}

#[tokio::test]
async fn a_run_its_executor_no_longer_knows_ends_as_unknown() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));

    let report = recorded(world.finisher.finish(&completion(), deadline()).await);

    assert_eq!(report.state, FinalState::Unknown);
    let text = world.pagerduty.notes()[0].1.clone();
    assert!(
        text.starts_with("remediate: restart-web ended in an unknown state"),
        "{text}"
    );
    assert!(text.contains("Failure: "), "{text}");
    assert!(world.pagerduty.resolutions().is_empty());
}

#[tokio::test]
async fn a_throttled_executor_records_nothing() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    *world.executors.fail_next.lock().expect("lock") = Some(Error::Aws {
        service: "ssm",
        operation: "ListCommands",
        message: "ThrottlingException".to_owned(),
        transient: true,
    });

    let finished = world.finisher.finish(&completion(), deadline()).await;

    assert!(matches!(finished, Finished::Retry(_)), "{finished:?}");
    let run = world.ledger.run_by_handle(HANDLE).await.expect("read");
    assert!(run.is_some_and(|run| run.ending.is_none()));
}

#[tokio::test]
async fn an_executor_we_cannot_ask_for_our_own_fault_records_nothing() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    // The executor's token is unreadable: fixing the deployment ends the run with its real state.
    *world.executors.fail_next.lock().expect("lock") = Some(Error::SecretUnreadable {
        parameter: "/remediate/rundeck-token".to_owned(),
        message: "ParameterNotFound".to_owned(),
    });

    let finished = world.finisher.finish(&completion(), deadline()).await;

    assert!(matches!(finished, Finished::Retry(_)), "{finished:?}");
    let run = world.ledger.run_by_handle(HANDLE).await.expect("read");
    assert!(run.is_some_and(|run| run.ending.is_none()));
    assert!(world.pagerduty.notes().is_empty());
}

#[tokio::test]
async fn a_follow_up_held_by_another_delivery_is_retried_later() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    let ending = RunEnding {
        executor: ExecutorKind::SsmCommand,
        state: FinalState::Succeeded,
        executor_status: "Success".to_owned(),
        finished_at: at(43),
        duration_seconds: Some(42),
        summary: None,
        excerpt: None,
    };
    // Another delivery recorded the ending and holds the follow-ups right now.
    let held = world
        .ledger
        .begin_finish(
            &"v3:event-1".into(),
            &ending,
            &[FollowUp::Note],
            at(60),
            Duration::seconds(120),
        )
        .await
        .expect("claim");
    assert!(matches!(held, FinishClaim::Claimed { .. }));

    let finished = world.finisher.finish(&completion(), deadline()).await;

    assert!(matches!(finished, Finished::Retry(_)), "{finished:?}");
    assert!(world.pagerduty.notes().is_empty());
}
