//! The incidents port: what the pipeline reads from and writes to PagerDuty.

use crate::Result;
use crate::trigger::Incident;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// The log entry type PagerDuty records for a Custom Incident Action tap.
pub const CUSTOM_LOG_ENTRY: &str = "custom_log_entry";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub id: Option<String>,
    /// PagerDuty's log entry type, e.g. `custom_log_entry`.
    pub kind: String,
    pub agent_id: Option<String>,
    /// PagerDuty's display name of the agent (the person who tapped).
    pub agent_name: Option<String>,
    /// PagerDuty's one-line description: for a tap, `<person> ran the <label> action`.
    pub summary: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait PagerDutyApi: Send + Sync {
    async fn get_incident(&self, incident_id: &str, deadline: Instant) -> Result<Incident>;
    /// The incident's log entries created between `since` and `until`, every page of them.
    async fn log_entries_between(
        &self,
        incident_id: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        deadline: Instant,
    ) -> Result<Vec<LogEntry>>;
    async fn create_note(&self, incident_id: &str, content: &str, deadline: Instant) -> Result<()>;
    /// Resolve the incident, with `resolution` on its resolve log entry. Resolving a resolved
    /// incident is not an error (a redelivery does it again).
    async fn resolve_incident(
        &self,
        incident_id: &str,
        resolution: &str,
        deadline: Instant,
    ) -> Result<()>;
    /// Escalate the incident to a level of its escalation policy (`PUT /incidents/{id}` with
    /// `escalation_level`): `level_hint` when given, else [`DEFAULT_ESCALATION_LEVEL`].
    /// Returns the level asked for. PagerDuty's incident carries no current level to add one to
    /// (its `Incident` schema has none), so "the next level" is the caller's knowledge: the
    /// reconciler escalates once per run, from the first level that an alarm's incident opens
    /// at. Asking again for the same level notifies that level's responders again.
    async fn escalate_incident(
        &self,
        incident_id: &str,
        level_hint: Option<std::num::NonZeroU32>,
        deadline: Instant,
    ) -> Result<std::num::NonZeroU32>;
    /// The open (triggered or acknowledged) incident whose `incident_key` is `incident_key`, the
    /// most recent if PagerDuty somehow has several. How an alarm finds the incident it opened.
    async fn find_open_incident(
        &self,
        incident_key: &str,
        deadline: Instant,
    ) -> Result<Option<Incident>>;
}

/// The level [`PagerDutyApi::escalate_incident`] asks for without a hint: the one after the
/// first responders, whom an alarm's incident notified when it opened.
pub const DEFAULT_ESCALATION_LEVEL: std::num::NonZeroU32 =
    std::num::NonZeroU32::MIN.saturating_add(1);

/// The statuses of an incident that is still open.
pub const OPEN_STATUSES: [&str; 2] = ["triggered", "acknowledged"];
