//! The ports a run's ending goes through: the executor's answer about a run, and the ledger's
//! record of its ending and of what is still to be done about it.

use crate::Result;
use crate::finish::{ExecutorKind, FollowUp, RunEnding, RunResult};
use crate::ids::{DedupeId, Handle, RunId};
use crate::ledger::{RunHistory, RunRecord};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

#[async_trait]
pub trait RunResults: Send + Sync {
    /// How the run behind `handle` stands now, as its executor says: whether it has ended, how
    /// each of (the first few of) its targets did, and the start of its output.
    async fn run_result(&self, executor: ExecutorKind, handle: &Handle) -> Result<RunResult>;

    /// The run id the executor carries for `handle`, if any: whether remediate started it. Asked
    /// for every ending the ledger does not know (most are other tools' runs), so an executor
    /// that can tell with less than [`Self::run_result`] says it here.
    async fn run_id_of(&self, executor: ExecutorKind, handle: &Handle) -> Result<Option<RunId>> {
        Ok(self.run_result(executor, handle).await?.run_id)
    }
}

/// The ledger's answer to "may I record this run's ending and do what follows?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishClaim {
    /// The caller records the ending and does `pending`; it proves itself with `token` when it
    /// says what is left ([`RunFinishes::end_finish`]).
    Claimed {
        token: String,
        pending: Vec<FollowUp>,
        /// The ending as first recorded (a later delivery reuses it, so every note and message
        /// says the same thing).
        ending: RunEnding,
    },
    /// The ending is recorded and nothing is left to do: a redelivery.
    Done,
    /// Another delivery is doing the follow-ups now.
    Busy,
    /// The run is not one that can end: not started (refused, dry run), or not found.
    NotStarted,
}

/// The run records, read back ([`RunHistory`]: a run by its executor's handle) and given their
/// ending.
#[async_trait]
pub trait RunFinishes: RunHistory {
    /// Started runs decided before `before` whose ending is not recorded, or whose follow-ups
    /// are not all done, oldest first, at most `limit`: what the reconciler looks at.
    async fn open_runs(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<RunRecord>>;

    /// Record `ending` on the run (only once: a run that already has an ending keeps it) with
    /// `wanted` as the follow-ups still to do, and hold them for `hold_for`. A run whose ending is
    /// recorded with follow-ups left, and no holder, is claimed again with those.
    async fn begin_finish(
        &self,
        trigger_id: &DedupeId,
        ending: &RunEnding,
        wanted: &[FollowUp],
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<FinishClaim>;

    /// Say what is left (the follow-ups that failed) and let go of the hold.
    async fn end_finish(
        &self,
        trigger_id: &DedupeId,
        token: &str,
        left: &[FollowUp],
        now: DateTime<Utc>,
    ) -> Result<()>;
}
