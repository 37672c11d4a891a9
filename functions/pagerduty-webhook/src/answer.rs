//! What the function answers: one status rule for every outcome, one mapping from what the
//! pipeline did to a Function URL response.

use lambda_http::{Body, Response};
use remediate_core::outcome::{Outcome, Report};
use remediate_core::pipeline::{Retry, Started};
use serde_json::json;

/// A finished answer: status and JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    /// The outcome the body reports, when it reports one (an error answer has none).
    pub outcome: Option<Outcome>,
    /// The runbook the outcome is about, if one was selected (for the outcome metric's line).
    pub runbook: Option<String>,
}

impl Reply {
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": message.into() }),
            outcome: None,
            runbook: None,
        }
    }

    pub fn report(status: u16, report: &Report) -> Self {
        Self {
            status,
            body: serde_json::to_value(report).unwrap_or_else(|_| json!({})),
            outcome: Some(report.outcome),
            runbook: report.runbook.clone(),
        }
    }

    pub fn ignored(reason: String) -> Self {
        Self::report(200, &Report::new(Outcome::Ignored, Some(reason)))
    }

    pub fn rejected(status: u16, reason: &str) -> Self {
        Self::report(status, &Report::rejected(reason.to_owned()))
    }

    /// A failure a retry may get past. The pipeline logs its own (inside the trigger's span);
    /// the sender learns only that a retry may help.
    pub fn retry_later() -> Self {
        Self::error(503, "temporarily unable to process; retry later")
    }

    pub fn into_response(self) -> Response<Body> {
        Response::builder()
            .status(self.status)
            .header("content-type", "application/json")
            .body(Body::Text(self.body.to_string()))
            .unwrap_or_else(|_| Response::new(Body::Empty))
    }
}

/// The one rule from an outcome to a status code: 202 when a run started, 403 when
/// authentication failed, 200 for every other decision. PagerDuty drops a 4xx without retry and
/// disables a subscription after three in a row, so a decision is never a 4xx.
pub fn status_for(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::Executed => 202,
        Outcome::Rejected => 403,
        _ => 200,
    }
}

/// The answer to what the pipeline did with a trigger.
pub fn answer(started: Started) -> Reply {
    match started {
        Started::Report(report) => Reply::report(status_for(report.outcome), &report),
        Started::Retry(Retry::Transient(_)) => Reply::retry_later(),
        Started::Retry(Retry::Busy) => Reply::error(
            503,
            "this event is being handled by another delivery; retry later",
        ),
        Started::Invalid(message) => Reply::error(400, message),
    }
}
