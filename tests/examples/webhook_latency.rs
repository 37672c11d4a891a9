//! Response time of the pagerduty-webhook handler against the emulators (moto for SSM, Parameter
//! Store and DynamoDB; Prism for PagerDuty). Prints percentiles per path; run with scripts/bench.
//!
//! This measures the whole request path as a sender sees it (verify, parse, claim, SendCommand,
//! note, complete) with every adapter real; the emulators' own latency is part of the figure.

#[path = "../it/support/mod.rs"]
mod support;

use remediate_adapters::pagerduty::signature::sign;
use std::time::{Duration, Instant};
use support::emulated::*;
use support::unique;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    #[allow(clippy::print_stdout, reason = "a harness that prints its figures")]
    {
        println!(
            "{label:<44} n={:<4} p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
            samples.len(),
            ms(percentile(&samples, 0.50)),
            ms(percentile(&samples, 0.95)),
            ms(percentile(&samples, 0.99)),
            ms(*samples.last().unwrap()),
        );
    }
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let executing = world(false).await;
    let confirming = world(true).await;

    // Warm the caches a cold start would fill (secrets, connections), then measure warm requests.
    let warm = v3_body(&unique("warm"));
    send(
        &executing.app,
        post(
            "/",
            &warm,
            &[(
                "x-pagerduty-signature",
                sign(SIGNING_SECRET, warm.as_bytes()),
            )],
        ),
    )
    .await;

    let mut executed = Vec::new();
    let mut duplicates = Vec::new();
    let mut rejected = Vec::new();
    let mut taps = Vec::new();
    let mut unconfirmed = Vec::new();
    for _ in 0..rounds {
        let body = v3_body(&unique("ev"));
        let signature = sign(SIGNING_SECRET, body.as_bytes());
        let started = Instant::now();
        let (status, _) = send(
            &executing.app,
            post("/", &body, &[("x-pagerduty-signature", signature.clone())]),
        )
        .await;
        executed.push(started.elapsed());
        assert_eq!(status, 202);

        let started = Instant::now();
        let (status, _) = send(
            &executing.app,
            post("/", &body, &[("x-pagerduty-signature", signature)]),
        )
        .await;
        duplicates.push(started.elapsed());
        assert_eq!(status, 200);

        let started = Instant::now();
        let (status, _) = send(
            &executing.app,
            post(
                "/",
                &body,
                &[("x-pagerduty-signature", sign("forged", body.as_bytes()))],
            ),
        )
        .await;
        rejected.push(started.elapsed());
        assert_eq!(status, 403);

        let tap = tap_body(&unique("msg"));
        let started = Instant::now();
        let (status, _) = send(
            &executing.app,
            post(
                "/actions/restart-web",
                &tap,
                &[("x-remediate-token", ACTION_TOKEN.into())],
            ),
        )
        .await;
        taps.push(started.elapsed());
        assert_eq!(status, 202);

        let started = Instant::now();
        let (status, _) = send(
            &confirming.app,
            post(
                "/actions/restart-web",
                &tap,
                &[("x-remediate-token", ACTION_TOKEN.into())],
            ),
        )
        .await;
        unconfirmed.push(started.elapsed());
        assert_eq!(status, 200);
    }
    // The ledger's own share of a first delivery: the claim and its completion (two writes).
    let aws = support::moto_config().await;
    let ledger = remediate_adapters::aws::ledger::DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&aws),
        executing.app.settings.run.ledger_table.clone(),
    );
    let mut ledger_writes = Vec::new();
    for _ in 0..rounds {
        use remediate_core::ledger::{ClaimResult, Ledger};
        let body = v3_body(&unique("ledger"));
        let remediate_adapters::pagerduty::webhook_v3::V3Event::Incident(trigger) =
            remediate_adapters::pagerduty::webhook_v3::parse(body.as_bytes()).unwrap()
        else {
            panic!("incident event")
        };
        let report =
            remediate_core::outcome::Report::new(remediate_core::outcome::Outcome::Executed, None);
        let started = Instant::now();
        let ClaimResult::Claimed(claim) = ledger
            .claim(
                &trigger.dedupe_id,
                chrono::Utc::now(),
                chrono::Duration::seconds(120),
            )
            .await
            .unwrap()
        else {
            panic!("claim")
        };
        ledger
            .complete(&claim, &trigger, &report, chrono::Utc::now())
            .await
            .unwrap();
        ledger_writes.push(started.elapsed());
    }
    report("ledger alone: claim + complete (2 writes)", ledger_writes);
    report("v3 webhook, executed (claim+send+note+done)", executed);
    report("v3 webhook, duplicate delivery", duplicates);
    report("v3 webhook, forged signature (403)", rejected);
    report("action tap, executed (re-read incident)", taps);
    report("action tap, confirmation refused", unconfirmed);
}
