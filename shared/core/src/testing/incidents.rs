//! PagerDuty in memory.

use crate::ports::incidents::{DEFAULT_ESCALATION_LEVEL, LogEntry, OPEN_STATUSES, PagerDutyApi};
use crate::trigger::Incident;
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use tokio::time::Instant;

/// PagerDuty in memory, for unit tests of the handlers: incidents and log entries to read,
/// notes recorded, failures scripted.
#[derive(Default)]
pub struct InMemoryPagerDuty {
    pub incidents: Mutex<HashMap<String, Incident>>,
    pub log_entries: Mutex<HashMap<String, Vec<LogEntry>>>,
    pub notes: Mutex<Vec<(String, String)>>,
    pub fail_notes: Mutex<Option<Error>>,
    /// Resolutions asked for: (incident id, resolution).
    pub resolutions: Mutex<Vec<(String, String)>>,
    pub fail_resolves: Mutex<Option<Error>>,
    /// Escalations asked for: (incident id, level).
    pub escalations: Mutex<Vec<(String, NonZeroU32)>>,
    pub fail_escalations: Mutex<Option<Error>>,
    /// The next read (incident or log entries) fails with this error.
    pub fail_reads: Mutex<Option<Error>>,
}

impl InMemoryPagerDuty {
    pub fn notes(&self) -> Vec<(String, String)> {
        self.notes.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn escalations(&self) -> Vec<(String, NonZeroU32)> {
        self.escalations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn resolutions(&self) -> Vec<(String, String)> {
        self.resolutions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl PagerDutyApi for InMemoryPagerDuty {
    async fn get_incident(&self, incident_id: &str, _deadline: Instant) -> Result<Incident> {
        if let Some(error) = self
            .fail_reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        self.incidents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(incident_id)
            .cloned()
            .ok_or_else(|| Error::PagerDuty {
                operation: "GetIncident",
                status: Some(404),
                message: "Not Found".to_owned(),
                transient: false,
            })
    }

    async fn log_entries_between(
        &self,
        incident_id: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        _deadline: Instant,
    ) -> Result<Vec<LogEntry>> {
        if let Some(error) = self
            .fail_reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        Ok(self
            .log_entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(incident_id)
            .into_iter()
            .flatten()
            .filter(|entry| entry.created_at.is_none_or(|at| at >= since && at <= until))
            .cloned()
            .collect())
    }

    async fn create_note(
        &self,
        incident_id: &str,
        content: &str,
        _deadline: Instant,
    ) -> Result<()> {
        if let Some(error) = self
            .fail_notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((incident_id.to_owned(), content.to_owned()));
        Ok(())
    }

    async fn resolve_incident(
        &self,
        incident_id: &str,
        resolution: &str,
        _deadline: Instant,
    ) -> Result<()> {
        if let Some(error) = self
            .fail_resolves
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        if let Some(incident) = self
            .incidents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(incident_id)
        {
            incident.status = "resolved".to_owned();
        }
        self.resolutions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((incident_id.to_owned(), resolution.to_owned()));
        Ok(())
    }

    async fn escalate_incident(
        &self,
        incident_id: &str,
        level_hint: Option<NonZeroU32>,
        _deadline: Instant,
    ) -> Result<NonZeroU32> {
        if let Some(error) = self
            .fail_escalations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        let level = level_hint.unwrap_or(DEFAULT_ESCALATION_LEVEL);
        self.escalations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((incident_id.to_owned(), level));
        Ok(level)
    }

    async fn find_open_incident(
        &self,
        incident_key: &str,
        _deadline: Instant,
    ) -> Result<Option<Incident>> {
        if let Some(error) = self
            .fail_reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        Ok(self
            .incidents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|incident| incident.key.as_deref() == Some(incident_key))
            .filter(|incident| OPEN_STATUSES.contains(&incident.status.as_str()))
            .max_by_key(|incident| incident.number)
            .cloned())
    }
}
