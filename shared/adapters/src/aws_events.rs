//! An EventBridge event that a rule delivered to an SNS topic (the event JSON is the SNS
//! `Message`), read into the core's [`AwsEvent`] and the time it happened.
//!
//! The envelope is EventBridge's (`version`, `id`, `detail-type`, `source`, `account`, `time`,
//! `region`, `resources`, `detail`); what a runbook matches on is read from `detail` for the
//! sources that carry findings (see [`findings`]):
//!
//! | source | detail-type | finding type | severity | resources (before the envelope's) |
//! |---|---|---|---|---|
//! | `aws.guardduty` | `GuardDuty Finding` | `type` | `severity` 1.0–10.0 as a label | instance id, access key id, S3 bucket ARNs or names |
//! | `aws.securityhub` | `Security Hub Findings - Imported` | `Types[0]` | `Severity.Label`, else `Normalized` | `Resources[].Id` |
//! | `aws.health` | `AWS Health Event` | `eventTypeCode` | none | `affectedEntities[].entityValue` |
//!
//! Any other source or detail type is still an event (source, detail type, account, region,
//! the envelope's resources), with no finding type and no severity.
//!
//! The types are our own, every field optional where AWS leaves it null or out, unknown fields
//! ignored; a field of the wrong type is `Invalid` rather than silently dropped, since a finding
//! read wrongly could point a runbook at the wrong resource.
//!
//! Decisions:
//! - resources: the finding's own resources come first, then the envelope's, deduplicated in
//!   that order, so `event.resource` (the first) is what the finding is about. Security Hub's
//!   envelope `resources` holds the finding's own ARN, not an affected resource; GuardDuty's is
//!   usually empty.
//! - GuardDuty's numeric severity maps onto the labels of its user guide ("Severity levels of
//!   GuardDuty findings"): LOW 1.0–3.9, MEDIUM 4.0–6.9, HIGH 7.0–8.9, CRITICAL 9.0–10.0.
//!   Values below 1.0 (0 is reserved) count as LOW; outside 0–10 the finding is `Invalid`.
//! - Security Hub: `Severity.Label` wins; older findings with only `Severity.Normalized` map as
//!   the ASFF reference says (0 INFORMATIONAL, 1–39 LOW, 40–69 MEDIUM, 70–89 HIGH, 90–100
//!   CRITICAL). AWS documents one finding per "Findings - Imported" event; an event with
//!   several is refused as [`NotAnEvent::SeveralFindings`], because acting on the first would
//!   silently drop the others, and each finding's severity and resources differ.
//! - AWS Health has no severity, so `severity` stays `None` and a `min_severity` condition never
//!   holds for it; its category (`issue`, `scheduledChange`, `accountNotification`, ...) is kept
//!   on [`AwsEventNotification::category`] for notes and logs, not as a catalog key: the event
//!   type code already names the category's events one by one.

mod findings;

use crate::cloudwatch::{self, NotAnAlarm, json_kind};
use chrono::{DateTime, Utc};
use remediate_core::clock::is_plausible;
use remediate_core::trigger::AwsEvent;
use serde::Deserialize;

/// One EventBridge event, as runbooks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsEventNotification {
    pub event: AwsEvent,
    /// The envelope's `time`: when the event happened (for findings, when it was published).
    pub time: DateTime<Utc>,
    /// The finding's title (GuardDuty `title`, Security Hub `Title`), for notes. `None` when
    /// absent or blank, and for events that are not findings.
    pub title: Option<String>,
    /// AWS Health's `eventTypeCategory` (`issue`, `scheduledChange`, ...); `None` otherwise.
    pub category: Option<String>,
}

/// Why an SNS message is not an AWS event we act on. The function logs it as `ignored` and
/// acknowledges the message: redelivering it would not change the answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAnEvent {
    /// The message is not JSON at all.
    #[error("the message is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an EventBridge event (no `source` and `detail-type`): a CloudWatch alarm,
    /// a test message, another publisher's shape.
    #[error("the message is not an EventBridge event: {0}")]
    WrongShape(String),
    /// An EventBridge event with something wrong in it.
    #[error("the event is invalid: {0}")]
    Invalid(String),
    /// A findings event carrying more than one finding: runbooks act on one finding per event.
    #[error(
        "the event carries {0} findings; runbooks act on one finding per event, so none is acted on"
    )]
    SeveralFindings(usize),
}

impl NotAnEvent {
    /// A short fixed label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            NotAnEvent::NotJson(_) => "not-json",
            NotAnEvent::WrongShape(_) => "not-an-event",
            NotAnEvent::Invalid(_) => "invalid-event",
            NotAnEvent::SeveralFindings(_) => "several-findings",
        }
    }
}

#[derive(Deserialize)]
struct RawEnvelope {
    id: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    account: Option<String>,
    time: Option<String>,
    region: Option<String>,
    resources: Option<Vec<String>>,
    /// Read per source, once the source is known.
    detail: Option<serde_json::Value>,
}

/// Read an SNS `Message` as an EventBridge event.
pub fn parse_event(message: &str) -> Result<AwsEventNotification, NotAnEvent> {
    let value = cloudwatch::message_json(message).map_err(|error| match error {
        NotAnAlarm::NotJson(reason) => NotAnEvent::NotJson(reason),
        other => NotAnEvent::Invalid(other.to_string()),
    })?;
    event_from_json(&value)
}

/// A message already read as JSON ([`cloudwatch::message_json`]), as an EventBridge event. "Not
/// an event" (an alarm on the same topic) and "a broken event" are told apart before the
/// envelope's types are applied.
pub fn event_from_json(value: &serde_json::Value) -> Result<AwsEventNotification, NotAnEvent> {
    let Some(object) = value.as_object() else {
        return Err(NotAnEvent::WrongShape(format!(
            "a JSON {}, not an object",
            json_kind(value)
        )));
    };
    if !object.contains_key("source") || !object.contains_key("detail-type") {
        return Err(NotAnEvent::WrongShape(
            "no source and detail-type".to_owned(),
        ));
    }
    let raw =
        RawEnvelope::deserialize(value).map_err(|error| NotAnEvent::Invalid(error.to_string()))?;
    notification(raw)
}

fn notification(raw: RawEnvelope) -> Result<AwsEventNotification, NotAnEvent> {
    let id = required(raw.id.as_deref(), "id")?;
    let source = required(Some(&raw.source), "source")?;
    let detail_type = required(Some(&raw.detail_type), "detail-type")?;
    let time = event_time(raw.time.as_deref())?;
    let read = findings::read(&source, &detail_type, raw.detail.as_ref())?;

    let mut resources = Resources::default();
    for resource in read.resources.iter().chain(raw.resources.iter().flatten()) {
        resources.add(resource);
    }
    Ok(AwsEventNotification {
        event: AwsEvent {
            id,
            source,
            detail_type,
            account: non_blank(raw.account.as_deref()),
            region: non_blank(raw.region.as_deref()),
            resources: resources.0,
            finding_type: read.finding_type,
            severity: read.severity.map(str::to_owned),
        },
        time,
        title: read.title,
        category: read.category,
    })
}

/// Affected resources in first-seen order, each once, blanks dropped.
#[derive(Default)]
struct Resources(Vec<String>);

impl Resources {
    fn add(&mut self, resource: &str) {
        let resource = resource.trim();
        if !resource.is_empty() && !self.0.iter().any(|seen| seen == resource) {
            self.0.push(resource.to_owned());
        }
    }
}

fn required(text: Option<&str>, field: &str) -> Result<String, NotAnEvent> {
    non_blank(text).ok_or_else(|| NotAnEvent::Invalid(format!("{field} is absent or blank")))
}

fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

/// At most 64 characters of an untrusted value, for an error message.
fn truncated(value: &str) -> String {
    value.chars().take(64).collect()
}

/// EventBridge writes `time` as RFC 3339 (`2019-04-11T21:52:17Z`). Required: the pipeline
/// refuses stale triggers by it.
fn event_time(text: Option<&str>) -> Result<DateTime<Utc>, NotAnEvent> {
    let text = text.ok_or_else(|| NotAnEvent::Invalid("time is absent".to_owned()))?;
    let parsed = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|error| NotAnEvent::Invalid(format!("time {:?}: {error}", truncated(text))))?
        .with_timezone(&Utc);
    if !is_plausible(parsed) {
        return Err(NotAnEvent::Invalid(format!(
            "time {parsed} is not a plausible time"
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests;
