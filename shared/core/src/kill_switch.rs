//! The global kill switch, read through a [`SwitchSource`] (an SSM parameter in production).

use crate::Result;
use crate::clock::Clock;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

/// Where the switch's value is read: one small port, so that the fail-closed rules below are
/// tested without AWS.
#[async_trait]
pub trait SwitchSource: Send + Sync {
    /// The switch's name for notes and logs (the parameter's name).
    fn describe(&self) -> &str;
    /// The current value; an error's kind says whether a retry may read it.
    async fn read(&self) -> Result<String>;
}

/// The global kill switch: an SSM parameter that must read `off` (trimmed, any case) for runs to
/// execute. Any other value (`on`, `true`, `1`, `yes`, `enabled`, empty, a typo) makes every run
/// of every function a dry run: the switch exists for the moment automation must stop, so only
/// the one explicit word lets it go on.
///
/// It fails closed:
/// - a parameter that is deleted or unreadable (not found, access denied: errors a retry cannot
///   fix) stops runs from that read on, with no grace;
/// - a transient read error (throttling, a timeout) keeps the last value read for one more
///   refresh interval at most, then stops runs until a read succeeds;
/// - with no value read yet, any failure stops runs.
///
/// A failed read is tried again after [`KILL_SWITCH_RETRY`], not on every trigger, so a flood of
/// triggers cannot become a flood of Parameter Store calls.
pub struct KillSwitch {
    source: Option<Box<dyn SwitchSource>>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    state: Mutex<SwitchState>,
}

/// What the kill switch says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchReading {
    Off,
    /// Any value but `off`: runs are dry.
    On(String),
    /// No value can be trusted. Runs must not go ahead; when the failure is transient
    /// (throttling, a timeout) a retry may read it, so a trigger is better retried than made dry.
    Unreadable {
        reason: String,
        transient: bool,
    },
}

impl SwitchReading {
    /// Why runs are dry, if they are.
    pub fn dry_run_reason(self) -> Option<String> {
        match self {
            SwitchReading::Off => None,
            SwitchReading::On(reason) | SwitchReading::Unreadable { reason, .. } => Some(reason),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct SwitchState {
    /// The last value read (true: it stops runs) and when it was read.
    last_read: Option<(bool, DateTime<Utc>)>,
    attempted_at: Option<DateTime<Utc>>,
    /// Whether the last attempt failed, and how.
    failure: Option<ReadFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadFailure {
    Transient,
    Permanent,
}

pub const KILL_SWITCH_TTL: Duration = Duration::seconds(30);
/// How soon a failed read of the kill switch is tried again.
pub const KILL_SWITCH_RETRY: Duration = Duration::seconds(5);

impl KillSwitch {
    pub fn new(source: Box<dyn SwitchSource>, clock: Arc<dyn Clock>) -> Self {
        Self {
            source: Some(source),
            ttl: KILL_SWITCH_TTL,
            clock,
            state: Mutex::new(SwitchState::default()),
        }
    }

    /// No switch configured: never on.
    pub fn absent(clock: Arc<dyn Clock>) -> Self {
        Self {
            source: None,
            ttl: KILL_SWITCH_TTL,
            clock,
            state: Mutex::new(SwitchState::default()),
        }
    }

    /// Whether a value of the parameter stops runs: anything but `off`.
    pub fn stops_runs(value: &str) -> bool {
        !value.trim().eq_ignore_ascii_case("off")
    }

    /// Why runs must be dry now, if the switch says so (an unreadable switch stops runs).
    pub async fn reason(&self) -> Option<String> {
        self.read().await.dry_run_reason()
    }

    /// What the switch says now: off, on, or unreadable (and whether a retry may read it).
    pub async fn read(&self) -> SwitchReading {
        let Some(source) = self.source.as_deref() else {
            return SwitchReading::Off;
        };
        let now = self.clock.now();
        let mut state = *self.state.lock().unwrap_or_else(|p| p.into_inner());
        let wait = if state.failure.is_some() {
            KILL_SWITCH_RETRY
        } else {
            self.ttl
        };
        // A clock that stepped backwards makes the elapsed time negative: read again rather
        // than trust the last value until the clock catches up.
        let due = state.attempted_at.is_none_or(|at| {
            let elapsed = now.signed_duration_since(at);
            elapsed >= wait || elapsed < chrono::Duration::zero()
        });
        if due {
            let read = source.read().await;
            state.attempted_at = Some(now);
            match read {
                Ok(value) => {
                    state.last_read = Some((Self::stops_runs(&value), now));
                    state.failure = None;
                }
                Err(error) => {
                    let failure = if error.is_transient() {
                        ReadFailure::Transient
                    } else {
                        ReadFailure::Permanent
                    };
                    tracing::error!(%error, switch = source.describe(), ?failure, "kill switch unreadable");
                    if failure == ReadFailure::Permanent {
                        // Deleted or forbidden: the old value is never trusted again, even if a
                        // later attempt fails only transiently.
                        state.last_read = None;
                    }
                    state.failure = Some(failure);
                }
            }
            *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
        }
        self.verdict(source.describe(), state, now)
    }

    fn verdict(&self, switch: &str, state: SwitchState, now: DateTime<Utc>) -> SwitchReading {
        let trusted = match (state.failure, state.last_read) {
            (Some(ReadFailure::Permanent), _) | (_, None) => None,
            (None, Some((stops, _))) => Some(stops),
            // One refresh interval of grace beyond the value's own interval, no more.
            (Some(ReadFailure::Transient), Some((stops, read_at))) => {
                (now.signed_duration_since(read_at) < self.ttl + self.ttl).then_some(stops)
            }
        };
        match trusted {
            Some(false) => SwitchReading::Off,
            Some(true) => SwitchReading::On(format!(
                "the kill switch {switch} is on (it does not read \"off\")"
            )),
            None => SwitchReading::Unreadable {
                reason: format!("the kill switch {switch} cannot be read, so runs are dry"),
                transient: state.failure != Some(ReadFailure::Permanent),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_off_lets_runs_go_on() {
        for value in ["off", "OFF", " Off\n", "\toff "] {
            assert!(!KillSwitch::stops_runs(value), "{value:?}");
        }
        for value in [
            "on", "true", "1", "yes", "enabled", "", " ", "of", "off off", "0ff", "disabled",
        ] {
            assert!(KillSwitch::stops_runs(value), "{value:?}");
        }
    }
}
