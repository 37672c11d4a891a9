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
        // Bounded by the run's deadline, so that a slow CloudWatch cannot outlast the hold.
        let reading = match tokio::time::timeout_at(deadline, alarms.alarm_state(&plan.alarm)).await
        {
            Ok(reading) => reading,
            Err(_) => Err(crate::Error::DeadlineExceeded {
                operation: "DescribeAlarms",
                budget: deadline.saturating_duration_since(tokio::time::Instant::now()),
            }),
        };
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
        // Order, so that a retry repeats the least harmful step: the note first (a retry after a
        // later failure may say it twice), then the escalation (a page must never be sent
        // twice: nothing after it can fail the verification), then the resolve, then the topic,
        // whose failure is logged and never holds the rest back.
        if let Some(incident_id) = run.incident_id.as_deref() {
            let text = format!("remediate: {said}");
            self.pagerduty
                .create_note(incident_id, &text, deadline)
                .await?;
            tracing::info!(incident_id, note = text, "note posted");
        }
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
                    let refused = format!("PagerDuty refused the escalation: {error}");
                    tracing::error!(incident_id, %error, "escalation refused");
                    // Said on the incident, best effort: the verdict note is there already.
                    if let Err(note_error) = self
                        .pagerduty
                        .create_note(incident_id, &format!("remediate: {refused}"), deadline)
                        .await
                    {
                        tracing::error!(incident_id, %note_error, "could not say the escalation was refused");
                    }
                    said.push_str(&format!(" ({refused})"));
                }
            }
        }
        // Resolved only now that the alarm says the fix held (the runbook asks for it), and not
        // long after: by then people may have reopened the incident.
        if let (true, true, Some(incident_id)) = (
            recovered,
            options.resolve_on_success,
            run.incident_id.as_deref(),
        ) {
            if now - plan.due(ending.finished_at) <= super::LATEST_RESOLVE {
                if let Err(error) = self
                    .resolve_if_open(incident_id, &notes::resolution(run, ending), deadline)
                    .await
                {
                    tracing::error!(incident_id, %error, "could not resolve the verified incident");
                }
            } else {
                tracing::warn!(
                    incident_id,
                    "not resolving: verified too long after the run"
                );
            }
        }
        if let Some(results) = &self.results
            && let Some(mut message) = ResultMessage::finished(run, ending)
        {
            message.verification = Some(said);
            if let Err(error) = results.publish(&message, deadline).await {
                tracing::error!(%error, "verification not published");
            }
        }
        Ok(Done::Done)
    }
}
