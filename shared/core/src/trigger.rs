//! The normalised inbound event: whatever sent it, the rest of the system sees a [`Trigger`].

use crate::ids::DedupeId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
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

    pub fn parse(text: &str) -> Option<Self> {
        [
            Source::PagerDutyV3,
            Source::PagerDutyAction,
            Source::CloudwatchAlarm,
            Source::AwsEvent,
        ]
        .into_iter()
        .find(|source| source.as_str() == text)
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
    /// True only for a tap acted on with confirmation switched off (local runs against
    /// emulators): nobody but the unsigned body says who this was, and notes and the ledger say so.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
}

impl Actor {
    /// `Alice Oncall (PALICE1)`, marked when PagerDuty did not confirm who it was.
    pub fn display(&self) -> String {
        if self.unconfirmed {
            format!("{} ({}, unconfirmed)", self.name, self.id)
        } else {
            format!("{} ({})", self.name, self.id)
        }
    }
}

/// The only alarm state that starts a runbook.
pub const ALARM_STATE: &str = "ALARM";

/// A CloudWatch alarm state change (delivered through SNS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Alarm {
    pub name: String,
    pub arn: Option<String>,
    /// ALARM, OK or INSUFFICIENT_DATA.
    pub state: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub namespace: Option<String>,
    pub metric: Option<String>,
    pub dimensions: BTreeMap<String, String>,
}

/// Another AWS event (a Security Hub or GuardDuty finding, ...), from EventBridge through SNS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AwsEvent {
    pub id: String,
    pub source: String,
    pub detail_type: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Every affected resource id or ARN the event names, deduplicated, in the order the parser
    /// found them: the finding's own resources first, then the envelope's `resources`.
    pub resources: Vec<String>,
    /// What kind of finding or event this is: GuardDuty's `type`
    /// (`UnauthorizedAccess:EC2/SSHBruteForce`), Security Hub's `Types[0]`, AWS Health's
    /// `eventTypeCode`. `None` for other events.
    pub finding_type: Option<String>,
    /// One of [`SEVERITIES`], when the source grades its findings (GuardDuty, Security Hub).
    pub severity: Option<String>,
}

/// The severity labels of findings, least severe first: Security Hub's labels, onto which
/// GuardDuty's numeric severities map too. A catalog's `min_severity` names one of them.
pub const SEVERITIES: [&str; 5] = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// The position of a severity label in [`SEVERITIES`] (higher is more severe); `None` for
/// anything else.
pub fn severity_rank(label: &str) -> Option<usize> {
    SEVERITIES.iter().position(|known| *known == label)
}

/// A PagerDuty Incident Workflow that a person started by hand (a signed v3
/// `incident.workflow.started`): the workflow, and the instance that this start created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workflow {
    pub id: String,
    pub name: String,
    /// The workflow instance (PagerDuty's `data.id`).
    pub instance_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub source: Source,
    /// The id that makes redeliveries of one event the same trigger. For v3 webhooks the signed
    /// `event.id`; for Custom Incident Actions the v2 message id.
    pub dedupe_id: DedupeId,
    /// PagerDuty's event type (`incident.triggered`, `incident.custom`, ...).
    pub event_type: String,
    /// For Custom Incident Actions: the action name taken from the request path.
    pub action: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub incident: Option<Incident>,
    pub actor: Option<Actor>,
    pub alarm: Option<Alarm>,
    pub event: Option<AwsEvent>,
    /// For a manual Incident Workflow run: which workflow. Its incident is only a reference until
    /// the pipeline re-reads it from PagerDuty.
    pub workflow: Option<Workflow>,
}

/// The PagerDuty v3 event type of a manual Incident Workflow start (a person, or a condition,
/// started a workflow): catalogs name it, the v3 parser produces it.
pub const WORKFLOW_STARTED: &str = "incident.workflow.started";

/// The names by which a catalog's parameter expressions (`{{ incident.service.name }}`) read a
/// trigger. Documented in the README; anything else is a catalog error at load time.
pub const FIELDS: &[&str] = &[
    "source",
    "event_type",
    "action",
    "trigger.id",
    "incident.id",
    "incident.number",
    "incident.url",
    "incident.key",
    "incident.title",
    "incident.status",
    "incident.urgency",
    "incident.priority",
    "incident.service.id",
    "incident.service.name",
    "incident.team.id",
    "incident.team.name",
    "actor.id",
    "actor.name",
    "workflow.id",
    "workflow.name",
    "alarm.name",
    "alarm.arn",
    "alarm.state",
    "alarm.account",
    "alarm.region",
    "alarm.namespace",
    "alarm.metric",
    "event.id",
    "event.source",
    "event.detail_type",
    "event.account",
    "event.region",
    "event.resource",
    "event.finding_type",
    "event.severity",
];
/// Alarm dimensions are read as `alarm.dimensions.<Name>`.
pub const DIMENSION_PREFIX: &str = "alarm.dimensions.";

/// Whether `path` names a field [`Trigger::field`] can read.
pub fn is_known_field(path: &str) -> bool {
    FIELDS.contains(&path)
        || path
            .strip_prefix(DIMENSION_PREFIX)
            .is_some_and(|name| !name.is_empty() && !name.contains(char::is_whitespace))
}

impl Trigger {
    /// The value of a documented field, if the trigger has it. Values are raw and untrusted: they
    /// reach an action only through a parameter's pattern or enum.
    pub fn field(&self, path: &str) -> Option<String> {
        let incident = self.incident.as_ref();
        let alarm = self.alarm.as_ref();
        let event = self.event.as_ref();
        let team = incident.and_then(|incident| incident.teams.first());
        match path {
            "source" => Some(self.source.as_str().to_owned()),
            "event_type" => Some(self.event_type.clone()),
            "action" => self.action.clone(),
            "trigger.id" => Some(self.dedupe_id.to_string()),
            "incident.id" => incident.map(|i| i.id.clone()),
            "incident.number" => incident.and_then(|i| i.number).map(|n| n.to_string()),
            "incident.url" => incident.and_then(|i| i.url.clone()),
            "incident.key" => incident.and_then(|i| i.key.clone()),
            "incident.title" => incident.map(|i| i.title.clone()),
            "incident.status" => incident.map(|i| i.status.clone()),
            "incident.urgency" => incident.and_then(|i| i.urgency.clone()),
            "incident.priority" => incident.and_then(|i| i.priority.clone()),
            "incident.service.id" => incident
                .and_then(|i| i.service.as_ref())
                .map(|s| s.id.clone()),
            "incident.service.name" => incident
                .and_then(|i| i.service.as_ref())
                .map(|s| s.name.clone()),
            "incident.team.id" => team.map(|t| t.id.clone()),
            "incident.team.name" => team.map(|t| t.name.clone()),
            "actor.id" => self.actor.as_ref().map(|a| a.id.clone()),
            "actor.name" => self.actor.as_ref().map(|a| a.name.clone()),
            "workflow.id" => self.workflow.as_ref().map(|w| w.id.clone()),
            "workflow.name" => self.workflow.as_ref().map(|w| w.name.clone()),
            "alarm.name" => alarm.map(|a| a.name.clone()),
            "alarm.arn" => alarm.and_then(|a| a.arn.clone()),
            "alarm.state" => alarm.map(|a| a.state.clone()),
            "alarm.account" => alarm.and_then(|a| a.account.clone()),
            "alarm.region" => alarm.and_then(|a| a.region.clone()),
            "alarm.namespace" => alarm.and_then(|a| a.namespace.clone()),
            "alarm.metric" => alarm.and_then(|a| a.metric.clone()),
            "event.id" => event.map(|e| e.id.clone()),
            "event.source" => event.map(|e| e.source.clone()),
            "event.detail_type" => event.map(|e| e.detail_type.clone()),
            "event.account" => event.and_then(|e| e.account.clone()),
            "event.region" => event.and_then(|e| e.region.clone()),
            "event.resource" => event.and_then(|e| e.resources.first().cloned()),
            "event.finding_type" => event.and_then(|e| e.finding_type.clone()),
            "event.severity" => event.and_then(|e| e.severity.clone()),
            other => other
                .strip_prefix(DIMENSION_PREFIX)
                .and_then(|name| alarm.and_then(|a| a.dimensions.get(name).cloned())),
        }
    }

    /// A one-line description of who or what caused this, for notes and logs.
    pub fn cause(&self) -> String {
        if let Some(workflow) = &self.workflow {
            let by = self
                .actor
                .as_ref()
                .map_or("someone", |actor| actor.name.as_str());
            return format!("{by} (workflow {})", workflow.name);
        }
        if let Some(alarm) = &self.alarm {
            return format!("alarm {} ({})", alarm.name, alarm.state);
        }
        if let Some(event) = &self.event {
            return format!("{} {}", event.detail_type, event.id);
        }
        match (&self.source, &self.actor) {
            (Source::PagerDutyAction, Some(actor)) if actor.unconfirmed => {
                format!("{} (unconfirmed: tap confirmation is off)", actor.name)
            }
            (Source::PagerDutyAction, Some(actor)) => actor.name.clone(),
            (_, Some(actor)) => format!("{} (by {})", self.event_type, actor.name),
            (_, None) => self.event_type.clone(),
        }
    }

    pub fn incident_id(&self) -> Option<&str> {
        self.incident.as_ref().map(|incident| incident.id.as_str())
    }
}
