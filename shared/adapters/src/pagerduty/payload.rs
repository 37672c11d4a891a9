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

    pub fn to_reference(&self) -> Reference {
        Reference {
            id: self.id.clone(),
            name: self.display_name(),
        }
    }

    pub fn to_actor(&self) -> Actor {
        Actor {
            id: self.id.clone(),
            name: self.display_name(),
            kind: self
                .kind
                .clone()
                .unwrap_or_else(|| "user_reference".to_owned()),
            unconfirmed: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IncidentJson {
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

impl IncidentJson {
    pub fn to_incident(&self) -> Incident {
        Incident {
            id: self.id.clone(),
            number: self.number,
            url: self.html_url.clone(),
            key: self.incident_key.clone(),
            service: self.service.as_ref().map(ReferenceJson::to_reference),
            title: self
                .title
                .clone()
                .or_else(|| self.summary.clone())
                .unwrap_or_default(),
            status: self.status.clone(),
            urgency: self.urgency.clone(),
            priority: self.priority.as_ref().map(ReferenceJson::display_name),
            teams: self
                .teams
                .iter()
                .flatten()
                .map(ReferenceJson::to_reference)
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
    fn ids_are_alphanumeric() {
        assert!(is_pagerduty_id("PGR0VU2"));
        assert!(is_pagerduty_id("Q0RIJJZL24RC6W"));
        for bad in ["", "../users", "P 1", "P%2F", "P/1", &"P".repeat(65)] {
            assert!(!is_pagerduty_id(bad), "{bad}");
        }
    }
}
