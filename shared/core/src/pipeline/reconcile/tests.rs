use super::*;
use crate::finish::FollowUp;
use crate::ledger::RunHistory;
use crate::pipeline::finish::tests::{HANDLE, at, deadline, started_run, succeeded, world};

fn settings() -> ReconcileSettings {
    ReconcileSettings::default()
}

#[tokio::test]
async fn an_overdue_run_gets_the_ending_its_event_never_brought() {
    let world = world();
    world.ledger.insert_record(started_run("restart-web"));
    world
        .executors
        .set(ExecutorKind::SsmCommand, HANDLE, succeeded("done"));
    world.clock.set(at(1) + chrono::Duration::minutes(20));

    let report = world
        .finisher
        .reconcile(settings(), deadline())
        .await
        .expect("a pass");

    assert_eq!((report.looked_at, report.recorded), (1, 1), "{report:?}");
    assert_eq!(report.runs[0].result, "recorded");
    let notes = world.pagerduty.notes();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].1.starts_with("remediate: restart-web succeeded"),
        "{}",
        notes[0].1
    );
    // Closed: the next pass has nothing to look at.
    let again = world
        .finisher
        .reconcile(settings(), deadline())
        .await
        .expect("a pass");
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

    let report = world
        .finisher
        .reconcile(settings(), deadline())
        .await
        .expect("a pass");

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

    let early = world
        .finisher
        .reconcile(settings(), deadline())
        .await
        .expect("a pass");
    assert_eq!(early.still_running, 1, "{early:?}");
    assert!(world.pagerduty.notes().is_empty());

    world.clock.set(at(1) + chrono::Duration::hours(25));
    let late = world
        .finisher
        .reconcile(settings(), deadline())
        .await
        .expect("a pass");

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

    let report = world
        .finisher
        .reconcile(settings(), deadline())
        .await
        .expect("a pass");

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
