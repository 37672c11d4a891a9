//! The v3 webhook envelope: `{"event": {id, event_type, resource_type, occurred_at, agent, data}}`.
//! Parsed only after the signature has been verified.

use super::payload::{IncidentJson, ReferenceJson, is_pagerduty_id};
use crate::trigger::{Source, Trigger};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The event PagerDuty sends when a subscription is created or tested.
pub const PING_EVENT_TYPE: &str = "pagey.ping";

#[derive(Debug, Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    event: Event<'a>,
}

#[derive(Debug, Deserialize)]
struct Event<'a> {
    id: String,
    event_type: String,
    resource_type: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    agent: Option<ReferenceJson>,
    /// Kept raw until the resource type says what it is: parsed once, straight into its type.
    #[serde(default, borrow)]
    data: Option<&'a serde_json::value::RawValue>,
}

/// What a verified v3 body turned out to be.
#[derive(Debug)]
pub enum V3Event {
    Ping,
    /// An event about something other than an incident (a service update, ...): nothing acts on it.
    OtherResource {
        event_type: String,
        resource_type: String,
    },
    Incident(Box<Trigger>),
}

/// Parse a body whose signature has been verified. An error is a body that can never be
/// understood (400), with a message safe to return to the sender.
pub fn parse(body: &[u8]) -> Result<V3Event, String> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|error| format!("not a PagerDuty v3 webhook: {error}"))?;
    let event = envelope.event;
    if event.event_type == PING_EVENT_TYPE {
        return Ok(V3Event::Ping);
    }
    if event.resource_type != "incident" {
        return Ok(V3Event::OtherResource {
            event_type: event.event_type,
            resource_type: event.resource_type,
        });
    }
    let data = event
        .data
        .ok_or_else(|| format!("{} event without data", event.event_type))?;
    let incident: IncidentJson = serde_json::from_str(data.get()).map_err(|error| {
        format!(
            "{} event with unreadable incident data: {error}",
            event.event_type
        )
    })?;
    if !is_pagerduty_id(&incident.id) {
        return Err(format!(
            "incident id {:?} is not a PagerDuty id",
            incident.id
        ));
    }
    Ok(V3Event::Incident(Box::new(Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: format!("pagerduty-v3:{}", event.id),
        event_type: event.event_type,
        action: None,
        occurred_at: event.occurred_at,
        incident: Some(incident.to_incident()),
        actor: event.agent.as_ref().map(ReferenceJson::to_actor),
        alarm: None,
        event: None,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIORITY_UPDATED: &str =
        include_str!("../../../events/fixtures/v3-incident.priority_updated.json");

    #[test]
    fn reads_pagerduty_sample() {
        let V3Event::Incident(trigger) = parse(PRIORITY_UPDATED.as_bytes()).unwrap() else {
            panic!("expected an incident event");
        };
        assert_eq!(
            trigger.dedupe_id,
            "pagerduty-v3:5ac64822-4adc-4fda-ade0-410becf0de4f"
        );
        assert_eq!(trigger.event_type, "incident.priority_updated");
        let incident = trigger.incident.as_ref().unwrap();
        assert_eq!(incident.id, "PGR0VU2");
        assert_eq!(incident.number, Some(2));
        assert_eq!(incident.title, "A little bump in the road");
        assert_eq!(incident.service.as_ref().unwrap().name, "API Service");
        assert_eq!(incident.priority.as_deref(), Some("P1"));
        assert_eq!(incident.teams[0].name, "Engineering");
        assert_eq!(trigger.actor.as_ref().unwrap().name, "Tenex Engineer");
    }

    #[test]
    fn ping_and_other_resources_are_recognised() {
        let ping = r#"{"event":{"id":"1","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-01-01T00:00:00Z","data":{"message":"Hello from your friend Pagey!","type":"ping"}}}"#;
        assert!(matches!(parse(ping.as_bytes()), Ok(V3Event::Ping)));
        let service = include_str!("../../../events/fixtures/v3-service.updated.json");
        assert!(matches!(
            parse(service.as_bytes()),
            Ok(V3Event::OtherResource { .. })
        ));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for body in [
            "not json",
            "{}",
            r#"{"event":{"id":"1"}}"#,
            r#"{"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"yesterday"}}"#,
            r#"{"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-01-01T00:00:00Z"}}"#,
            r#"{"event":{"id":"1","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-01-01T00:00:00Z","data":{"id":"P1"}}}"#,
        ] {
            assert!(parse(body.as_bytes()).is_err(), "{body}");
        }
    }
}
