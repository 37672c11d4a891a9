//! Claims: one conditional write per trigger, so that one trigger makes one run.

use super::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use remediate_core::DedupeId;
use remediate_core::ledger::{COMPLETED_RETENTION, Claim, ClaimResult, Ledger, new_claim_token};
use remediate_core::trigger::Trigger;
use remediate_core::{Error, Result};
use std::collections::HashMap;

#[async_trait]
impl Ledger for DynamoLedger {
    async fn claim(
        &self,
        dedupe_id: &DedupeId,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult> {
        let token = new_claim_token();
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
                dedupe_id: dedupe_id.clone(),
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
                } else if string_attr(&existing, "claim_token").as_deref() == Some(token.as_str()) {
                    // Our own write: an earlier attempt of this very call succeeded, its answer
                    // was lost (a timeout, a 500), and the SDK's retry failed the condition
                    // against it. The token is new for every call, so nobody else can hold it.
                    // What that attempt replaced (an expired claim, perhaps one that had sent
                    // the command) went with the lost answer: treat it as a takeover, so the
                    // executor is asked before anything is sent.
                    Ok(ClaimResult::Claimed(Claim {
                        dedupe_id: dedupe_id.clone(),
                        token,
                        taken_over: true,
                    }))
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

    async fn complete(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let record = RunRecord::new(trigger, report, now);
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(&claim.dedupe_id)))
            .condition_expression("#claim_token = :token")
            .expression_attribute_names("#claim_token", "claim_token")
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()));
        let mut assignments = Vec::new();
        let mut attributes = record_attributes(&record);
        attributes.push(("state", AttributeValue::S(STATE_COMPLETED.into())));
        attributes.push(("updated_at", AttributeValue::S(now.to_rfc3339())));
        for (position, (name, value)) in attributes.into_iter().enumerate() {
            assignments.push(format!("#a{position} = :v{position}"));
            call = call
                .expression_attribute_names(format!("#a{position}"), name)
                .expression_attribute_values(format!(":v{position}"), value);
        }
        call.update_expression(format!("SET {}", assignments.join(", ")))
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
                    Error::ClaimLost {
                        dedupe_id: claim.dedupe_id.clone(),
                    }
                }
                _ => classify("UpdateItem", error),
            })
    }

    async fn mark_once(&self, key: &str, owner: &DedupeId, now: DateTime<Utc>) -> Result<bool> {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(format!("MARK#{key}"))),
            ("sk".to_owned(), AttributeValue::S("MARK".to_owned())),
            ("owner".to_owned(), AttributeValue::S(owner.to_string())),
            (
                "expires_at_ttl".to_owned(),
                AttributeValue::N((now + COMPLETED_RETENTION).timestamp().to_string()),
            ),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
            .send()
            .await;
        match result {
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
