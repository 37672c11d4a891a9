//! The `verify` follow-up: once the runbook's settle time has passed since a successful run
//! ended, read the alarm again and say on the incident whether it recovered; escalate the
//! incident when it did not and the runbook says so.

use super::{Done, Finisher};
use crate::Result;
use crate::catalog::{OnFailure, ReportOptions};
use crate::finish::RunEnding;
use crate::ledger::RunRecord;
use crate::notes;
use crate::ports::results::ResultMessage;
use crate::verify::{Verdict, decide};
use tokio::time::Instant;

impl Finisher {
    pub(super) async fn verify(
        &self,
        run: &RunRecord,
        ending: &RunEnding,
        options: ReportOptions,
        deadline: Instant,
    ) -> Result<Done> {
        let Some(plan) = &run.verify else {
            return Ok(Done::Done);
        };
        let now = self.clock.now();
        // Not before the settle time: an early reading would see the ALARM the run was for.
        if now < plan.due(ending.finished_at) {
            return Ok(Done::Deferred);
        }
        let Some(alarms) = &self.alarms else {
            // This function does not read alarms: the reconciler does it.
            return Ok(Done::Deferred);
        };
        let reading = alarms.alarm_state(&plan.alarm).await;
        // A failure that passes: read again on the next pass. One that will not (a permission
        // the role lacks) is said below rather than let the verification vanish.
        if let Err(error) = &reading
            && error.is_retryable()
        {
            return Err(error.clone());
        }
        let settle = chrono::Duration::seconds(i64::from(plan.settle_seconds));
        let runbook = run.runbook.as_deref().unwrap_or("the runbook");
        let (said, failure) = match &reading {
            Ok(reading) => {
                let verdict = decide(ending.finished_at, settle, reading.as_ref(), now);
                if let Verdict::NotYet { .. } = verdict {
                    return Ok(Done::Deferred);
                }
                let said = notes::verified(runbook, &plan.alarm, &verdict, plan.on_failure);
                (said, Some(verdict))
            }
            Err(error) => (
                format!(
                    "{runbook} succeeded; alarm {} could not be read, so the fix is not verified: {error}",
                    plan.alarm
                ),
                None,
            ),
        };
        let is_failure = failure.as_ref().is_some_and(Verdict::is_failure);
        let recovered = matches!(failure, Some(Verdict::Recovered { .. }));
        tracing::info!(
            alarm = plan.alarm,
            failure = is_failure,
            verdict = said,
            "verified"
        );
        // Escalate first: a failure here (PagerDuty down) leaves the whole verification to be
        // done again, with nothing said twice; a refusal (a one-level policy) is said in the note.
        let mut said = said;
        if let (true, OnFailure::Escalate, Some(incident_id)) =
            (is_failure, plan.on_failure, run.incident_id.as_deref())
        {
            match self
                .pagerduty
                .escalate_incident(incident_id, None, deadline)
                .await
            {
                Ok(level) => {
                    tracing::warn!(
                        incident_id,
                        level = level.get(),
                        "escalated: the alarm did not recover"
                    );
                }
                Err(error) if error.is_retryable() => return Err(error),
                Err(error) => {
                    said.push_str(&format!(" (PagerDuty refused the escalation: {error})"))
                }
            }
        }
        // Then the topic: it needs no incident.
        if let Some(results) = &self.results
            && let Some(mut message) = ResultMessage::finished(run, ending)
        {
            message.verification = Some(said.clone());
            results.publish(&message, deadline).await?;
        }
        let Some(incident_id) = run.incident_id.as_deref() else {
            return Ok(Done::Done);
        };
        let text = format!("remediate: {said}");
        self.pagerduty
            .create_note(incident_id, &text, deadline)
            .await?;
        tracing::info!(incident_id, note = text, "note posted");
        // Resolved only now that the alarm says the fix held (the runbook asks for it).
        if recovered && options.resolve_on_success {
            self.resolve_if_open(incident_id, &notes::resolution(run, ending), deadline)
                .await?;
        }
        Ok(Done::Done)
    }
}
