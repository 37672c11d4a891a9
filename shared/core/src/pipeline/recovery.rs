//! Alarm transitions out of ALARM (to OK or INSUFFICIENT_DATA) never run a runbook, whatever a
//! catalog says: a recovery is recorded in the ledger, noted on the alarm's open incident and
//! published, so that the timeline shows when the alarm cleared, and that is all.

use super::*;
use crate::trigger::ALARM_STATE;

impl Pipeline {
    /// Whether this trigger is an alarm leaving ALARM: handled by [`Pipeline::record_recovery`].
    pub(super) fn is_recovery(trigger: &Trigger) -> bool {
        trigger
            .alarm
            .as_ref()
            .is_some_and(|alarm| alarm.state != ALARM_STATE)
    }

    /// Record an alarm's recovery for the runbook that watches it (found as if the alarm were
    /// in ALARM); an alarm no runbook watches is ignored without a ledger write.
    pub(super) async fn record_recovery(&self, mut trigger: Trigger, deadline: Instant) -> Started {
        let catalog = self.catalogs.current().await;
        let Some(alarm) = trigger.alarm.as_ref() else {
            return Started::Invalid("not an alarm".to_owned());
        };
        let (name, state) = (alarm.name.clone(), alarm.state.clone());
        // The runbook that would run were the alarm in ALARM (its event type mirrors the state).
        let mut in_alarm = trigger.clone();
        in_alarm.event_type = ALARM_STATE.to_owned();
        if let Some(alarm) = in_alarm.alarm.as_mut() {
            alarm.state = ALARM_STATE.to_owned();
        }
        let runbook = match decision::select(&in_alarm, &catalog) {
            Ok(runbook) => runbook.name.clone(),
            Err(_) => {
                let reason = format!(
                    "alarm {name} went to {state}; only a transition into ALARM starts a runbook, and none watches this alarm"
                );
                tracing::info!(reason, "ignored");
                return Started::Report(Report::ignored(&trigger.dedupe_id, reason));
            }
        };
        let claim = match self
            .ledger
            .claim(&trigger.dedupe_id, self.clock.now(), CLAIM_HOLD)
            .await
        {
            Ok(ClaimResult::Claimed(claim)) => claim,
            Ok(ClaimResult::Completed(original)) => {
                return Started::Report(Report::duplicate(&trigger.dedupe_id, original));
            }
            Ok(ClaimResult::InProgress { .. }) => return Started::Retry(Retry::Busy),
            Err(error) => {
                return self
                    .retry_unclaimed(&trigger, Some(&runbook), &error, deadline)
                    .await;
            }
        };
        self.find_alarm_incident(&mut trigger, deadline).await;
        let reason = format!(
            "alarm {name} went to {state}: recorded; only a transition into ALARM starts {runbook}"
        );
        tracing::info!(reason, "alarm recovery recorded");
        let mut report = Report {
            runbook: Some(runbook.clone()),
            catalog_version: Some(catalog.version.clone()),
            ..Report::ignored(&trigger.dedupe_id, reason)
        };
        report.note = Some(
            self.note(
                &trigger,
                &notes::alarm_recovered(&name, &state, &runbook),
                deadline,
            )
            .await,
        );
        self.complete(&claim, &trigger, &report, deadline).await;
        Started::Report(report)
    }
}
