use super::*;
use crate::finish::FollowUp;
use crate::ledger::RunHistory;
use crate::pipeline::finish::tests::{HANDLE, at, deadline, started_run, succeeded, world};

fn settings() -> ReconcileSettings {
    ReconcileSettings::default()
}

/// One pass with the default settings.
async fn one_pass(world: &crate::testing::FinisherWorld) -> ReconcileReport {
    world
        .finisher
        .reconcile(settings(), deadline())
        .await
        .expect("a pass")
}

#[tokio::test]
async fn an_overdue_run_gets_the_ending_its_event_never_brought() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("done"));
    world.clock.set(at(1) + chrono::Duration::minutes(20));

    let report = one_pass(&world).await;

    assert_eq!((report.looked_at, report.recorded), (1, 1), "{report:?}");
    assert_eq!(report.runs[0].result, RunCheck::Recorded);
    let notes = world.pagerduty.notes();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].1.starts_with("remediate: restart-web succeeded"),
        "{}",
        notes[0].1
    );
    // Closed: the next pass has nothing to look at.
    let again = one_pass(&world).await;
    assert_eq!(again.looked_at, 0, "{again:?}");
}

#[tokio::test]
async fn a_young_run_is_left_to_its_status_event() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("done"));
    world.clock.set(at(1) + chrono::Duration::minutes(5));

    let report = one_pass(&world).await;

    assert_eq!(report.looked_at, 0);
    assert!(world.executors.asked().is_empty());
}

#[tokio::test]
async fn a_run_still_running_is_asked_again_then_given_up_after_a_day() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    let mut running = succeeded("");
    running.state = None;
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, running);
    world.clock.set(at(1) + chrono::Duration::hours(2));

    let early = one_pass(&world).await;
    assert_eq!(early.still_running, 1, "{early:?}");
    assert!(world.pagerduty.notes().is_empty());

    world.clock.set(at(1) + chrono::Duration::hours(25));
    let late = one_pass(&world).await;

    assert_eq!(late.given_up, 1, "{late:?}");
    let run = world
        .ledger
        .run_by_handle(HANDLE)
        .await
        .expect("read")
        .expect("the run");
    assert_eq!(run.run_state, "unknown");
    let text = world.pagerduty.notes()[0].1.clone();
    assert!(
        text.starts_with("remediate: restart-web ended in an unknown state in 1 d 1 h: SSM command still reports it running after 25 h"),
        "{text}"
    );
    assert!(world.pagerduty.resolutions().is_empty());
}

#[tokio::test]
async fn a_run_that_keeps_failing_is_given_up_after_a_day() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    let throttled = || crate::Error::Aws {
        service: "ssm",
        operation: "ListCommands",
        message: "ThrottlingException".to_owned(),
        transient: true,
    };
    *world.executors.fail_next.lock().expect("lock") = Some(throttled());
    world.clock.set(at(1) + chrono::Duration::hours(2));
    let early = one_pass(&world).await;
    assert_eq!(early.failed, 1, "{early:?}");

    *world.executors.fail_next.lock().expect("lock") = Some(throttled());
    world.clock.set(at(1) + chrono::Duration::hours(25));
    let late = one_pass(&world).await;

    assert_eq!(late.given_up, 1, "{late:?}");
    let again = one_pass(&world).await;
    assert_eq!(again.looked_at, 0, "closed: {again:?}");
}

#[tokio::test]
async fn a_pending_note_is_posted_by_the_next_pass() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("done"));
    *world.pagerduty.fail_notes.lock().expect("lock") = Some(crate::Error::PagerDuty {
        operation: "CreateIncidentNote",
        status: Some(503),
        message: "unavailable".to_owned(),
        transient: true,
    });
    let first = world
        .finisher
        .finish(
            &crate::finish::Completion {
                executor: ExecutorKind::SsmCommand,
                handle: HANDLE.into(),
                reported_status: "Success".to_owned(),
                event_id: "event-1".to_owned(),
                event_time: at(43),
            },
            deadline(),
        )
        .await;
    assert!(matches!(first, Finished::Recorded(ref report) if report.left == [FollowUp::Note]));
    world.clock.set(at(1) + chrono::Duration::minutes(16));

    let report = one_pass(&world).await;

    assert_eq!(report.recorded, 1, "{report:?}");
    assert_eq!(world.pagerduty.notes().len(), 1);
    assert_eq!(world.published.published().len(), 1, "published once");
    assert_eq!(
        world.executors.asked().len(),
        1,
        "the recorded ending is not asked for again"
    );
}

#[tokio::test]
async fn a_pass_reads_at_most_its_batch() {
    let world = world();
    for n in 0..5 {
        let mut run = started_run("restart-web");
        run.trigger_id = format!("v3:event-{n}").into();
        run.command_id = Some(format!("{HANDLE}-{n}").into());
        world.ledger.insert_record(run);
    }
    world.clock.set(at(1) + chrono::Duration::hours(1));

    let report = world
        .finisher
        .reconcile(
            ReconcileSettings {
                batch: 3,
                ..settings()
            },
            deadline(),
        )
        .await
        .expect("a pass");

    assert_eq!(report.looked_at, 3);
}

mod verification {
    use super::*;
    use crate::catalog::OnFailure;
    use crate::finish::{Completion, VerifyPlan};
    use crate::ports::alarms::AlarmState;
    use crate::testing::InMemoryAlarms;
    use std::sync::Arc;

    fn alarm_run(on_failure: OnFailure) -> crate::ledger::RunRecord {
        crate::ledger::RunRecord {
            source: "cloudwatch-alarm".to_owned(),
            event_type: "ALARM".to_owned(),
            verify: Some(VerifyPlan {
                alarm: "HighCPU".to_owned(),
                settle_seconds: 120,
                on_failure,
            }),
            ..started_run("restart-web")
        }
    }

    fn completion() -> Completion {
        Completion {
            executor: ExecutorKind::SsmCommand,
            handle: HANDLE.into(),
            reported_status: "Success".to_owned(),
            event_id: "event-1".to_owned(),
            event_time: at(43),
        }
    }

    /// The run ends at at(43) (the scripted result), and the settle time is 2 min.
    async fn ended_with_verification(
        on_failure: OnFailure,
    ) -> (crate::pipeline::finish::tests::World, Arc<InMemoryAlarms>) {
        let mut world = world();
        let alarms = Arc::new(InMemoryAlarms::default());
        world.finisher.alarms = Some(alarms.clone());
        world.ledger.insert_record(alarm_run(on_failure));
        world.executors.set(
            ExecutorKind::SsmCommand,
            HANDLE,
            succeeded("cpu back to normal"),
        );
        let finished = world.finisher.finish(&completion(), deadline()).await;
        let Finished::Recorded(report) = finished else {
            panic!("recorded: {finished:?}");
        };
        assert!(
            report.left.is_empty(),
            "not due is not a failure: {report:?}"
        );
        assert_eq!(report.deferred, [FollowUp::Verify]);
        (world, alarms)
    }

    #[tokio::test]
    async fn the_alarm_is_read_after_the_settle_time_and_its_recovery_noted() {
        let (world, alarms) = ended_with_verification(OnFailure::Note).await;
        assert!(
            alarms.reads().is_empty(),
            "never read before the settle time"
        );
        assert_eq!(world.pagerduty.notes().len(), 1, "the final note only");
        assert!(
            world.pagerduty.resolutions().is_empty(),
            "resolve_on_success waits for the verification"
        );

        world.clock.set(at(43) + chrono::Duration::seconds(100));
        let early = one_pass(&world).await;
        assert_eq!(early.looked_at, 0, "not due yet: {early:?}");

        alarms.set(
            "HighCPU",
            AlarmState::Ok,
            at(43) + chrono::Duration::seconds(130),
        );
        world.clock.set(at(43) + chrono::Duration::seconds(200));
        let pass = one_pass(&world).await;

        assert_eq!(pass.recorded, 1, "{pass:?}");
        assert_eq!(alarms.reads(), ["HighCPU"]);
        let notes = world.pagerduty.notes();
        assert_eq!(
            notes[1].1,
            "remediate: restart-web succeeded; alarm HighCPU back to OK after 2 min 10 s"
        );
        assert!(world.pagerduty.escalations().is_empty());
        assert_eq!(
            world.pagerduty.resolutions().len(),
            1,
            "resolved once the fix held"
        );
        let after = one_pass(&world).await;
        assert_eq!(after.looked_at, 0, "the run is closed");
    }

    #[tokio::test]
    async fn an_alarm_still_in_alarm_escalates_when_the_runbook_says_so() {
        let (world, alarms) = ended_with_verification(OnFailure::Escalate).await;
        alarms.set("HighCPU", AlarmState::Alarm, at(0));
        world.clock.set(at(43) + chrono::Duration::minutes(5));

        let pass = one_pass(&world).await;

        assert_eq!(pass.recorded, 1, "{pass:?}");
        let notes = world.pagerduty.notes();
        assert_eq!(
            notes[1].1,
            "remediate: restart-web succeeded; alarm HighCPU still in ALARM after 5 min: escalating"
        );
        assert_eq!(world.pagerduty.escalations().len(), 1);
        assert!(
            world.pagerduty.resolutions().is_empty(),
            "a failed fix is not resolved"
        );
    }

    #[tokio::test]
    async fn an_alarm_run_without_an_incident_has_its_verdict_published() {
        let mut world = world();
        let alarms = Arc::new(InMemoryAlarms::default());
        world.finisher.alarms = Some(alarms.clone());
        world.ledger.insert_record(crate::ledger::RunRecord {
            incident_id: None,
            incident_number: None,
            ..alarm_run(OnFailure::Escalate)
        });
        world
            .executors
            .set(ExecutorKind::SsmCommand, HANDLE, succeeded("freed 2 GB"));
        let finished = world.finisher.finish(&completion(), deadline()).await;
        assert!(
            matches!(&finished, Finished::Recorded(report) if report.deferred == [FollowUp::Verify])
        );
        alarms.set("HighCPU", AlarmState::InsufficientData, at(50));
        world.clock.set(at(43) + chrono::Duration::minutes(3));

        let pass = one_pass(&world).await;

        assert_eq!(pass.recorded, 1, "{pass:?}");
        let published = world.published.published();
        let verdict = published
            .iter()
            .find_map(|message| message.verification.clone())
            .expect("the verdict is published");
        assert!(verdict.contains("INSUFFICIENT_DATA"), "{verdict}");
        assert_eq!(
            published.last().map(|message| message.subject()).as_deref(),
            Some("remediate: restart-web verified")
        );
        assert!(world.pagerduty.notes().is_empty());
        assert!(
            world.pagerduty.escalations().is_empty(),
            "no incident to escalate"
        );
    }

    #[tokio::test]
    async fn a_failed_run_is_not_verified() {
        let mut world = world();
        let alarms = Arc::new(InMemoryAlarms::default());
        world.finisher.alarms = Some(alarms.clone());
        world.ledger.insert_record(alarm_run(OnFailure::Escalate));
        let mut failed = succeeded("");
        failed.state = Some(FinalState::Failed);
        world
            .executors
            .set(ExecutorKind::SsmCommand, HANDLE, failed);

        let finished = world.finisher.finish(&completion(), deadline()).await;

        assert!(
            matches!(&finished, Finished::Recorded(report) if report.deferred.is_empty()),
            "{finished:?}"
        );
        world.clock.set(at(43) + chrono::Duration::hours(1));
        let pass = one_pass(&world).await;
        assert_eq!(pass.looked_at, 0);
        assert!(alarms.reads().is_empty());
    }

    #[tokio::test]
    async fn a_refused_escalation_and_an_unreadable_alarm_are_said_not_lost() {
        let (world, alarms) = ended_with_verification(OnFailure::Escalate).await;
        alarms.set("HighCPU", AlarmState::Alarm, at(0));
        *world.pagerduty.fail_escalations.lock().expect("lock") = Some(crate::Error::PagerDuty {
            operation: "EscalateIncident",
            status: Some(400),
            message: "Escalation level not found".to_owned(),
            transient: false,
        });
        world.clock.set(at(43) + chrono::Duration::minutes(5));

        one_pass(&world).await;

        let notes = world.pagerduty.notes();
        assert!(notes[1].1.contains("still in ALARM"), "{notes:?}");
        assert!(
            notes[2].1.contains("PagerDuty refused the escalation"),
            "{notes:?}"
        );

        let (mut world, _alarms) = ended_with_verification(OnFailure::Note).await;
        world.finisher.alarms = Some(Arc::new(UnreadableAlarms));
        world.clock.set(at(43) + chrono::Duration::minutes(5));
        let pass = one_pass(&world).await;
        assert_eq!(pass.recorded, 1, "{pass:?}");
        let text = world.pagerduty.notes()[1].1.clone();
        assert!(
            text.contains("could not be read, so the fix is not verified"),
            "{text}"
        );
    }

    /// CloudWatch refusing the role: AccessDenied, for good.
    struct UnreadableAlarms;

    #[async_trait::async_trait]
    impl crate::ports::alarms::AlarmStates for UnreadableAlarms {
        async fn alarm_state(
            &self,
            _name: &str,
        ) -> crate::Result<Option<crate::ports::alarms::AlarmReading>> {
            Err(crate::Error::Aws {
                service: "cloudwatch",
                operation: "DescribeAlarms",
                message: "AccessDenied".to_owned(),
                transient: false,
            })
        }
    }
}
