//! Alarms and AWS events arrive without a PagerDuty incident. When the deployment says how they
//! name one (`PAGERDUTY_INCIDENT_KEY_TEMPLATE`: PagerDuty's CloudWatch integration and the
//! Events API set `incident_key` differently), the open incident with that key is found, so that
//! notes land where the on-call engineer already looks and incident guards have an incident.

use super::*;
use crate::template::Quoting;
use crate::trigger::Source;

impl Pipeline {
    /// Attach the open incident the trigger's key names, if any. A failure, even a transient one,
    /// is logged and the run goes on without an incident ("with no incident, still run"):
    /// failing the delivery instead would let a PagerDuty outage, or its rate limit during a
    /// storm, stop every automatic remediation, which is worse than an outcome that reaches only
    /// the log, the ledger and the results topic. Called after the claim, so that redeliveries
    /// are answered from the ledger without asking PagerDuty.
    pub(super) async fn find_alarm_incident(&self, trigger: &mut Trigger, deadline: Instant) {
        if trigger.incident.is_some()
            || !matches!(trigger.source, Source::CloudwatchAlarm | Source::AwsEvent)
        {
            return;
        }
        let Some(template) = &self.settings.incident_key else {
            return;
        };
        let key = match template.render(Quoting::None, |field| trigger.field(field)) {
            Ok(key) if !key.trim().is_empty() => key,
            Ok(_) => {
                tracing::info!("the incident key is empty for this trigger; no incident looked up");
                return;
            }
            Err(error) => {
                tracing::info!(%error, "no incident key for this trigger; no incident looked up");
                return;
            }
        };
        match self
            .pagerduty
            .find_open_incident(&key, deadline - ANSWER_MARGIN)
            .await
        {
            Ok(Some(incident)) => {
                tracing::info!(
                    incident_key = key,
                    incident_id = incident.id,
                    "found the alarm's incident"
                );
                trigger.incident = Some(incident);
            }
            Ok(None) => {
                tracing::info!(
                    incident_key = key,
                    "no open incident with this key; running without one"
                );
            }
            Err(error) => {
                tracing::error!(incident_key = key, %error, "the incident lookup failed; running without an incident");
            }
        }
    }
}
