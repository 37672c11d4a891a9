//! The `execution-events` function: SSM's own status-change events ("EC2 Command Status-change
//! Notification", "EC2 Automation Execution Status-change Notification") from an EventBridge
//! rule, turned into each run's ending by the core's [`Finisher`]: the final note on the
//! incident, the incident resolved when the runbook says so, the results topic, the ledger.
//!
//! EventBridge invokes the function asynchronously, one event per invocation. A transient
//! failure (throttling, PagerDuty down, a run whose start is not recorded yet) fails the
//! invocation: Lambda retries it twice, then sends it to the on-failure destination, and the
//! ledger keeps whatever could not be done for the reconciler. Everything else succeeds with an
//! answer saying what became of the event: events of other tools' runs and statuses that are
//! not final are `ignored`.

mod setup;

use lambda_runtime::LambdaEvent;
use remediate_adapters::invocation::invocation_deadline;
use remediate_adapters::ssm_events::read_status_event;
use remediate_core::finish::FollowUp;
use remediate_core::ids::RunId;
use remediate_core::metrics;
use remediate_core::pipeline::{FinishReport, Finished, Finisher};
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

pub const FUNCTION_NAME: &str = "execution-events";
/// The budget of one event's calls (SSM, the ledger, PagerDuty, the topic), whatever the
/// function's timeout.
const EVENT_BUDGET: Duration = Duration::from_secs(25);

pub struct EventsApp {
    pub finisher: Finisher,
}

/// What became of one status event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// The run's ending is recorded and followed up.
    Recorded,
    /// It was already: a redelivery.
    Duplicate,
    /// Not a run remediate started, not a final status, or not an SSM status event.
    Ignored,
}

/// The invocation's answer, which `cargo lambda invoke`, tests and the simulator read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub outcome: EventOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// The run's end state, for recorded and duplicate endings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_state: Option<String>,
}

impl EventReport {
    fn ignored(event_id: Option<String>, reason: String) -> Self {
        Self {
            event_id,
            outcome: EventOutcome::Ignored,
            reason: Some(reason),
            run_id: None,
            runbook: None,
            run_state: None,
        }
    }

    fn of(event_id: String, outcome: EventOutcome, report: FinishReport) -> Self {
        Self {
            event_id: Some(event_id),
            outcome,
            reason: None,
            run_id: report.run_id,
            runbook: report.runbook,
            run_state: Some(report.state.as_str().to_owned()),
        }
    }
}

/// The invocation must be retried: the detail is in the log; Lambda records this message.
#[derive(Debug, thiserror::Error)]
#[error("event {event_id}: {reason}; Lambda retries the event")]
pub struct RetryLater {
    pub event_id: String,
    pub reason: String,
}

impl From<RetryLater> for lambda_runtime::Diagnostic {
    fn from(failure: RetryLater) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "RetryLater".to_owned(),
            error_message: failure.to_string(),
        }
    }
}

impl EventsApp {
    pub async fn handle(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<EventReport, RetryLater> {
        let deadline = invocation_deadline(event.context.deadline);
        self.handle_event(&event.payload, deadline).await
    }

    /// One event, with the deadline given (tests and `remediate simulate` call this).
    pub async fn handle_event(
        &self,
        event: &serde_json::Value,
        deadline: Instant,
    ) -> Result<EventReport, RetryLater> {
        let deadline = deadline.min(Instant::now() + EVENT_BUDGET);
        let status = match read_status_event(event) {
            Ok(status) => status,
            Err(unusable) => {
                let event_id = event
                    .get("id")
                    .and_then(|id| id.as_str())
                    .map(|id| id.chars().take(64).collect());
                tracing::info!(reason = %unusable, "ignored");
                return Ok(EventReport::ignored(event_id, unusable.to_string()));
            }
        };
        let completion = status.completion;
        let event_id = completion.event_id.clone();
        if status.final_state.is_none() {
            tracing::debug!(
                handle = %completion.handle,
                status = completion.reported_status,
                "not a final status"
            );
            return Ok(EventReport::ignored(
                Some(event_id),
                format!("status {} is not final", completion.reported_status),
            ));
        }
        answer(event_id, self.finisher.finish(&completion, deadline).await)
    }
}

/// The one mapping from what the finisher did to the function's answer.
pub fn answer(event_id: String, finished: Finished) -> Result<EventReport, RetryLater> {
    match finished {
        Finished::Recorded(report) => {
            // Once per run: a later delivery that only finishes the follow-ups is not counted.
            if report.newly_ended {
                metrics::emit_run_ended(FUNCTION_NAME, report.state);
            }
            if report.left.is_empty() {
                Ok(EventReport::of(event_id, EventOutcome::Recorded, report))
            } else {
                // The ending is recorded; what failed is kept in the ledger, and Lambda's retry
                // (in a minute, then two) is the quickest way to get it done.
                let left: Vec<&str> = report
                    .left
                    .iter()
                    .map(|step| FollowUp::as_str(*step))
                    .collect();
                Err(RetryLater {
                    event_id,
                    reason: format!("ending recorded, but not done yet: {}", left.join(", ")),
                })
            }
        }
        Finished::Duplicate(report) => {
            Ok(EventReport::of(event_id, EventOutcome::Duplicate, report))
        }
        Finished::Ignored(reason) => Ok(EventReport::ignored(Some(event_id), reason)),
        Finished::Retry(error) => Err(RetryLater {
            event_id,
            reason: error.to_string(),
        }),
        // SSM's answer lags its event: Lambda's retry asks again a minute later.
        Finished::StillRunning => Err(RetryLater {
            event_id,
            reason: "the event says the run ended, but SSM says it is still running".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests;
