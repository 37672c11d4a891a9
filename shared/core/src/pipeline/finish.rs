//! The other half of a run: its ending, from an executor's status event (or the reconciler) to
//! the final note, the resolved incident and the results topic.
//!
//! look the run up by its handle -> ask the executor how it ended (the event is only a hint)
//! -> record the ending once, with the follow-ups still to do -> do them (note, resolve,
//! publish) -> record what is left, for the next delivery or the reconciler.
//!
//! Every delivery of the same ending is safe: the ledger records an ending once, and a
//! follow-up that was done is never done again (unless the process dies between doing it and
//! recording it, which at worst repeats a note).

use crate::catalog::ReportOptions;
use crate::catalog_store::CatalogStore;
use crate::clock::Clock;
use crate::finish::{
    Completion, ExecutorKind, FinalState, FollowUp, RunEnding, RunResult, TargetResult,
};
use crate::ids::{DedupeId, RunId};
use crate::ledger::RunRecord;
use crate::notes;
use crate::outcome::Outcome;
use crate::ports::alarms::AlarmStates;
use crate::ports::incidents::{OPEN_STATUSES, PagerDutyApi};
use crate::ports::results::{ResultMessage, ResultsPublisher};
use crate::ports::runs::{FinishClaim, RunFinishes, RunResults};
use crate::redact::{EXCERPT_CHARS, SecretValues, excerpt, redact};
use crate::{Error, Result};
use serde::Serialize;
use std::sync::Arc;
use tokio::time::Instant;
use tracing::Instrument;

/// How long one delivery holds a run's follow-ups before another may do them.
pub const FINISH_HOLD: chrono::Duration = chrono::Duration::seconds(120);
/// How long after a run ended its incident may still be resolved for it.
pub const LATEST_RESOLVE: chrono::Duration = chrono::Duration::minutes(30);
/// How many targets a note lists one by one.
pub const NOTE_TARGETS: usize = 5;

/// The ports an ending needs, built once per container by the functions that receive endings
/// (execution events, Rundeck notifications, the reconciler).
pub struct Finisher {
    /// For console links in notes.
    pub region: String,
    pub catalogs: Arc<CatalogStore>,
    pub pagerduty: Arc<dyn PagerDutyApi>,
    pub executors: Arc<dyn RunResults>,
    pub runs: Arc<dyn RunFinishes>,
    pub clock: Arc<dyn Clock>,
    pub results: Option<Arc<dyn ResultsPublisher>>,
    /// CloudWatch, for `verify`: only the reconciler reads alarms (a run's end is always before
    /// its settle time), so the functions that receive endings leave it out.
    pub alarms: Option<Arc<dyn AlarmStates>>,
}

/// What became of one follow-up that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    Done,
    /// Not due yet: kept pending, not a failure.
    Deferred,
}

/// What became of one status event.
#[derive(Debug)]
pub enum Finished {
    /// The ending is recorded; `report.left` says what could not be done yet.
    Recorded(FinishReport),
    /// The ending was recorded and followed up before: a redelivery.
    Duplicate(FinishReport),
    /// Not a run remediate started, or not one that can end (a refusal, a dry run).
    Ignored(String),
    /// The executor says the run has not ended (its event came early, or it is overdue): ask
    /// again later.
    StillRunning,
    /// Nothing was recorded that a retry would repeat: deliver it again later.
    Retry(Error),
}

/// One ending, as a function answers with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishReport {
    pub trigger_id: DedupeId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    pub state: FinalState,
    /// Follow-ups that failed and are left for a redelivery or the reconciler.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<FollowUp>,
    /// Follow-ups not due yet (the alarm is read after the runbook's settle time): the
    /// reconciler does them. Not a failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<FollowUp>,
    /// This delivery recorded the ending (not a later one finishing what was left): count it.
    #[serde(skip)]
    pub newly_ended: bool,
}

impl Finisher {
    /// Record how the run behind `completion` ended and follow it up, by `deadline`.
    pub async fn finish(&self, completion: &Completion, deadline: Instant) -> Finished {
        let span = tracing::info_span!(
            "finish",
            executor = completion.executor.as_str(),
            handle = %completion.handle,
            event_id = completion.event_id,
            reported_status = completion.reported_status,
        );
        let finished = self
            .finish_inner(completion, deadline)
            .instrument(span.clone())
            .await;
        span.in_scope(|| match &finished {
            Finished::Recorded(report) => tracing::info!(
                run_id = report.run_id.as_deref(),
                runbook = report.runbook.as_deref(),
                state = report.state.as_str(),
                left = ?report.left,
                "run ended"
            ),
            Finished::Duplicate(_) => tracing::info!("ending already recorded"),
            Finished::Ignored(reason) => tracing::info!(reason, "ending ignored"),
            Finished::StillRunning => tracing::info!("the executor says the run is still running"),
            Finished::Retry(error) => tracing::warn!(%error, "ending not recorded yet; retry"),
        });
        finished
    }

    async fn finish_inner(&self, completion: &Completion, deadline: Instant) -> Finished {
        let run = match self.runs.run_by_handle(&completion.handle).await {
            Ok(run) => run,
            Err(error) => return Finished::Retry(error),
        };
        let Some(run) = run else {
            return self.not_in_ledger(completion).await;
        };
        self.finish_run(&run, completion, deadline).await
    }

    /// The ending of a run found in the ledger (by its handle, or by the reconciler).
    pub(crate) async fn finish_run(
        &self,
        run: &RunRecord,
        completion: &Completion,
        deadline: Instant,
    ) -> Finished {
        if run.outcome != Outcome::Executed {
            return Finished::Ignored(format!("run {} was not started", run.trigger_id));
        }
        if run.ending.is_some() && run.pending.is_empty() {
            return Finished::Duplicate(report(run, run.ending.as_ref(), Vec::new()));
        }
        let catalog = self.catalogs.current().await;
        let runbook = run.runbook.as_deref().and_then(|name| catalog.get(name));
        // A runbook removed since the run started: report as the defaults say.
        let options = runbook.map(|runbook| runbook.report).unwrap_or_default();
        let ending = match &run.ending {
            // Recorded by an earlier delivery whose follow-ups failed: say the same again.
            Some(ending) => ending.clone(),
            None => {
                let secrets = runbook
                    .map(|runbook| runbook.secret_values())
                    .unwrap_or_default();
                match self.ask_executor(completion, run, &secrets).await {
                    // A runbook gone from the catalog: which of its parameters were secret is
                    // not known any more, so its output is not shown at all.
                    Ok(Some(ending)) if runbook.is_none() => RunEnding {
                        excerpt: None,
                        ..ending
                    },
                    Ok(Some(ending)) => ending,
                    Ok(None) => return Finished::StillRunning,
                    Err(error) => return Finished::Retry(error),
                }
            }
        };
        self.record_and_follow_up(run, ending, options, deadline)
            .await
    }

    /// Record `ending` once, then do the follow-ups the runbook's report options want (or those
    /// an earlier delivery left).
    pub(crate) async fn record_and_follow_up(
        &self,
        run: &RunRecord,
        ending: RunEnding,
        options: ReportOptions,
        deadline: Instant,
    ) -> Finished {
        let wanted = self.wanted(run, &ending, options);
        let now = self.clock.now();
        let claim = self
            .runs
            .begin_finish(&run.trigger_id, &ending, &wanted, now, FINISH_HOLD)
            .await;
        let (token, pending, ending) = match claim {
            Ok(FinishClaim::Claimed {
                token,
                pending,
                ending,
            }) => (token, pending, ending),
            Ok(FinishClaim::Done) => {
                return Finished::Duplicate(report(run, Some(&ending), Vec::new()));
            }
            Ok(FinishClaim::Busy) => {
                return Finished::Retry(Error::NotYet {
                    what: format!("another delivery is finishing run {}", run.trigger_id),
                });
            }
            Ok(FinishClaim::NotStarted) => {
                return Finished::Ignored(format!("run {} was not started", run.trigger_id));
            }
            Err(error) => return Finished::Retry(error),
        };
        let mut left = Vec::new();
        let mut deferred = Vec::new();
        for follow_up in pending {
            match self
                .follow_up(follow_up, run, &ending, options, deadline)
                .await
            {
                Ok(Done::Done) => {}
                Ok(Done::Deferred) => deferred.push(follow_up),
                Err(error) if error.is_retryable() => {
                    tracing::warn!(follow_up = follow_up.as_str(), %error, "follow-up failed; left for a retry");
                    left.push(follow_up);
                }
                // Retrying cannot help (the incident is gone): the ledger has the ending.
                Err(error) => {
                    tracing::error!(follow_up = follow_up.as_str(), %error, "follow-up failed for good");
                }
            }
        }
        let still_pending: Vec<FollowUp> = left.iter().chain(&deferred).copied().collect();
        if let Err(error) = self
            .runs
            .end_finish(&run.trigger_id, &token, &still_pending, self.clock.now())
            .await
        {
            // The hold expires on its own; the follow-ups done are not undone.
            tracing::warn!(%error, "could not record the follow-ups left");
        }
        let mut recorded = report(run, Some(&ending), left);
        recorded.newly_ended = run.ending.is_none();
        recorded.deferred = deferred;
        Finished::Recorded(recorded)
    }

    /// How the run ended, as its executor says now (the event is only a hint).
    async fn ask_executor(
        &self,
        completion: &Completion,
        run: &RunRecord,
        secrets: &[SecretValues],
    ) -> Result<Option<RunEnding>> {
        let result = match self
            .executors
            .run_result(completion.executor, &completion.handle)
            .await
        {
            Ok(result) => result,
            // A failure that passes, or our own configuration (an unreadable token, an executor
            // not configured): fixing it ends the run with its real state.
            Err(error) if error.is_retryable() => return Err(error),
            // The executor no longer knows the run (or we may not ask): say so rather than
            // leave the run open for ever.
            Err(error) => RunResult {
                state: Some(FinalState::Unknown),
                executor_status: completion.reported_status.clone(),
                failure: Some(error.to_string()),
                ..RunResult::default()
            },
        };
        Ok(result
            .state
            .map(|state| ending(completion, run, &result, state, secrets)))
    }

    /// A status event for a handle the ledger does not know: a run of another tool, or one of
    /// ours whose start is not recorded yet (a fast command can end before the function that
    /// started it has written its record). The executor's own mark tells them apart.
    async fn not_in_ledger(&self, completion: &Completion) -> Finished {
        match self
            .executors
            .run_id_of(completion.executor, &completion.handle)
            .await
        {
            Ok(Some(run_id)) => Finished::Retry(Error::NotYet {
                what: format!("the start of run {run_id} is not recorded yet"),
            }),
            Ok(_) => Finished::Ignored("not a run remediate started".to_owned()),
            Err(error) if error.is_retryable() => Finished::Retry(error),
            Err(_) => Finished::Ignored(
                "not a run remediate started (its executor does not know it)".to_owned(),
            ),
        }
    }

    fn wanted(&self, run: &RunRecord, ending: &RunEnding, options: ReportOptions) -> Vec<FollowUp> {
        let mut wanted = Vec::new();
        if run.incident_id.is_some() && options.note_on_finish {
            wanted.push(FollowUp::Note);
        }
        if run.incident_id.is_some()
            && options.resolve_on_success
            // A run to verify is resolved only once its alarm has recovered: resolving at its
            // end would leave nobody paged when the verification finds it still in ALARM.
            && run.verify.is_none()
            && ending.state == FinalState::Succeeded
        {
            wanted.push(FollowUp::Resolve);
        }
        if self.results.is_some() && options.publish {
            wanted.push(FollowUp::Publish);
        }
        // Verified with or without an incident: the verdict also goes to the results topic.
        if run.verify.is_some() && ending.state == FinalState::Succeeded {
            wanted.push(FollowUp::Verify);
        }
        wanted
    }

    async fn follow_up(
        &self,
        follow_up: FollowUp,
        run: &RunRecord,
        ending: &RunEnding,
        options: ReportOptions,
        deadline: Instant,
    ) -> Result<Done> {
        if follow_up == FollowUp::Verify {
            return self.verify(run, ending, options, deadline).await;
        }
        self.follow_up_now(follow_up, run, ending, deadline)
            .await
            .map(|()| Done::Done)
    }

    async fn follow_up_now(
        &self,
        follow_up: FollowUp,
        run: &RunRecord,
        ending: &RunEnding,
        deadline: Instant,
    ) -> Result<()> {
        match (follow_up, run.incident_id.as_deref(), &self.results) {
            (FollowUp::Note, Some(incident_id), _) => {
                let text = notes::finished(run, ending, &self.region);
                self.pagerduty
                    .create_note(incident_id, &text, deadline)
                    .await?;
                tracing::info!(incident_id, note = text, "note posted");
                Ok(())
            }
            (FollowUp::Resolve, Some(incident_id), _) => {
                // A resolve left pending through a PagerDuty outage is not done hours later:
                // by then the incident may be one people reopened, or the alarm fired again.
                let late = self.clock.now() - ending.finished_at;
                if late > LATEST_RESOLVE {
                    tracing::warn!(
                        incident_id,
                        late_minutes = late.num_minutes(),
                        "not resolving: too long after the run ended"
                    );
                    return Ok(());
                }
                self.resolve_if_open(incident_id, &notes::resolution(run, ending), deadline)
                    .await
            }
            (FollowUp::Publish, _, Some(results)) => match ResultMessage::finished(run, ending) {
                Some(message) => results.publish(&message, deadline).await,
                None => {
                    tracing::warn!(source = run.source, "not published: unknown source");
                    Ok(())
                }
            },
            // Nothing to do it on (the record has no incident, no topic is configured).
            _ => Ok(()),
        }
    }
}

impl Finisher {
    /// Resolve the incident if it is still open: people may have resolved it already.
    pub(crate) async fn resolve_if_open(
        &self,
        incident_id: &str,
        resolution: &str,
        deadline: Instant,
    ) -> Result<()> {
        let incident = self.pagerduty.get_incident(incident_id, deadline).await?;
        if !OPEN_STATUSES.contains(&incident.status.as_str()) {
            tracing::info!(
                incident_id,
                status = incident.status,
                "not resolving: not open"
            );
            return Ok(());
        }
        self.pagerduty
            .resolve_incident(incident_id, resolution, deadline)
            .await
    }
}

fn report(run: &RunRecord, ending: Option<&RunEnding>, left: Vec<FollowUp>) -> FinishReport {
    FinishReport {
        trigger_id: run.trigger_id.clone(),
        run_id: run.run_id.clone(),
        runbook: run.runbook.clone(),
        state: ending.map_or(FinalState::Unknown, |ending| ending.state),
        left,
        deferred: Vec::new(),
        newly_ended: false,
    }
}

/// The ending to record: the executor's answer, summed up and redacted.
fn ending(
    completion: &Completion,
    run: &RunRecord,
    result: &RunResult,
    state: FinalState,
    secrets: &[SecretValues],
) -> RunEnding {
    let finished_at = result.finished_at.unwrap_or(completion.event_time);
    let started_at = result.started_at.unwrap_or(run.decided_at);
    let duration_seconds =
        (finished_at >= started_at).then(|| (finished_at - started_at).num_seconds());
    RunEnding {
        executor: completion.executor,
        state,
        executor_status: result.executor_status.clone(),
        finished_at,
        duration_seconds,
        summary: summary(completion.executor, result, secrets),
        excerpt: output_excerpt(result, secrets),
    }
}

/// "2/3 instances succeeded", then one line per target (the first few), then why it failed.
fn summary(executor: ExecutorKind, result: &RunResult, secrets: &[SecretValues]) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(counts) = result.counts {
        let noun = match executor {
            ExecutorKind::SsmCommand => "instances",
            ExecutorKind::Rundeck => "nodes",
            ExecutorKind::SsmAutomation => "targets",
        };
        lines.push(format!(
            "{}/{} {noun} succeeded",
            counts.succeeded, counts.total
        ));
    }
    for target in result.targets.iter().take(NOTE_TARGETS) {
        let exit = target
            .exit_code
            .map(|code| format!(" (exit {code})"))
            .unwrap_or_default();
        lines.push(format!("- {}: {}{exit}", target.target, target.status));
    }
    let shown = result.targets.len().min(NOTE_TARGETS);
    let total = result
        .counts
        .map_or(result.targets.len(), |counts| counts.total as usize);
    if total > shown && shown > 0 {
        lines.push(format!("- … and {} more", total - shown));
    }
    if let Some(failure) = &result.failure {
        lines.push(format!("Failure: {}", redact(failure, secrets)));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The start of the output that says most: a failed target's errors first, else the first
/// target that printed anything, else the run's own outputs.
fn output_excerpt(result: &RunResult, secrets: &[SecretValues]) -> Option<String> {
    let printed = |target: &&TargetResult| target.output.is_some() || target.error_output.is_some();
    let failed = result
        .targets
        .iter()
        .filter(printed)
        .find(|target| !target.succeeded());
    let chosen = failed.or_else(|| result.targets.iter().find(printed));
    if let Some(target) = chosen {
        let text = if target.succeeded() {
            target.output.as_deref().or(target.error_output.as_deref())
        } else {
            target.error_output.as_deref().or(target.output.as_deref())
        };
        if let Some(text) = text.and_then(|text| excerpt(text, secrets, EXCERPT_CHARS)) {
            return Some(format!("[{}]\n{text}", target.target));
        }
    }
    result
        .outputs
        .as_deref()
        .and_then(|outputs| excerpt(outputs, secrets, EXCERPT_CHARS))
}

mod verify_run;

#[cfg(test)]
pub(crate) mod tests;
