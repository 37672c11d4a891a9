//! Guard state: cooldowns per runbook and target, and run counts per window. A port, so that the
//! decision engine and the CLI read it through [`GuardView`] and the functions take places
//! atomically through [`GuardStore`] (the DynamoDB ledger in Lambda, memory in tests).
//!
//! Windows are fixed and aligned to multiples of `window_seconds` since the Unix epoch: "at most 3
//! runs per hour" means per clock hour. (A sliding window would need every run's time in one item.)

use crate::Result;
use crate::catalog::RateLimit;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// What one run takes from the guard state before it executes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    pub runbook: String,
    /// The run taking it: a takeover of the same run (its first holder died after reserving)
    /// finds its own cooldown and goes on, instead of being held back by itself.
    pub run_id: String,
    /// The cooldown's subject: the rendered targets (`i-0abc`, `tag:Role=web`).
    pub target: String,
    pub cooldown_seconds: Option<u64>,
    pub max_runs: Option<RateLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    Granted,
    CoolingDown {
        until: DateTime<Utc>,
    },
    WindowFull {
        limit: RateLimit,
        window_start: DateTime<Utc>,
    },
}

/// The most runs one window may count: the window item holds the id of every run it counted (so
/// a retried write counts once), and 100 ids keep it near 4 KB, a few write units per run.
pub const MAX_RUNS_PER_WINDOW: u32 = 100;

/// `seconds` after `time`, saturating at the latest time chrono can hold: catalog numbers are
/// not trusted to fit, and no input may panic.
pub fn after(time: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    i64::try_from(seconds)
        .ok()
        .and_then(Duration::try_seconds)
        .and_then(|span| time.checked_add_signed(span))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The start of the fixed window that holds `now`.
pub fn window_start(now: DateTime<Utc>, window_seconds: u64) -> DateTime<Utc> {
    let window = i64::try_from(window_seconds.max(1)).unwrap_or(i64::MAX);
    now.timestamp()
        .div_euclid(window)
        .checked_mul(window)
        .and_then(|start| DateTime::from_timestamp(start, 0))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Read-only view, for decisions that explain themselves and for simulation.
pub trait GuardView: Send + Sync {
    fn cooldown_until(&self, runbook: &str, target: &str) -> Option<DateTime<Utc>>;
    fn runs_in_window(&self, runbook: &str, window_start: DateTime<Utc>) -> u32;
}

/// No history at all: what a function's hot path passes (it reserves atomically instead of
/// reading first, which costs no reads) and what `remediate simulate` assumes.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHistory;

impl GuardView for NoHistory {
    fn cooldown_until(&self, _runbook: &str, _target: &str) -> Option<DateTime<Utc>> {
        None
    }

    fn runs_in_window(&self, _runbook: &str, _window_start: DateTime<Utc>) -> u32 {
        0
    }
}

#[async_trait]
pub trait GuardStore: Send + Sync {
    /// Take the cooldown and a place in the window, or say which one is taken. All or nothing.
    async fn reserve(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<Reserved>;
    /// Give back what `reserve` took (the run did not start after all).
    async fn release(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<()>;
    /// True for the first suppression of this runbook and target in the window that lasts
    /// until `held_until`, false for every later one: one combined note per window, not one
    /// per notification.
    async fn first_suppression(
        &self,
        reservation: &Reservation,
        held_until: DateTime<Utc>,
    ) -> Result<bool>;
}
