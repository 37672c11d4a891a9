//! What an unsigned or incomplete trigger says is re-read from PagerDuty before anything runs:
//! the incident of a workflow start, the incident and the tap of a Custom Incident Action.

use super::*;
use crate::ports::incidents::{CUSTOM_LOG_ENTRY, LogEntry};

/// A tap is confirmed by a custom log entry no older than this before the tap's own time.
const TAP_CONFIRM_WINDOW: chrono::Duration = chrono::Duration::minutes(2);

impl Pipeline {
    /// A manual workflow start carries only a reference to its incident: unless no runbook names
    /// the workflow (ignored at once), re-read the incident so that every condition and guard sees
    /// what PagerDuty says now. Nothing is claimed yet, so a failure here is simply answered.
    pub(super) async fn read_workflow_incident(
        &self,
        trigger: &mut Trigger,
        catalog: &Catalog,
        deadline: Instant,
    ) -> Result<(), Started> {
        let Some(workflow) = &trigger.workflow else {
            return Ok(());
        };
        if !catalog.names_workflow(workflow) {
            let reason = format!(
                "no runbook names workflow {:?} ({})",
                workflow.name, workflow.id
            );
            tracing::info!(reason, "ignored");
            return Err(Started::Report(Report::ignored(&trigger.dedupe_id, reason)));
        }
        let Some(incident_id) = trigger.incident_id().map(str::to_owned) else {
            return Err(Started::Invalid(
                "the workflow start names no incident".to_owned(),
            ));
        };
        match self
            .pagerduty
            .get_incident(&incident_id, deadline - ANSWER_MARGIN)
            .await
        {
            Ok(mut fresh) => {
                fresh.id = incident_id;
                trigger.incident = Some(fresh);
                Ok(())
            }
            Err(error) if error.is_retryable() => {
                Err(self.retry_unclaimed(trigger, None, &error, deadline).await)
            }
            Err(error) => {
                // PagerDuty says the incident is not there (deleted, or not visible to our key):
                // nothing can run, and a retry cannot change that.
                let reason = format!("PagerDuty does not confirm incident {incident_id}: {error}");
                tracing::warn!(reason, "refused");
                Err(Started::Report(Report::refused(
                    &trigger.dedupe_id,
                    None,
                    reason,
                )))
            }
        }
    }

    /// Re-read the incident (a tap on a resolved incident runs nothing) and, unless turned off,
    /// find the tap in the incident's log entries (a leaked header secret alone cannot act as a
    /// user). A failure says whether to refuse or to ask for a retry.
    pub(super) async fn confirm_tap(
        &self,
        trigger: &mut Trigger,
        catalog: &Catalog,
        runbook: &str,
        deadline: Instant,
    ) -> Result<(), ConfirmFailure> {
        let Some(incident_id) = trigger.incident_id().map(str::to_owned) else {
            return Err(ConfirmFailure::Refused(
                "the tap names no incident".to_owned(),
            ));
        };
        let call_deadline = deadline - ANSWER_MARGIN;
        match self
            .pagerduty
            .get_incident(&incident_id, call_deadline)
            .await
        {
            Ok(mut fresh) => {
                // Notes go to the incident that was tapped, whatever id the answer carries (a
                // mock answers every id with its one example).
                fresh.id = incident_id.clone();
                trigger.incident = Some(fresh);
            }
            Err(error) if error.is_retryable() => {
                return Err(ConfirmFailure::Transient(error));
            }
            Err(error) => {
                return Err(ConfirmFailure::Refused(format!(
                    "PagerDuty does not confirm incident {incident_id}: {error}"
                )));
            }
        }
        if !self.settings.confirm_taps {
            // Local runs against emulators only (the template cannot turn confirmation off): the
            // person is whoever the unsigned body names, and every note and record says so.
            if let Some(actor) = trigger.actor.as_mut() {
                actor.unconfirmed = true;
            }
            return Ok(());
        }
        let Some(actor) = trigger.actor.clone() else {
            return Err(ConfirmFailure::Refused(
                "the tap names no person".to_owned(),
            ));
        };
        let Some(action) = trigger.action.as_deref() else {
            return Err(ConfirmFailure::Refused(
                "the tap names no action".to_owned(),
            ));
        };
        // The label is ours (the catalog), never the unsigned body's: it is what binds PagerDuty's
        // record of the tap to this route.
        let Some(label) = catalog
            .custom_actions
            .get(action)
            .map(|custom| custom.label.as_str())
        else {
            return Err(ConfirmFailure::Refused(format!(
                "the catalog declares no custom action {action:?}, so no tap can be bound to it"
            )));
        };
        let (Some(since), Some(until)) = (
            trigger.occurred_at.checked_sub_signed(TAP_CONFIRM_WINDOW),
            trigger.occurred_at.checked_add_signed(TAP_CONFIRM_WINDOW),
        ) else {
            return Err(ConfirmFailure::Refused(
                "the tap's time is out of range".to_owned(),
            ));
        };
        let entries = match self
            .pagerduty
            .log_entries_between(&incident_id, since, until, call_deadline)
            .await
        {
            Ok(entries) => entries,
            Err(error) if error.is_retryable() => {
                return Err(ConfirmFailure::Transient(error));
            }
            Err(error) => {
                return Err(ConfirmFailure::Refused(format!(
                    "PagerDuty log entries unreadable: {error}"
                )));
            }
        };
        // The tap is the person's custom log entry for this button (PagerDuty's summary names the
        // button by its label), close to the tap's own time.
        let mut candidates: Vec<_> = entries
            .iter()
            .filter(|entry| {
                entry.kind == CUSTOM_LOG_ENTRY
                    && entry.agent_id.as_deref() == Some(actor.id.as_str())
                    && entry.created_at.is_some_and(|at| {
                        at.signed_duration_since(trigger.occurred_at).abs() <= TAP_CONFIRM_WINDOW
                    })
                    && is_tap_of(entry, label)
            })
            .collect();
        // The closest entry first; two quick taps each find their own.
        candidates.sort_by_key(|entry| {
            entry
                .created_at
                .map(|at| at.signed_duration_since(trigger.occurred_at).abs())
        });
        if candidates.is_empty() {
            tracing::warn!(
                runbook,
                actor = actor.id,
                label,
                "tap not found in the incident's log entries"
            );
            return Err(ConfirmFailure::Unconfirmed(format!(
                "PagerDuty's log of the incident shows no recent \"{label}\" action by {} ({}): the request was not that tap in PagerDuty",
                actor.name, actor.id
            )));
        }
        // One log entry confirms one tap: a request replaying a real tap under a new message id
        // finds every entry already used. A redelivery of the same trigger may reuse its own.
        for entry in &candidates {
            let Some(entry_id) = entry.id.as_deref() else {
                continue;
            };
            let key = format!("pagerduty-log-entry:{entry_id}");
            match self
                .ledger
                .mark_once(&key, &trigger.dedupe_id, self.clock.now())
                .await
            {
                Ok(true) => {
                    // The person's name as PagerDuty knows it, not as the body claimed.
                    if let (Some(actor), Some(name)) =
                        (trigger.actor.as_mut(), entry.agent_name.as_ref())
                    {
                        actor.name = name.clone();
                    }
                    return Ok(());
                }
                Ok(false) => {}
                Err(error) => return Err(ConfirmFailure::Transient(error)),
            }
        }
        Err(ConfirmFailure::Refused(
            "every tap in PagerDuty's log that could match was already acted on; a request replaying one runs nothing"
                .to_owned(),
        ))
    }

    pub(super) async fn finish_without_run(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        runbook: &str,
        failure: ConfirmFailure,
        deadline: Instant,
    ) -> Started {
        let reason = match failure {
            ConfirmFailure::Transient(error) => {
                return self
                    .retry_claimed(claim, trigger, runbook, &error, deadline)
                    .await;
            }
            ConfirmFailure::Refused(reason) | ConfirmFailure::Unconfirmed(reason) => reason,
        };
        tracing::warn!(reason, "refused");
        let report = Report::refused(&claim.dedupe_id, Some(runbook), reason);
        self.complete(claim, trigger, &report, deadline).await;
        Started::Report(report)
    }
}

/// Whether PagerDuty's log entry records a tap on the button with this label: its summary reads
/// `<person> ran the <label> action`, and the person is the entry's own agent.
fn is_tap_of(entry: &LogEntry, label: &str) -> bool {
    let Some(summary) = entry.summary.as_deref() else {
        return false;
    };
    match entry.agent_name.as_deref() {
        Some(name) => summary == format!("{name} ran the {label} action"),
        None => summary.ends_with(&format!(" ran the {label} action")),
    }
}

pub(super) enum ConfirmFailure {
    Transient(Error),
    Refused(String),
    Unconfirmed(String),
}
