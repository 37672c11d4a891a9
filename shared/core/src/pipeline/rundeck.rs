//! Running a Rundeck plan. Rundeck's run-job call takes no idempotency token, so this follows
//! Run Command's path rather than Automation's: a takeover first looks for the execution its
//! predecessor may have started (by the run id option every execution carries), and an answer
//! lost after the request was sent is looked for at once and, if not found, holds the claim so
//! that only a takeover (which looks again) can run the job.
//!
//! The run's handle is `rundeck:<execution id>` ([`rundeck_handle`]): the ledger keeps it where a
//! command id goes, so the job's notifications find their run.
//!
//! [`rundeck_handle`]: crate::ports::executor::rundeck_handle

use super::*;
use crate::plan::{Plan, RundeckRequest};
use crate::ports::executor::StartedJob;

impl Pipeline {
    #[allow(
        clippy::too_many_arguments,
        reason = "the same context every executor's path takes, plus the claim for takeovers"
    )]
    pub(super) async fn execute_rundeck(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        request: &RundeckRequest,
        claim: &Claim,
        mut report: Report,
        claimed_at: chrono::DateTime<chrono::Utc>,
        deadline: Instant,
    ) -> Result<Report, NotStarted> {
        let Some(rundeck) = &self.rundeck else {
            // The catalog may name Rundeck jobs in a deployment that has no Rundeck: say so on
            // the incident rather than drop the run.
            let reason = format!(
                "{} runs a Rundeck job, and Rundeck is not configured (RUNDECK_URL is not set)",
                plan.runbook
            );
            return Ok(self
                .refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
                .await);
        };
        if claim.taken_over {
            // The previous holder died after claiming (or could not tell whether Rundeck took
            // the run): it may have started the job.
            match rundeck.find_execution(request).await {
                Ok(Some(job)) => {
                    tracing::warn!(
                        run_id = %plan.run_id,
                        execution_id = %job.execution_id,
                        "the previous delivery had run the job; not running it again"
                    );
                    return Ok(self.job_started(trigger, plan, job, report, deadline).await);
                }
                Ok(None) if self.is_stale(trigger) => {
                    return Ok(self
                        .refuse_stale_takeover(trigger, plan, report, deadline)
                        .await);
                }
                Ok(None) => {}
                // Keep the claim, so that the next attempt is a takeover that looks again.
                Err(error) => return Err(NotStarted::Hold(error)),
            }
        }
        if self
            .hold_back(trigger, plan, &mut report, claimed_at, deadline)
            .await?
        {
            return Ok(report);
        }
        let result = match rundeck.run_job(request).await {
            Ok(job) => Ok(self.job_started(trigger, plan, job, report, deadline).await),
            Err(error @ Error::Ambiguous { .. }) => {
                // The request went out and no answer came back: Rundeck may have started the
                // execution. Look; if it is not there, keep the claim so that only a takeover
                // (which looks again) can run the job.
                match rundeck.find_execution(request).await {
                    Ok(Some(job)) => {
                        tracing::warn!(run_id = %plan.run_id, %error, "the run's answer was lost but the execution exists");
                        Ok(self.job_started(trigger, plan, job, report, deadline).await)
                    }
                    Ok(None) => Err(NotStarted::Hold(error)),
                    Err(find_error) => {
                        tracing::error!(%find_error, "could not look for the execution");
                        Err(NotStarted::Hold(error))
                    }
                }
            }
            // Throttling, a 5xx, a connection never made, an unreadable token: Rundeck did not
            // take the run, or fixing the deployment ends it. The sender retries.
            Err(error) if error.is_retryable() => Err(NotStarted::Release(error)),
            // Rundeck said no (a bad token, no such job, invalid options, already running): a
            // retry gets the same answer, so people are told why.
            Err(error) => Ok(self
                .refuse_start(trigger, plan, report, &error, "Rundeck", "job", deadline)
                .await),
        };
        // Nothing ran: the cooldown and the window place are given back.
        let nothing_ran = match &result {
            Err(NotStarted::Release(_)) => true,
            Ok(report) => report.outcome == Outcome::Refused && report.start_error.is_some(),
            Err(NotStarted::Hold(_)) => false,
        };
        if nothing_ran {
            self.give_back(plan, claimed_at).await;
        }
        result
    }

    async fn job_started(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        job: StartedJob,
        mut report: Report,
        deadline: Instant,
    ) -> Report {
        tracing::info!(
            runbook = plan.runbook,
            run_id = %plan.run_id,
            execution_id = %job.execution_id,
            job = plan.what(),
            targets = plan.targets(),
            "Rundeck job started"
        );
        let text = notes::rundeck_started(trigger, plan, &job);
        report.command_id = Some(job.execution_id);
        report.executor = Some(crate::finish::ExecutorKind::Rundeck);
        report.note = Some(self.note(trigger, &text, deadline).await);
        report
    }
}

#[cfg(test)]
mod tests;
