//! Alarms and AWS events arrive without a PagerDuty incident. When the deployment says how they
//! name one (`PAGERDUTY_INCIDENT_KEY_TEMPLATE`: PagerDuty's CloudWatch integration and the
//! Events API set `incident_key` differently), the open incident with that key is found, so that
//! notes land where the on-call engineer already looks and incident guards have an incident.

use super::*;
use crate::template::Quoting;
use crate::trigger::Source;

impl Pipeline {
    /// Attach the open incident the trigger's key names, if any. Only a transient failure is an
    /// error (the sender retries); anything else runs without an incident, and says so in the log.
    pub(super) async fn find_alarm_incident(
        &self,
        trigger: &mut Trigger,
        deadline: Instant,
    ) -> Result<(), Error> {
        if trigger.incident.is_some()
            || !matches!(trigger.source, Source::CloudwatchAlarm | Source::AwsEvent)
        {
            return Ok(());
        }
        let Some(template) = &self.settings.incident_key else {
            return Ok(());
        };
        let key = match template.render(Quoting::None, |field| trigger.field(field)) {
            Ok(key) if !key.trim().is_empty() => key,
            Ok(_) => {
                tracing::info!("the incident key is empty for this trigger; no incident looked up");
                return Ok(());
            }
            Err(error) => {
                tracing::info!(%error, "no incident key for this trigger; no incident looked up");
                return Ok(());
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
                Ok(())
            }
            Ok(None) => {
                tracing::info!(
                    incident_key = key,
                    "no open incident with this key; running without one"
                );
                Ok(())
            }
            Err(error) if error.is_retryable() => Err(error),
            Err(error) => {
                tracing::error!(incident_key = key, %error, "the incident lookup failed; running without an incident");
                Ok(())
            }
        }
    }
}
