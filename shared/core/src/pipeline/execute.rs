//! Running a plan: a dry run, a takeover's search for what its predecessor sent, tag targets
//! pinned to `max_targets`, the cooldown and window reservation, the command itself and its note.

use super::*;
use crate::guards::Reserved;
use crate::plan::{CommandRequest, ExecutionRequest, Plan};
use crate::ports::executor::StartedCommand;

impl Pipeline {
    /// Run the plan (or report the dry run) and note it on the incident. An error means nothing
    /// was executed; whether the claim may be given back says the error.
    pub(super) async fn execute(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        claim: &Claim,
        claimed_at: chrono::DateTime<chrono::Utc>,
        deadline: Instant,
    ) -> Result<Report, NotStarted> {
        let mut report = Report::run(
            &trigger.dedupe_id,
            &plan.runbook,
            &plan.run_id,
            &plan.catalog_version,
            plan.targets(),
        );
        report.verify = self.verify_plan(trigger, &plan.runbook).await;
        if claim.taken_over && plan.dry_run.is_some() && self.is_stale(trigger) {
            // A dry run sends nothing, so there is nothing to look for: decide's age check.
            return Ok(self
                .refuse_stale_takeover(trigger, plan, report, deadline)
                .await);
        }
        if let Some(why) = &plan.dry_run {
            report.outcome = Outcome::DryRun;
            report.reason = Some(why.clone());
            tracing::info!(runbook = plan.runbook, run_id = %plan.run_id, why, "dry run");
            report.note = Some(
                self.note(trigger, &notes::dry_run(trigger, plan), deadline)
                    .await,
            );
            return Ok(report);
        }
        let request = match &plan.request {
            ExecutionRequest::SsmCommand(request) => request,
            ExecutionRequest::SsmAutomation(automation) => {
                return self
                    .execute_automation(trigger, plan, automation, report, claimed_at, deadline)
                    .await;
            }
            ExecutionRequest::Rundeck(job) => {
                return self
                    .execute_rundeck(trigger, plan, job, claim, report, claimed_at, deadline)
                    .await;
            }
        };
        if claim.taken_over {
            // The previous holder died after claiming (or could not tell whether its command
            // was sent); it may have sent the command first, at any time since the trigger.
            let since = (claimed_at - CLAIM_HOLD * 2)
                .min(trigger.occurred_at - chrono::Duration::minutes(1));
            match self.executor.find_command(request, since).await {
                Ok(Some(command)) => {
                    tracing::warn!(
                        run_id = %plan.run_id,
                        command_id = %command.command_id,
                        "the previous delivery had sent the command; not sending it again"
                    );
                    return Ok(self.started(trigger, plan, command, report, deadline).await);
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
        // max_targets holds for tag targets too: resolved now, and sent to exactly those ids.
        let pinned;
        let request = match pin_tag_targets(&*self.executor, request, plan.max_targets).await {
            Ok(Pinned::AsIs) => request,
            Ok(Pinned::Instances(resolved)) => {
                pinned = resolved;
                &pinned
            }
            Ok(Pinned::Refused(reason)) => {
                return Ok(self
                    .refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
                    .await);
            }
            Err(error) if error.is_transient() => return Err(NotStarted::Release(error)),
            Err(error) => {
                let reason = format!("the tag targets could not be resolved: {error}");
                return Ok(self
                    .refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
                    .await);
            }
        };
        if self
            .hold_back(trigger, plan, &mut report, claimed_at, deadline)
            .await?
        {
            return Ok(report);
        }
        let result = self
            .send(trigger, plan, request, report, claimed_at, deadline)
            .await;
        // Nothing ran when SSM refused the command or did not take it: the cooldown and the window
        // place are given back, so that a fixed runbook or a retry is not held back by a run that
        // never happened.
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

    /// Take the cooldown and the rate window place, or fill `report` as suppressed (noting the
    /// incident once per window). True when the run is held back.
    pub(super) async fn hold_back(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        report: &mut Report,
        claimed_at: chrono::DateTime<chrono::Utc>,
        deadline: Instant,
    ) -> Result<bool, NotStarted> {
        if let Some(reservation) = &plan.reservation {
            let held_back = match self.guards.reserve(reservation, claimed_at).await {
                Ok(Reserved::Granted) => None,
                Ok(Reserved::CoolingDown { until }) => Some((
                    format!(
                        "{} ran on {} recently; cooling down until {}",
                        plan.runbook,
                        reservation.target,
                        until.to_rfc3339()
                    ),
                    until,
                )),
                Ok(Reserved::WindowFull {
                    limit,
                    window_start,
                }) => Some((
                    format!(
                        "{} already ran {} time(s) in the window that started {} (max_runs)",
                        plan.runbook,
                        limit.count,
                        window_start.to_rfc3339()
                    ),
                    window_start + chrono::Duration::seconds(limit.window_seconds as i64),
                )),
                Err(error) => return Err(NotStarted::Release(error)),
            };
            if let Some((reason, held_until)) = held_back {
                // Suppressed runs are logged, counted and recorded; the incident gets one note per
                // window (the first suppression's), not one per notification.
                tracing::warn!(runbook = plan.runbook, reason, "suppressed");
                report.outcome = Outcome::Suppressed;
                match self.guards.first_suppression(reservation, held_until).await {
                    Ok(true) => {
                        let text = notes::suppressed(
                            trigger,
                            &plan.runbook,
                            &format!(
                                "{reason}; further triggers until then are recorded, not noted"
                            ),
                        );
                        report.note = Some(self.note(trigger, &text, deadline).await);
                    }
                    Ok(false) => {}
                    Err(error) => {
                        tracing::error!(%error, "could not record the suppression note; not noting")
                    }
                }
                report.reason = Some(reason);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Give the cooldown and the window place back after a run that did not happen.
    pub(super) async fn give_back(&self, plan: &Plan, claimed_at: chrono::DateTime<chrono::Utc>) {
        if let Some(reservation) = &plan.reservation
            && let Err(error) = self.guards.release(reservation, claimed_at).await
        {
            tracing::error!(%error, "could not give back the cooldown; the next run may be held back");
        }
    }

    /// A takeover found that nothing was sent, and the trigger is older than the age limit: the
    /// refusal `decide` would have made had the search not come first.
    pub(super) async fn refuse_stale_takeover(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        report: Report,
        deadline: Instant,
    ) -> Report {
        let age = self.clock.now().signed_duration_since(trigger.occurred_at);
        let reason = format!(
            "the event is {} old, older than the {} limit, and the delivery that first took it sent nothing: not run",
            decision::human_duration(age),
            decision::human_duration(self.max_trigger_age())
        );
        self.refuse_with_note(trigger, &plan.runbook, report, reason, deadline)
            .await
    }

    /// Turn a report into a refusal that people see: the reason in the log and on the incident.
    pub(super) async fn refuse_with_note(
        &self,
        trigger: &Trigger,
        runbook: &str,
        mut report: Report,
        reason: String,
        deadline: Instant,
    ) -> Report {
        tracing::warn!(runbook, reason, "refused");
        report.outcome = Outcome::Refused;
        report.note = Some(
            self.note(
                trigger,
                &notes::refused(trigger, runbook, &reason),
                deadline,
            )
            .await,
        );
        report.reason = Some(reason);
        report
    }

    pub(super) async fn send(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        request: &CommandRequest,
        report: Report,
        claimed_at: chrono::DateTime<chrono::Utc>,
        deadline: Instant,
    ) -> Result<Report, NotStarted> {
        match self.executor.send_command(request).await {
            Ok(command) => Ok(self.started(trigger, plan, command, report, deadline).await),
            Err(error @ Error::Ambiguous { .. }) => {
                // The answer was lost, not the request: SSM may have the command, now or a moment
                // from now. Look; if it is not there yet, keep the claim so that only a takeover
                // (which looks again) can send it.
                let since = claimed_at - chrono::Duration::minutes(1);
                match self.executor.find_command(request, since).await {
                    Ok(Some(command)) => {
                        tracing::warn!(run_id = %plan.run_id, %error, "SendCommand's answer was lost but the command exists");
                        Ok(self.started(trigger, plan, command, report, deadline).await)
                    }
                    Ok(None) => Err(NotStarted::Hold(error)),
                    Err(find_error) => {
                        tracing::error!(%find_error, "could not look for the command");
                        Err(NotStarted::Hold(error))
                    }
                }
            }
            // Throttling and other refusals that say SSM did not take the request: a retry is safe.
            Err(error) if error.is_transient() => Err(NotStarted::Release(error)),
            // SSM said no (unknown document, bad parameters, no permission): retrying cannot
            // help, so the run is refused and people are told why.
            Err(error) => Ok(self
                .refuse_start(trigger, plan, report, &error, "SSM", "command", deadline)
                .await),
        }
    }

    /// The executor refused to start the run: refused, with the executor's words as the start
    /// error, in the log and on the incident. `executor`: "SSM", "Rundeck"; `what`: "command",
    /// "automation", "job".
    #[allow(
        clippy::too_many_arguments,
        reason = "the pipeline's context plus the two words of the log line"
    )]
    pub(super) async fn refuse_start(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        mut report: Report,
        error: &Error,
        executor: &str,
        what: &str,
        deadline: Instant,
    ) -> Report {
        let message = error.to_string();
        tracing::error!(
            runbook = plan.runbook,
            run_id = %plan.run_id,
            error = message,
            "{executor} refused the {what}"
        );
        report.outcome = Outcome::Refused;
        report.start_error = Some(message.clone());
        report.reason = Some(format!("{executor} refused the {what}: {message}"));
        report.note = Some(
            self.note(
                trigger,
                &notes::start_failed(trigger, plan, &message),
                deadline,
            )
            .await,
        );
        report
    }

    pub(super) async fn started(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        command: StartedCommand,
        mut report: Report,
        deadline: Instant,
    ) -> Report {
        tracing::info!(
            runbook = plan.runbook,
            run_id = %plan.run_id,
            command_id = %command.command_id,
            document = plan.what(),
            targets = plan.targets(),
            "command sent"
        );
        let text = notes::started(trigger, plan, &command, &self.settings.region);
        report.command_id = Some(command.command_id);
        report.executor = Some(crate::finish::ExecutorKind::SsmCommand);
        report.note = Some(self.note(trigger, &text, deadline).await);
        report
    }
}

impl Pipeline {
    /// The runbook's `verify` for this run, with the alarm's name rendered now (the ending no
    /// longer has the trigger). A name that cannot be had is logged: the run goes ahead, unverified.
    async fn verify_plan(
        &self,
        trigger: &Trigger,
        runbook: &str,
    ) -> Option<crate::finish::VerifyPlan> {
        let catalog = self.catalogs.current().await;
        let verify = catalog.get(runbook)?.verify.as_ref()?;
        trigger.alarm.as_ref()?;
        match verify.alarm_name(trigger) {
            Ok(alarm) => Some(crate::finish::VerifyPlan {
                alarm,
                settle_seconds: verify.settle_seconds,
                on_failure: verify.on_failure,
            }),
            Err(error) => {
                tracing::warn!(runbook, %error, "the run will not be verified");
                None
            }
        }
    }
}
