//! The `rundeck-notification` function, behind a Lambda Function URL: Rundeck's webhook job
//! notifications, turned into each run's ending by the core's [`Finisher`] (the final note on the
//! incident, the incident resolved when the runbook says so, the results topic, the ledger).
//!
//! One route, `POST /notify/<secret>`: the secret (an SSM SecureString, one per line for
//! rotation) is compared in constant time before the body is read; the path is never logged.
//! The notification is only a hint: its execution id names the run (`rundeck:<id>`), and Rundeck's
//! API says how the execution really ended.
//!
//! Answers ([`answer`]): 200 for every ending (`recorded`, `duplicate`, `ignored`, with the
//! reason), 400 for a body that is not a JSON notification, 403 for a wrong secret, 404 for any
//! other path, 405 for another method, 413 over [`MAX_BODY_BYTES`], 503 only for a failure a
//! later delivery may get past. Rundeck makes one attempt per notification (no retry), so a 503
//! is only an error line in Rundeck's log: the run stays `started` in the ledger until the
//! reconciler asks Rundeck.

mod notification;
mod setup;

pub use notification::{Notification, SecretCheck, presented_secret, read, verify};

use lambda_http::{Body, Request, Response};
use remediate_core::finish::{Completion, ExecutorKind, FollowUp};
use remediate_core::ids::RunId;
use remediate_core::metrics;
use remediate_core::pipeline::{FinishReport, Finished, Finisher};
use remediate_core::ports::executor::rundeck_handle;
use remediate_core::secrets::{Secret, SecretStore};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub const FUNCTION_NAME: &str = "rundeck-notification";
/// A notification is a few KB (one execution); a larger body is a mistake or an attack.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Rundeck waits 15 s for an answer (`NotificationService.postDataUrl`): answer within 12.
pub const BUDGET: Duration = Duration::from_secs(12);

/// The function: its secret, and the finisher it hands each ending to.
pub struct NotificationApp {
    /// SSM SecureString holding the secret of the notification URL.
    pub token_parameter: String,
    pub secrets: Arc<dyn SecretStore>,
    pub finisher: Finisher,
}

/// What became of one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationOutcome {
    /// The run's ending is recorded (and followed up, but for what `left` lists).
    Recorded,
    /// It was already: a redelivery, or a second notification of the same execution.
    Duplicate,
    /// Not a run remediate started, or a notification of an execution that has not ended.
    Ignored,
}

/// The answer's body, which tests and `cargo lambda invoke` read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationReport {
    pub execution_id: u64,
    pub outcome: NotificationOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    /// The run's end state, for recorded and duplicate endings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_state: Option<String>,
    /// Follow-ups that failed, kept in the ledger for the reconciler.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<FollowUp>,
}

impl NotificationReport {
    fn ignored(execution_id: u64, reason: String) -> Self {
        Self {
            execution_id,
            outcome: NotificationOutcome::Ignored,
            reason: Some(reason),
            run_id: None,
            runbook: None,
            run_state: None,
            left: Vec::new(),
        }
    }

    fn of(execution_id: u64, outcome: NotificationOutcome, report: FinishReport) -> Self {
        Self {
            execution_id,
            outcome,
            reason: None,
            run_id: report.run_id,
            runbook: report.runbook,
            run_state: Some(report.state.as_str().to_owned()),
            left: report.left,
        }
    }
}

/// A finished answer: status and JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    /// The outcome the body reports, when it reports one.
    pub outcome: Option<NotificationOutcome>,
}

impl Reply {
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": message.into() }),
            outcome: None,
        }
    }

    fn report(report: &NotificationReport) -> Self {
        Self {
            status: 200,
            body: serde_json::to_value(report).unwrap_or_else(|_| json!({})),
            outcome: Some(report.outcome),
        }
    }

    /// A failure a later delivery may get past; the detail is in the log, not in the answer.
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

/// The one mapping from what the finisher did to the function's answer.
pub fn answer(execution_id: u64, finished: Finished) -> Reply {
    match finished {
        Finished::Recorded(report) => {
            // Once per run: a later delivery that only finishes the follow-ups is not counted.
            if report.newly_ended {
                metrics::emit_run_ended(FUNCTION_NAME, report.state);
            }
            if !report.left.is_empty() {
                // Rundeck does not deliver a notification again, whatever the answer: what failed
                // stays pending in the ledger for the reconciler, and the ending is recorded.
                tracing::warn!(left = ?report.left, "ending recorded; follow-ups left for the reconciler");
            }
            Reply::report(&NotificationReport::of(
                execution_id,
                NotificationOutcome::Recorded,
                report,
            ))
        }
        Finished::Duplicate(report) => Reply::report(&NotificationReport::of(
            execution_id,
            NotificationOutcome::Duplicate,
            report,
        )),
        Finished::Ignored(reason) => {
            Reply::report(&NotificationReport::ignored(execution_id, reason))
        }
        Finished::Retry(_) => Reply::retry_later(),
        // Rundeck never sends a notification again: the run stays open in the ledger and the
        // reconciler asks Rundeck later.
        Finished::StillRunning => Reply::report(&NotificationReport::ignored(
            execution_id,
            "Rundeck says the execution is still running; the reconciler will ask again".to_owned(),
        )),
    }
}

fn body_bytes(request: &Request) -> &[u8] {
    // lambda_http has already decoded a base64 body (isBase64Encoded) into Body::Binary.
    match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

impl NotificationApp {
    /// Handle one Function URL request. Never fails: every problem is an answer.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let reply = self.dispatch(&request, started + BUDGET).await;
        // No path here: it carries the secret.
        tracing::info!(
            status = reply.status,
            outcome = ?reply.outcome,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        reply.into_response()
    }

    /// One request, answered by `deadline` (tests and `remediate simulate` call this).
    pub async fn dispatch(&self, request: &Request, deadline: Instant) -> Reply {
        if request.method() != lambda_http::http::Method::POST {
            return Reply::error(405, "only POST is accepted");
        }
        let Some(presented) = presented_secret(request.uri().path()) else {
            return Reply::error(404, "not found");
        };
        if let Err(reply) = self.authenticate(presented).await {
            return reply;
        }
        let body = body_bytes(request);
        if body.len() > MAX_BODY_BYTES {
            return Reply::error(413, format!("body larger than {MAX_BODY_BYTES} bytes"));
        }
        let notification = match read(body) {
            Ok(notification) => notification,
            Err(message) => return Reply::error(400, message),
        };
        let execution_id = notification.execution_id;
        let status = notification.status.clone().unwrap_or_default();
        if notification.not_final() {
            tracing::debug!(execution_id, status, "not a final status");
            return Reply::report(&NotificationReport::ignored(
                execution_id,
                format!("status {status} is not final"),
            ));
        }
        let completion = Completion {
            executor: ExecutorKind::Rundeck,
            handle: rundeck_handle(execution_id),
            reported_status: notification.status.unwrap_or_else(|| "unknown".to_owned()),
            event_id: format!(
                "rundeck-{execution_id}-{}",
                notification.trigger.as_deref().unwrap_or("notification")
            ),
            event_time: notification
                .ended_at
                .unwrap_or_else(|| self.finisher.clock.now()),
        };
        answer(
            execution_id,
            self.finisher.finish(&completion, deadline).await,
        )
    }

    /// The request's secret checked against the parameter's (read again once if none matches:
    /// the secret may have been rotated by overwriting it).
    async fn authenticate(&self, presented: &str) -> Result<(), Reply> {
        let secrets = self.load_secrets().await?;
        let mut check = verify(presented, &secrets);
        if check != SecretCheck::Valid
            && let Some(fresh) = self.reread_secrets(&secrets).await
        {
            check = verify(presented, &fresh);
        }
        match check {
            SecretCheck::Valid => Ok(()),
            SecretCheck::Mismatch { unusable } => {
                if unusable > 0 {
                    tracing::error!(
                        unusable,
                        parameter = self.token_parameter,
                        "the notification secret parameter has lines shorter than 16 characters, which are never accepted"
                    );
                }
                tracing::warn!("notification with a secret that does not match");
                Err(Reply::error(403, "forbidden"))
            }
        }
    }

    async fn load_secrets(&self) -> Result<Vec<Secret>, Reply> {
        let parameter = self.token_parameter.as_str();
        match self.secrets.get(parameter).await {
            Ok(secret) => Ok(secret.lines()),
            Err(error) if error.is_transient() => {
                tracing::error!(%error, parameter, "secret parameter unreadable for now");
                Err(Reply::retry_later())
            }
            Err(error) => {
                // A deployment fault: say so loudly in the log, and nothing to the sender.
                tracing::error!(%error, parameter, "secret parameter unreadable");
                Err(Reply::error(
                    503,
                    "not configured to authenticate this request",
                ))
            }
        }
    }

    async fn reread_secrets(&self, cached: &[Secret]) -> Option<Vec<Secret>> {
        match self.secrets.reread(&self.token_parameter).await {
            Ok(Some(fresh)) => Some(fresh.lines()).filter(|fresh| fresh.as_slice() != cached),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "could not read the notification secret again");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
