//! The alarm-states port: what a CloudWatch alarm says now, for `verify:` ("did it work?").

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::fmt;

/// The three states CloudWatch gives an alarm (metric or composite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    /// CloudWatch's word: `OK`, `ALARM`, `INSUFFICIENT_DATA`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            AlarmState::Ok,
            AlarmState::Alarm,
            AlarmState::InsufficientData,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reading of an alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmReading {
    pub state: AlarmState,
    /// `StateUpdatedTimestamp`: when the state last changed (not when it was last evaluated).
    pub updated_at: DateTime<Utc>,
    /// `StateReason`, CloudWatch's prose. `None` when blank.
    pub reason: Option<String>,
}

#[async_trait]
pub trait AlarmStates: Send + Sync {
    /// The alarm's state now, or `None` when no alarm (metric or composite) has this name in
    /// the account and region read: it was deleted or renamed since it fired.
    async fn alarm_state(&self, name: &str) -> Result<Option<AlarmReading>>;
}
