//! PagerDuty's JSON shapes for incidents and references, shared by the v3 webhook (`event.data`),
//! the v2 payload of Custom Incident Actions and the REST API's incident. They differ in small
//! ways (`number` versus `incident_number`), which the aliases absorb. Every field we do not act
//! on is left out, and every field PagerDuty may omit is optional.

use remediate_core::trigger::{Actor, Incident, Reference};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceJson {
    pub id: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// PagerDuty's display name of the referenced object.
    #[serde(default)]
    pub summary: Option<String>,
    /// Services in v2 payloads carry `name` as well as `summary`.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

impl ReferenceJson {
    pub fn display_name(&self) -> String {
        self.summary
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| self.id.clone())
    }

    fn into_display_name(self) -> (String, String) {
        let name = self
            .summary
            .or(self.name)
            .unwrap_or_else(|| self.id.clone());
        (self.id, name)
    }

    pub fn into_reference(self) -> Reference {
        let (id, name) = self.into_display_name();
        Reference { id, name }
    }

    pub fn into_actor(mut self) -> Actor {
        let kind = self
            .kind
            .take()
            .unwrap_or_else(|| "user_reference".to_owned());
        let (id, name) = self.into_display_name();
        Actor {
            id,
            name,
            kind,
            unconfirmed: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IncidentJson {
    /// `incident` for an incident; a v3 event's `data` of another kind (a note, a responder)
    /// says so here, which lets the v3 route read `data` once. Anything but a string is read as
    /// no type, never as an error: the REST API and v2 payloads are read as before.
    #[serde(default, rename = "type", deserialize_with = "string_or_none")]
    pub kind: Option<String>,
    pub id: String,
    #[serde(default, alias = "incident_number")]
    pub number: Option<u64>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub incident_key: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    pub status: String,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub service: Option<ReferenceJson>,
    #[serde(default)]
    pub priority: Option<ReferenceJson>,
    #[serde(default)]
    pub teams: Option<Vec<ReferenceJson>>,
}

/// A string, or `None` for anything else (null, a number, an object), which is skipped.
fn string_or_none<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    })
}

impl IncidentJson {
    /// The incident, its strings moved rather than copied (this is on every webhook's path).
    pub fn into_incident(self) -> Incident {
        Incident {
            id: self.id,
            number: self.number,
            url: self.html_url,
            key: self.incident_key,
            service: self.service.map(ReferenceJson::into_reference),
            title: self.title.or(self.summary).unwrap_or_default(),
            status: self.status,
            urgency: self.urgency,
            priority: self.priority.map(|priority| priority.into_display_name().1),
            teams: self
                .teams
                .into_iter()
                .flatten()
                .map(ReferenceJson::into_reference)
                .collect(),
        }
    }
}

/// PagerDuty object ids are short alphanumeric strings (`PGR0VU2`, `Q0RIJJZL24RC6W`). Ids from an
/// inbound payload end up in REST URLs, so anything else is refused at the door.
pub fn is_pagerduty_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incident_reads_names_from_summary_then_name_then_id() {
        let incident: IncidentJson = serde_json::from_value(serde_json::json!({
            "type": "incident", "id": "P1", "status": "triggered", "summary": "Disk full",
            "service": {"id": "PSVC", "name": "Web", "type": "service"},
            "priority": {"id": "PPRIO"},
            "teams": [{"id": "PT1", "summary": "Ops"}, {"id": "PT2"}],
        }))
        .unwrap();
        assert_eq!(incident.kind.as_deref(), Some("incident"));
        let incident = incident.into_incident();
        assert_eq!(incident.title, "Disk full");
        assert_eq!(incident.service.unwrap().name, "Web");
        assert_eq!(incident.priority.as_deref(), Some("PPRIO"));
        let teams: Vec<_> = incident.teams.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(teams, ["Ops", "PT2"]);
    }

    #[test]
    fn a_type_that_is_not_a_string_is_no_type_not_an_error() {
        for kind in [
            serde_json::json!(null),
            serde_json::json!(5),
            serde_json::json!({"a": [1, 2]}),
            serde_json::json!(["incident"]),
        ] {
            let incident: IncidentJson = serde_json::from_value(
                serde_json::json!({"type": kind, "id": "P1", "status": "triggered"}),
            )
            .unwrap();
            assert_eq!(incident.kind, None);
        }
        let untyped: IncidentJson =
            serde_json::from_value(serde_json::json!({"id": "P1", "status": "triggered"})).unwrap();
        assert_eq!(untyped.kind, None);
    }

    #[test]
    fn an_agent_without_a_type_is_a_user() {
        let agent: ReferenceJson =
            serde_json::from_value(serde_json::json!({"id": "PU1", "name": "Alice"})).unwrap();
        let actor = agent.into_actor();
        assert_eq!(
            (actor.id.as_str(), actor.name.as_str(), actor.kind.as_str()),
            ("PU1", "Alice", "user_reference")
        );
    }

    #[test]
    fn ids_are_alphanumeric() {
        assert!(is_pagerduty_id("PGR0VU2"));
        assert!(is_pagerduty_id("Q0RIJJZL24RC6W"));
        for bad in ["", "../users", "P 1", "P%2F", "P/1", &"P".repeat(65)] {
            assert!(!is_pagerduty_id(bad), "{bad}");
        }
    }
}
