use super::*;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use remediate_core::finish::{ExecutorKind, FinalState, RunResult, TargetCounts, TargetResult};
use remediate_core::ledger::RunRecord;
use remediate_core::testing::{InMemoryLedger, InMemoryPagerDuty, ScriptedRunResults};
use serde_json::json;
use std::sync::Arc;

const COMMAND_SUCCESS: &str = include_str!("../../../events/execution/command-success.json");
const COMMAND_FAILED: &str = include_str!("../../../events/execution/command-failed.json");
const COMMAND_IN_PROGRESS: &str =
    include_str!("../../../events/execution/command-in-progress.json");
const COMMAND_INVOCATION: &str = include_str!("../../../events/execution/command-invocation.json");
const AUTOMATION_SUCCESS: &str = include_str!("../../../events/execution/automation-success.json");
const AUTOMATION_TIMED_OUT: &str =
    include_str!("../../../events/execution/automation-timed-out-nnbsp.json");

/// The command and execution ids of AWS's samples.
const COMMAND_ID: &str = "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b";
const EXECUTION_ID: &str = "333ba70b-2333-48db-b17e-a5e69c6f4d1c";

const CATALOG: &str = r#"
version: 1
custom_actions:
  restart-web:
    label: Restart web tier
runbooks:
  - name: restart-web
    when: { sources: [pagerduty-action], actions: [restart-web] }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: web } }
        parameters: { commands: ["systemctl restart nginx"] }
"#;

struct Harness {
    app: EventsApp,
    ledger: Arc<InMemoryLedger>,
    pagerduty: Arc<InMemoryPagerDuty>,
    executors: Arc<ScriptedRunResults>,
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .unwrap_or_default()
}

fn harness() -> Harness {
    let world = remediate_core::testing::finisher_world(CATALOG, at("2016-07-10T21:52:00Z"));
    Harness {
        app: EventsApp {
            finisher: Finisher {
                region: "us-east-2".to_owned(),
                ..world.finisher
            },
        },
        ledger: world.ledger,
        pagerduty: world.pagerduty,
        executors: world.executors,
    }
}

fn run_started_with(handle: &str) -> RunRecord {
    RunRecord {
        source: "pagerduty-action".to_owned(),
        event_type: "restart-web".to_owned(),
        actor: Some("Alice (PALICE1)".to_owned()),
        ..remediate_core::testing::started_run(
            "action:tap-1",
            "restart-web",
            "run-7",
            ExecutorKind::SsmCommand,
            handle.into(),
            at("2016-07-10T21:51:30Z"),
        )
    }
}

fn command_result(state: FinalState, status: &str) -> RunResult {
    RunResult {
        state: Some(state),
        executor_status: status.to_owned(),
        started_at: Some(at("2016-07-10T21:51:30Z")),
        finished_at: Some(at("2016-07-10T21:51:32Z")),
        run_id: Some("run-7".into()),
        counts: Some(TargetCounts {
            total: 1,
            succeeded: u32::from(state == FinalState::Succeeded),
        }),
        targets: vec![TargetResult {
            target: "i-abcd1111".to_owned(),
            status: status.to_owned(),
            exit_code: Some(if state == FinalState::Succeeded { 0 } else { 1 }),
            output: Some("nginx: active".to_owned()),
            error_output: None,
        }],
        ..RunResult::default()
    }
}

impl Harness {
    /// The function's answer to a sample event.
    async fn answer(&self, sample: &str) -> EventReport {
        self.app
            .handle_event(&event(sample), deadline())
            .await
            .expect("answered")
    }

    /// The retry the function asks Lambda for.
    async fn retried(&self, sample: &str) -> RetryLater {
        self.app
            .handle_event(&event(sample), deadline())
            .await
            .expect_err("Lambda must retry")
    }
}

fn event(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("a sample event is JSON")
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

#[tokio::test]
async fn awss_command_sample_ends_our_run_with_a_note() {
    let h = harness();
    h.ledger.insert_record(run_started_with(COMMAND_ID));
    h.executors.set(
        ExecutorKind::SsmCommand,
        COMMAND_ID,
        command_result(FinalState::Succeeded, "Success"),
    );

    let report = h.answer(COMMAND_SUCCESS).await;

    assert_eq!(
        serde_json::to_value(&report).expect("serialises"),
        json!({
            "event_id": "51c0891d-0e34-45b1-83d6-95db273d1602",
            "outcome": "recorded",
            "run_id": "run-7",
            "runbook": "restart-web",
            "run_state": "succeeded",
        })
    );
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .1
            .starts_with("remediate: restart-web succeeded in 2 s: 1/1 instances succeeded."),
        "{}",
        notes[0].1
    );
    assert_eq!(
        h.executors.asked(),
        vec![(ExecutorKind::SsmCommand, COMMAND_ID.to_owned())]
    );
}

#[tokio::test]
async fn the_same_ending_delivered_twice_is_a_duplicate() {
    let h = harness();
    h.ledger.insert_record(run_started_with(COMMAND_ID));
    h.executors.set(
        ExecutorKind::SsmCommand,
        COMMAND_ID,
        command_result(FinalState::Failed, "Failed"),
    );
    let first = h.answer(COMMAND_FAILED).await;
    assert_eq!(first.outcome, EventOutcome::Recorded);
    assert_eq!(first.run_state.as_deref(), Some("failed"));

    let second = h.answer(COMMAND_FAILED).await;

    assert_eq!(second.outcome, EventOutcome::Duplicate);
    assert_eq!(h.pagerduty.notes().len(), 1);
}

#[tokio::test]
async fn a_status_that_is_not_final_asks_nobody() {
    let h = harness();
    h.ledger.insert_record(run_started_with(COMMAND_ID));

    let report = h.answer(COMMAND_IN_PROGRESS).await;

    assert_eq!(report.outcome, EventOutcome::Ignored);
    assert_eq!(
        report.reason.as_deref(),
        Some("status InProgress is not final")
    );
    assert!(h.executors.asked().is_empty());
}

#[tokio::test]
async fn per_instance_events_and_other_shapes_are_ignored_with_their_reason() {
    let h = harness();
    for (input, expected) in [
        (
            event(COMMAND_INVOCATION),
            "not an SSM command or automation status change",
        ),
        (json!({"Records": []}), "no source and detail-type"),
        (json!([1, 2]), "not an EventBridge event"),
        (json!(null), "not an EventBridge event"),
    ] {
        let report = h
            .app
            .handle_event(&input, deadline())
            .await
            .expect("answered");
        assert_eq!(report.outcome, EventOutcome::Ignored);
        let reason = report.reason.unwrap_or_default();
        assert!(reason.contains(expected), "{input}: {reason}");
    }
    assert!(h.pagerduty.notes().is_empty());
}

#[tokio::test]
async fn an_automation_ending_is_read_with_its_odd_times() {
    let h = harness();
    h.ledger.insert_record(run_started_with(EXECUTION_ID));
    h.executors.set(
        ExecutorKind::SsmAutomation,
        EXECUTION_ID,
        RunResult {
            state: Some(FinalState::TimedOut),
            executor_status: "TimedOut".to_owned(),
            failure: Some("Step timed out while step is verifying the command".to_owned()),
            ..RunResult::default()
        },
    );

    let report = h.answer(AUTOMATION_TIMED_OUT).await;

    assert_eq!(report.outcome, EventOutcome::Recorded);
    assert_eq!(report.run_state.as_deref(), Some("timed_out"));
    let text = h.pagerduty.notes()[0].1.clone();
    // The event's EndTime (7:53:20 PM, written with a narrow no-break space) is the end, since
    // the executor gave none: a duration measured from the run's start.
    assert!(
        text.starts_with("remediate: restart-web timed out in "),
        "{text}"
    );
    assert!(text.contains("SSM Automation execution 333ba70b"), "{text}");
    assert!(text.contains("Failure: Step timed out"), "{text}");
    assert!(
        text.contains("/systems-manager/automation/execution/"),
        "{text}"
    );
}

#[tokio::test]
async fn an_ending_of_another_tools_run_is_ignored() {
    let h = harness();
    let mut foreign = command_result(FinalState::Succeeded, "Success");
    foreign.run_id = None;
    h.executors
        .set(ExecutorKind::SsmAutomation, EXECUTION_ID, foreign);

    let report = h.answer(AUTOMATION_SUCCESS).await;

    assert_eq!(report.outcome, EventOutcome::Ignored);
    assert_eq!(
        report.reason.as_deref(),
        Some("not a run remediate started")
    );
}

#[tokio::test]
async fn a_note_that_fails_for_now_fails_the_invocation_and_stays_pending() {
    let h = harness();
    h.ledger.insert_record(run_started_with(COMMAND_ID));
    h.executors.set(
        ExecutorKind::SsmCommand,
        COMMAND_ID,
        command_result(FinalState::Succeeded, "Success"),
    );
    *h.pagerduty.fail_notes.lock().expect("lock") = Some(remediate_core::Error::PagerDuty {
        operation: "CreateIncidentNote",
        status: Some(429),
        message: "rate limited".to_owned(),
        transient: true,
    });

    let failed = h.retried(COMMAND_SUCCESS).await;
    assert!(failed.reason.contains("not done yet: note"), "{failed}");

    // Lambda's retry delivers the same event: the note, and only it, is done now.
    let retried = h.answer(COMMAND_SUCCESS).await;
    assert_eq!(retried.outcome, EventOutcome::Recorded);
    assert_eq!(h.pagerduty.notes().len(), 1);
}

#[tokio::test]
async fn an_ending_before_its_start_is_recorded_is_retried() {
    let h = harness();
    h.executors.set(
        ExecutorKind::SsmCommand,
        COMMAND_ID,
        command_result(FinalState::Succeeded, "Success"),
    );

    let failed = h.retried(COMMAND_SUCCESS).await;

    assert!(failed.reason.contains("not recorded yet"), "{failed}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No input panics: a real sample with one field replaced by a hostile value gets an answer
    /// with its reason, or a retry with its cause.
    #[test]
    fn no_event_panics(
        replaced in prop::sample::select(vec![
            "/id", "/time", "/source", "/detail-type", "/detail", "/detail/command-id",
            "/detail/status", "/detail/ExecutionId", "/detail/Status", "/detail/EndTime",
        ]),
        value in remediate_core::testing::hostile::hostile_value(),
        automation in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let h = harness();
        h.ledger.insert_record(run_started_with(COMMAND_ID));
        let mut input = event(if automation { AUTOMATION_SUCCESS } else { COMMAND_SUCCESS });
        if let Some(slot) = input.pointer_mut(replaced) {
            *slot = value;
        }
        // Every answer says why: an ignored event its reason, a retry its cause.
        match runtime.block_on(h.app.handle_event(&input, deadline())) {
            Ok(report) => prop_assert!(
                report.outcome != EventOutcome::Ignored
                    || report.reason.as_deref().is_some_and(|reason| !reason.is_empty()),
                "{report:?}"
            ),
            Err(retry) => prop_assert!(!retry.reason.is_empty()),
        }
    }
}
