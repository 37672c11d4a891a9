//! A warm invocation of the webhook path, without the network: the Function URL event Lambda
//! hands the function (`events/webhook/v3-incident-triggered.json`, signed, with a new event id
//! each time) is turned into a request by lambda_http and answered by the function's own
//! handler: verify, parse, decide, claim, execute, note, complete, publish. The ports are the
//! in-memory ones of remediate-core's `testing` feature; the catalog is the built-in one; log
//! lines are formatted as on Lambda (JSON, INFO) into a sink. Target: under 1 ms.
//!
//! Every invocation prints its EMF metric line on stdout, as on Lambda; filter them out of the
//! report: `cargo bench -p pagerduty-webhook --bench warm_invocation | grep -v '"_aws"'`.

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lambda_http::tracing::subscriber;
use lambda_http::{Body, Request};
use pagerduty_webhook::WebhookApp;
use remediate_adapters::config::{RunSettings, WebhookSettings};
use remediate_adapters::pagerduty::signature;
use remediate_core::catalog::Catalog;
use remediate_core::catalog_store::CatalogStore;
use remediate_core::clock::SystemClock;
use remediate_core::kill_switch::KillSwitch;
use remediate_core::pipeline::Pipeline;
use remediate_core::secrets::StaticSecrets;
use remediate_core::testing::{
    InMemoryGuards, InMemoryLedger, InMemoryPagerDuty, ManualClock, RecordingExecutor,
    RecordingPublisher,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const SAMPLE: &str = include_str!("../../../events/webhook/v3-incident-triggered.json");
const SAMPLE_EVENT_ID: &str = "01HV3TRIGGERED0000000000001";
const SAMPLE_TIME: &str = "2026-11-25T03:12:07Z";
const SECRET: &str = "remediate-demo-signing-secret";

struct World {
    app: WebhookApp,
    executor: Arc<RecordingExecutor>,
    pagerduty: Arc<InMemoryPagerDuty>,
    results: Arc<RecordingPublisher>,
}

fn world() -> World {
    let at: DateTime<Utc> = SAMPLE_TIME.parse().expect("sample time");
    let executor = Arc::new(RecordingExecutor::default());
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    let results = Arc::new(RecordingPublisher::default());
    let settings = WebhookSettings {
        webhook_secrets_parameter: Some("/remediate/webhook-secrets".into()),
        action_token_parameter: Some("/remediate/action-token".into()),
        action_token_header: "x-remediate-token".into(),
        confirm_taps: true,
        bot_user_id: Some("PREMEDIATE".into()),
        run: RunSettings {
            api_token_parameter: "/remediate/api-token".into(),
            from_email: "bot@example.com".into(),
            api_url: "http://127.0.0.1:9".into(),
            ledger_table: "unused".into(),
            max_trigger_age: Duration::from_secs(900),
            global_dry_run: None,
            region: "eu-west-1".into(),
            results_topic_arn: Some("arn:aws:sns:eu-west-1:111122223333:results".into()),
            incident_key: None,
            rundeck: None,
        },
    };
    let app = WebhookApp {
        pipeline: Pipeline {
            settings: settings.pipeline(),
            catalogs: Arc::new(CatalogStore::fixed(
                Catalog::built_in().expect("built-in catalog"),
                Arc::new(SystemClock),
            )),
            kill_switch: Arc::new(KillSwitch::absent(Arc::new(SystemClock))),
            pagerduty: pagerduty.clone(),
            executor: executor.clone(),
            automation: executor.clone(),
            rundeck: None,
            ledger: Arc::new(InMemoryLedger::default()),
            guards: Arc::new(InMemoryGuards::default()),
            clock: Arc::new(ManualClock::new(at + chrono::Duration::seconds(5))),
            results: Some(results.clone()),
        },
        settings,
        secrets: Arc::new(StaticSecrets::new([
            ("/remediate/webhook-secrets", SECRET),
            ("/remediate/action-token", "remediate-demo-action-token"),
            ("/remediate/api-token", "unused"),
        ])),
    };
    World {
        app,
        executor,
        pagerduty,
        results,
    }
}

/// The sample Function URL event with event id `id`, signed again.
fn function_url_event(id: &str) -> String {
    let mut event: serde_json::Value = serde_json::from_str(SAMPLE).expect("sample event");
    let body = event["body"]
        .as_str()
        .expect("sample body")
        .replace(SAMPLE_EVENT_ID, id);
    event["headers"]["x-pagerduty-signature"] = signature::sign(SECRET, body.as_bytes()).into();
    event["body"] = body.into();
    event.to_string()
}

/// What Lambda's runtime does with an invocation's payload, then the function's handler.
async fn invoke(app: &WebhookApp, event: &str) -> u16 {
    let request: Request = lambda_http::request::from_str(event).expect("Function URL event");
    let response = app.handle(request).await;
    assert!(matches!(response.body(), Body::Text(_)));
    response.status().as_u16()
}

fn benches(c: &mut Criterion) {
    // As on Lambda (the template sets LogFormat: JSON): JSON lines at INFO, here into a sink.
    subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(subscriber::filter::LevelFilter::INFO)
        .json()
        .with_writer(std::io::sink)
        .init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let world = world();
    let next_id = AtomicU64::new(0);
    let fresh_event = || {
        let n = next_id.fetch_add(1, Ordering::Relaxed);
        // The recordings of the in-memory ports grow with every run: keep them small.
        if n.is_multiple_of(1024) {
            world.executor.sent.lock().expect("sent").clear();
            world.pagerduty.notes.lock().expect("notes").clear();
            world.results.published.lock().expect("published").clear();
        }
        function_url_event(&format!("01HBENCH{n:018}"))
    };
    assert_eq!(runtime.block_on(invoke(&world.app, &fresh_event())), 202);
    assert_eq!(
        world.executor.sent().len(),
        1,
        "the sample runs its runbook"
    );

    let mut group =
        c.benchmark_group("warm invocation, v3 webhook (Function URL event in, answer out)");
    group.bench_function(
        "executed: verify, parse, decide, claim, execute, note, complete",
        |b| {
            b.iter_batched(
                &fresh_event,
                |event| runtime.block_on(invoke(&world.app, &event)),
                BatchSize::SmallInput,
            )
        },
    );
    let duplicate = function_url_event("01HBENCHDUPLICATE");
    assert_eq!(runtime.block_on(invoke(&world.app, &duplicate)), 202);
    group.bench_function(
        "duplicate delivery: verify, parse, decide, claim refused",
        |b| b.iter(|| runtime.block_on(invoke(&world.app, &duplicate))),
    );
    group.finish();
}

criterion_group! {
    name = warm_invocation;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(warm_invocation);
