//! Cooldowns and rate windows, held across concurrent function instances by conditional writes.

use super::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use remediate_core::Result;
use remediate_core::guards::{GuardStore, Reservation, Reserved, after, window_start};
use std::collections::HashMap;

/// Cooldowns and rate windows with conditional writes, so that guards hold across concurrent
/// function instances. The cooldown is taken first, then a place in the window; a full window
/// gives the cooldown back. Costs one write per guard a runbook has, no reads.
#[async_trait]
impl GuardStore for DynamoLedger {
    async fn reserve(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<Reserved> {
        let mut cooldown_until = None;
        if let Some(seconds) = reservation.cooldown_seconds {
            let until = after(now, seconds);
            let mut item = cooldown_key(reservation);
            item.insert(
                "until".into(),
                AttributeValue::N(until.timestamp().to_string()),
            );
            item.insert(
                "run_id".into(),
                AttributeValue::S(reservation.run_id.clone()),
            );
            item.insert(
                "expires_at_ttl".into(),
                AttributeValue::N(after(until, DAY_SECONDS).timestamp().to_string()),
            );
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                // Free, expired, or our own (a takeover of this run after its holder died).
                .condition_expression(
                    "attribute_not_exists(pk) OR #until <= :now OR run_id = :run_id",
                )
                .expression_attribute_names("#until", "until")
                .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
                .expression_attribute_values(
                    ":run_id",
                    AttributeValue::S(reservation.run_id.clone()),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match result {
                // Free, expired, or already this run's (a takeover, or this call's own write
                // retried after a lost answer). Either way the run goes on to its window place,
                // which counts each run once, so it is taken exactly once.
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
            let expires = window_expiry(start, limit.window_seconds);
            // The window holds the ids of the runs it counted: adding a run id is idempotent, so
            // a write the SDK retried after a lost answer, or a takeover of the same run, takes
            // no second place. (The catalog caps max_runs so that the set stays a few KB.)
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(window_key(reservation, start)))
                .update_expression("ADD run_ids :run SET expires_at_ttl = :expires")
                .condition_expression(
                    "attribute_not_exists(run_ids) OR contains(run_ids, :run_id) OR size(run_ids) < :limit",
                )
                .expression_attribute_values(
                    ":run",
                    AttributeValue::Ss(vec![reservation.run_id.clone()]),
                )
                .expression_attribute_values(":run_id", AttributeValue::S(reservation.run_id.clone()))
                .expression_attribute_values(":limit", AttributeValue::N(limit.count.to_string()))
                .expression_attribute_values(":expires", AttributeValue::N(expires.to_string()))
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

    async fn first_suppression(
        &self,
        reservation: &Reservation,
        held_until: DateTime<Utc>,
    ) -> Result<bool> {
        self.first_suppression_item(reservation, held_until).await
    }

    async fn release(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<()> {
        if reservation.cooldown_seconds.is_some() {
            self.release_cooldown(reservation).await?;
        }
        if let Some(limit) = reservation.max_runs {
            // Only this run's place, and only once: a second release removes nothing.
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(window_key(
                    reservation,
                    window_start(now, limit.window_seconds),
                )))
                .update_expression("DELETE run_ids :run")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(
                    ":run",
                    AttributeValue::Ss(vec![reservation.run_id.clone()]),
                )
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
    async fn first_suppression_item(
        &self,
        reservation: &Reservation,
        held_until: DateTime<Utc>,
    ) -> Result<bool> {
        let item = HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(format!(
                    "SUPPRESSED#{}#{}#{}",
                    reservation.runbook,
                    reservation.target,
                    held_until.timestamp()
                )),
            ),
            ("sk".to_owned(), AttributeValue::S("NOTED".to_owned())),
            (
                "expires_at_ttl".to_owned(),
                AttributeValue::N(after(held_until, DAY_SECONDS).timestamp().to_string()),
            ),
        ]);
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(false)
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    /// Give back the cooldown only if this run holds it: a late release by a run whose cooldown
    /// expired must not delete the cooldown a later run took since.
    async fn release_cooldown(&self, reservation: &Reservation) -> Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(cooldown_key(reservation)))
            .condition_expression("run_id = :run_id")
            .expression_attribute_values(":run_id", AttributeValue::S(reservation.run_id.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
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

const DAY_SECONDS: u64 = 24 * 60 * 60;

/// When a window's item may go: a day after the window ends.
fn window_expiry(start: DateTime<Utc>, window_seconds: u64) -> i64 {
    after(after(start, window_seconds), DAY_SECONDS).timestamp()
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
