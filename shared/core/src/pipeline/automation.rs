//! Running an SSM Automation plan. Unlike Run Command, StartAutomationExecution takes an
//! idempotency token (the run id): every attempt of one run, a retry after a lost answer or a
//! takeover, gets the execution the first attempt started. So nothing needs to be searched for,
//! and a failure that may have reached SSM can still give the claim back.
//!
//! The execution id is the run's handle: the ledger keeps it where a command id goes, so the
//! execution's status events find their run.

use super::*;
use crate::catalog::Targets;
use crate::finish::ExecutorKind;
use crate::pipeline::targets::pin;
use crate::plan::{AutomationRequest, Plan};
use crate::ports::executor::{StartedAutomation, automation_tags};

impl Pipeline {
    pub(super) async fn execute_automation(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        request: &AutomationRequest,
        mut report: Report,
        claimed_at: chrono::DateTime<chrono::Utc>,
        deadline: Instant,
    ) -> Result<Report, NotStarted> {
        // A takeover starts it again, even past the age limit: if the delivery it took over had
        // started the execution, SSM answers with that one (same token), and it was decided while
        // young. Refusing would report as not run something that may be running.
        // max_targets holds for an automation's tag targets too.
        let pinned;
        let request = match &request.targets {
            Some(targets) => match pin(&*self.executor, targets, plan.max_targets).await {
                Ok(None) => request,
                Ok(Some(Ok(instance_ids))) => {
                    let mut resolved = request.clone();
                    resolved.targets = Some(Targets::InstanceIds(instance_ids));
                    pinned = resolved;
                    &pinned
                }
                Ok(Some(Err(reason))) => {
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
            },
            None => request,
        };
        if self
            .hold_back(trigger, plan, &mut report, claimed_at, deadline)
            .await?
        {
            return Ok(report);
        }
        let tags = automation_tags(&plan.run_id, &plan.runbook, trigger.incident_id());
        let result = match self.automation.start_automation(request, &tags).await {
            Ok(started) => Ok(self
                .automation_started(trigger, plan, started, report, deadline)
                .await),
            // Throttling, a timeout, a lost answer: the token makes the retry start nothing new.
            Err(error) if error.is_retryable() => Err(NotStarted::Release(error)),
            Err(error) => Ok(self
                .refuse_start(trigger, plan, report, &error, "SSM", "automation", deadline)
                .await),
        };
        let nothing_ran = match &result {
            Err(_) => true,
            Ok(report) => report.outcome == Outcome::Refused,
        };
        if nothing_ran {
            self.give_back(plan, claimed_at).await;
        }
        result
    }

    async fn automation_started(
        &self,
        trigger: &Trigger,
        plan: &Plan,
        started: StartedAutomation,
        mut report: Report,
        deadline: Instant,
    ) -> Report {
        tracing::info!(
            runbook = plan.runbook,
            run_id = %plan.run_id,
            execution_id = %started.execution_id,
            document = plan.what(),
            targets = plan.targets(),
            "automation started"
        );
        let text = notes::automation_started(trigger, plan, &started, &self.settings.region);
        report.command_id = Some(started.execution_id);
        report.executor = Some(ExecutorKind::SsmAutomation);
        report.note = Some(self.note(trigger, &text, deadline).await);
        report
    }
}
