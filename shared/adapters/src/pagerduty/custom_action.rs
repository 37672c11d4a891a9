//! Custom Incident Actions: PagerDuty POSTs a v2 webhook payload
//! (`{"messages": [{"event": "incident.custom", "incident": {..}, "log_entries": [..]}]}`) when a
//! person taps the action's button. The payload is not signed: the caller is authenticated by a
//! secret header, and the incident and the tap are re-read from PagerDuty before anything runs.

use super::payload::{IncidentJson, ReferenceJson, is_pagerduty_id};
use chrono::{DateTime, Utc};
use remediate_core::trigger::{Source, Trigger};
use serde::Deserialize;

pub const CUSTOM_EVENT: &str = "incident.custom";
pub use remediate_core::ports::incidents::CUSTOM_LOG_ENTRY;

#[derive(Debug, Deserialize)]
struct Envelope {
    messages: Vec<Message>,
}

#[derive(Debug, Deserialize)]
struct Message {
    id: String,
    event: String,
    #[serde(default)]
    created_on: Option<DateTime<Utc>>,
    incident: IncidentJson,
    #[serde(default)]
    log_entries: Vec<LogEntryJson>,
}

#[derive(Debug, Deserialize)]
struct LogEntryJson {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    agent: Option<ReferenceJson>,
}

#[derive(Debug)]
pub enum ActionEvent {
    /// A v2 message that is not a button tap (`incident.trigger`, ...): this route ignores it.
    NotCustom {
        event: String,
    },
    Tap(Box<Trigger>),
}

/// Parse a Custom Incident Action body whose header token has been verified. `action` is the
/// action name from the request path. An error is a body that can never be understood (400).
pub fn parse(body: &[u8], action: &str) -> Result<ActionEvent, String> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|error| format!("not a PagerDuty Custom Incident Action payload: {error}"))?;
    // PagerDuty sends one message per tap; a batch carrying several taps is not something its
    // buttons produce, and acting on only the first would drop the others silently.
    let mut messages = envelope.messages.into_iter();
    let (Some(message), None) = (messages.next(), messages.next()) else {
        return Err("expected exactly one message in a Custom Incident Action payload".to_owned());
    };
    if message.event != CUSTOM_EVENT {
        return Ok(ActionEvent::NotCustom {
            event: message.event,
        });
    }
    let tap = message
        .log_entries
        .into_iter()
        .find(|entry| entry.kind == CUSTOM_LOG_ENTRY)
        .ok_or_else(|| format!("{CUSTOM_EVENT} message without a {CUSTOM_LOG_ENTRY}"))?;
    let agent = tap.agent.ok_or_else(|| {
        format!("{CUSTOM_LOG_ENTRY} without an agent: no one to attribute the tap to")
    })?;
    let occurred_at = tap
        .created_at
        .or(message.created_on)
        .ok_or_else(|| "the tap carries no time (created_at or created_on)".to_owned())?;
    if !remediate_core::clock::is_plausible(occurred_at) {
        return Err(format!(
            "the tap's time {occurred_at} is outside any plausible time"
        ));
    }
    if message.id.is_empty()
        || message.id.len() > 128
        || !message
            .id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        return Err(
            "message id must be 1 to 128 letters, digits, dashes or underscores".to_owned(),
        );
    }
    if !is_pagerduty_id(&message.incident.id) {
        return Err(format!(
            "incident id {:?} is not a PagerDuty id",
            message.incident.id
        ));
    }
    Ok(ActionEvent::Tap(Box::new(Trigger {
        source: Source::PagerDutyAction,
        dedupe_id: format!("pagerduty-action:{}", message.id).into(),
        event_type: message.event,
        action: Some(action.to_owned()),
        occurred_at,
        incident: Some(message.incident.into_incident()),
        actor: Some(agent.into_actor()),
        alarm: None,
        event: None,
        workflow: None,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAP: &str = include_str!("../../../../events/fixtures/v2-incident.custom.json");

    #[test]
    fn reads_a_tap() {
        let ActionEvent::Tap(trigger) = parse(TAP.as_bytes(), "restart-web").unwrap() else {
            panic!("expected a tap");
        };
        assert_eq!(trigger.source, Source::PagerDutyAction);
        assert_eq!(trigger.action.as_deref(), Some("restart-web"));
        assert!(trigger.dedupe_id.starts_with("pagerduty-action:"));
        let actor = trigger.actor.as_ref().unwrap();
        assert_eq!(actor.name, "Alice Oncall");
        let incident = trigger.incident.as_ref().unwrap();
        assert_eq!(incident.number, Some(33));
        assert_eq!(
            incident.service.as_ref().unwrap().name,
            "Production XDB Cluster"
        );
    }

    #[test]
    fn other_v2_events_are_not_taps() {
        let trigger = include_str!("../../../../events/fixtures/v2-incident.trigger.json");
        assert!(matches!(
            parse(trigger.as_bytes(), "x"),
            Ok(ActionEvent::NotCustom { .. })
        ));
    }

    #[test]
    fn malformed_payloads_are_errors() {
        let mut value: serde_json::Value = serde_json::from_str(TAP).unwrap();
        value["messages"][0]["log_entries"][0]["type"] = "trigger_log_entry".into();
        assert!(
            parse(value.to_string().as_bytes(), "x")
                .unwrap_err()
                .contains("custom_log_entry")
        );

        let mut value: serde_json::Value = serde_json::from_str(TAP).unwrap();
        value["messages"][0]["log_entries"][0]["agent"] = serde_json::Value::Null;
        assert!(
            parse(value.to_string().as_bytes(), "x")
                .unwrap_err()
                .contains("agent")
        );

        let mut value: serde_json::Value = serde_json::from_str(TAP).unwrap();
        let message = value["messages"][0].clone();
        value["messages"].as_array_mut().unwrap().push(message);
        assert!(
            parse(value.to_string().as_bytes(), "x")
                .unwrap_err()
                .contains("exactly one")
        );

        for body in [
            "[]",
            "{}",
            r#"{"messages":[]}"#,
            r#"{"messages":[{"id":"1"}]}"#,
            "\u{0}",
        ] {
            assert!(parse(body.as_bytes(), "x").is_err(), "{body}");
        }
    }
}
