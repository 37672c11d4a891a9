//! The reconciler's pass: the runs whose ending never arrived (a lost event, a notification
//! Rundeck never sent, a function that failed for good) or whose follow-ups are still pending.
//!
//! Each pass reads a bounded page of open runs from the ledger, oldest first, and for each asks
//! its executor how it stands, exactly as a status event would ([`Finisher::finish_run`]). A run
//! its executor still calls running past `give_up_after` is recorded as `unknown`, so that no
//! run stays open for ever and the incident says so. Two passes at once are safe: the ledger's
//! hold lets one of them do a run's follow-ups.

use super::finish::{Finished, Finisher};
use crate::Result;
use crate::finish::{Completion, ExecutorKind, FinalState, FollowUp, RunEnding};
use crate::ledger::RunRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

/// How far the reconciler goes in one pass.
#[derive(Debug, Clone, Copy)]
pub struct ReconcileSettings {
    /// A run is looked at once it is this old: its status event normally comes well before.
    pub overdue_after: chrono::Duration,
    /// A run its executor still calls running after this long is recorded as `unknown`.
    pub give_up_after: chrono::Duration,
    /// At most this many runs per pass (the rest wait for the next one).
    pub batch: usize,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            overdue_after: chrono::Duration::minutes(15),
            give_up_after: chrono::Duration::hours(24),
            batch: 25,
        }
    }
}

/// What one pass did, run by run: the reconciler's answer and log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub looked_at: usize,
    /// Endings recorded (or pending follow-ups done) in this pass.
    pub recorded: usize,
    pub still_running: usize,
    /// Runs recorded as `unknown` because their executor still called them running.
    pub given_up: usize,
    /// Runs left for the next pass after a failure a retry may cure.
    pub failed: usize,
    pub runs: Vec<ReconciledRun>,
}

/// What a pass did with one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunCheck {
    /// Its ending (or the follow-ups left) recorded now.
    Recorded,
    /// Already ended and followed up.
    Duplicate,
    /// Not a run that can end.
    Ignored,
    /// Its executor says it is still running: asked again next pass.
    StillRunning,
    /// Recorded as `unknown` (or its follow-ups dropped) after `give_up_after`.
    GivenUp,
    /// A failure a later pass may get past.
    Failed,
}

impl RunCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            RunCheck::Recorded => "recorded",
            RunCheck::Duplicate => "duplicate",
            RunCheck::Ignored => "ignored",
            RunCheck::StillRunning => "still_running",
            RunCheck::GivenUp => "given_up",
            RunCheck::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconciledRun {
    pub trigger_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub result: RunCheck,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The end state this pass recorded, if it recorded one (for the `RunsEnded` metric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_state: Option<FinalState>,
}

/// What became of one run in a pass.
struct Reconciled {
    result: RunCheck,
    detail: Option<String>,
    /// The end state recorded by this pass, if any.
    ended: Option<FinalState>,
}

impl Reconciled {
    fn said(result: RunCheck, detail: String) -> Self {
        Self {
            result,
            detail: (!detail.is_empty()).then_some(detail),
            ended: None,
        }
    }
}

/// The most one run may take: well inside the ledger's hold on its follow-ups (FINISH_HOLD),
/// so that a status event's retry cannot take them over while this pass is still at them.
const PER_RUN_BUDGET: Duration = Duration::from_secs(60);

/// Time kept for one run: a pass stops starting runs with less left.
const PER_RUN: Duration = Duration::from_secs(5);

impl Finisher {
    /// One pass over the open runs, by `deadline`. An error means the ledger could not be read
    /// at all (the scheduler's next invocation tries again).
    pub async fn reconcile(
        &self,
        settings: ReconcileSettings,
        deadline: Instant,
    ) -> Result<ReconcileReport> {
        let now = self.clock.now();
        // Every open run, oldest first, then only those due: a young run waits for its status
        // event, a verification for its settle time. Read more than a batch so that runs
        // waiting for their time do not crowd out those that are due.
        let runs = self
            .runs
            .open_runs(now, settings.batch.saturating_mul(4))
            .await?;
        let due = runs
            .into_iter()
            .filter(|run| is_due(run, settings, now))
            .take(settings.batch);
        let mut report = ReconcileReport::default();
        for run in due {
            if deadline.saturating_duration_since(Instant::now()) < PER_RUN {
                tracing::info!(
                    left = report.looked_at,
                    "out of time: the rest waits for the next pass"
                );
                break;
            }
            report.looked_at += 1;
            let Reconciled {
                result,
                detail,
                ended,
            } = self
                .reconcile_run(
                    &run,
                    settings,
                    deadline.min(Instant::now() + PER_RUN_BUDGET),
                )
                .await;
            match result {
                RunCheck::Recorded => report.recorded += 1,
                RunCheck::StillRunning => report.still_running += 1,
                RunCheck::GivenUp => report.given_up += 1,
                RunCheck::Failed => report.failed += 1,
                RunCheck::Duplicate | RunCheck::Ignored => {}
            }
            tracing::info!(
                trigger_id = %run.trigger_id,
                run_id = run.run_id.as_deref(),
                result = result.as_str(),
                detail = detail.as_deref(),
                "reconciled"
            );
            report.runs.push(ReconciledRun {
                trigger_id: run.trigger_id.to_string(),
                run_id: run.run_id.as_ref().map(ToString::to_string),
                result,
                detail,
                run_state: ended,
            });
        }
        Ok(report)
    }

    async fn reconcile_run(
        &self,
        run: &RunRecord,
        settings: ReconcileSettings,
        deadline: Instant,
    ) -> Reconciled {
        let Some(handle) = run.command_id.clone() else {
            return Reconciled::said(RunCheck::Ignored, "the run has no handle".to_owned());
        };
        let completion = Completion {
            executor: run
                .executor
                .unwrap_or_else(|| executor_of_old_record(&handle)),
            handle,
            reported_status: "overdue".to_owned(),
            event_id: format!("reconcile:{}", run.trigger_id),
            event_time: self.clock.now(),
        };
        match self.finish_run(run, &completion, deadline).await {
            Finished::Recorded(report) => Reconciled {
                result: RunCheck::Recorded,
                detail: (!report.left.is_empty())
                    .then(|| format!("follow-ups still pending: {:?}", report.left)),
                ended: report.newly_ended.then_some(report.state),
            },
            Finished::Duplicate(_) => Reconciled::said(RunCheck::Duplicate, String::new()),
            Finished::Ignored(reason) => Reconciled::said(RunCheck::Ignored, reason),
            // A failure that keeps coming back (a key that may not note, a Rundeck no longer
            // configured) must not hold the run open for ever, at the head of every pass.
            Finished::Retry(error)
                if self.clock.now() - run.decided_at >= settings.give_up_after =>
            {
                let reason = format!(
                    "still failing after {} h: {error}; remediate stopped trying",
                    (self.clock.now() - run.decided_at).num_hours()
                );
                if run.ending.is_some() {
                    return self.abandon_follow_ups(run, &reason).await;
                }
                match self.give_up(run, &completion, &reason, deadline).await {
                    Finished::Recorded(_) => Reconciled {
                        result: RunCheck::GivenUp,
                        detail: Some(reason),
                        ended: Some(FinalState::Unknown),
                    },
                    other => Reconciled::said(RunCheck::Failed, format!("{other:?}")),
                }
            }
            Finished::Retry(error) => Reconciled::said(RunCheck::Failed, error.to_string()),
            Finished::StillRunning => {
                let running_for = self.clock.now() - run.decided_at;
                if running_for < settings.give_up_after {
                    return Reconciled::said(RunCheck::StillRunning, String::new());
                }
                let reason = format!(
                    "{} still reports it running after {} h: remediate stopped waiting; look at it in the console",
                    completion.executor.handle_label(),
                    running_for.num_hours()
                );
                match self.give_up(run, &completion, &reason, deadline).await {
                    Finished::Recorded(_) => Reconciled {
                        result: RunCheck::GivenUp,
                        detail: Some(reason),
                        ended: Some(FinalState::Unknown),
                    },
                    Finished::Retry(error) => Reconciled::said(RunCheck::Failed, error.to_string()),
                    other => Reconciled::said(RunCheck::Failed, format!("{other:?}")),
                }
            }
        }
    }

    /// Close a run whose ending is recorded but whose follow-ups kept failing: they are dropped,
    /// with an error in the log (the ledger keeps the ending).
    async fn abandon_follow_ups(&self, run: &RunRecord, reason: &str) -> Reconciled {
        let Some(ending) = &run.ending else {
            return Reconciled::said(RunCheck::Failed, "no ending to keep".to_owned());
        };
        let now = self.clock.now();
        let claim = self
            .runs
            .begin_finish(&run.trigger_id, ending, &[], now, super::FINISH_HOLD)
            .await;
        match claim {
            Ok(crate::ports::runs::FinishClaim::Claimed { token, pending, .. }) => {
                tracing::error!(trigger_id = %run.trigger_id, ?pending, reason, "follow-ups abandoned");
                match self
                    .runs
                    .end_finish(&run.trigger_id, &token, &[], now)
                    .await
                {
                    Ok(()) => Reconciled::said(
                        RunCheck::GivenUp,
                        format!("follow-ups {pending:?} abandoned: {reason}"),
                    ),
                    Err(error) => Reconciled::said(RunCheck::Failed, error.to_string()),
                }
            }
            Ok(other) => Reconciled::said(RunCheck::Failed, format!("{other:?}")),
            Err(error) => Reconciled::said(RunCheck::Failed, error.to_string()),
        }
    }

    /// Record the run as `unknown`, with why, and follow it up as any ending.
    async fn give_up(
        &self,
        run: &RunRecord,
        completion: &Completion,
        reason: &str,
        deadline: Instant,
    ) -> Finished {
        let catalog = self.catalogs.current().await;
        let options = run
            .runbook
            .as_deref()
            .and_then(|name| catalog.get(name))
            .map(|runbook| runbook.report)
            .unwrap_or_default();
        let ending = RunEnding {
            executor: completion.executor,
            state: FinalState::Unknown,
            executor_status: "still running".to_owned(),
            finished_at: completion.event_time,
            duration_seconds: Some((completion.event_time - run.decided_at).num_seconds()),
            summary: Some(reason.to_owned()),
            excerpt: None,
        };
        self.record_and_follow_up(run, ending, options, deadline)
            .await
    }
}

/// Whether a pass acts on `run` now: an ending that never came (once the run is overdue), or
/// follow-ups left, of which a verification counts only once its settle time has passed.
fn is_due(run: &RunRecord, settings: ReconcileSettings, now: DateTime<Utc>) -> bool {
    let Some(ending) = &run.ending else {
        return run.decided_at <= now - settings.overdue_after;
    };
    run.pending.iter().any(|follow_up| match follow_up {
        FollowUp::Verify => run
            .verify
            .as_ref()
            .is_none_or(|plan| plan.due(ending.finished_at) <= now),
        _ => true,
    })
}

/// Records written before the executor was kept: a Rundeck handle says so; anything else is taken
/// for an SSM command (an automation's id is not one: SSM answers that it has no such command,
/// and the run is recorded as unknown with that answer).
fn executor_of_old_record(handle: &str) -> ExecutorKind {
    if handle.starts_with("rundeck:") {
        ExecutorKind::Rundeck
    } else {
        ExecutorKind::SsmCommand
    }
}

#[cfg(test)]
mod tests;
