//! The `pagerduty-webhook` function's logic, behind a Lambda Function URL.
//!
//! Two routes:
//! - `POST /` (any path outside `/actions/`): PagerDuty v3 webhook subscriptions, HMAC signed.
//! - `POST /actions/<action-name>`: Custom Incident Actions, authenticated by a secret header and
//!   confirmed with PagerDuty itself.
//!
//! Status codes follow one rule: 4xx only for a request that can never succeed (PagerDuty drops
//! those without retry and disables a subscription after three in a row), 5xx only for a
//! transient failure where the ledger makes the retry safe, 2xx for every decision.

use crate::Error;
use crate::catalog_store::{CatalogStore, KillSwitch, SwitchReading};
use crate::clock::Clock;
use crate::config::{CatalogSource, WebhookSettings};
use crate::decision::{self, Decision, DecisionContext, ExecutionRequest, Plan};
use crate::guards::{GuardStore, NoHistory, Reserved};
use crate::ledger::{Claim, ClaimResult, Ledger};
use crate::metrics;
use crate::notes;
use crate::outcome::{NoteDelivery, Outcome, Report};
use crate::pagerduty::PagerDutyApi;
use crate::pagerduty::custom_action::{self, ActionEvent, CUSTOM_LOG_ENTRY};
use crate::pagerduty::signature::{self, SignatureCheck};
use crate::pagerduty::webhook_v3::{self, V3Event};
use crate::secrets::{Secret, SecretStore};
use crate::ssm::CommandExecutor;
use crate::ssm::{CommandRequest, Pinned};
use crate::trigger::Trigger;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::time::Instant;
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "pagerduty-webhook";
/// Larger bodies are refused with 413. PagerDuty's incident payloads are a few KB; a 6 MB Function
/// URL body is only ever a mistake or an attack, and we hash every byte before parsing.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// PagerDuty waits 5 s for a v3 webhook and counts slower answers as failures: answer within 4.
pub const V3_BUDGET: Duration = Duration::from_secs(4);
/// Custom Incident Actions wait 16 s; answer within 14.
pub const ACTION_BUDGET: Duration = Duration::from_secs(14);
/// What is kept back from the budget for answering after the last call.
const ANSWER_MARGIN: Duration = Duration::from_millis(300);
/// A claim holder that dies is taken over after this long (PagerDuty's retry then runs it).
const CLAIM_HOLD: chrono::Duration = chrono::Duration::seconds(120);
/// A tap is confirmed by a custom log entry no older than this before the tap's own time.
const TAP_CONFIRM_WINDOW: chrono::Duration = chrono::Duration::minutes(2);
const ACTIONS_PREFIX: &str = "/actions/";

pub struct WebhookApp {
    pub settings: WebhookSettings,
    pub catalogs: Arc<CatalogStore>,
    pub kill_switch: Arc<KillSwitch>,
    pub secrets: Arc<dyn SecretStore>,
    pub pagerduty: Arc<dyn PagerDutyApi>,
    pub executor: Arc<dyn CommandExecutor>,
    pub ledger: Arc<dyn Ledger>,
    pub guards: Arc<dyn GuardStore>,
    pub clock: Arc<dyn Clock>,
}

/// A finished answer: status and JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Reply {
    fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    fn report(status: u16, report: &Report) -> Self {
        Self {
            status,
            body: serde_json::to_value(report).unwrap_or_else(|_| json!({})),
        }
    }

    fn ignored(reason: String) -> Self {
        Self::report(200, &Report::new(Outcome::Ignored, Some(reason)))
    }

    fn rejected(status: u16, reason: &str) -> Self {
        Self::report(
            status,
            &Report::new(Outcome::Rejected, Some(reason.to_owned())),
        )
    }

    fn transient(error: &Error) -> Self {
        // The detail goes to the log; the sender learns only that a retry may help.
        tracing::error!(%error, "transient failure; asking the sender to retry");
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

fn status_for(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::Executed => 202,
        Outcome::Rejected => 403,
        _ => 200,
    }
}

/// Which of the two routes a path is, or why it is neither.
pub enum Route<'a> {
    V3,
    Action(&'a str),
}

fn route(path: &str) -> Result<Route<'_>, Reply> {
    match path.strip_prefix(ACTIONS_PREFIX) {
        None => Ok(Route::V3),
        Some(name) => {
            let name = name.trim_end_matches('/');
            if is_action_name(name) {
                Ok(Route::Action(name))
            } else {
                Err(Reply::error(
                    404,
                    "unknown action: the path must be /actions/<lowercase-name>",
                ))
            }
        }
    }
}

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn body_bytes(request: &Request) -> &[u8] {
    // lambda_http has already decoded a base64 body (isBase64Encoded) into Body::Binary.
    match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// Whether to check the signature or token of a request (the CLI may simulate without secrets).
pub enum Credentials<'a> {
    Check(&'a [Secret]),
    Skip,
}

/// A request after authentication and parsing: a trigger to decide on, or the answer already.
pub enum Inbound {
    Trigger(Box<Trigger>),
    Answer(Reply),
}

/// The checks every request passes before its route looks at it: method, route, size, media
/// type. Returns the route and the raw body.
pub fn precheck(request: &Request) -> Result<(Route<'_>, &[u8]), Reply> {
    if request.method() != http::Method::POST {
        return Err(Reply::error(405, "only POST is accepted"));
    }
    let route = route(request.uri().path())?;
    let body = body_bytes(request);
    if body.len() > MAX_BODY_BYTES {
        return Err(Reply::error(
            413,
            format!("body larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    if !is_json(request) {
        return Err(Reply::error(400, "content-type must be application/json"));
    }
    Ok((route, body))
}

/// Verify (before parsing) and read a v3 webhook.
pub fn read_v3(request: &Request, body: &[u8], secrets: Credentials<'_>) -> Inbound {
    if let Credentials::Check(secrets) = secrets {
        let header = request
            .headers()
            .get(signature::SIGNATURE_HEADER)
            .map(|value| value.as_bytes());
        match signature::verify(header, body, secrets) {
            SignatureCheck::Valid => {}
            SignatureCheck::Missing => {
                tracing::warn!("v3 webhook without X-PagerDuty-Signature");
                return Inbound::Answer(Reply::rejected(401, "missing X-PagerDuty-Signature"));
            }
            SignatureCheck::Mismatch => {
                tracing::warn!("v3 webhook signature does not match any secret");
                return Inbound::Answer(Reply::rejected(403, "signature does not match"));
            }
        }
    }
    match webhook_v3::parse(body) {
        Err(message) => Inbound::Answer(Reply::error(400, message)),
        Ok(V3Event::Ping) => Inbound::Answer(Reply::ignored("ping received".to_owned())),
        Ok(V3Event::NotActionable { event_type, reason }) => {
            tracing::info!(event_type, reason, "ignored");
            Inbound::Answer(Reply::ignored(reason))
        }
        Ok(V3Event::Incident(trigger) | V3Event::WorkflowStarted(trigger)) => {
            Inbound::Trigger(trigger)
        }
    }
}

/// Tokens shorter than this are not tokens anyone generated: such lines are ignored (and said so).
const MIN_ACTION_TOKEN_LEN: usize = 16;

/// What one line of the action token parameter holds.
#[derive(Debug, PartialEq, Eq)]
enum TokenLine<'a> {
    /// `action-name=token`: good for that action only.
    Scoped { action: &'a str, token: &'a str },
    /// A bare token: good for every action.
    Bare(&'a str),
    /// Neither (too short, empty token): never accepted.
    Unusable,
}

/// A line whose part before the first `=` is an action name is scoped to that action, whatever
/// follows; one token per action means a token leaked from one extension cannot start another's
/// runbook. Anything else is a bare token. Either way the token must be long enough to have been
/// generated, so `restart-web=` or a short bare line never authenticates anything.
fn token_line(line: &str) -> TokenLine<'_> {
    let line = line.trim();
    let parsed = match line.split_once('=') {
        Some((name, token)) if is_action_name(name.trim()) => TokenLine::Scoped {
            action: name.trim(),
            token: token.trim(),
        },
        _ => TokenLine::Bare(line),
    };
    match parsed {
        TokenLine::Scoped { token, .. } | TokenLine::Bare(token)
            if token.len() < MIN_ACTION_TOKEN_LEN =>
        {
            TokenLine::Unusable
        }
        usable => usable,
    }
}

fn is_action_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Authenticate (constant-time token compare, before parsing) and read a Custom Incident Action.
pub fn read_action(
    request: &Request,
    body: &[u8],
    action: &str,
    header: &str,
    tokens: Credentials<'_>,
) -> Inbound {
    if let Credentials::Check(tokens) = tokens {
        let Some(presented) = request.headers().get(header) else {
            tracing::warn!(action, header, "action without its token header");
            return Inbound::Answer(Reply::rejected(401, "missing action token header"));
        };
        let mut matched = subtle::Choice::from(0u8);
        let mut unusable = 0;
        for line in tokens {
            let token = match token_line(line.expose()) {
                TokenLine::Scoped {
                    action: scope,
                    token,
                } if scope == action => token,
                TokenLine::Scoped { .. } => continue,
                TokenLine::Bare(token) => token,
                TokenLine::Unusable => {
                    unusable += 1;
                    continue;
                }
            };
            matched |= token.as_bytes().ct_eq(presented.as_bytes());
        }
        if !bool::from(matched) {
            if unusable > 0 {
                tracing::error!(
                    unusable,
                    "the action token parameter has lines that are never accepted: tokens of at least 16 characters, bare or as action-name=token"
                );
            }
            tracing::warn!(action, "action token does not match");
            return Inbound::Answer(Reply::rejected(403, "action token does not match"));
        }
    }
    match custom_action::parse(body, action) {
        Err(message) => Inbound::Answer(Reply::error(400, message)),
        Ok(ActionEvent::NotCustom { event }) => Inbound::Answer(Reply::ignored(format!(
            "{event} is not a Custom Incident Action tap"
        ))),
        Ok(ActionEvent::Tap(trigger)) => Inbound::Trigger(trigger),
    }
}

impl WebhookApp {
    /// Handle one Function URL request. Never fails: every problem is an answer.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        let reply = self.dispatch(&request, started).await;
        let outcome = reply
            .body
            .get("outcome")
            .and_then(|value| value.as_str())
            .map(str::to_owned);
        tracing::info!(
            path,
            status = reply.status,
            outcome = outcome.as_deref().unwrap_or("none"),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        if let Some(outcome) = outcome.as_deref().and_then(Outcome::parse) {
            metrics::emit_outcome(FUNCTION_NAME, outcome);
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
            Err(error) if error.is_transient() => Err(Reply::transient(&error)),
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
                let span = trigger_span(&trigger);
                if let Some(reply) = self.caused_by_bot(&trigger) {
                    return reply;
                }
                let provenance = if trigger.workflow.is_some() {
                    Provenance::SignedReference
                } else {
                    Provenance::Signed
                };
                self.process(*trigger, deadline, provenance)
                    .instrument(span)
                    .await
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
            Inbound::Trigger(trigger) => {
                let span = trigger_span(&trigger);
                self.process(*trigger, deadline, Provenance::Unsigned)
                    .instrument(span)
                    .await
            }
        }
    }

    /// Decide on and act on a trigger that was authenticated some other way (an alarm verified
    /// by its SNS signature, say), within `budget`: the same path as a signed v3 webhook.
    pub async fn handle_trigger(&self, trigger: Trigger, budget: Duration) -> Reply {
        let span = trigger_span(&trigger);
        let provenance = if trigger.workflow.is_some() {
            Provenance::SignedReference
        } else {
            Provenance::Signed
        };
        self.process(trigger, Instant::now() + budget, provenance)
            .instrument(span)
            .await
    }

    /// Whether the trigger is older than the age limit: it will never be executed, so a transient
    /// failure must not keep its sender retrying.
    fn is_stale(&self, trigger: &Trigger) -> bool {
        self.clock.now().signed_duration_since(trigger.occurred_at) > self.max_trigger_age()
    }

    /// The age limit as a duration (the configuration bounds it, so this never saturates).
    fn max_trigger_age(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.max_trigger_age).unwrap_or(chrono::Duration::MAX)
    }

    /// After a transient failure with nothing sent: the refusal to answer instead of a 503 when
    /// the trigger has grown older than the age limit. PagerDuty queues an incident's later
    /// webhooks behind one it is retrying, for up to 48 hours, and a retry of a trigger this old
    /// could only be refused: so it is refused now, with a note, and the queue moves on.
    async fn stale_refusal(
        &self,
        trigger: &Trigger,
        runbook: Option<&str>,
        error: &Error,
        deadline: Instant,
    ) -> Option<Report> {
        if !self.is_stale(trigger) {
            return None;
        }
        let reason = format!(
            "not run: a transient failure lasted until the event was older than the age limit ({}): {error}",
            decision::human_duration(self.max_trigger_age())
        );
        tracing::error!(
            reason,
            "giving up on a stale trigger after a transient failure"
        );
        let mut report = Report::new(Outcome::Refused, Some(reason.clone()));
        report.trigger_id = Some(trigger.dedupe_id.clone());
        report.runbook = runbook.map(str::to_owned);
        let name = runbook.unwrap_or("remediate");
        report.note = Some(
            self.note(trigger, &notes::refused(trigger, name, &reason), deadline)
                .await,
        );
        Some(report)
    }

    /// A transient failure before any claim was taken: 503, unless the trigger is stale.
    async fn retry_unclaimed(
        &self,
        trigger: &Trigger,
        runbook: Option<&str>,
        error: &Error,
        deadline: Instant,
    ) -> Reply {
        match self.stale_refusal(trigger, runbook, error, deadline).await {
            Some(report) => Reply::report(200, &report),
            None => Reply::transient(error),
        }
    }

    /// A transient failure with the claim held and nothing sent: give the claim back and ask for
    /// a retry; or, when the trigger is stale, record the refusal on the claim (a redelivery is
    /// then a duplicate, not a second note).
    async fn retry_claimed(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        runbook: &str,
        error: &Error,
        deadline: Instant,
    ) -> Reply {
        if claim.taken_over {
            // The delivery this one took over may have sent the command, and nothing has looked
            // in SSM yet: keep the claim, so that only another takeover (which looks first) goes
            // on. Neither a refusal nor a fresh claim could be right here.
            tracing::warn!(%error, "transient failure on a taken-over claim; holding it");
            return Reply::transient(error);
        }
        if let Some(report) = self
            .stale_refusal(trigger, Some(runbook), error, deadline)
            .await
        {
            self.complete(claim, trigger, &report).await;
            return Reply::report(200, &report);
        }
        if let Err(release_error) = self.ledger.release(claim).await {
            tracing::error!(%release_error, "could not release the claim; the retry waits for it to expire");
        }
        Reply::transient(error)
    }

    /// Events remediate's own bot user caused (the notes it posts come back as
    /// `incident.annotated`, say) are never acted on: the function must not react to itself.
    fn caused_by_bot(&self, trigger: &Trigger) -> Option<Reply> {
        let bot = self.settings.bot_user_id.as_deref()?;
        let actor = trigger.actor.as_ref()?;
        (actor.id == bot).then(|| {
            tracing::info!(actor = actor.id, "event caused by the bot user; ignored");
            let mut report = Report::new(
                Outcome::Ignored,
                Some(format!(
                    "{} was caused by remediate's own PagerDuty user ({bot})",
                    trigger.event_type
                )),
            );
            report.trigger_id = Some(trigger.dedupe_id.clone());
            Reply::report(200, &report)
        })
    }

    /// A manual workflow start carries only a reference to its incident: unless no runbook names
    /// the workflow (ignored at once), re-read the incident so that every condition and guard sees
    /// what PagerDuty says now. Nothing is claimed yet, so a failure here is simply answered.
    async fn read_workflow_incident(
        &self,
        trigger: &mut Trigger,
        catalog: &crate::catalog::Catalog,
        deadline: Instant,
    ) -> Result<(), Reply> {
        let Some(workflow) = &trigger.workflow else {
            return Ok(());
        };
        if !catalog.names_workflow(workflow) {
            let reason = format!(
                "no runbook names workflow {:?} ({})",
                workflow.name, workflow.id
            );
            tracing::info!(reason, "ignored");
            let mut report = Report::new(Outcome::Ignored, Some(reason));
            report.trigger_id = Some(trigger.dedupe_id.clone());
            return Err(Reply::report(200, &report));
        }
        let Some(incident_id) = trigger.incident_id().map(str::to_owned) else {
            return Err(Reply::error(400, "the workflow start names no incident"));
        };
        match self
            .pagerduty
            .get_incident(&incident_id, deadline - ANSWER_MARGIN)
            .await
        {
            Ok(mut fresh) => {
                fresh.id = incident_id;
                trigger.incident = Some(fresh);
                Ok(())
            }
            Err(error) if error.is_transient() || is_deployment_fault(&error) => {
                Err(self.retry_unclaimed(trigger, None, &error, deadline).await)
            }
            Err(error) => {
                // PagerDuty says the incident is not there (deleted, or not visible to our key):
                // nothing can run, and a retry cannot change that.
                let reason = format!("PagerDuty does not confirm incident {incident_id}: {error}");
                tracing::warn!(reason, "refused");
                let mut report = Report::new(Outcome::Refused, Some(reason));
                report.trigger_id = Some(trigger.dedupe_id.clone());
                Err(Reply::report(200, &report))
            }
        }
    }

    /// From a verified, parsed trigger to an answer: select, claim, (re-check), decide, act, note.
    async fn process(
        &self,
        mut trigger: Trigger,
        deadline: Instant,
        provenance: Provenance,
    ) -> Reply {
        let catalog = self.catalogs.current().await;
        if provenance == Provenance::SignedReference
            && let Err(reply) = self
                .read_workflow_incident(&mut trigger, &catalog, deadline)
                .await
        {
            return reply;
        }
        // Only triggers that some runbook wants cost a ledger write; the rest are answered at once.
        let runbook = match decision::select(&trigger, &catalog) {
            Ok(runbook) => runbook.name.clone(),
            Err(reason) => {
                tracing::info!(reason, "ignored");
                let mut report = Report::new(Outcome::Ignored, Some(reason));
                report.trigger_id = Some(trigger.dedupe_id.clone());
                return Reply::report(200, &report);
            }
        };
        let now = self.clock.now();
        let claim = match self.ledger.claim(&trigger.dedupe_id, now, CLAIM_HOLD).await {
            Ok(ClaimResult::Claimed(claim)) => claim,
            Ok(ClaimResult::Completed(original)) => {
                let mut report = Report::new(
                    Outcome::Duplicate,
                    Some(format!("already handled: {}", original.outcome)),
                );
                report.trigger_id = Some(trigger.dedupe_id.clone());
                report.runbook = original.runbook;
                report.run_id = original.run_id;
                report.command_id = original.command_id;
                tracing::info!("duplicate delivery");
                return Reply::report(200, &report);
            }
            Ok(ClaimResult::InProgress { hold_until }) => {
                // Even past the age limit: the holder may have sent the command. A hold lasts
                // CLAIM_HOLD at most, and the delivery that takes it over looks in SSM first.
                tracing::info!(%hold_until, "another delivery is handling this trigger");
                return Reply::error(
                    503,
                    "this event is being handled by another delivery; retry later",
                );
            }
            Err(error) => {
                return self
                    .retry_unclaimed(&trigger, Some(&runbook), &error, deadline)
                    .await;
            }
        };
        if provenance == Provenance::Unsigned {
            // The body of a tap is not signed: what it says about the incident and the person is
            // re-read from PagerDuty before acting on it.
            if let Err(reply) = self
                .confirm_tap(&mut trigger, &catalog, &runbook, deadline)
                .await
            {
                return self
                    .finish_without_run(&claim, &trigger, &runbook, reply, deadline)
                    .await;
            }
        }
        // The kill switch is the strongest of the three dry-run switches. Unreadable for a
        // transient reason, it neither lets the run go nor turns it into a dry run recorded as
        // done (PagerDuty's retry would then be a duplicate): the claim is given back and the
        // sender retries, while the trigger is young enough to run.
        let global_dry_run = match self.kill_switch.read().await {
            SwitchReading::Off => self.settings.global_dry_run.clone(),
            SwitchReading::On(reason) => Some(reason),
            SwitchReading::Unreadable {
                reason,
                transient: true,
            } => {
                let error = Error::Aws {
                    service: "ssm",
                    operation: "GetParameter",
                    message: reason,
                    transient: true,
                };
                return self
                    .retry_claimed(&claim, &trigger, &runbook, &error, deadline)
                    .await;
            }
            SwitchReading::Unreadable { reason, .. } => Some(reason),
        };
        let context = DecisionContext {
            now,
            // A takeover's predecessor may have sent the command before it died: the age limit is
            // checked after SSM has been searched for it (in `execute`), so that a run that
            // happened is recorded as such and never refused as "too old".
            max_trigger_age: if claim.taken_over {
                chrono::Duration::MAX
            } else {
                self.max_trigger_age()
            },
            global_dry_run,
        };
        // No reads of guard state here: the reservation below takes cooldowns atomically.
        let decision = decision::decide(&trigger, &catalog, &context, &NoHistory);
        let mut report = match decision {
            Decision::Ignore { reason } => Report::new(Outcome::Ignored, Some(reason)),
            Decision::Refuse { runbook, reason } => {
                let mut report = Report::new(Outcome::Refused, Some(reason.clone()));
                report.runbook = Some(runbook.clone());
                tracing::warn!(runbook, reason, "refused");
                report.note = Some(
                    self.note(
                        &trigger,
                        &notes::refused(&trigger, &runbook, &reason),
                        deadline,
                    )
                    .await,
                );
                report
            }
            Decision::Suppress { runbook, reason } => {
                let mut report = Report::new(Outcome::Suppressed, Some(reason));
                report.runbook = Some(runbook);
                report
            }
            Decision::Execute(plan) => {
                match self.execute(&trigger, &plan, &claim, now, deadline).await {
                    Ok(report) => report,
                    Err(NotStarted::Release(error)) => {
                        // Nothing was sent: give the claim back so the sender's retry can run it.
                        return self
                            .retry_claimed(&claim, &trigger, &plan.runbook, &error, deadline)
                            .await;
                    }
                    Err(NotStarted::Hold(error)) => {
                        // The command may have reached SSM and we cannot tell: keep the claim. A
                        // retry after it expires takes it over and looks for the command first,
                        // even past the age limit: never a refusal of something that may have run.
                        tracing::error!(%error, run_id = plan.run_id, "cannot tell whether the command was sent; holding the claim");
                        return Reply::transient(&error);
                    }
                }
            }
        };
        report.trigger_id = Some(trigger.dedupe_id.clone());
        if report.catalog_version.is_none() {
            report.catalog_version = Some(catalog.version.clone());
        }
        self.complete(&claim, &trigger, &report).await;
        Reply::report(status_for(report.outcome), &report)
    }

    /// Re-read the incident (a tap on a resolved incident runs nothing) and, unless turned off,
    /// find the tap in the incident's log entries (a leaked header secret alone cannot act as a
    /// user). A refusal comes back as the reply to send.
    async fn confirm_tap(
        &self,
        trigger: &mut Trigger,
        catalog: &crate::catalog::Catalog,
        runbook: &str,
        deadline: Instant,
    ) -> Result<(), ConfirmFailure> {
        let Some(incident_id) = trigger.incident_id().map(str::to_owned) else {
            return Err(ConfirmFailure::Refused(
                "the tap names no incident".to_owned(),
            ));
        };
        let call_deadline = deadline - ANSWER_MARGIN;
        match self
            .pagerduty
            .get_incident(&incident_id, call_deadline)
            .await
        {
            Ok(mut fresh) => {
                // Notes go to the incident that was tapped, whatever id the answer carries (a
                // mock answers every id with its one example).
                fresh.id = incident_id.clone();
                trigger.incident = Some(fresh);
            }
            Err(error) if error.is_transient() || is_deployment_fault(&error) => {
                return Err(ConfirmFailure::Transient(error));
            }
            Err(error) => {
                return Err(ConfirmFailure::Refused(format!(
                    "PagerDuty does not confirm incident {incident_id}: {error}"
                )));
            }
        }
        if !self.settings.confirm_taps {
            // Local runs against emulators only (the template cannot turn confirmation off): the
            // person is whoever the unsigned body names, and every note and record says so.
            if let Some(actor) = trigger.actor.as_mut() {
                actor.unconfirmed = true;
            }
            return Ok(());
        }
        let Some(actor) = trigger.actor.clone() else {
            return Err(ConfirmFailure::Refused(
                "the tap names no person".to_owned(),
            ));
        };
        let Some(action) = trigger.action.as_deref() else {
            return Err(ConfirmFailure::Refused(
                "the tap names no action".to_owned(),
            ));
        };
        // The label is ours (the catalog), never the unsigned body's: it is what binds PagerDuty's
        // record of the tap to this route.
        let Some(label) = catalog
            .custom_actions
            .get(action)
            .map(|custom| custom.label.as_str())
        else {
            return Err(ConfirmFailure::Refused(format!(
                "the catalog declares no custom action {action:?}, so no tap can be bound to it"
            )));
        };
        let (Some(since), Some(until)) = (
            trigger.occurred_at.checked_sub_signed(TAP_CONFIRM_WINDOW),
            trigger.occurred_at.checked_add_signed(TAP_CONFIRM_WINDOW),
        ) else {
            return Err(ConfirmFailure::Refused(
                "the tap's time is out of range".to_owned(),
            ));
        };
        let entries = match self
            .pagerduty
            .log_entries_between(&incident_id, since, until, call_deadline)
            .await
        {
            Ok(entries) => entries,
            Err(error) if error.is_transient() || is_deployment_fault(&error) => {
                return Err(ConfirmFailure::Transient(error));
            }
            Err(error) => {
                return Err(ConfirmFailure::Refused(format!(
                    "PagerDuty log entries unreadable: {error}"
                )));
            }
        };
        // The tap is the person's custom log entry for this button (PagerDuty's summary names the
        // button by its label), close to the tap's own time.
        let mut candidates: Vec<_> = entries
            .iter()
            .filter(|entry| {
                entry.kind == CUSTOM_LOG_ENTRY
                    && entry.agent_id.as_deref() == Some(actor.id.as_str())
                    && entry.created_at.is_some_and(|at| {
                        at.signed_duration_since(trigger.occurred_at).abs() <= TAP_CONFIRM_WINDOW
                    })
                    && is_tap_of(entry, label)
            })
            .collect();
        // The closest entry first; two quick taps each find their own.
        candidates.sort_by_key(|entry| {
            entry
                .created_at
                .map(|at| at.signed_duration_since(trigger.occurred_at).abs())
        });
        if candidates.is_empty() {
            tracing::warn!(
                runbook,
                actor = actor.id,
                label,
                "tap not found in the incident's log entries"
            );
            return Err(ConfirmFailure::Unconfirmed(format!(
                "PagerDuty's log of the incident shows no recent \"{label}\" action by {} ({}): the request was not that tap in PagerDuty",
                actor.name, actor.id
            )));
        }
        // One log entry confirms one tap: a request replaying a real tap under a new message id
        // finds every entry already used. A redelivery of the same trigger may reuse its own.
        for entry in &candidates {
            let Some(entry_id) = entry.id.as_deref() else {
                continue;
            };
            let key = format!("pagerduty-log-entry:{entry_id}");
            match self
                .ledger
                .mark_once(&key, &trigger.dedupe_id, self.clock.now())
                .await
            {
                Ok(true) => {
                    // The person's name as PagerDuty knows it, not as the body claimed.
                    if let (Some(actor), Some(name)) =
                        (trigger.actor.as_mut(), entry.agent_name.as_ref())
                    {
                        actor.name = name.clone();
                    }
                    return Ok(());
                }
                Ok(false) => {}
                Err(error) => return Err(ConfirmFailure::Transient(error)),
            }
        }
        Err(ConfirmFailure::Refused(
            "every tap in PagerDuty's log that could match was already acted on; a request replaying one runs nothing"
                .to_owned(),
        ))
    }

    async fn finish_without_run(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        runbook: &str,
        failure: ConfirmFailure,
        deadline: Instant,
    ) -> Reply {
        let reason = match failure {
            ConfirmFailure::Transient(error) => {
                return self
                    .retry_claimed(claim, trigger, runbook, &error, deadline)
                    .await;
            }
            ConfirmFailure::Refused(reason) | ConfirmFailure::Unconfirmed(reason) => reason,
        };
        tracing::warn!(reason, "refused");
        let mut report = Report::new(Outcome::Refused, Some(reason));
        report.trigger_id = Some(claim.dedupe_id.clone());
        report.runbook = Some(runbook.to_owned());
        self.complete(claim, trigger, &report).await;
        Reply::report(200, &report)
    }

    /// Run the plan (or report the dry run) and note it on the incident. An error means nothing
    /// was executed; whether the claim may be given back says the error.
    async fn execute(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        claim: &Claim,
        claimed_at: chrono::DateTime<chrono::Utc>,
        deadline: Instant,
    ) -> Result<Report, NotStarted> {
        let mut report = Report::new(Outcome::Executed, None);
        report.runbook = Some(plan.runbook.clone());
        report.run_id = Some(plan.run_id.clone());
        report.catalog_version = Some(plan.catalog_version.clone());
        report.targets = Some(plan.targets());
        if claim.taken_over && plan.dry_run.is_some() && self.is_stale(trigger) {
            // A dry run sends nothing, so there is nothing to look for: decide's age check.
            return Ok(self
                .refuse_stale_takeover(trigger, plan, report, deadline)
                .await);
        }
        if let Some(why) = &plan.dry_run {
            report.outcome = Outcome::DryRun;
            report.reason = Some(why.clone());
            tracing::info!(runbook = plan.runbook, run_id = plan.run_id, why, "dry run");
            report.note = Some(
                self.note(trigger, &notes::dry_run(trigger, plan), deadline)
                    .await,
            );
            return Ok(report);
        }
        let ExecutionRequest::SsmCommand(request) = &plan.request else {
            // The catalog and the plan describe these already; their executors come later. Say
            // so on the incident rather than drop the run.
            let reason = format!(
                "{} uses an executor this function cannot start yet",
                plan.runbook
            );
            return Ok(self
                .refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
                .await);
        };
        if claim.taken_over {
            // The previous holder died after claiming (or could not tell whether its command
            // was sent); it may have sent the command first, at any time since the trigger.
            let since = (claimed_at - CLAIM_HOLD * 2)
                .min(trigger.occurred_at - chrono::Duration::minutes(1));
            match self.executor.find_command(request, since).await {
                Ok(Some(command)) => {
                    tracing::warn!(
                        run_id = plan.run_id,
                        command_id = command.command_id,
                        "the previous delivery had sent the command; not sending it again"
                    );
                    return Ok(self.started(trigger, plan, command, report, deadline).await);
                }
                Ok(None) if self.is_stale(trigger) => {
                    return Ok(self
                        .refuse_stale_takeover(trigger, plan, report, deadline)
                        .await);
                }
                Ok(None) => {}
                // Keep the claim, so that the next attempt is a takeover that looks again.
                Err(error) => return Err(NotStarted::Hold(error)),
            }
        }
        // max_targets holds for tag targets too: resolved now, and sent to exactly those ids.
        let pinned;
        let request =
            match crate::ssm::pin_tag_targets(&*self.executor, request, plan.max_targets).await {
                Ok(Pinned::AsIs) => request,
                Ok(Pinned::Instances(resolved)) => {
                    pinned = resolved;
                    &pinned
                }
                Ok(Pinned::Refused(reason)) => {
                    return Ok(self
                        .refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
                        .await);
                }
                Err(error) if error.is_transient() => return Err(NotStarted::Release(error)),
                Err(error) => {
                    let reason = format!("the tag targets could not be resolved: {error}");
                    return Ok(self
                        .refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
                        .await);
                }
            };
        if let Some(reservation) = &plan.reservation {
            let held_back = match self.guards.reserve(reservation, claimed_at).await {
                Ok(Reserved::Granted) => None,
                Ok(Reserved::CoolingDown { until }) => Some((
                    format!(
                        "{} ran on {} recently; cooling down until {}",
                        plan.runbook,
                        reservation.target,
                        until.to_rfc3339()
                    ),
                    until,
                )),
                Ok(Reserved::WindowFull {
                    limit,
                    window_start,
                }) => Some((
                    format!(
                        "{} already ran {} time(s) in the window that started {} (max_runs)",
                        plan.runbook,
                        limit.count,
                        window_start.to_rfc3339()
                    ),
                    window_start + chrono::Duration::seconds(limit.window_seconds as i64),
                )),
                Err(error) => return Err(NotStarted::Release(error)),
            };
            if let Some((reason, held_until)) = held_back {
                // Suppressed runs are logged, counted and recorded; the incident gets one note per
                // window (the first suppression's), not one per notification.
                tracing::warn!(runbook = plan.runbook, reason, "suppressed");
                report.outcome = Outcome::Suppressed;
                match self.guards.first_suppression(reservation, held_until).await {
                    Ok(true) => {
                        let text = notes::suppressed(
                            trigger,
                            &plan.runbook,
                            &format!(
                                "{reason}; further triggers until then are recorded, not noted"
                            ),
                        );
                        report.note = Some(self.note(trigger, &text, deadline).await);
                    }
                    Ok(false) => {}
                    Err(error) => {
                        tracing::error!(%error, "could not record the suppression note; not noting")
                    }
                }
                report.reason = Some(reason);
                return Ok(report);
            }
        }
        let result = self
            .send(trigger, plan, request, report, claimed_at, deadline)
            .await;
        // Nothing ran when SSM refused the command or did not take it: the cooldown and the window
        // place are given back, so that a fixed runbook or a retry is not held back by a run that
        // never happened.
        let nothing_ran = match &result {
            Err(NotStarted::Release(_)) => true,
            Ok(report) => report.outcome == Outcome::Refused && report.start_error.is_some(),
            Err(NotStarted::Hold(_)) => false,
        };
        if nothing_ran
            && let Some(reservation) = &plan.reservation
            && let Err(error) = self.guards.release(reservation, claimed_at).await
        {
            tracing::error!(%error, "could not give back the cooldown; the next run may be held back");
        }
        result
    }

    /// A takeover found that nothing was sent, and the trigger is older than the age limit: the
    /// refusal `decide` would have made had the search not come first.
    async fn refuse_stale_takeover(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        report: Report,
        deadline: Instant,
    ) -> Report {
        let age = self.clock.now().signed_duration_since(trigger.occurred_at);
        let reason = format!(
            "the event is {} old, older than the {} limit, and the delivery that first took it sent nothing: not run",
            decision::human_duration(age),
            decision::human_duration(self.max_trigger_age())
        );
        self.refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
            .await
    }

    /// Turn a report into a refusal that people see: the reason in the log and on the incident.
    async fn refuse_with_note(
        &self,
        trigger: &Trigger,
        runbook: &str,
        mut report: Report,
        reason: String,
        deadline: Instant,
    ) -> Report {
        tracing::warn!(runbook, reason, "refused");
        report.outcome = Outcome::Refused;
        report.note = Some(
            self.note(
                trigger,
                &notes::refused(trigger, runbook, &reason),
                deadline,
            )
            .await,
        );
        report.reason = Some(reason);
        report
    }

    async fn send(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        request: &CommandRequest,
        mut report: Report,
        claimed_at: chrono::DateTime<chrono::Utc>,
        deadline: Instant,
    ) -> Result<Report, NotStarted> {
        match self.executor.send_command(request).await {
            Ok(command) => Ok(self.started(trigger, plan, command, report, deadline).await),
            Err(error @ Error::Ambiguous { .. }) => {
                // The answer was lost, not the request: SSM may have the command, now or a moment
                // from now. Look; if it is not there yet, keep the claim so that only a takeover
                // (which looks again) can send it.
                let since = claimed_at - chrono::Duration::minutes(1);
                match self.executor.find_command(request, since).await {
                    Ok(Some(command)) => {
                        tracing::warn!(run_id = plan.run_id, %error, "SendCommand's answer was lost but the command exists");
                        Ok(self.started(trigger, plan, command, report, deadline).await)
                    }
                    Ok(None) => Err(NotStarted::Hold(error)),
                    Err(find_error) => {
                        tracing::error!(%find_error, "could not look for the command");
                        Err(NotStarted::Hold(error))
                    }
                }
            }
            // Throttling and other refusals that say SSM did not take the request: a retry is safe.
            Err(error) if error.is_transient() => Err(NotStarted::Release(error)),
            Err(error) => {
                // SSM said no (unknown document, bad parameters, no permission): retrying cannot
                // help, so the run is refused and people are told why.
                let message = error.to_string();
                tracing::error!(
                    runbook = plan.runbook,
                    run_id = plan.run_id,
                    error = message,
                    "SSM refused the command"
                );
                report.outcome = Outcome::Refused;
                report.start_error = Some(message.clone());
                report.reason = Some(format!("SSM refused the command: {message}"));
                report.note = Some(
                    self.note(
                        trigger,
                        &notes::start_failed(trigger, plan, &message),
                        deadline,
                    )
                    .await,
                );
                Ok(report)
            }
        }
    }

    async fn started(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        command: crate::ssm::StartedCommand,
        mut report: Report,
        deadline: Instant,
    ) -> Report {
        tracing::info!(
            runbook = plan.runbook,
            run_id = plan.run_id,
            command_id = command.command_id,
            document = plan.what(),
            targets = plan.targets(),
            "command sent"
        );
        let text = notes::started(trigger, plan, &command, &self.settings.region);
        report.command_id = Some(command.command_id);
        report.note = Some(self.note(trigger, &text, deadline).await);
        report
    }

    /// Post a note within what is left of the budget. A failure never undoes or repeats the run:
    /// it is logged with everything needed to post the note later.
    async fn note(&self, trigger: &Trigger, content: &str, deadline: Instant) -> NoteDelivery {
        let Some(incident_id) = trigger.incident_id() else {
            return NoteDelivery::NotApplicable;
        };
        match self
            .pagerduty
            .create_note(incident_id, content, deadline - ANSWER_MARGIN)
            .await
        {
            Ok(()) => {
                tracing::info!(incident_id, note = content, "note posted");
                NoteDelivery::Posted
            }
            Err(error) => {
                tracing::error!(
                    incident_id,
                    trigger_id = trigger.dedupe_id,
                    note = content,
                    %error,
                    "note not posted; pending for a later retry"
                );
                NoteDelivery::Pending
            }
        }
    }

    async fn complete(&self, claim: &Claim, trigger: &Trigger, report: &Report) {
        if let Err(error) = self
            .ledger
            .complete(claim, trigger, report, self.clock.now())
            .await
        {
            // The action is done and cannot be undone; the claim stays in progress until it
            // expires. Log everything the reconciler or a person needs.
            tracing::error!(
                %error,
                trigger_id = claim.dedupe_id,
                outcome = %report.outcome,
                run_id = report.run_id.as_deref().unwrap_or(""),
                command_id = report.command_id.as_deref().unwrap_or(""),
                "could not record the outcome in the ledger"
            );
        }
    }
}

/// How far a trigger's body can be believed, which decides what is re-read before acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provenance {
    /// Signed by its sender and complete: a v3 incident event, a verified alarm.
    Signed,
    /// Signed, but the incident is only a reference (a manual workflow start): re-read it first.
    SignedReference,
    /// Unsigned (a button tap behind a shared token): re-read the incident, confirm the tap.
    Unsigned,
}

/// Why a run did not start, and whether the claim may be given back.
enum NotStarted {
    /// Nothing was sent: a retry may run it.
    Release(Error),
    /// It may have been sent: keep the claim so that only a takeover (which looks first) retries.
    Hold(Error),
}

/// Our own credentials or configuration failed (a revoked PagerDuty key, an unreadable secret):
/// fixing them makes a retry succeed, so the tap is not refused for good.
fn is_deployment_fault(error: &Error) -> bool {
    matches!(
        error,
        Error::PagerDuty {
            status: Some(401 | 403),
            ..
        } | Error::SecretMalformed { .. }
            | Error::Config { .. }
    ) || matches!(
        error,
        Error::Aws {
            operation: "GetParameter",
            ..
        }
    )
}

/// Whether PagerDuty's log entry records a tap on the button with this label: its summary reads
/// `<person> ran the <label> action`, and the person is the entry's own agent.
fn is_tap_of(entry: &crate::pagerduty::LogEntry, label: &str) -> bool {
    let Some(summary) = entry.summary.as_deref() else {
        return false;
    };
    match entry.agent_name.as_deref() {
        Some(name) => summary == format!("{name} ran the {label} action"),
        None => summary.ends_with(&format!(" ran the {label} action")),
    }
}

enum ConfirmFailure {
    Transient(Error),
    Refused(String),
    Unconfirmed(String),
}

fn trigger_span(trigger: &Trigger) -> tracing::Span {
    tracing::info_span!(
        "trigger",
        trigger_id = trigger.dedupe_id,
        source = %trigger.source,
        event_type = trigger.event_type,
        incident_id = trigger.incident_id().unwrap_or(""),
        action = trigger.action.as_deref().unwrap_or(""),
    )
}

#[cfg(test)]
mod tests;

impl WebhookApp {
    /// Build the real app from the environment: called once per container, at cold start.
    pub async fn from_env() -> crate::Result<Self> {
        let env = crate::config::Env(|name: &str| std::env::var(name).ok());
        let settings = env.webhook_settings()?;
        if !settings.confirm_taps {
            tracing::warn!(
                "PAGERDUTY_CONFIRM_TAPS is false: taps are acted on without finding them in PagerDuty's log; the person is whoever the unsigned body names. For local runs against emulators only"
            );
        }
        let aws = crate::aws::load_config().await;
        let ssm = aws_sdk_ssm::Client::new(&aws);
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let remote = |fetcher: Box<dyn crate::catalog_store::CatalogFetcher>, refresh: Duration| {
            let refresh = chrono::Duration::from_std(refresh)
                .unwrap_or(crate::catalog_store::DEFAULT_REFRESH);
            CatalogStore::remote(fetcher, refresh, clock.clone())
        };
        let catalogs = match env.catalog_source()? {
            CatalogSource::BuiltIn | CatalogSource::File(_) => {
                CatalogStore::fixed(env.catalog()?, clock.clone())
            }
            CatalogSource::Parameter { name, refresh } => {
                let fetcher = crate::catalog_store::ParameterCatalog {
                    client: ssm.clone(),
                    name,
                };
                remote(Box::new(fetcher), refresh).await?
            }
            CatalogSource::S3 {
                uri,
                refresh,
                expected_owner,
            } => {
                let (bucket, key) = crate::catalog_store::S3Catalog::parse_uri(&uri)?;
                let fetcher = crate::catalog_store::S3Catalog {
                    client: aws_sdk_s3::Client::new(&aws),
                    bucket,
                    key,
                    expected_owner,
                };
                remote(Box::new(fetcher), refresh).await?
            }
        };
        let catalog = catalogs.current().await;
        tracing::info!(
            catalog = catalog.source_name,
            version = catalog.version,
            runbooks = catalog.runbooks.len(),
            dry_run = settings.global_dry_run.is_some(),
            "catalog loaded"
        );
        let kill_switch = match env.kill_switch_parameter() {
            Some(parameter) => KillSwitch::new(ssm.clone(), parameter, clock.clone()),
            None => KillSwitch::absent(clock.clone()),
        };
        let secrets: Arc<dyn SecretStore> = Arc::new(crate::secrets::ParameterStoreSecrets::new(
            ssm.clone(),
            crate::secrets::DEFAULT_SECRET_TTL,
        ));
        let pagerduty = crate::pagerduty::HttpPagerDuty::new(
            &settings.api_url,
            settings.from_email.clone(),
            secrets.clone(),
            settings.api_token_parameter.clone(),
        )?;
        let ledger = Arc::new(crate::ledger::DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(&aws),
            settings.ledger_table.clone(),
        ));
        Ok(Self {
            settings,
            catalogs: Arc::new(catalogs),
            kill_switch: Arc::new(kill_switch),
            secrets,
            pagerduty: Arc::new(pagerduty),
            executor: Arc::new(crate::ssm::SsmCommandExecutor::new(ssm)),
            ledger: ledger.clone(),
            guards: ledger,
            clock,
        })
    }
}
