//! The results port: the outcome of every trigger a runbook wanted, published for subscribers
//! (the results topic: chat bots, ticketing, a team's own automation), whatever its source.
//!
//! What is published, by decision: every report that names a runbook (executed, dry_run,
//! refused, suppressed, and the recovery of an alarm a runbook watches, which is `ignored` with
//! its runbook named). Not published: `ignored` without a runbook (nothing wanted it: a busy
//! topic would drown subscribers in events no runbook matched), `rejected` (nothing
//! authenticated to say), and `duplicate` (the first delivery published it).

use crate::Result;
use crate::finish::RunEnding;
use crate::ids::{DedupeId, Handle, RunId};
use crate::ledger::{RunRecord, run_state};
use crate::outcome::{Outcome, Report};
use crate::trigger::{Source, Trigger};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::time::Instant;

/// One message on the results topic: what happened, to what, and where to read more.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultMessage {
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub source: Source,
    pub trigger_id: DedupeId,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_id: Option<Handle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_url: Option<String>,
    /// The alarm's name and new state, for alarm triggers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_state: Option<String>,
    /// The AWS event's source and detail type, for findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The run's state: `started` when it starts, its end state when its executor says it
    /// ended (`succeeded`, `failed`, `cancelled`, `timed_out`, `unknown`).
    pub run_state: String,
    /// How the run ended, on the message published when it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending: Option<RunEnding>,
    /// Whether the alarm recovered, on the message published when a run is verified
    /// ("clean-disk succeeded; alarm web-1-disk-used back to OK after 2 min").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
}

impl ResultMessage {
    pub fn new(trigger: &Trigger, report: &Report) -> Self {
        let incident = trigger.incident.as_ref();
        Self {
            outcome: report.outcome,
            reason: report.reason.clone(),
            source: trigger.source,
            trigger_id: trigger.dedupe_id.clone(),
            event_type: trigger.event_type.clone(),
            occurred_at: trigger.occurred_at,
            runbook: report.runbook.clone(),
            run_id: report.run_id.clone(),
            command_id: report.command_id.clone(),
            targets: report.targets.clone(),
            catalog_version: report.catalog_version.clone(),
            incident_id: incident.map(|incident| incident.id.clone()),
            incident_url: incident.and_then(|incident| incident.url.clone()),
            alarm: trigger.alarm.as_ref().map(|alarm| alarm.name.clone()),
            alarm_state: trigger.alarm.as_ref().map(|alarm| alarm.state.clone()),
            event: trigger
                .event
                .as_ref()
                .map(|event| format!("{} {}", event.source, event.detail_type)),
            run_state: run_state(report.outcome).to_owned(),
            ending: None,
            verification: None,
        }
    }

    /// The message published when a run ends: the run as the ledger recorded it at its start,
    /// with its ending. None when the record names no source this version knows.
    pub fn finished(run: &RunRecord, ending: &RunEnding) -> Option<Self> {
        Some(Self {
            outcome: run.outcome,
            reason: run.reason.clone(),
            source: Source::parse(&run.source)?,
            trigger_id: run.trigger_id.clone(),
            event_type: run.event_type.clone(),
            occurred_at: run.occurred_at,
            runbook: run.runbook.clone(),
            run_id: run.run_id.clone(),
            command_id: run.command_id.clone(),
            targets: run.targets.clone(),
            catalog_version: run.catalog_version.clone(),
            incident_id: run.incident_id.clone(),
            incident_url: None,
            alarm: None,
            alarm_state: None,
            event: None,
            run_state: ending.state.as_str().to_owned(),
            ending: Some(ending.clone()),
            verification: None,
        })
    }

    /// Whether a report of this outcome is published (see the module documentation).
    pub fn is_published(report: &Report) -> bool {
        report.runbook.is_some()
            && !matches!(report.outcome, Outcome::Rejected | Outcome::Duplicate)
    }

    /// A one-line summary for the message's subject (SNS: fewer than 100 printable ASCII
    /// characters, no line breaks) and for email subscribers.
    pub fn subject(&self) -> String {
        let about = self
            .runbook
            .as_deref()
            .or(self.alarm.as_deref())
            .unwrap_or("trigger");
        let what = match (&self.ending, &self.verification) {
            (Some(_), Some(_)) => "verified",
            (Some(ending), None) => ending.state.as_str(),
            (None, _) => self.outcome.as_str(),
        };
        let subject: String = format!("remediate: {about} {what}")
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
            .take(99)
            .collect();
        subject
    }

    /// The attributes subscribers filter on (SNS subscription filter policies): each a short
    /// string, always present (`-` when the message has no runbook).
    pub fn attributes(&self) -> [(&'static str, String); 4] {
        [
            (
                "runbook",
                self.runbook.clone().unwrap_or_else(|| "-".to_owned()),
            ),
            ("outcome", self.outcome.as_str().to_owned()),
            ("source", self.source.as_str().to_owned()),
            ("run_state", self.run_state.clone()),
        ]
    }
}

#[async_trait]
pub trait ResultsPublisher: Send + Sync {
    /// Publish one message, giving up by `deadline`. A failure is logged by the caller and
    /// never undoes or repeats the run: the ledger holds the same outcome.
    async fn publish(&self, message: &ResultMessage, deadline: Instant) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::Alarm;

    fn alarm_trigger() -> Trigger {
        Trigger {
            source: Source::CloudwatchAlarm,
            dedupe_id: "sns:1".into(),
            event_type: "ALARM".into(),
            action: None,
            occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            incident: None,
            actor: None,
            alarm: Some(Alarm {
                name: "web-1-disk-used".into(),
                state: "ALARM".into(),
                ..Alarm::default()
            }),
            event: None,
            workflow: None,
        }
    }

    #[test]
    fn only_reports_about_a_runbook_are_published() {
        let id = DedupeId::from("sns:1");
        assert!(ResultMessage::is_published(&Report::suppressed(
            &id,
            "clean-disk",
            "cooldown".into()
        )));
        assert!(ResultMessage::is_published(&Report::refused(
            &id,
            Some("clean-disk"),
            "stale".into()
        )));
        assert!(!ResultMessage::is_published(&Report::refused(
            &id,
            None,
            "nothing".into()
        )));
        assert!(!ResultMessage::is_published(&Report::ignored(
            &id,
            "no runbook".into()
        )));
        let original = Report::suppressed(&id, "clean-disk", "cooldown".into());
        assert!(!ResultMessage::is_published(&Report::duplicate(
            &id, original
        )));
    }

    #[test]
    fn message_names_the_alarm_and_attributes_are_filterable() {
        let report = Report::suppressed(&"sns:1".into(), "clean-disk", "cooldown".into());
        let message = ResultMessage::new(&alarm_trigger(), &report);
        assert_eq!(message.alarm.as_deref(), Some("web-1-disk-used"));
        assert_eq!(message.subject(), "remediate: clean-disk suppressed");
        assert_eq!(
            message.attributes(),
            [
                ("runbook", "clean-disk".to_owned()),
                ("outcome", "suppressed".to_owned()),
                ("source", "cloudwatch-alarm".to_owned()),
                ("run_state", "suppressed".to_owned()),
            ]
        );
        let json = serde_json::to_value(&message).unwrap_or_default();
        assert_eq!(json["outcome"], "suppressed");
        assert_eq!(json["source"], "cloudwatch-alarm");
        assert_eq!(json["trigger_id"], "sns:1");
        assert!(json.get("incident_id").is_none());
    }

    #[test]
    fn subject_is_one_short_printable_line() {
        let mut trigger = alarm_trigger();
        if let Some(alarm) = trigger.alarm.as_mut() {
            alarm.name = format!("disk\nfull é {}", "x".repeat(200));
        }
        let message = ResultMessage::new(&trigger, &Report::new(Outcome::Executed, None));
        let subject = message.subject();
        assert!(subject.chars().count() < 100, "{subject}");
        assert!(subject.chars().all(|c| c.is_ascii_graphic() || c == ' '));
    }
}
