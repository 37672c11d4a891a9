//! Run endings: recorded once on the run's item, with the follow-ups still to do and a short
//! hold, so that two deliveries of one ending never both post its note.
//!
//! The ending goes on the claim item (`TRIGGER#<dedupe id>`, `CLAIM`) as `ending` (JSON),
//! `run_state` (the end state), `pending` (a string set of follow-ups, absent when none is
//! left), and while a delivery works on them `finish_token` and `finish_hold_until`.

use super::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use remediate_core::DedupeId;
use remediate_core::finish::{FollowUp, RunEnding};
use remediate_core::ledger::new_claim_token;
use remediate_core::ports::runs::{FinishClaim, RunFinishes};
use remediate_core::{Error, Result};

fn follow_ups(values: &[FollowUp]) -> AttributeValue {
    AttributeValue::Ss(
        values
            .iter()
            .map(|value| value.as_str().to_owned())
            .collect(),
    )
}

/// The ending and follow-ups recorded on an item, if it has an ending.
pub(super) fn ending_from_item(
    item: &HashMap<String, AttributeValue>,
) -> (Option<RunEnding>, Vec<FollowUp>) {
    let ending = string_attr(item, "ending").and_then(|json| serde_json::from_str(&json).ok());
    let pending = item
        .get("pending")
        .and_then(|value| value.as_ss().ok())
        .map(|values| {
            let mut pending: Vec<FollowUp> = values
                .iter()
                .filter_map(|value| FollowUp::parse(value))
                .collect();
            pending.sort();
            pending
        })
        .unwrap_or_default();
    (ending, pending)
}

impl DynamoLedger {
    /// The first delivery of an ending: record it, if the run was started and has none yet.
    async fn record_ending(
        &self,
        trigger_id: &DedupeId,
        ending: &RunEnding,
        wanted: &[FollowUp],
        token: &str,
        hold_until: DateTime<Utc>,
    ) -> Result<std::result::Result<(), HashMap<String, AttributeValue>>> {
        let json = serde_json::to_string(ending).map_err(|error| Error::Aws {
            service: "dynamodb",
            operation: "UpdateItem",
            message: format!("the ending does not serialise: {error}"),
            transient: false,
        })?;
        let mut sets = vec![
            "ending = :ending",
            "run_state = :state",
            "finish_token = :token",
            "finish_hold_until = :hold",
        ];
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(trigger_id)))
            .condition_expression(
                "#state = :completed AND outcome = :executed AND attribute_exists(command_id) \
                 AND attribute_not_exists(ending)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":completed", AttributeValue::S(STATE_COMPLETED.into()))
            .expression_attribute_values(
                ":executed",
                AttributeValue::S(Outcome::Executed.as_str().into()),
            )
            .expression_attribute_values(":ending", AttributeValue::S(json))
            .expression_attribute_values(":state", AttributeValue::S(ending.state.as_str().into()))
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()))
            .expression_attribute_values(
                ":hold",
                AttributeValue::N(hold_until.timestamp().to_string()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        // Nothing to follow up: the run is closed at once.
        let mut update = String::new();
        if wanted.is_empty() {
            update.push_str(" REMOVE open_run");
        } else {
            sets.push("pending = :wanted");
            call = call.expression_attribute_values(":wanted", follow_ups(wanted));
        }
        match call
            .update_expression(format!("SET {}{update}", sets.join(", ")))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                let UpdateItemError::ConditionalCheckFailedException(failure) =
                    service_error.into_err()
                else {
                    unreachable!("matched above");
                };
                Ok(Err(failure.item.unwrap_or_default()))
            }
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }

    /// A later delivery: take the follow-ups left, if nobody holds them.
    async fn take_pending(
        &self,
        trigger_id: &DedupeId,
        token: &str,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    ) -> Result<Option<HashMap<String, AttributeValue>>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(trigger_id)))
            .condition_expression(
                "attribute_exists(ending) AND attribute_exists(pending) \
                 AND (attribute_not_exists(finish_hold_until) OR finish_hold_until < :now)",
            )
            .update_expression("SET finish_token = :token, finish_hold_until = :hold")
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()))
            .expression_attribute_values(
                ":hold",
                AttributeValue::N(hold_until.timestamp().to_string()),
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.attributes),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }
}

#[async_trait]
impl RunFinishes for DynamoLedger {
    /// One page of the sparse `by_open` index, oldest first (the index is eventually consistent:
    /// a run closed a moment ago may still be listed, and `begin_finish` answers it as done).
    async fn open_runs(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<RunRecord>> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_BY_OPEN)
            .key_condition_expression("open_run = :open AND decided_at < :before")
            .expression_attribute_values(":open", AttributeValue::S(OPEN_RUN.to_owned()))
            .expression_attribute_values(":before", iso(before))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|error| classify("Query", error))?;
        Ok(page.items().iter().filter_map(record_from_item).collect())
    }

    async fn begin_finish(
        &self,
        trigger_id: &DedupeId,
        ending: &RunEnding,
        wanted: &[FollowUp],
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<FinishClaim> {
        let token = new_claim_token();
        let hold_until = now + hold_for;
        let existing = match self
            .record_ending(trigger_id, ending, wanted, &token, hold_until)
            .await?
        {
            Ok(()) => {
                return Ok(FinishClaim::Claimed {
                    token,
                    pending: wanted.to_vec(),
                    ending: ending.clone(),
                });
            }
            Err(existing) => existing,
        };
        let (recorded, pending) = ending_from_item(&existing);
        if recorded.is_none() {
            return Ok(FinishClaim::NotStarted);
        }
        if pending.is_empty() {
            return Ok(FinishClaim::Done);
        }
        match self
            .take_pending(trigger_id, &token, now, hold_until)
            .await?
        {
            Some(item) => match ending_from_item(&item) {
                (Some(ending), pending) => Ok(FinishClaim::Claimed {
                    token,
                    pending,
                    ending,
                }),
                (None, _) => Ok(FinishClaim::NotStarted),
            },
            None => Ok(FinishClaim::Busy),
        }
    }

    async fn end_finish(
        &self,
        trigger_id: &DedupeId,
        token: &str,
        left: &[FollowUp],
        _now: DateTime<Utc>,
    ) -> Result<()> {
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(trigger_id)))
            .condition_expression("finish_token = :token")
            .expression_attribute_values(":token", AttributeValue::S(token.to_owned()));
        let update = if left.is_empty() {
            "REMOVE pending, finish_token, finish_hold_until, open_run".to_owned()
        } else {
            call = call.expression_attribute_values(":left", follow_ups(left));
            "SET pending = :left REMOVE finish_token, finish_hold_until".to_owned()
        };
        match call.update_expression(update).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Err(Error::ClaimLost {
                    dedupe_id: trigger_id.clone(),
                })
            }
            Err(error) => Err(classify("UpdateItem", error)),
        }
    }
}
