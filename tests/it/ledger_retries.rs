//! The ledger and the guards on moto when a write is retried or arrives late: a claim whose
//! answer was lost, a window place written twice, a cooldown released by a run that no longer
//! holds it. The lost answer is real: moto applies the write, and an interceptor on the client
//! replaces moto's answer with a 500, so the SDK sends the same request again.

use crate::support::*;
use aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use chrono::{DateTime, Duration, Utc};
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_core::catalog::RateLimit;
use remediate_core::guards::{GuardStore, Reservation, Reserved};
use remediate_core::ledger::{ClaimResult, Ledger};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Replaces the answers of the first `lose` calls with a 500 after the service has acted on them.
#[derive(Debug)]
struct LoseAnswers {
    lose: usize,
    seen: AtomicUsize,
}

impl Intercept for LoseAnswers {
    fn name(&self) -> &'static str {
        "LoseAnswers"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.seen.fetch_add(1, Ordering::SeqCst) < self.lose {
            let response = context.response_mut();
            *response.status_mut() = 500u16.try_into()?;
            *response.body_mut() =
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"answer lost"}"#.into();
        }
        Ok(())
    }
}

/// A ledger on a fresh moto table whose client loses the answers of its first `lose` calls.
async fn ledger_losing_answers(lose: usize) -> DynamoLedger {
    let aws = moto_config().await;
    let table = unique("ledger-retries");
    create_ledger_table(&aws_sdk_dynamodb::Client::new(&aws), &table).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&aws)
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(10)),
        )
        .interceptor(LoseAnswers {
            lose,
            seen: AtomicUsize::new(0),
        })
        .build();
    DynamoLedger::new(aws_sdk_dynamodb::Client::from_conf(config), table)
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_claim_whose_answer_was_lost_is_still_ours_on_the_retry() {
    let ledger = ledger_losing_answers(1).await;
    let now = Utc::now();
    let result = ledger
        .claim(
            &"pagerduty-v3:lost-answer".into(),
            now,
            Duration::seconds(120),
        )
        .await
        .unwrap();
    let ClaimResult::Claimed(claim) = result else {
        panic!(
            "the retry found our own claim and must hold it, not answer 'in progress': {result:?}"
        );
    };
    assert!(
        claim.taken_over,
        "what the claim replaced is unknown after a lost answer, so the executor is asked first"
    );
    // It really is ours: another delivery is held off, and our token releases it.
    assert!(matches!(
        ledger
            .claim(
                &"pagerduty-v3:lost-answer".into(),
                now,
                Duration::seconds(120)
            )
            .await
            .unwrap(),
        ClaimResult::InProgress { .. }
    ));
    Ledger::release(&ledger, &claim).await.unwrap();
    assert!(matches!(
        ledger
            .claim(
                &"pagerduty-v3:lost-answer".into(),
                now,
                Duration::seconds(120)
            )
            .await
            .unwrap(),
        ClaimResult::Claimed(_)
    ));
}

fn window_run(run_id: &str, count: u32) -> Reservation {
    Reservation {
        runbook: unique("rate-limited"),
        run_id: run_id.to_owned(),
        target: "i-0abc".into(),
        cooldown_seconds: None,
        max_runs: Some(RateLimit {
            count,
            window_seconds: 3600,
        }),
    }
}

#[tokio::test]
async fn a_window_place_written_twice_counts_once() {
    // The first increment's answer is lost and the SDK sends it again.
    let ledger = ledger_losing_answers(1).await;
    let now = at("2026-11-25T03:10:00Z");
    let first = window_run("run-1", 2);
    assert_eq!(
        ledger.reserve(&first, now).await.unwrap(),
        Reserved::Granted
    );
    let second = Reservation {
        run_id: "run-2".into(),
        ..first.clone()
    };
    assert_eq!(
        ledger.reserve(&second, now).await.unwrap(),
        Reserved::Granted,
        "the retried write of run-1 must not have taken a second place"
    );
    let third = Reservation {
        run_id: "run-3".into(),
        ..first.clone()
    };
    assert!(matches!(
        ledger.reserve(&third, now).await.unwrap(),
        Reserved::WindowFull { .. }
    ));
}

#[tokio::test]
async fn a_takeover_of_the_same_run_takes_no_second_window_place() {
    let ledger = ledger_losing_answers(0).await;
    let now = at("2026-11-25T03:10:00Z");
    let first = window_run("run-1", 2);
    assert_eq!(
        ledger.reserve(&first, now).await.unwrap(),
        Reserved::Granted
    );
    assert_eq!(
        ledger.reserve(&first, now).await.unwrap(),
        Reserved::Granted,
        "the same run again (a takeover) is already counted"
    );
    let second = Reservation {
        run_id: "run-2".into(),
        ..first.clone()
    };
    assert_eq!(
        ledger.reserve(&second, now).await.unwrap(),
        Reserved::Granted
    );
    // Giving a place back frees exactly that run's place, once.
    GuardStore::release(&ledger, &second, now).await.unwrap();
    GuardStore::release(&ledger, &second, now).await.unwrap();
    let third = Reservation {
        run_id: "run-3".into(),
        ..first.clone()
    };
    assert_eq!(
        ledger.reserve(&third, now).await.unwrap(),
        Reserved::Granted
    );
    let fourth = Reservation {
        run_id: "run-4".into(),
        ..first.clone()
    };
    assert!(matches!(
        ledger.reserve(&fourth, now).await.unwrap(),
        Reserved::WindowFull { .. }
    ));
}

#[tokio::test]
async fn a_late_release_cannot_free_another_runs_cooldown() {
    let ledger = ledger_losing_answers(0).await;
    let start = at("2026-11-25T03:00:00Z");
    let run = |run_id: &str| Reservation {
        runbook: unique("cooled"),
        run_id: run_id.to_owned(),
        target: "i-0abc".into(),
        cooldown_seconds: Some(60),
        max_runs: None,
    };
    let a = run("run-a");
    let b = Reservation {
        run_id: "run-b".into(),
        ..a.clone()
    };
    let c = Reservation {
        run_id: "run-c".into(),
        ..a.clone()
    };
    assert_eq!(ledger.reserve(&a, start).await.unwrap(), Reserved::Granted);
    // A's cooldown expires and B takes a new one.
    let later = start + Duration::seconds(61);
    assert_eq!(ledger.reserve(&b, later).await.unwrap(), Reserved::Granted);
    // A, late, gives back what it took: B's cooldown must stay.
    GuardStore::release(&ledger, &a, later).await.unwrap();
    assert!(
        matches!(
            ledger.reserve(&c, later).await.unwrap(),
            Reserved::CoolingDown { .. }
        ),
        "run A's late release deleted run B's cooldown"
    );
    // B's own release does give it back.
    GuardStore::release(&ledger, &b, later).await.unwrap();
    assert_eq!(ledger.reserve(&c, later).await.unwrap(), Reserved::Granted);
}

#[tokio::test]
async fn a_cooldown_written_twice_still_takes_its_window_place() {
    // The cooldown's answer is lost; the retry finds the cooldown already this run's. The run
    // must still take its place in the window, or the window would let one run too many through.
    let ledger = ledger_losing_answers(1).await;
    let now = at("2026-11-25T03:10:00Z");
    let runbook = unique("cooled-and-limited");
    let run = |run_id: &str, target: &str| Reservation {
        runbook: runbook.clone(),
        run_id: run_id.to_owned(),
        target: target.to_owned(),
        cooldown_seconds: Some(600),
        max_runs: Some(RateLimit {
            count: 1,
            window_seconds: 3600,
        }),
    };
    assert_eq!(
        ledger.reserve(&run("run-1", "i-0abc"), now).await.unwrap(),
        Reserved::Granted
    );
    assert!(
        matches!(
            ledger.reserve(&run("run-2", "i-0def"), now).await.unwrap(),
            Reserved::WindowFull { .. }
        ),
        "run-1 must have taken the window's one place"
    );
}
