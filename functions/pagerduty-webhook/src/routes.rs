//! The two routes, and what every request passes before the pipeline sees it: method, size,
//! media type, then its signature or token on the raw bytes (constant time), then parsing.

use crate::answer::Reply;
use crate::{ACTIONS_PREFIX, MAX_BODY_BYTES};
use lambda_http::{Body, Request};
use remediate_adapters::pagerduty::action_token::{self, TokenCheck};
use remediate_adapters::pagerduty::custom_action::{self, ActionEvent};
use remediate_adapters::pagerduty::signature::{self, SignatureCheck};
use remediate_adapters::pagerduty::webhook_v3::{self, V3Event};
use remediate_core::secrets::Secret;
use remediate_core::trigger::Trigger;

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
            if action_token::is_action_name(name) {
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

/// Authenticate (constant-time token compare, before parsing) and read a Custom Incident Action.
pub fn read_action(
    request: &Request,
    body: &[u8],
    action: &str,
    header: &str,
    tokens: Credentials<'_>,
) -> Inbound {
    if let Credentials::Check(tokens) = tokens {
        let presented = request.headers().get(header).map(|value| value.as_bytes());
        match action_token::verify(presented, action, tokens) {
            TokenCheck::Valid => {}
            TokenCheck::Missing => {
                tracing::warn!(action, header, "action without its token header");
                return Inbound::Answer(Reply::rejected(401, "missing action token header"));
            }
            TokenCheck::Mismatch { unusable } => {
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
    }
    match custom_action::parse(body, action) {
        Err(message) => Inbound::Answer(Reply::error(400, message)),
        Ok(ActionEvent::NotCustom { event }) => Inbound::Answer(Reply::ignored(format!(
            "{event} is not a Custom Incident Action tap"
        ))),
        Ok(ActionEvent::Tap(trigger)) => Inbound::Trigger(trigger),
    }
}
