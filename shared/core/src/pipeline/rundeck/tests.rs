//! The Rundeck path of the pipeline with in-memory ports: started, refused, retried, taken over.

use super::*;
use crate::catalog::Catalog;
use crate::ledger::ClaimResult;
use crate::outcome::NoteDelivery;
use crate::testing::{
    InMemoryGuards, InMemoryLedger, InMemoryPagerDuty, ManualClock, RecordingExecutor,
    RecordingRundeck,
};
use crate::trigger::{Incident, Reference, Source};
use chrono::{DateTime, Utc};

const JOB: &str = "4c3a1e2f-7b9d-4e0a-9f51-2d7c8b6a5e31";

const CATALOG: &str = "\
version: 1
runbooks:
  - name: rollback-web
    when:
      sources: [pagerduty-v3]
      title: '^web-'
    params:
      host: { from: '{{ incident.title }}', pattern: 'web-[0-9]{1,3}' }
    guards:
      cooldown_seconds: 600
    action:
      rundeck:
        job_id: 4c3a1e2f-7b9d-4e0a-9f51-2d7c8b6a5e31
        options: { host: '{{ params.host }}' }
        filter: 'name: {{ params.host }}'
        loglevel: INFO
";

struct Harness {
    pipeline: Pipeline,
    rundeck: Arc<RecordingRundeck>,
    pagerduty: Arc<InMemoryPagerDuty>,
    ledger: Arc<InMemoryLedger>,
    clock: Arc<ManualClock>,
}

fn now() -> DateTime<Utc> {
    "2026-11-25T03:12:09Z".parse().unwrap()
}

fn harness_with(rundeck: Option<Arc<RecordingRundeck>>) -> Harness {
    let clock = Arc::new(ManualClock::new(now()));
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    let ledger = Arc::new(InMemoryLedger::default());
    let executor = Arc::new(RecordingExecutor::default());
    let recording = rundeck.clone().unwrap_or_default();
    let pipeline = Pipeline {
        settings: PipelineSettings {
            max_trigger_age: Duration::from_secs(900),
            global_dry_run: None,
            confirm_taps: true,
            bot_user_id: None,
            region: "eu-west-1".into(),
            incident_key: None,
        },
        catalogs: Arc::new(CatalogStore::fixed(
            Catalog::parse(CATALOG, "test").unwrap(),
            clock.clone(),
        )),
        kill_switch: Arc::new(KillSwitch::absent(clock.clone())),
        pagerduty: pagerduty.clone(),
        executor: executor.clone(),
        automation: executor,
        rundeck: rundeck.map(|rundeck| rundeck as Arc<dyn RundeckExecutor>),
        ledger: ledger.clone(),
        guards: Arc::new(InMemoryGuards::default()),
        clock: clock.clone(),
        results: None,
    };
    Harness {
        pipeline,
        rundeck: recording,
        pagerduty,
        ledger,
        clock,
    }
}

fn harness() -> Harness {
    harness_with(Some(Arc::new(RecordingRundeck::default())))
}

fn trigger(event_id: &str, title: &str, occurred_at: DateTime<Utc>) -> Trigger {
    Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: format!("pagerduty-v3:{event_id}").into(),
        event_type: "incident.triggered".into(),
        action: None,
        occurred_at,
        incident: Some(Incident {
            id: "PINC001".into(),
            number: Some(42),
            title: title.into(),
            status: "triggered".into(),
            service: Some(Reference {
                id: "PWEB".into(),
                name: "Web".into(),
            }),
            ..Incident::default()
        }),
        actor: None,
        alarm: None,
        event: None,
        workflow: None,
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

async fn start(h: &Harness, trigger: Trigger) -> Started {
    h.pipeline
        .start(trigger, Provenance::Signed, deadline())
        .await
}

async fn report(h: &Harness, trigger: Trigger) -> Report {
    match start(h, trigger).await {
        Started::Report(report) => report,
        other => panic!("expected a report, got {other:?}"),
    }
}

fn rundeck_error(status: u16, code: &str, transient: bool) -> Error {
    Error::Rundeck {
        operation: "RunJob",
        status: Some(status),
        error_code: Some(code.into()),
        message: format!("HTTP {status} {code}"),
        transient,
    }
}

#[tokio::test]
async fn a_started_job_is_noted_with_its_permalink_and_its_handle_recorded() {
    let h = harness();
    let report = report(&h, trigger("ev-1", "web-12", now())).await;
    assert_eq!(report.outcome, Outcome::Executed, "{report:?}");
    assert_eq!(
        report.command_id.as_deref(),
        Some("rundeck:1"),
        "the handle is prefixed"
    );
    let runs = h.rundeck.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].job_id, JOB);
    assert_eq!(runs[0].options["host"], "web-12");
    assert_eq!(runs[0].filter.as_deref(), Some("name: web-12"));
    assert_eq!(
        runs[0].options_with_run_id()["remediate_run_id"],
        report.run_id.as_deref().unwrap()
    );
    let notes = h.pagerduty.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = &notes[0].1;
    assert!(
        note.contains("rollback-web started by") && note.contains("nodes matching 'name: web-12'"),
        "{note}"
    );
    assert!(note.contains("Rundeck execution 1 (Rundeck job"), "{note}");
    assert!(
        note.contains("https://rundeck.example.com/project/ops/execution/show/1"),
        "{note}"
    );
    assert_eq!(report.note, Some(NoteDelivery::Posted));
    assert_eq!(
        h.ledger
            .completed("pagerduty-v3:ev-1")
            .and_then(|report| report.command_id),
        Some("rundeck:1".into())
    );
}

#[tokio::test]
async fn refusals_are_noted_and_give_the_cooldown_back() {
    for (status, code, words) in [
        (403, "api.error.item.unauthorized", "403"),
        (404, "api.error.item.doesnotexist", "404"),
        (409, "api.error.execution.conflict", "409"),
    ] {
        let h = harness();
        h.rundeck
            .fail_next(vec![rundeck_error(status, code, false)]);
        let report = report(&h, trigger("ev-2", "web-12", now())).await;
        assert_eq!(report.outcome, Outcome::Refused, "{status}: {report:?}");
        let reason = report.reason.clone().unwrap();
        assert!(
            reason.starts_with("Rundeck refused the job") && reason.contains(code),
            "{reason}"
        );
        assert!(report.start_error.is_some());
        let notes = h.pagerduty.notes();
        assert!(
            notes[0].1.contains("failed to start") && notes[0].1.contains(words),
            "{notes:?}"
        );
        // Nothing ran: the same runbook on the same node is not held back by the cooldown.
        let next = self::report(&h, trigger("ev-3", "web-12", now())).await;
        assert_eq!(next.outcome, Outcome::Executed, "{status}: {next:?}");
        assert_eq!(h.rundeck.runs().len(), 1);
    }
}

#[tokio::test]
async fn a_transient_failure_asks_for_a_retry_which_runs_once() {
    let h = harness();
    h.rundeck.fail_next(vec![rundeck_error(503, "", true)]);
    let failed = start(&h, trigger("ev-4", "web-12", now())).await;
    assert!(
        matches!(
            &failed,
            Started::Retry(Retry::Transient(Error::Rundeck {
                status: Some(503),
                ..
            }))
        ),
        "{failed:?}"
    );
    assert!(h.rundeck.runs().is_empty());
    assert!(h.pagerduty.notes().is_empty(), "no note for a retry");
    // The claim and the cooldown were given back: the sender's retry runs the job.
    let retried = report(&h, trigger("ev-4", "web-12", now())).await;
    assert_eq!(retried.outcome, Outcome::Executed, "{retried:?}");
    assert_eq!(h.rundeck.runs().len(), 1);
}

#[tokio::test]
async fn a_takeover_reports_the_execution_its_predecessor_started() {
    let h = harness();
    let event = trigger("ev-5", "web-12", now());
    // A first delivery claimed the trigger, ran the job and died before recording it.
    let ClaimResult::Claimed(_) = h
        .ledger
        .claim(&event.dedupe_id, now(), CLAIM_HOLD)
        .await
        .unwrap()
    else {
        panic!("first claim")
    };
    let plan_request = RundeckRequest {
        job_id: JOB.into(),
        options: [("host".to_owned(), "web-12".to_owned())].into(),
        run_id: decision::run_id(&event.dedupe_id, "rollback-web"),
        loglevel: None,
        filter: Some("name: web-12".into()),
        as_user: None,
    };
    h.rundeck.run_job(&plan_request).await.unwrap();
    // The sender's retry comes after the hold expired.
    h.clock.advance(CLAIM_HOLD + chrono::Duration::seconds(1));
    let report = report(&h, event).await;
    assert_eq!(report.outcome, Outcome::Executed, "{report:?}");
    assert_eq!(report.command_id.as_deref(), Some("rundeck:1"));
    assert_eq!(
        h.rundeck.runs().len(),
        1,
        "the job was not run a second time"
    );
    assert!(h.pagerduty.notes()[0].1.contains("Rundeck execution 1"));
}

#[tokio::test]
async fn a_takeover_that_finds_nothing_runs_the_job() {
    let h = harness();
    let event = trigger("ev-6", "web-12", now());
    let ClaimResult::Claimed(_) = h
        .ledger
        .claim(&event.dedupe_id, now(), CLAIM_HOLD)
        .await
        .unwrap()
    else {
        panic!("first claim")
    };
    h.clock.advance(CLAIM_HOLD + chrono::Duration::seconds(1));
    assert_eq!(report(&h, event).await.outcome, Outcome::Executed);
    assert_eq!(h.rundeck.runs().len(), 1);
}

#[tokio::test]
async fn a_lost_answer_is_looked_for_and_a_failed_search_holds_the_claim() {
    let h = harness();
    let lost = Error::Ambiguous {
        service: "rundeck",
        operation: "RunJob",
        message: "timed out after sending".into(),
    };
    h.rundeck.lose_next_answer(lost.clone());
    let report = report(&h, trigger("ev-7", "web-12", now())).await;
    assert_eq!(report.outcome, Outcome::Executed, "found: {report:?}");
    assert_eq!(h.rundeck.runs().len(), 1);

    // The answer is lost and the search fails too: the claim is held, nothing is given back.
    h.rundeck.lose_next_answer(lost);
    h.rundeck.fail_next_find(rundeck_error(503, "", true));
    let held = start(&h, trigger("ev-8", "web-13", now())).await;
    assert!(
        matches!(
            held,
            Started::Retry(Retry::Transient(Error::Ambiguous { .. }))
        ),
        "{held:?}"
    );
    assert!(h.ledger.is_held("pagerduty-v3:ev-8"));
}

#[tokio::test]
async fn without_rundeck_configured_a_rundeck_runbook_is_refused_with_a_note() {
    let h = harness_with(None);
    let report = report(&h, trigger("ev-9", "web-12", now())).await;
    assert_eq!(report.outcome, Outcome::Refused, "{report:?}");
    assert!(
        report.reason.as_deref().unwrap().contains("RUNDECK_URL"),
        "{report:?}"
    );
    assert!(
        h.pagerduty.notes()[0]
            .1
            .contains("Rundeck is not configured")
    );
    assert!(h.rundeck.runs().is_empty());
}
