//! Loading a catalog (parse, compile, index) and deciding against it, without the AWS SDK in the
//! build: the same catalog shape as `shared/adapters/benches/hot_path.rs`, whose figures
//! BENCHMARKS.md reports; this one builds in seconds, for working on the catalog.
//!
//! Every runbook shares one source and event type and differs by service and by title pattern,
//! each with a typed parameter: about 2,000 patterns, 1,000 of them distinct.

use criterion::{Criterion, criterion_group, criterion_main};
use remediate_core::catalog::{BUILT_IN_CATALOG, BUILT_IN_CATALOG_NAME, Catalog};
use std::hint::black_box;

fn catalog_text(size: usize) -> String {
    let mut text = String::from("version: 1\nrunbooks:\n");
    for i in 0..size {
        text.push_str(&format!(
            "  - name: runbook-{i}\n    when:\n      sources: [pagerduty-v3]\n      event_types: [incident.triggered]\n      services: [service-{i}]\n      title: '(?i)(latency|errors) on shard-{i}\\b'\n    params:\n      service: {{ from: '{{{{ incident.service.name }}}}', pattern: 'service-[0-9]+' }}\n    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        targets: {{ tags: {{ Service: '{{{{ params.service }}}}' }} }}\n        parameters: {{ commands: ['systemctl restart {{{{ params.service }}}}'] }}\n"
        ));
    }
    text
}

fn benches(c: &mut Criterion) {
    let text = catalog_text(1000);
    assert_eq!(
        Catalog::parse(&text, "bench")
            .expect("bench catalog")
            .runbooks
            .len(),
        1000
    );
    c.bench_function("load and index a 1,000-runbook catalog", |b| {
        b.iter(|| Catalog::parse(black_box(&text), "bench"))
    });
    // What a binary with this catalog compiled in does at start-up (the YAML was parsed and
    // checked when it was built).
    let prebuilt = Catalog::prebuild(&text, "bench").expect("prebuild the bench catalog");
    c.bench_function("load a prebuilt 1,000-runbook catalog", |b| {
        b.iter(|| Catalog::from_prebuilt(black_box(&prebuilt), "bench"))
    });
    c.bench_function("load the built-in catalog (YAML)", |b| {
        b.iter(Catalog::built_in)
    });
    let built_in = Catalog::prebuild(BUILT_IN_CATALOG, BUILT_IN_CATALOG_NAME)
        .expect("prebuild the built-in catalog");
    c.bench_function(
        "load the built-in catalog (prebuilt: what a function runs)",
        |b| b.iter(|| Catalog::from_prebuilt(black_box(&built_in), BUILT_IN_CATALOG_NAME)),
    );
}

criterion_group! {
    name = catalog;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = benches
}
criterion_main!(catalog);
