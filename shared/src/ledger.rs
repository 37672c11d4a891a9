//! The ledger: one trigger, one run, under at-least-once delivery.
//!
//! A trigger is *claimed* with a conditional write keyed by its dedupe id before anything runs.
//! The claim holds for a while (`hold_for`); a holder that dies leaves a claim that another
//! delivery can take over after it expires. A completed claim answers every later delivery with
//! the original outcome. The same idea as Powertools' idempotency utility.
//!
//! Key design (one DynamoDB table, string keys `pk` and `sk`, TTL attribute `expires_at_ttl`):
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | trigger claim | `TRIGGER#<dedupe id>` | `CLAIM` | state, claim_token, hold_until, outcome, run_id, runbook, command_id, reason, note, updated_at |
//! | cooldown | `COOLDOWN#<runbook>#<target>` | `COOLDOWN` | until (epoch seconds) |
//! | rate window | `WINDOW#<runbook>#<window start>` | `WINDOW` | runs |
//!
//! A first delivery costs two writes (the claim, then its completion) and no reads: a lost
//! claim race returns the existing item with the failed condition, so it needs no read either.

use crate::guards::{GuardStore, Reservation, Reserved, window_start};
use crate::outcome::{NoteDelivery, Outcome, Report};
use crate::{Error, Result};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a completed claim is kept: longer than PagerDuty's 48 hours of retries and SNS's
/// redelivery, so every late redelivery still finds it.
pub const COMPLETED_RETENTION: Duration = Duration::days(7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub dedupe_id: String,
    /// Proves that this holder still holds the claim when it completes or releases it.
    pub token: String,
    /// The claim was taken over from a holder whose hold expired: that holder may have started
    /// the run before it died, so the executor must be asked before starting it again.
    pub taken_over: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClaimResult {
    /// The caller holds the trigger and may act on it.
    Claimed(Claim),
    /// Another delivery completed it: here is what it answered.
    Completed(Report),
    /// Another delivery holds it and may still be working: the sender should retry later.
    InProgress { hold_until: DateTime<Utc> },
}

#[async_trait]
pub trait Ledger: Send + Sync {
    async fn claim(
        &self,
        dedupe_id: &str,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult>;
    /// Record the outcome on the claim; later deliveries are answered with it.
    async fn complete(&self, claim: &Claim, report: &Report, now: DateTime<Utc>) -> Result<()>;
    /// Give the claim up (nothing was done), so a retry can take it at once.
    async fn release(&self, claim: &Claim) -> Result<()>;
}

fn taken_over(claim: &Claim) -> Error {
    Error::Aws {
        service: "dynamodb",
        operation: "UpdateItem",
        message: format!(
            "claim on {} was taken over before it completed",
            claim.dedupe_id
        ),
        transient: false,
    }
}

fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------------------------

/// DynamoDB, for the functions.
pub struct DynamoLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

const STATE_IN_PROGRESS: &str = "in_progress";
const STATE_COMPLETED: &str = "completed";

impl DynamoLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn claim_key(dedupe_id: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(format!("TRIGGER#{dedupe_id}")),
            ),
            ("sk".to_owned(), AttributeValue::S("CLAIM".to_owned())),
        ])
    }
}

fn string_attr(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

fn number_attr(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|value| value.as_n().ok())
        .and_then(|number| number.parse().ok())
}

fn report_from_item(item: &HashMap<String, AttributeValue>) -> Report {
    let outcome = string_attr(item, "outcome")
        .and_then(|text| Outcome::parse(&text))
        .unwrap_or(Outcome::Executed);
    let mut report = Report::new(outcome, string_attr(item, "reason"));
    report.run_id = string_attr(item, "run_id");
    report.runbook = string_attr(item, "runbook");
    report.command_id = string_attr(item, "command_id");
    report
}

fn classify<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Error
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata
        + crate::error::ModeledTransient
        + std::error::Error
        + 'static,
{
    Error::from_sdk("dynamodb", operation, error)
}

#[async_trait]
impl Ledger for DynamoLedger {
    async fn claim(
        &self,
        dedupe_id: &str,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult> {
        let token = new_token();
        let hold_until = now + hold_for;
        let mut item = Self::claim_key(dedupe_id);
        item.insert("state".into(), AttributeValue::S(STATE_IN_PROGRESS.into()));
        item.insert("claim_token".into(), AttributeValue::S(token.clone()));
        item.insert(
            "hold_until".into(),
            AttributeValue::N(hold_until.timestamp().to_string()),
        );
        item.insert("updated_at".into(), AttributeValue::S(now.to_rfc3339()));
        item.insert(
            "expires_at_ttl".into(),
            AttributeValue::N((now + COMPLETED_RETENTION).timestamp().to_string()),
        );
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :in_progress AND hold_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(
                ":in_progress",
                AttributeValue::S(STATE_IN_PROGRESS.into()),
            )
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(ClaimResult::Claimed(Claim {
                dedupe_id: dedupe_id.to_owned(),
                token,
                // ReturnValues ALL_OLD hands back the expired claim we replaced, at no extra cost.
                taken_over: output.attributes.is_some_and(|old| !old.is_empty()),
            })),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                let PutItemError::ConditionalCheckFailedException(failure) =
                    service_error.into_err()
                else {
                    unreachable!("matched above");
                };
                let existing = failure.item.unwrap_or_default();
                if string_attr(&existing, "state").as_deref() == Some(STATE_COMPLETED) {
                    Ok(ClaimResult::Completed(report_from_item(&existing)))
                } else {
                    let hold_until = number_attr(&existing, "hold_until")
                        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
                        .unwrap_or(hold_until);
                    Ok(ClaimResult::InProgress { hold_until })
                }
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    async fn complete(&self, claim: &Claim, report: &Report, now: DateTime<Utc>) -> Result<()> {
        let mut update = vec![
            "#state = :completed",
            "outcome = :outcome",
            "updated_at = :now",
        ];
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(&claim.dedupe_id)))
            .condition_expression("claim_token = :token")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":completed", AttributeValue::S(STATE_COMPLETED.into()))
            .expression_attribute_values(
                ":outcome",
                AttributeValue::S(report.outcome.as_str().into()),
            )
            .expression_attribute_values(":now", AttributeValue::S(now.to_rfc3339()))
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()));
        let optional = [
            ("reason", &report.reason),
            ("run_id", &report.run_id),
            ("runbook", &report.runbook),
            ("command_id", &report.command_id),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                call = call.expression_attribute_values(
                    format!(":{name}"),
                    AttributeValue::S(value.clone()),
                );
                update.push(match name {
                    "reason" => "reason = :reason",
                    "run_id" => "run_id = :run_id",
                    "runbook" => "runbook = :runbook",
                    _ => "command_id = :command_id",
                });
            }
        }
        if let Some(note) = report.note {
            let state = match note {
                NoteDelivery::Posted => "posted",
                NoteDelivery::Pending => "pending",
                NoteDelivery::NotApplicable => "not_applicable",
            };
            call = call.expression_attribute_values(":note", AttributeValue::S(state.into()));
            update.push("note = :note");
        }
        call.update_expression(format!("SET {}", update.join(", ")))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| match &error {
                SdkError::ServiceError(service_error)
                    if matches!(
                        service_error.err(),
                        UpdateItemError::ConditionalCheckFailedException(_)
                    ) =>
                {
                    taken_over(claim)
                }
                _ => classify("UpdateItem", error),
            })
    }

    async fn release(&self, claim: &Claim) -> Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(&claim.dedupe_id)))
            .condition_expression("claim_token = :token")
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone else holds it now: nothing of ours to release.
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    DeleteItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(classify("DeleteItem", error)),
        }
    }
}

/// Cooldowns and rate windows with conditional writes, so that guards hold across concurrent
/// function instances. The cooldown is taken first, then a place in the window; a full window
/// gives the cooldown back. Costs one write per guard a runbook has, no reads.
#[async_trait]
impl GuardStore for DynamoLedger {
    async fn reserve(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<Reserved> {
        let mut cooldown_until = None;
        if let Some(seconds) = reservation.cooldown_seconds {
            let until = now + Duration::seconds(seconds as i64);
            let mut item = cooldown_key(reservation);
            item.insert(
                "until".into(),
                AttributeValue::N(until.timestamp().to_string()),
            );
            item.insert(
                "expires_at_ttl".into(),
                AttributeValue::N((until + Duration::days(1)).timestamp().to_string()),
            );
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR #until <= :now")
                .expression_attribute_names("#until", "until")
                .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match result {
                Ok(_) => cooldown_until = Some(until),
                Err(SdkError::ServiceError(service_error))
                    if matches!(
                        service_error.err(),
                        PutItemError::ConditionalCheckFailedException(_)
                    ) =>
                {
                    let PutItemError::ConditionalCheckFailedException(failure) =
                        service_error.into_err()
                    else {
                        unreachable!("matched above");
                    };
                    let until = failure
                        .item
                        .as_ref()
                        .and_then(|item| number_attr(item, "until"))
                        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
                        .unwrap_or(now);
                    return Ok(Reserved::CoolingDown { until });
                }
                Err(error) => return Err(classify("PutItem", error)),
            }
        }
        if let Some(limit) = reservation.max_runs {
            let start = window_start(now, limit.window_seconds);
            let expires =
                start + Duration::seconds(limit.window_seconds as i64) + Duration::days(1);
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(window_key(reservation, start)))
                .update_expression("ADD runs :one SET expires_at_ttl = :expires")
                .condition_expression("attribute_not_exists(runs) OR runs < :limit")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":limit", AttributeValue::N(limit.count.to_string()))
                .expression_attribute_values(
                    ":expires",
                    AttributeValue::N(expires.timestamp().to_string()),
                )
                .send()
                .await;
            let full = match result {
                Ok(_) => false,
                Err(SdkError::ServiceError(service_error))
                    if matches!(
                        service_error.err(),
                        UpdateItemError::ConditionalCheckFailedException(_)
                    ) =>
                {
                    true
                }
                Err(error) => {
                    if cooldown_until.is_some() {
                        self.release_cooldown(reservation).await?;
                    }
                    return Err(classify("UpdateItem", error));
                }
            };
            if full {
                if cooldown_until.is_some() {
                    self.release_cooldown(reservation).await?;
                }
                return Ok(Reserved::WindowFull {
                    limit,
                    window_start: start,
                });
            }
        }
        Ok(Reserved::Granted)
    }

    async fn release(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<()> {
        if reservation.cooldown_seconds.is_some() {
            self.release_cooldown(reservation).await?;
        }
        if let Some(limit) = reservation.max_runs {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(window_key(
                    reservation,
                    window_start(now, limit.window_seconds),
                )))
                .update_expression("ADD runs :minus_one")
                .condition_expression("runs > :zero")
                .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
                .await
                .map(|_| ())
                .or_else(|error| match &error {
                    SdkError::ServiceError(service_error)
                        if matches!(
                            service_error.err(),
                            UpdateItemError::ConditionalCheckFailedException(_)
                        ) =>
                    {
                        Ok(())
                    }
                    _ => Err(classify("UpdateItem", error)),
                })?;
        }
        Ok(())
    }
}

impl DynamoLedger {
    async fn release_cooldown(&self, reservation: &Reservation) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(cooldown_key(reservation)))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| classify("DeleteItem", error))
    }
}

fn cooldown_key(reservation: &Reservation) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!(
                "COOLDOWN#{}#{}",
                reservation.runbook, reservation.target
            )),
        ),
        ("sk".to_owned(), AttributeValue::S("COOLDOWN".to_owned())),
    ])
}

fn window_key(reservation: &Reservation, start: DateTime<Utc>) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!(
                "WINDOW#{}#{}",
                reservation.runbook,
                start.timestamp()
            )),
        ),
        ("sk".to_owned(), AttributeValue::S("WINDOW".to_owned())),
    ])
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum MemoryClaim {
    InProgress {
        token: String,
        hold_until: DateTime<Utc>,
    },
    Completed(Report),
}

/// The same semantics in memory, for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryLedger {
    claims: Mutex<HashMap<String, MemoryClaim>>,
}

impl InMemoryLedger {
    pub fn completed(&self, dedupe_id: &str) -> Option<Report> {
        match self
            .claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(dedupe_id)
        {
            Some(MemoryClaim::Completed(report)) => Some(report.clone()),
            _ => None,
        }
    }

    pub fn is_held(&self, dedupe_id: &str) -> bool {
        matches!(
            self.claims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(dedupe_id),
            Some(MemoryClaim::InProgress { .. })
        )
    }
}

#[async_trait]
impl Ledger for InMemoryLedger {
    async fn claim(
        &self,
        dedupe_id: &str,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        match claims.get(dedupe_id) {
            Some(MemoryClaim::Completed(report)) => {
                return Ok(ClaimResult::Completed(report.clone()));
            }
            Some(MemoryClaim::InProgress { hold_until, .. }) if *hold_until >= now => {
                return Ok(ClaimResult::InProgress {
                    hold_until: *hold_until,
                });
            }
            _ => {}
        }
        let token = new_token();
        let taken_over = claims.contains_key(dedupe_id);
        claims.insert(
            dedupe_id.to_owned(),
            MemoryClaim::InProgress {
                token: token.clone(),
                hold_until: now + hold_for,
            },
        );
        Ok(ClaimResult::Claimed(Claim {
            dedupe_id: dedupe_id.to_owned(),
            token,
            taken_over,
        }))
    }

    async fn complete(&self, claim: &Claim, report: &Report, _now: DateTime<Utc>) -> Result<()> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        match claims.get(&claim.dedupe_id) {
            Some(MemoryClaim::InProgress { token, .. }) if *token == claim.token => {
                claims.insert(
                    claim.dedupe_id.clone(),
                    MemoryClaim::Completed(report.clone()),
                );
                Ok(())
            }
            _ => Err(taken_over(claim)),
        }
    }

    async fn release(&self, claim: &Claim) -> Result<()> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(claims.get(&claim.dedupe_id), Some(MemoryClaim::InProgress { token, .. }) if *token == claim.token)
        {
            claims.remove(&claim.dedupe_id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_claim_semantics() {
        let ledger = InMemoryLedger::default();
        let now = Utc::now();
        let hold = Duration::seconds(30);
        let ClaimResult::Claimed(claim) = ledger.claim("t1", now, hold).await.unwrap() else {
            panic!("first claim must win");
        };
        assert!(matches!(
            ledger.claim("t1", now, hold).await.unwrap(),
            ClaimResult::InProgress { .. }
        ));
        // After the hold expires, a redelivery takes over; the old holder can no longer complete.
        let later = now + Duration::seconds(31);
        let ClaimResult::Claimed(takeover) = ledger.claim("t1", later, hold).await.unwrap() else {
            panic!("expired claim must be taken over");
        };
        assert!(!claim.taken_over);
        assert!(takeover.taken_over);
        let report = Report::new(Outcome::Executed, None);
        assert!(ledger.complete(&claim, &report, later).await.is_err());
        ledger.complete(&takeover, &report, later).await.unwrap();
        assert_eq!(
            ledger.claim("t1", later, hold).await.unwrap(),
            ClaimResult::Completed(report)
        );
        // A released claim is free at once.
        let ClaimResult::Claimed(other) = ledger.claim("t2", now, hold).await.unwrap() else {
            panic!()
        };
        ledger.release(&other).await.unwrap();
        assert!(matches!(
            ledger.claim("t2", now, hold).await.unwrap(),
            ClaimResult::Claimed(_)
        ));
    }
}
