//! What the function answers for an invocation: one report per record, or an error that makes
//! Lambda retry the event. One mapping from what the pipeline did, used by the function and by
//! `remediate simulate`.

use remediate_core::ids::RunId;
use remediate_core::outcome::{Outcome, Report};
use remediate_core::pipeline::{Retry, Started};
use serde::Serialize;

/// The invocation's answer, which `cargo lambda invoke`, tests and the simulator read:
/// `{"records": [{"message_id", "outcome", "reason", "run_id"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchReport {
    pub records: Vec<RecordReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordReport {
    pub message_id: String,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub run_id: Option<RunId>,
    /// The runbook the outcome is about, when one was selected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
}

impl RecordReport {
    pub fn new(message_id: &str, report: &Report) -> Self {
        Self {
            message_id: message_id.to_owned(),
            outcome: report.outcome,
            reason: report.reason.clone(),
            run_id: report.run_id.clone(),
            runbook: report.runbook.clone(),
        }
    }
}

/// The invocation must be retried: a record met a failure that passes. The detail is in the
/// log (the pipeline logs it inside the trigger's span); Lambda records this message.
#[derive(Debug, thiserror::Error)]
#[error("record {message_id}: {reason}; Lambda retries the event")]
pub struct RetryLater {
    pub message_id: String,
    pub reason: String,
}

/// The answer for one record from what the pipeline did with it.
pub fn record(message_id: &str, started: Started) -> Result<RecordReport, RetryLater> {
    match started {
        Started::Report(report) => Ok(RecordReport::new(message_id, &report)),
        Started::Retry(Retry::Transient(error)) => Err(RetryLater {
            message_id: message_id.to_owned(),
            reason: format!("transient failure: {error}"),
        }),
        Started::Retry(Retry::Busy) => Err(RetryLater {
            message_id: message_id.to_owned(),
            reason: "another delivery of this notification holds its claim".to_owned(),
        }),
        // Nothing found later can make it valid: acknowledged, with the reason.
        Started::Invalid(reason) => Ok(RecordReport {
            message_id: message_id.to_owned(),
            outcome: Outcome::Ignored,
            reason: Some(reason),
            run_id: None,
            runbook: None,
        }),
    }
}

/// How the runtime reports the failed invocation to Lambda (and its logs): a fixed type that
/// alarms and dashboards can count, and the message.
impl From<RetryLater> for lambda_runtime::Diagnostic {
    fn from(failure: RetryLater) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "RetryLater".to_owned(),
            error_message: failure.to_string(),
        }
    }
}
