//! CloudWatch alarm states in memory.

use crate::ports::alarms::{AlarmReading, AlarmState, AlarmStates};
use crate::{Error, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Alarms by name, set by the test; every read recorded; the next read may be made to fail.
#[derive(Default)]
pub struct InMemoryAlarms {
    pub alarms: Mutex<HashMap<String, AlarmReading>>,
    /// Names read, in order.
    pub reads: Mutex<Vec<String>>,
    /// The next read fails with this error.
    pub fail_reads: Mutex<Option<Error>>,
}

impl InMemoryAlarms {
    /// Set an alarm's state as CloudWatch's `SetAlarmState` would, with a blank reason.
    pub fn set(&self, name: &str, state: AlarmState, updated_at: DateTime<Utc>) {
        self.alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                name.to_owned(),
                AlarmReading {
                    state,
                    updated_at,
                    reason: None,
                },
            );
    }

    /// Delete an alarm: later reads find nothing.
    pub fn delete(&self, name: &str) {
        self.alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    pub fn reads(&self) -> Vec<String> {
        self.reads.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl AlarmStates for InMemoryAlarms {
    async fn alarm_state(&self, name: &str) -> Result<Option<AlarmReading>> {
        self.reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(name.to_owned());
        if let Some(error) = self
            .fail_reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            return Err(error);
        }
        Ok(self
            .alarms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned())
    }
}
