//! The hot path of every event: verify, parse and normalise, decide. Targets (this machine):
//! verification of a 3 KB body under 5 µs; the whole decision path of a 3 KB webhook under
//! 20 µs at 1,000 runbooks, growing sub-linearly with the catalog.
//!
//! The catalogs are the adversarial shape for an index on source alone: every runbook shares one
//! source and event type and differs by service and title pattern, and the trigger matches the
//! last runbook (a linear scan's worst case).

use chrono::{DateTime, Duration, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use remediate_adapters::pagerduty::custom_action;
use remediate_adapters::pagerduty::signature::{SignatureCheck, sign, verify};
use remediate_adapters::pagerduty::webhook_v3::{self, V3Event};
use remediate_core::catalog::Catalog;
use remediate_core::decision::{Decision, DecisionContext, decide};
use remediate_core::guards::NoHistory;
use remediate_core::secrets::Secret;
use std::hint::black_box;

const SECRET: &str = "bench-signing-secret";

fn catalog_text(size: usize) -> String {
    let mut text = String::from("version: 1\nrunbooks:\n");
    for i in 0..size {
        text.push_str(&format!(
            "  - name: runbook-{i}\n    when:\n      sources: [pagerduty-v3]\n      event_types: [incident.triggered]\n      services: [service-{i}]\n      title: '(?i)(latency|errors) on shard-{i}\\b'\n    params:\n      service: {{ from: '{{{{ incident.service.name }}}}', pattern: 'service-[0-9]+' }}\n    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        targets: {{ tags: {{ Service: '{{{{ params.service }}}}' }} }}\n        parameters: {{ commands: ['systemctl restart {{{{ params.service }}}}'] }}\n"
        ));
    }
    text
}

fn catalog(size: usize) -> Catalog {
    Catalog::parse(&catalog_text(size), "bench").expect("bench catalog")
}

/// A v3 incident.triggered body of about 3 KB, for the last runbook of a catalog of `size`.
fn v3_body(size: usize, occurred_at: DateTime<Utc>) -> String {
    let last = size - 1;
    let padding = "x".repeat(1900);
    format!(
        r#"{{"event":{{"id":"01HBENCH000000000000000001","event_type":"incident.triggered","resource_type":"incident","occurred_at":"{}","agent":{{"id":"PAGENT1","type":"user_reference","summary":"Automation","self":"https://api.pagerduty.com/users/PAGENT1","html_url":"https://acme.pagerduty.com/users/PAGENT1"}},"client":{{"name":"PagerDuty"}},"data":{{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","incident_key":"d3640fbd41094207a1c11e58e46b1662","created_at":"2026-11-25T03:12:07Z","title":"High latency on shard-{last} in eu-west-1","service":{{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"service-{last}","type":"service_reference"}},"assignees":[{{"id":"PTUXL6G","type":"user_reference","summary":"User 123"}}],"escalation_policy":{{"id":"PUS0KTE","type":"escalation_policy_reference","summary":"Default"}},"teams":[{{"id":"PFCVPS0","type":"team_reference","summary":"Engineering"}}],"priority":{{"id":"PSO75BM","type":"priority_reference","summary":"P1"}},"urgency":"high","conference_bridge":{{"conference_number":"+1 1234123412,,987654321#","conference_url":"https://example.com"}},"resolve_reason":null,"body":{{"type":"incident_body","details":"{padding}"}}}}}}}}"#,
        occurred_at.to_rfc3339()
    )
}

fn action_body(occurred_at: DateTime<Utc>) -> String {
    let template = include_str!("../../../events/fixtures/v2-incident.custom.json");
    template.replace("2026-11-25T03:12:07Z", &occurred_at.to_rfc3339())
}

fn context(now: DateTime<Utc>) -> DecisionContext {
    DecisionContext {
        now,
        max_trigger_age: Duration::minutes(15),
        global_dry_run: None,
    }
}

fn benches(c: &mut Criterion) {
    let now = Utc::now();
    let body = v3_body(1000, now);
    assert!(
        (2800..3400).contains(&body.len()),
        "body is {} bytes",
        body.len()
    );
    let header = sign(SECRET, body.as_bytes());
    let one_secret = vec![Secret::new(SECRET)];
    let rotating = vec![Secret::new("old-secret"), Secret::new(SECRET)];

    c.bench_function("verify 3 KB, 1 secret", |b| {
        b.iter(|| {
            assert_eq!(
                verify(
                    Some(black_box(header.as_bytes())),
                    black_box(body.as_bytes()),
                    &one_secret
                ),
                SignatureCheck::Valid
            )
        })
    });
    c.bench_function("verify 3 KB, 2 secrets (rotation)", |b| {
        b.iter(|| {
            assert_eq!(
                verify(
                    Some(black_box(header.as_bytes())),
                    black_box(body.as_bytes()),
                    &rotating
                ),
                SignatureCheck::Valid
            )
        })
    });
    c.bench_function("parse + normalise v3 webhook (3 KB)", |b| {
        b.iter(|| {
            matches!(
                webhook_v3::parse(black_box(body.as_bytes())),
                Ok(V3Event::Incident(_))
            )
        })
    });
    let action = action_body(now);
    c.bench_function("parse + normalise custom action", |b| {
        b.iter(|| custom_action::parse(black_box(action.as_bytes()), "restart-web").is_ok())
    });

    let mut group = c.benchmark_group("decide");
    for size in [10, 100, 1000] {
        let catalog = catalog(size);
        let body = v3_body(size, now);
        let V3Event::Incident(trigger) = webhook_v3::parse(body.as_bytes()).unwrap() else {
            panic!()
        };
        let expected = format!("runbook-{}", size - 1);
        match decide(&trigger, &catalog, &context(now), &NoHistory) {
            Decision::Execute(plan) => assert_eq!(plan.runbook, expected),
            other => panic!("bench trigger must execute: {other:?}"),
        }
        group.bench_with_input(BenchmarkId::new("runbooks", size), &size, |b, _| {
            b.iter(|| decide(black_box(&trigger), &catalog, &context(now), &NoHistory))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("whole path: verify + parse + decide, 3 KB webhook");
    for size in [10, 100, 1000] {
        let catalog = catalog(size);
        let body = v3_body(size, now);
        let header = sign(SECRET, body.as_bytes());
        group.bench_with_input(BenchmarkId::new("runbooks", size), &size, |b, _| {
            b.iter(|| {
                assert_eq!(
                    verify(
                        Some(header.as_bytes()),
                        black_box(body.as_bytes()),
                        &one_secret
                    ),
                    SignatureCheck::Valid
                );
                let Ok(V3Event::Incident(trigger)) = webhook_v3::parse(body.as_bytes()) else {
                    panic!()
                };
                decide(&trigger, &catalog, &context(now), &NoHistory)
            })
        });
    }
    group.finish();

    let text = catalog_text(1000);
    assert_eq!(catalog(1000).runbooks.len(), 1000);
    c.bench_function("load and index a 1,000-runbook catalog", |b| {
        b.iter(|| Catalog::parse(black_box(&text), "bench"))
    });
    // The same catalog compiled into a binary: build.rs parsed and checked it.
    let prebuilt = Catalog::prebuild(&text, "bench").expect("prebuild the bench catalog");
    c.bench_function("load a prebuilt 1,000-runbook catalog (compiled in)", |b| {
        b.iter(|| Catalog::from_prebuilt(black_box(&prebuilt), "bench"))
    });
}

criterion_group! {
    name = hot_path;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = benches
}
criterion_main!(hot_path);
