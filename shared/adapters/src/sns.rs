//! What the sns-alarm function reads out of one verified SNS notification: its `Message` as a
//! CloudWatch alarm state change (or, see the findings module, an AWS event), and the trigger
//! the pipeline runs.
//!
//! The trigger's dedupe id is the SNS `MessageId` for alarms: SNS and Lambda's own retries
//! redeliver the same notification with the same id, which the ledger then answers as a
//! duplicate. For EventBridge events it is the event's own `id`: EventBridge delivers at least
//! once, and each of its deliveries to the topic is a new SNS message with a new `MessageId`. Its time is
//! the notification's signed `Timestamp` (when SNS accepted it), which the age limit is measured
//! from: a notification delivered hours late by Lambda's retries is not executed.

use crate::aws_events::{self, AwsEventNotification, NotAnEvent};
use crate::cloudwatch::{self, AlarmNotification, NotAnAlarm};
use chrono::{DateTime, Utc};
use remediate_core::clock::is_plausible;
use remediate_core::trigger::{Source, Trigger};

/// Longest SNS `MessageId` accepted (they are UUIDs, 36 characters).
const MAX_MESSAGE_ID: usize = 100;

/// The dedupe id of an SNS notification, namespaced so that it can never equal another
/// source's.
pub fn dedupe_id(message_id: &str) -> String {
    format!("sns:{message_id}")
}

/// The dedupe id of an EventBridge event: its own id (a UUID), when it is a plain token.
pub fn event_dedupe_id(event_id: &str) -> Option<String> {
    let plain = !event_id.is_empty()
        && event_id.len() <= MAX_MESSAGE_ID
        && event_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plain.then(|| format!("aws-event:{event_id}"))
}

/// What an SNS message carries that the function acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    Alarm(Box<AlarmNotification>),
    /// An EventBridge event (a GuardDuty or Security Hub finding, an AWS Health event...).
    Event(Box<AwsEventNotification>),
}

/// Why a notification will never be acted on. The function acknowledges it as `ignored`, with
/// this as the reason: a redelivery would get the same answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("the SNS MessageId {0:?} is not 1 to {MAX_MESSAGE_ID} letters, digits and dashes")]
    MessageId(String),
    #[error("the SNS Timestamp {0} is not a plausible time")]
    Timestamp(DateTime<Utc>),
    /// Not JSON, or an alarm notification with something wrong in it.
    #[error(transparent)]
    Alarm(#[from] NotAnAlarm),
    /// An EventBridge event with something wrong in it.
    #[error(transparent)]
    Event(#[from] NotAnEvent),
    /// JSON of neither shape: another publisher's message on the topic.
    #[error("the message is neither a CloudWatch alarm notification nor an EventBridge event")]
    UnknownShape,
}

impl Unusable {
    /// A short fixed label for logs.
    pub fn label(&self) -> &'static str {
        match self {
            Unusable::MessageId(_) => "bad-message-id",
            Unusable::Timestamp(_) => "bad-timestamp",
            Unusable::Alarm(not_an_alarm) => not_an_alarm.label(),
            Unusable::Event(not_an_event) => not_an_event.label(),
            Unusable::UnknownShape => "unknown-shape",
        }
    }
}

/// Read one notification's message. `message_id` and `timestamp` are the SNS envelope's.
pub fn read(
    message_id: &str,
    timestamp: DateTime<Utc>,
    message: &str,
) -> Result<Trigger, Unusable> {
    if message_id.is_empty()
        || message_id.len() > MAX_MESSAGE_ID
        || !message_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Unusable::MessageId(message_id.chars().take(40).collect()));
    }
    if !is_plausible(timestamp) {
        return Err(Unusable::Timestamp(timestamp));
    }
    Ok(trigger(message_id, timestamp, notification(message)?))
}

/// The message as an alarm, else as an EventBridge event (read as JSON once).
pub fn notification(message: &str) -> Result<Notification, Unusable> {
    let value = cloudwatch::message_json(message)?;
    match cloudwatch::alarm_from_json(&value) {
        Ok(alarm) => Ok(Notification::Alarm(Box::new(alarm))),
        Err(NotAnAlarm::WrongShape(_)) => match aws_events::event_from_json(&value) {
            Ok(event) => Ok(Notification::Event(Box::new(event))),
            Err(NotAnEvent::WrongShape(_)) => Err(Unusable::UnknownShape),
            Err(error) => Err(error.into()),
        },
        Err(error) => Err(error.into()),
    }
}

/// The trigger of one notification.
pub fn trigger(message_id: &str, timestamp: DateTime<Utc>, notification: Notification) -> Trigger {
    match notification {
        Notification::Alarm(notification) => Trigger {
            source: Source::CloudwatchAlarm,
            dedupe_id: dedupe_id(message_id).into(),
            event_type: notification.alarm.state.clone(),
            action: None,
            occurred_at: timestamp,
            incident: None,
            actor: None,
            alarm: Some(notification.alarm),
            event: None,
            workflow: None,
        },
        Notification::Event(notification) => Trigger {
            source: Source::AwsEvent,
            dedupe_id: event_dedupe_id(&notification.event.id)
                .unwrap_or_else(|| dedupe_id(message_id))
                .into(),
            event_type: notification.event.detail_type.clone(),
            action: None,
            occurred_at: timestamp,
            incident: None,
            actor: None,
            alarm: None,
            event: Some(notification.event),
            workflow: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SINGLE_METRIC: &str = include_str!(
        "../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-single-metric.json"
    );

    /// The alarm notification inside AWS's sample SNS event.
    fn alarm_message() -> String {
        let event: serde_json::Value = serde_json::from_str(SINGLE_METRIC).unwrap();
        event["Records"][0]["Sns"]["Message"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    const GUARDDUTY: &str =
        include_str!("../../../events/fixtures/aws/eventbridge-guardduty-finding-ec2.json");

    fn at() -> DateTime<Utc> {
        "2026-11-25T03:12:09.123Z".parse().unwrap()
    }

    #[test]
    fn an_alarm_becomes_a_trigger_keyed_by_the_message_id() {
        let trigger = read(
            "2c6a7f4e-1b9d-4c1e-9f0a-3d5b8e7c6a21",
            at(),
            &alarm_message(),
        )
        .unwrap();
        assert_eq!(trigger.source, Source::CloudwatchAlarm);
        assert_eq!(
            trigger.dedupe_id.as_str(),
            "sns:2c6a7f4e-1b9d-4c1e-9f0a-3d5b8e7c6a21"
        );
        assert_eq!(trigger.occurred_at, at(), "the signed SNS Timestamp");
        let alarm = trigger.alarm.expect("alarm");
        assert_eq!(trigger.event_type, alarm.state);
        assert!(!alarm.name.is_empty());
    }

    #[test]
    fn bad_envelope_values_are_unusable_with_a_reason() {
        for id in ["", "a b", "id\n", &"x".repeat(101), "ünï"] {
            let error = read(id, at(), &alarm_message()).unwrap_err();
            assert_eq!(error.label(), "bad-message-id", "{id:?}");
        }
        let ancient = DateTime::from_timestamp(0, 0).unwrap();
        assert_eq!(
            read("m-1", ancient, &alarm_message()).unwrap_err().label(),
            "bad-timestamp"
        );
        assert_eq!(read("m-1", at(), "hello").unwrap_err().label(), "not-json");
        assert_eq!(
            read("m-1", at(), r#"{"foo": 1}"#).unwrap_err().label(),
            "unknown-shape"
        );
        assert_eq!(
            read("m-1", at(), "[1, 2]").unwrap_err().label(),
            "unknown-shape"
        );
    }

    #[test]
    fn an_eventbridge_finding_becomes_an_aws_event_trigger() {
        let trigger = read("m-gd", at(), GUARDDUTY).unwrap();
        assert_eq!(trigger.source, Source::AwsEvent);
        let event = trigger.event.clone().expect("event");
        assert_eq!(
            trigger.dedupe_id.as_str(),
            format!("aws-event:{}", event.id),
            "EventBridge's id, the same for each of its deliveries"
        );
        assert_eq!(trigger.event_type, "GuardDuty Finding");
        assert_eq!(trigger.occurred_at, at());
        let event = trigger.event.expect("event");
        assert_eq!(event.source, "aws.guardduty");
        assert!(event.finding_type.is_some());
        assert!(event.severity.is_some());
        assert!(trigger.alarm.is_none());
    }
}
