//! The pipeline with the real Rundeck executor against the stub: a takeover whose predecessor
//! ran the job finds that execution by its run id and sends no second run.

use super::*;
use remediate_core::catalog::Catalog;
use remediate_core::catalog_store::CatalogStore;
use remediate_core::decision::run_id;
use remediate_core::kill_switch::KillSwitch;
use remediate_core::ledger::{ClaimResult, Ledger};
use remediate_core::outcome::Outcome;
use remediate_core::pipeline::{CLAIM_HOLD, Pipeline, PipelineSettings, Provenance, Started};
use remediate_core::testing::{
    InMemoryGuards, InMemoryLedger, InMemoryPagerDuty, ManualClock, RecordingExecutor,
};
use remediate_core::trigger::{Incident, Reference, Source, Trigger};
use tokio::time::Instant;

const CATALOG: &str = "\
version: 1
runbooks:
  - name: rollback-web
    when:
      sources: [pagerduty-v3]
      title: '^web-'
    params:
      host: { from: '{{ incident.title }}', pattern: 'web-[0-9]{1,3}' }
    action:
      rundeck:
        job_id: 7400ff98-31c4-4834-ba3d-aee9646e867f
        options: { host: '{{ params.host }}' }
";

fn trigger(now: chrono::DateTime<chrono::Utc>) -> Trigger {
    Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: "pagerduty-v3:ev-takeover".into(),
        event_type: "incident.triggered".into(),
        action: None,
        occurred_at: now,
        incident: Some(Incident {
            id: "PINC001".into(),
            title: "web-12".into(),
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

#[tokio::test]
async fn a_takeover_reports_the_execution_rundeck_already_runs_and_posts_no_second_run() {
    let server = MockServer::start().await;
    let base = server.uri();
    let now: chrono::DateTime<chrono::Utc> = "2026-11-25T03:12:09Z".parse().unwrap();
    let trigger = trigger(now);
    let run_id = run_id(&trigger.dedupe_id, "rollback-web");
    Mock::given(method("GET"))
        .and(path(format!("/api/41/job/{JOB}/executions")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "paging": { "count": 1, "total": 1, "offset": 0, "max": 50 },
            "executions": [execution(
                402,
                json!({ "host": "web-12", "remediate_run_id": run_id.as_str() }),
                &format!("-host web-12 -remediate_run_id {run_id}"),
                &base,
            )]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": 403 })))
        .expect(0)
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new(now));
    let ledger = Arc::new(InMemoryLedger::default());
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    let executor = Arc::new(RecordingExecutor::default());
    // The first delivery claimed the trigger, ran the job, and died before recording it.
    let ClaimResult::Claimed(_) = ledger
        .claim(&trigger.dedupe_id, now, CLAIM_HOLD)
        .await
        .unwrap()
    else {
        panic!("first claim")
    };
    clock.advance(CLAIM_HOLD + chrono::Duration::seconds(1));
    let pipeline = Pipeline {
        settings: PipelineSettings {
            max_trigger_age: Duration::from_secs(900),
            global_dry_run: None,
            confirm_taps: true,
            bot_user_id: None,
            region: "us-east-1".into(),
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
        rundeck: Some(Arc::new(rundeck(&base, 41))),
        ledger: ledger.clone(),
        guards: Arc::new(InMemoryGuards::default()),
        clock,
        results: None,
    };
    let started = pipeline
        .start(
            trigger,
            Provenance::Signed,
            Instant::now() + Duration::from_secs(10),
        )
        .await;
    let Started::Report(report) = started else {
        panic!("expected a report, got {started:?}")
    };
    assert_eq!(report.outcome, Outcome::Executed, "{report:?}");
    assert_eq!(report.command_id.as_deref(), Some("rundeck:402"));
    let notes = pagerduty.notes();
    assert!(
        notes[0]
            .1
            .contains(&format!("{base}/project/ops/execution/show/402")),
        "{notes:?}"
    );
    // `expect(0)` on the run and `expect(1)` on the search are checked when the server drops.
}
