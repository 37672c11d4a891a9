//! The `reconciler` function: an EventBridge schedule (every five minutes in the template) runs
//! one pass of the core's reconciler over the ledger's open runs: runs whose ending never
//! arrived are asked about and recorded (or, still running after a day, recorded as unknown),
//! and follow-ups left pending (a note PagerDuty refused for a while, a publish) are done.
//!
//! The pass is bounded (a batch of runs, the invocation's deadline) and safe to run twice at
//! once. Its answer is the pass's report; a ledger that cannot be read fails the invocation,
//! and the next scheduled one tries again.

mod setup;

use lambda_runtime::LambdaEvent;
use remediate_adapters::invocation::invocation_deadline;
use remediate_core::metrics;
use remediate_core::pipeline::{Finisher, ReconcileReport, ReconcileSettings};
use std::time::Duration;
use tokio::time::Instant;

pub const FUNCTION_NAME: &str = "reconciler";
/// A pass's budget, whatever the function's timeout.
const PASS_BUDGET: Duration = Duration::from_secs(240);

pub struct ReconcilerApp {
    pub finisher: Finisher,
    pub settings: ReconcileSettings,
}

/// The invocation failed before any run was looked at: the ledger could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reconcile pass failed: {0}; the next scheduled pass tries again")]
pub struct PassFailed(pub String);

impl From<PassFailed> for lambda_runtime::Diagnostic {
    fn from(failure: PassFailed) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "PassFailed".to_owned(),
            error_message: failure.to_string(),
        }
    }
}

impl ReconcilerApp {
    /// One pass. The scheduled event's content does not matter: every invocation is one pass.
    pub async fn handle(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<ReconcileReport, PassFailed> {
        let deadline = invocation_deadline(event.context.deadline);
        self.pass(deadline).await
    }

    /// One pass by `deadline` (tests call this).
    pub async fn pass(&self, deadline: Instant) -> Result<ReconcileReport, PassFailed> {
        let deadline = deadline.min(Instant::now() + PASS_BUDGET);
        let report = self
            .finisher
            .reconcile(self.settings, deadline)
            .await
            .map_err(|error| PassFailed(error.to_string()))?;
        for run in &report.runs {
            if let Some(state) = run.run_state {
                metrics::emit_run_ended(FUNCTION_NAME, state);
            }
        }
        tracing::info!(
            looked_at = report.looked_at,
            recorded = report.recorded,
            still_running = report.still_running,
            given_up = report.given_up,
            failed = report.failed,
            "reconcile pass"
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
