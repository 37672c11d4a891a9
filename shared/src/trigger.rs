//! The normalised inbound event: whatever sent it, the rest of the system sees a [`Trigger`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

/// Where a trigger came from. The names are the ones the catalog's `when.sources` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A PagerDuty v3 webhook subscription (HMAC signed).
    #[serde(rename = "pagerduty-v3")]
    PagerDutyV3,
    /// A PagerDuty Custom Incident Action: a person tapped a button.
    #[serde(rename = "pagerduty-action")]
    PagerDutyAction,
    /// A CloudWatch alarm delivered through SNS.
    CloudwatchAlarm,
    /// Another AWS event (a finding) delivered through SNS.
    AwsEvent,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::PagerDutyV3 => "pagerduty-v3",
            Source::PagerDutyAction => "pagerduty-action",
            Source::CloudwatchAlarm => "cloudwatch-alarm",
            Source::AwsEvent => "aws-event",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PagerDuty object reference (service, team, priority, user): its id and its display name
/// (PagerDuty's `summary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Reference {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Incident {
    pub id: String,
    pub number: Option<u64>,
    pub url: Option<String>,
    /// PagerDuty's `incident_key` (the de-duplication key of the alert that opened it).
    pub key: Option<String>,
    pub service: Option<Reference>,
    pub title: String,
    /// triggered, acknowledged or resolved.
    pub status: String,
    /// high or low.
    pub urgency: Option<String>,
    pub priority: Option<String>,
    pub teams: Vec<Reference>,
}

/// Who caused the trigger: the person who tapped a button, or PagerDuty's agent of a v3 event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub id: String,
    pub name: String,
    /// PagerDuty's reference type, e.g. `user_reference`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub source: Source,
    /// The id that makes redeliveries of one event the same trigger. For v3 webhooks the signed
    /// `event.id`; for Custom Incident Actions the v2 message id.
    pub dedupe_id: String,
    /// PagerDuty's event type (`incident.triggered`, `incident.custom`, ...).
    pub event_type: String,
    /// For Custom Incident Actions: the action name taken from the request path.
    pub action: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub incident: Option<Incident>,
    pub actor: Option<Actor>,
}

impl Trigger {
    /// A one-line description of who or what caused this, for notes and logs.
    pub fn cause(&self) -> String {
        match (&self.source, &self.actor) {
            (Source::PagerDutyAction, Some(actor)) => actor.name.clone(),
            (_, Some(actor)) => format!("{} (by {})", self.event_type, actor.name),
            (_, None) => self.event_type.clone(),
        }
    }

    pub fn incident_id(&self) -> Option<&str> {
        self.incident.as_ref().map(|incident| incident.id.as_str())
    }
}
