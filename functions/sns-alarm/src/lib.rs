//! The `sns-alarm` function, subscribed to an SNS topic that carries CloudWatch alarm state
//! changes and AWS findings (EventBridge rules targeting the topic).
//!
//! Each record is handled on its own, with its own outcome:
//! 1. the topic allowlist (`SNS_TOPIC_ARNS`) and the SNS signature, on the fields as SNS sent
//!    them, before the message is parsed ([`verify`]);
//! 2. the message read into a trigger (`remediate_adapters::sns`);
//! 3. the core's pipeline, as for every source.
//!
//! Lambda ignores partial-batch answers for SNS, so the whole invocation either succeeds or
//! fails ([`answer`]): a transient failure (throttling, a certificate that could not be fetched,
//! PagerDuty 5xx) fails it, and Lambda retries it twice, then sends it to the on-failure
//! destination. The ledger makes that safe: records already handled come back as duplicates.
//! A permanent failure succeeds, logged and counted: a retry could not change it.

mod answer;
mod setup;
mod verify;

pub use answer::{BatchReport, RecordReport, RetryLater};
pub use verify::{Authentication, signed_message};

use aws_lambda_events::sns::{SnsEvent, SnsRecord};
use lambda_runtime::LambdaEvent;
use remediate_adapters::config::AlarmSettings;
use remediate_adapters::invocation::invocation_deadline;
use remediate_adapters::sns;
use remediate_core::metrics;
use remediate_core::outcome::{Outcome, Report};
use remediate_core::pipeline::{Pipeline, Provenance};
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "sns-alarm";
/// The budget of one record's PagerDuty calls and publish, whatever the function's timeout.
const RECORD_BUDGET: Duration = Duration::from_secs(20);
/// A record is started only with at least this much of the invocation left: AWS calls are
/// bounded at 2.5 s each and PagerDuty's by the record budget, so a record needs well under
/// this, and one cut off by Lambda's timeout would hold its claim for two minutes.
const MIN_RECORD_TIME: Duration = Duration::from_secs(15);

pub struct AlarmApp {
    pub settings: AlarmSettings,
    pub authentication: Authentication,
    pub pipeline: Pipeline,
}

impl AlarmApp {
    /// Handle one invocation: every record, then one answer. An error makes Lambda retry the
    /// whole event.
    pub async fn handle(&self, event: LambdaEvent<SnsEvent>) -> Result<BatchReport, RetryLater> {
        let deadline = invocation_deadline(event.context.deadline);
        tracing::debug!(
            deadline_ms = event.context.deadline,
            remaining_ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as u64,
            "invocation deadline"
        );
        self.handle_records(&event.payload.records, deadline).await
    }

    /// The record loop, with the deadline given (tests and `remediate simulate` call this).
    pub async fn handle_records(
        &self,
        records: &[SnsRecord],
        deadline: Instant,
    ) -> Result<BatchReport, RetryLater> {
        let mut reports = Vec::with_capacity(records.len());
        let mut retry = None;
        for record in records {
            let record_deadline = deadline.min(Instant::now() + RECORD_BUDGET);
            match self.handle_record(record, record_deadline).await {
                Ok(report) => {
                    metrics::emit_outcome(FUNCTION_NAME, report.outcome, report.runbook.as_deref());
                    reports.push(report);
                }
                // The other records are still handled: each has its own outcome, and the ones
                // done now are duplicates when Lambda retries the event.
                Err(failure) => retry = Some(failure),
            }
        }
        match retry {
            Some(failure) => Err(failure),
            None => Ok(BatchReport { records: reports }),
        }
    }

    async fn handle_record(
        &self,
        record: &SnsRecord,
        deadline: Instant,
    ) -> Result<RecordReport, RetryLater> {
        let sns_message = &record.sns;
        let span = tracing::info_span!(
            "record",
            message_id = sns_message.message_id,
            topic = sns_message.topic_arn,
            outcome = tracing::field::Empty
        );
        let answered = self
            .answer_record(record, deadline)
            .instrument(span.clone())
            .await;
        if let Ok(report) = &answered {
            span.record("outcome", report.outcome.as_str());
        }
        answered
    }

    async fn answer_record(
        &self,
        record: &SnsRecord,
        deadline: Instant,
    ) -> Result<RecordReport, RetryLater> {
        let sns_message = &record.sns;
        let message_id = sns_message.message_id.as_str();
        // A record started this close to the invocation's timeout could be cut off by Lambda
        // after its claim: leave it to Lambda's retry, with nothing done.
        if deadline.saturating_duration_since(Instant::now()) < MIN_RECORD_TIME {
            return Err(RetryLater {
                message_id: message_id.to_owned(),
                reason: "too little time left in this invocation to start it".to_owned(),
            });
        }
        if let Err(rejection) = self
            .authentication
            .check(&self.settings, sns_message)
            .await?
        {
            tracing::warn!(reason = rejection, "rejected");
            return Ok(RecordReport::new(message_id, &Report::rejected(rejection)));
        }
        let trigger = match sns::read(message_id, sns_message.timestamp, &sns_message.message) {
            Ok(trigger) => trigger,
            Err(unusable) => {
                let reason = unusable.to_string();
                tracing::info!(label = unusable.label(), reason, "ignored");
                return Ok(RecordReport::new(
                    message_id,
                    &Report::new(Outcome::Ignored, Some(reason)),
                ));
            }
        };
        let started = self
            .pipeline
            .start(trigger, Provenance::Signed, deadline)
            .await;
        answer::record(message_id, started)
    }
}

#[cfg(test)]
mod tests;
