//! Transient failures: when to ask the sender to retry, and when a trigger has grown too old
//! for a retry to run it.

use super::*;

impl Pipeline {
    /// Whether the trigger is older than the age limit: it will never be executed, so a transient
    /// failure must not keep its sender retrying.
    pub(super) fn is_stale(&self, trigger: &Trigger) -> bool {
        self.clock.now().signed_duration_since(trigger.occurred_at) > self.max_trigger_age()
    }

    /// The age limit as a duration (the configuration bounds it, so this never saturates).
    pub(super) fn max_trigger_age(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.max_trigger_age).unwrap_or(chrono::Duration::MAX)
    }

    /// After a transient failure with nothing sent: the refusal to answer instead of a 503 when
    /// the trigger has grown older than the age limit. PagerDuty queues an incident's later
    /// webhooks behind one it is retrying, for up to 48 hours, and a retry of a trigger this old
    /// could only be refused: so it is refused now, with a note, and the queue moves on.
    pub(super) async fn stale_refusal(
        &self,
        trigger: &Trigger,
        runbook: Option<&str>,
        error: &Error,
        deadline: Instant,
    ) -> Option<Report> {
        if !self.is_stale(trigger) {
            return None;
        }
        let reason = format!(
            "not run: a transient failure lasted until the event was older than the age limit ({}): {error}",
            decision::human_duration(self.max_trigger_age())
        );
        tracing::error!(
            reason,
            "giving up on a stale trigger after a transient failure"
        );
        let mut report = Report::refused(&trigger.dedupe_id, runbook, reason.clone());
        let name = runbook.unwrap_or("remediate");
        report.note = Some(
            self.note(trigger, &notes::refused(trigger, name, &reason), deadline)
                .await,
        );
        Some(report)
    }

    /// A transient failure before any claim was taken: 503, unless the trigger is stale.
    pub(super) async fn retry_unclaimed(
        &self,
        trigger: &Trigger,
        runbook: Option<&str>,
        error: &Error,
        deadline: Instant,
    ) -> Started {
        match self.stale_refusal(trigger, runbook, error, deadline).await {
            Some(report) => Started::Report(report),
            None => Started::Retry(Retry::Transient(error.clone())),
        }
    }

    /// A transient failure with the claim held and nothing sent: give the claim back and ask for
    /// a retry; or, when the trigger is stale, record the refusal on the claim (a redelivery is
    /// then a duplicate, not a second note).
    pub(super) async fn retry_claimed(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        runbook: &str,
        error: &Error,
        deadline: Instant,
    ) -> Started {
        if claim.taken_over {
            // The delivery this one took over may have sent the command, and nothing has looked
            // in SSM yet: keep the claim, so that only another takeover (which looks first) goes
            // on. Neither a refusal nor a fresh claim could be right here.
            tracing::warn!(%error, "transient failure on a taken-over claim; holding it");
            return Started::Retry(Retry::Transient(error.clone()));
        }
        if let Some(report) = self
            .stale_refusal(trigger, Some(runbook), error, deadline)
            .await
        {
            self.complete(claim, trigger, &report, deadline).await;
            return Started::Report(report);
        }
        if let Err(release_error) = self.ledger.release(claim).await {
            tracing::error!(%release_error, "could not release the claim; the retry waits for it to expire");
        }
        Started::Retry(Retry::Transient(error.clone()))
    }

    /// Events remediate's own bot user caused (the notes it posts come back as
    /// `incident.annotated`, say) are never acted on: the function must not react to itself.
    pub(super) fn caused_by_bot(&self, trigger: &Trigger) -> Option<Report> {
        let bot = self.settings.bot_user_id.as_deref()?;
        let actor = trigger.actor.as_ref()?;
        (actor.id == bot).then(|| {
            tracing::info!(actor = actor.id, "event caused by the bot user; ignored");
            Report::ignored(
                &trigger.dedupe_id,
                format!(
                    "{} was caused by remediate's own PagerDuty user ({bot})",
                    trigger.event_type
                ),
            )
        })
    }
}
