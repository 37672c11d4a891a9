//! The `pagerduty-webhook` function, behind a Lambda Function URL.
//!
//! Two routes:
//! - `POST /` (any path outside `/actions/`): PagerDuty v3 webhook subscriptions, HMAC signed.
//! - `POST /actions/<action-name>`: Custom Incident Actions, authenticated by a secret header and
//!   confirmed with PagerDuty itself.
//!
//! A request is checked and authenticated on its raw bytes ([`routes`]), parsed into a trigger,
//! run through the core's pipeline, and answered by one rule ([`answer`]): 4xx only for a request
//! that can never succeed (PagerDuty drops those without retry and disables a subscription after
//! three in a row), 5xx only for a transient failure where the ledger makes the retry safe, 2xx
//! for every decision.

mod answer;
mod routes;
mod setup;

pub use answer::{Reply, answer, status_for};
pub use routes::{Credentials, Inbound, Route, precheck, read_action, read_v3};

use lambda_http::{Body, Request, Response};
use remediate_adapters::config::WebhookSettings;
use remediate_core::metrics;
use remediate_core::outcome::Outcome;
use remediate_core::pipeline::{Pipeline, Provenance};
use remediate_core::secrets::{Secret, SecretStore};
use remediate_core::trigger::Trigger;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub const FUNCTION_NAME: &str = "pagerduty-webhook";
/// Larger bodies are refused with 413. PagerDuty's incident payloads are a few KB; a 6 MB Function
/// URL body is only ever a mistake or an attack, and we hash every byte before parsing.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// PagerDuty waits 5 s for a v3 webhook and counts slower answers as failures: answer within 4.
pub const V3_BUDGET: Duration = Duration::from_secs(4);
/// Custom Incident Actions wait 16 s; answer within 14.
pub const ACTION_BUDGET: Duration = Duration::from_secs(14);
const ACTIONS_PREFIX: &str = "/actions/";

/// The function: its own settings and secrets, and the pipeline it runs triggers through.
pub struct WebhookApp {
    pub settings: WebhookSettings,
    pub secrets: Arc<dyn SecretStore>,
    pub pipeline: Pipeline,
}

impl WebhookApp {
    /// Handle one Function URL request. Never fails: every problem is an answer.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        let reply = self.dispatch(&request, started).await;
        tracing::info!(
            path,
            status = reply.status,
            outcome = reply.outcome.map_or("none", Outcome::as_str),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        if let Some(outcome) = reply.outcome {
            metrics::emit_outcome(FUNCTION_NAME, outcome, reply.runbook.as_deref());
        }
        reply.into_response()
    }

    async fn dispatch(&self, request: &Request, started: Instant) -> Reply {
        let (route, body) = match precheck(request) {
            Ok(checked) => checked,
            Err(reply) => return reply,
        };
        match route {
            Route::V3 => self.handle_v3(request, body, started + V3_BUDGET).await,
            Route::Action(action) => {
                self.handle_action(request, body, action, started + ACTION_BUDGET)
                    .await
            }
        }
    }

    async fn load_secrets(&self, parameter: &str) -> Result<Vec<Secret>, Reply> {
        match self.secrets.get(parameter).await {
            Ok(secret) => Ok(secret.lines()),
            Err(error) if error.is_transient() => {
                tracing::error!(%error, parameter, "secret parameter unreadable for now; asking the sender to retry");
                Err(Reply::retry_later())
            }
            Err(error) => {
                // A missing or empty secret parameter is a deployment fault: say so loudly, and
                // let the sender retry (a fixed parameter makes the retry succeed).
                tracing::error!(%error, parameter, "secret parameter unreadable");
                Err(Reply::error(
                    503,
                    "not configured to authenticate this request",
                ))
            }
        }
    }

    /// The parameter read again (the store allows that once per short interval), if its value
    /// changed since `cached`: a credential that matches no cached secret may have been made
    /// with a secret rotated by overwriting the parameter.
    async fn reread_secrets(&self, parameter: &str, cached: &[Secret]) -> Option<Vec<Secret>> {
        match self.secrets.reread(parameter).await {
            Ok(Some(fresh)) => Some(fresh.lines()).filter(|fresh| fresh.as_slice() != cached),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, parameter, "could not read the secret again");
                None
            }
        }
    }

    async fn handle_v3(&self, request: &Request, body: &[u8], deadline: Instant) -> Reply {
        let Some(parameter) = &self.settings.webhook_secrets_parameter else {
            return Reply::error(404, "v3 webhooks are not enabled on this endpoint");
        };
        let secrets = match self.load_secrets(parameter).await {
            Ok(secrets) => secrets,
            Err(reply) => return reply,
        };
        let mut inbound = read_v3(request, body, Credentials::Check(&secrets));
        // 403 here means "no secret matches": the secret may have been rotated by overwriting it.
        if matches!(&inbound, Inbound::Answer(reply) if reply.status == 403)
            && let Some(fresh) = self.reread_secrets(parameter, &secrets).await
        {
            inbound = read_v3(request, body, Credentials::Check(&fresh));
        }
        match inbound {
            Inbound::Answer(reply) => reply,
            Inbound::Trigger(trigger) => {
                let provenance = if trigger.workflow.is_some() {
                    Provenance::SignedReference
                } else {
                    Provenance::Signed
                };
                answer(self.pipeline.start(*trigger, provenance, deadline).await)
            }
        }
    }

    async fn handle_action(
        &self,
        request: &Request,
        body: &[u8],
        action: &str,
        deadline: Instant,
    ) -> Reply {
        let Some(parameter) = &self.settings.action_token_parameter else {
            return Reply::error(
                404,
                "Custom Incident Actions are not enabled on this endpoint",
            );
        };
        let tokens = match self.load_secrets(parameter).await {
            Ok(tokens) => tokens,
            Err(reply) => return reply,
        };
        let header = self.settings.action_token_header.as_str();
        let mut inbound = read_action(request, body, action, header, Credentials::Check(&tokens));
        // 403 here means "no token matches": the token may have been rotated by overwriting it.
        if matches!(&inbound, Inbound::Answer(reply) if reply.status == 403)
            && let Some(fresh) = self.reread_secrets(parameter, &tokens).await
        {
            inbound = read_action(request, body, action, header, Credentials::Check(&fresh));
        }
        match inbound {
            Inbound::Answer(reply) => reply,
            Inbound::Trigger(trigger) => answer(
                self.pipeline
                    .start(*trigger, Provenance::Unsigned, deadline)
                    .await,
            ),
        }
    }

    /// Decide on and act on a trigger that was authenticated some other way (an alarm verified
    /// by its SNS signature, say), within `budget`: the same path as a signed v3 webhook.
    pub async fn handle_trigger(&self, trigger: Trigger, budget: Duration) -> Reply {
        let provenance = if trigger.workflow.is_some() {
            Provenance::SignedReference
        } else {
            Provenance::Signed
        };
        answer(
            self.pipeline
                .start(trigger, provenance, Instant::now() + budget)
                .await,
        )
    }
}

#[cfg(test)]
mod tests;
