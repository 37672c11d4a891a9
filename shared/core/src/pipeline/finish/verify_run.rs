//! The `verify` follow-up: once the runbook's settle time has passed since a successful run
//! ended, read the alarm again and say on the incident whether it recovered; escalate the
//! incident when it did not and the runbook says so.

use super::{Done, Finisher};
use crate::Result;
use crate::catalog::OnFailure;
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
        let reading = alarms.alarm_state(&plan.alarm).await?;
        let settle = chrono::Duration::seconds(i64::from(plan.settle_seconds));
        let verdict = decide(ending.finished_at, settle, reading.as_ref(), now);
        if let Verdict::NotYet { .. } = verdict {
            return Ok(Done::Deferred);
        }
        let runbook = run.runbook.as_deref().unwrap_or("the runbook");
        let said = notes::verified(runbook, &plan.alarm, &verdict, plan.on_failure);
        tracing::info!(
            alarm = plan.alarm,
            failure = verdict.is_failure(),
            verdict = said,
            "verified"
        );
        // The topic first: it needs no incident, and a note retried after a failed publish
        // would be said twice.
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
        if verdict.is_failure() && plan.on_failure == OnFailure::Escalate {
            let level = self
                .pagerduty
                .escalate_incident(incident_id, None, deadline)
                .await?;
            tracing::warn!(
                incident_id,
                level = level.get(),
                "escalated: the alarm did not recover"
            );
        }
        Ok(Done::Done)
    }
}
