//! The CloudWatch alarm notification that SNS delivers as its `Message` (a JSON string), read
//! into the core's [`Alarm`] and what the sns-alarm function needs around it.
//!
//! The types are our own: `aws_lambda_events`' alarm type refuses real payloads (a null
//! `AlarmDescription`, lowercase dimension keys, an offset without a colon). Only the fields we
//! use are declared, so everything else (`Threshold`, `Period`, `TreatMissingData`,
//! `EvaluateLowSampleCountPercentile`, `TriggeringChildren`, ...) may be absent, empty or any
//! shape. The fields are those of AWS's documented notification schemas ("Notifying users on
//! alarm changes", CloudWatch user guide): a metric alarm's `Trigger`, a metric-math alarm's
//! `Trigger.Metrics`, a composite alarm's `AlarmRule`.
//!
//! Decisions:
//! - the region: the `AlarmArn`'s region wins over the `Region` display name, because the ARN is
//!   machine-made and the display name is a label for people that AWS has renamed before;
//! - the account: likewise, the ARN's over `AWSAccountId`;
//! - a metric-math alarm names a namespace, metric and dimensions only when all its metrics
//!   agree on them: naming one of several instances would point a runbook at the wrong one.

pub mod alarm_states;
mod regions;

pub use alarm_states::CloudWatchAlarmStates;

use chrono::{DateTime, Utc};
use remediate_core::clock::is_plausible;
use remediate_core::trigger::Alarm;
use serde::Deserialize;
use std::collections::BTreeMap;

/// SNS's limit on a message: anything larger did not come from SNS.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The alarm states CloudWatch has.
pub const STATES: [&str; 3] = ["ALARM", "OK", "INSUFFICIENT_DATA"];

/// One alarm state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmNotification {
    pub alarm: Alarm,
    /// `OldStateValue`: one of [`STATES`] when present.
    pub old_state: Option<String>,
    /// `NewStateReason`, CloudWatch's prose. `None` when absent or blank.
    pub reason: Option<String>,
    /// `AlarmDescription`, the owner's text. `None` when null, absent or blank.
    pub description: Option<String>,
    /// `StateChangeTime`.
    pub changed_at: DateTime<Utc>,
    pub kind: AlarmKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmKind {
    /// `Trigger.MetricName`: one metric against a threshold.
    SingleMetric,
    /// `Trigger.Metrics`: metric queries, one of which (`ReturnData: true`) is what the alarm
    /// watches. `expression` is that query's math expression; `None` when it is a plain metric.
    MetricMath { expression: Option<String> },
    /// `AlarmRule`: a rule over other alarms' states, with no metric of its own.
    Composite { rule: String },
}

/// Why an SNS message is not an alarm we act on. The function logs it as `ignored` and
/// acknowledges the message: redelivering it would not change the answer.
///
/// Named `WrongShape` rather than `NotAnAlarmShape`: clippy refuses a variant that repeats its
/// enum's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAnAlarm {
    /// The message is not JSON at all (a plain-text publish, a test message).
    #[error("the message is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an alarm notification (no `AlarmName` and `NewStateValue`): another
    /// service's event on the same topic.
    #[error("the message is not a CloudWatch alarm notification: {0}")]
    WrongShape(String),
    /// An alarm notification with something wrong in it.
    #[error("the alarm notification is invalid: {0}")]
    Invalid(String),
}

impl NotAnAlarm {
    /// A short fixed label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            NotAnAlarm::NotJson(_) => "not-json",
            NotAnAlarm::WrongShape(_) => "not-an-alarm",
            NotAnAlarm::Invalid(_) => "invalid-alarm",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawNotification {
    alarm_name: String,
    alarm_description: Option<String>,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: Option<String>,
    new_state_value: String,
    new_state_reason: Option<String>,
    state_change_time: String,
    region: Option<String>,
    alarm_arn: Option<String>,
    old_state_value: Option<String>,
    trigger: Option<RawTrigger>,
    alarm_rule: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTrigger {
    metric_name: Option<String>,
    namespace: Option<String>,
    dimensions: Option<Vec<RawDimension>>,
    metrics: Option<Vec<RawMetricQuery>>,
}

/// CloudWatch writes `{"value": .., "name": ..}` in notifications, though its API says
/// `Name`/`Value`; both are read.
#[derive(Deserialize)]
struct RawDimension {
    #[serde(alias = "Name")]
    name: String,
    #[serde(alias = "Value")]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetricQuery {
    expression: Option<String>,
    return_data: Option<bool>,
    metric_stat: Option<RawMetricStat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetricStat {
    metric: Option<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetric {
    metric_name: Option<String>,
    namespace: Option<String>,
    dimensions: Option<Vec<RawDimension>>,
}

/// Read an SNS `Message` as a CloudWatch alarm notification.
pub fn parse_alarm(message: &str) -> Result<AlarmNotification, NotAnAlarm> {
    alarm_from_json(&message_json(message)?)
}

/// An SNS `Message` read as JSON, once, for the alarm and the event readers. Read as a value
/// first, so that "not an alarm" (another event on the topic) and "a broken alarm" are told
/// apart before the alarm's types are applied.
pub fn message_json(message: &str) -> Result<serde_json::Value, NotAnAlarm> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(NotAnAlarm::Invalid(format!(
            "{} bytes, more than SNS's {MAX_MESSAGE_BYTES}",
            message.len()
        )));
    }
    serde_json::from_str(message).map_err(|error| NotAnAlarm::NotJson(error.to_string()))
}

/// A message already read as JSON ([`message_json`]), as an alarm notification.
pub fn alarm_from_json(value: &serde_json::Value) -> Result<AlarmNotification, NotAnAlarm> {
    let Some(object) = value.as_object() else {
        return Err(NotAnAlarm::WrongShape(format!(
            "a JSON {}, not an object",
            json_kind(value)
        )));
    };
    if !object.contains_key("AlarmName") || !object.contains_key("NewStateValue") {
        return Err(NotAnAlarm::WrongShape(
            "no AlarmName and NewStateValue".to_owned(),
        ));
    }
    let raw = RawNotification::deserialize(value)
        .map_err(|error| NotAnAlarm::Invalid(error.to_string()))?;
    notification(raw)
}

pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn notification(raw: RawNotification) -> Result<AlarmNotification, NotAnAlarm> {
    let name = raw.alarm_name.trim();
    if name.is_empty() {
        return Err(NotAnAlarm::Invalid("an empty AlarmName".to_owned()));
    }
    let state = known_state(&raw.new_state_value, "NewStateValue")?;
    let old_state = raw
        .old_state_value
        .as_deref()
        .map(|old| known_state(old, "OldStateValue"))
        .transpose()?;
    let changed_at = state_change_time(&raw.state_change_time)?;
    let arn = raw.alarm_arn.as_deref().and_then(AlarmArn::parse);
    let region = arn.as_ref().map(|arn| arn.region.to_owned()).or_else(|| {
        raw.region
            .as_deref()
            .and_then(regions::code)
            .map(str::to_owned)
    });
    let account = arn
        .as_ref()
        .map(|arn| arn.account.to_owned())
        .or_else(|| non_blank(raw.aws_account_id.as_deref()));

    let (kind, namespace, metric, dimensions) = match (raw.alarm_rule, raw.trigger) {
        (Some(rule), _) => (AlarmKind::Composite { rule }, None, None, BTreeMap::new()),
        (None, Some(trigger)) => match trigger.metrics {
            Some(queries) if trigger.metric_name.is_none() => metric_math(&queries)?,
            _ => (
                AlarmKind::SingleMetric,
                non_blank(trigger.namespace.as_deref()),
                non_blank(trigger.metric_name.as_deref()),
                dimensions(trigger.dimensions.as_deref().unwrap_or_default())?,
            ),
        },
        // Neither a rule nor a trigger: nothing says which metric, but the name and state
        // still make an alarm a catalog can match by name.
        (None, None) => (AlarmKind::SingleMetric, None, None, BTreeMap::new()),
    };

    Ok(AlarmNotification {
        alarm: Alarm {
            name: name.to_owned(),
            arn: non_blank(raw.alarm_arn.as_deref()),
            state: state.to_owned(),
            account,
            region,
            namespace,
            metric,
            dimensions,
        },
        old_state: old_state.map(str::to_owned),
        reason: non_blank(raw.new_state_reason.as_deref()),
        description: non_blank(raw.alarm_description.as_deref()),
        changed_at,
        kind,
    })
}

fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn known_state(value: &str, field: &str) -> Result<&'static str, NotAnAlarm> {
    STATES
        .iter()
        .find(|state| **state == value)
        .copied()
        .ok_or_else(|| {
            NotAnAlarm::Invalid(format!(
                "{field} {:?} is not one of {}",
                truncated(value),
                STATES.join(", ")
            ))
        })
}

/// At most 64 characters of an untrusted value, for an error message.
fn truncated(value: &str) -> String {
    value.chars().take(64).collect()
}

/// CloudWatch writes `2015-06-03T17:43:27.123+0000`, an offset without a colon that RFC 3339
/// parsers refuse; RFC 3339 itself (`Z`, `+00:00`) is read too, as emulators write it.
fn state_change_time(text: &str) -> Result<DateTime<Utc>, NotAnAlarm> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map_err(|error| {
            NotAnAlarm::Invalid(format!("StateChangeTime {:?}: {error}", truncated(text)))
        })?
        .with_timezone(&Utc);
    if !is_plausible(parsed) {
        return Err(NotAnAlarm::Invalid(format!(
            "StateChangeTime {parsed} is not a plausible time"
        )));
    }
    Ok(parsed)
}

/// The parts of `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>` we use.
struct AlarmArn<'a> {
    region: &'a str,
    account: &'a str,
}

impl<'a> AlarmArn<'a> {
    /// `None` for anything that is not a well-formed alarm ARN (the documentation samples'
    /// `arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE` included), so that a
    /// placeholder never becomes a region or an account.
    fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.trim().splitn(7, ':');
        let (Some("arn"), Some(partition), Some("cloudwatch"), Some(region), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let (Some("alarm"), Some(name)) = (parts.next(), parts.next()) else {
            return None;
        };
        let region_like = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let account_like = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        (partition.starts_with("aws") && region_like && account_like && !name.is_empty())
            .then_some(AlarmArn { region, account })
    }
}

type Metric = (
    AlarmKind,
    Option<String>,
    Option<String>,
    BTreeMap<String, String>,
);

/// A metric-math alarm: the expression it watches, and a namespace, metric and dimensions only
/// when every metric in it has the same ones (see the module's decisions).
fn metric_math(queries: &[RawMetricQuery]) -> Result<Metric, NotAnAlarm> {
    let returned: Vec<&RawMetricQuery> = queries
        .iter()
        .filter(|query| query.return_data == Some(true))
        .collect();
    // CloudWatch allows exactly one returned query per alarm; with any other number, which
    // expression the alarm watches is unknown.
    let expression = match returned.as_slice() {
        [only] => non_blank(only.expression.as_deref()),
        _ => None,
    };
    let kind = AlarmKind::MetricMath { expression };

    let mut metrics = Vec::new();
    for metric in queries
        .iter()
        .filter_map(|query| query.metric_stat.as_ref()?.metric.as_ref())
    {
        let dimensions = dimensions(metric.dimensions.as_deref().unwrap_or_default())?;
        metrics.push((
            non_blank(metric.namespace.as_deref()),
            non_blank(metric.metric_name.as_deref()),
            dimensions,
        ));
    }
    let Some((namespace, name, first_dimensions)) = metrics.first() else {
        return Ok((kind, None, None, BTreeMap::new()));
    };
    if metrics
        .iter()
        .any(|(ns, metric, _)| ns != namespace || metric != name)
    {
        return Ok((kind, None, None, BTreeMap::new()));
    }
    // The same metric of several resources (m1 of i-a, m2 of i-b) names no one resource; nor
    // does a metric with and without a dimension (one instance and the whole fleet).
    let agreed = metrics
        .iter()
        .all(|(_, _, dimensions)| dimensions == first_dimensions);
    let dimensions = if agreed {
        first_dimensions.clone()
    } else {
        BTreeMap::new()
    };
    Ok((kind, namespace.clone(), name.clone(), dimensions))
}

/// A dimension list as a map. One name with two values is refused: which one the alarm is about
/// would be a guess.
fn dimensions(list: &[RawDimension]) -> Result<BTreeMap<String, String>, NotAnAlarm> {
    let mut map = BTreeMap::new();
    for dimension in list {
        if let Some(earlier) = map.insert(dimension.name.clone(), dimension.value.clone())
            && earlier != dimension.value
        {
            return Err(NotAnAlarm::Invalid(format!(
                "dimension {:?} has two values",
                truncated(&dimension.name)
            )));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests;
