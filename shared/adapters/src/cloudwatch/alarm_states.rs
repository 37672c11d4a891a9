//! [`AlarmStates`] on CloudWatch's `DescribeAlarms`: what an alarm says now, for `verify:`.
//!
//! Decisions:
//! - one call names the alarm and asks for both types (metric and composite): without
//!   `AlarmTypes`, CloudWatch returns metric alarms only, and a composite alarm would read as
//!   deleted;
//! - the time of the state is `StateTransitionedTimestamp` (the last change of the state value)
//!   when CloudWatch gives it, else `StateUpdatedTimestamp`, which also moves when only the
//!   reason or the evaluation state changes and would make "back to OK after ..." too late;
//! - only an alarm whose name is exactly the one asked for counts (`AlarmNames` is an exact
//!   filter, checked again here so that no other alarm's state is ever reported);
//! - a name that cannot be an alarm's is refused before any call: it would be CloudWatch's
//!   validation error, permanent either way.

use crate::aws::error::from_sdk;
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
use chrono::{DateTime, Utc};
use remediate_core::catalog::is_alarm_name;
use remediate_core::ports::alarms::{AlarmReading, AlarmState, AlarmStates};
use remediate_core::{Error, Result};

const SERVICE: &str = "cloudwatch";
const OPERATION: &str = "DescribeAlarms";

pub struct CloudWatchAlarmStates {
    client: aws_sdk_cloudwatch::Client,
}

impl CloudWatchAlarmStates {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self::from_client(aws_sdk_cloudwatch::Client::new(config))
    }

    pub fn from_client(client: aws_sdk_cloudwatch::Client) -> Self {
        Self { client }
    }
}

/// What CloudWatch said that we cannot read: a state this build does not know, or no time. A
/// retry would read the same, so it is permanent.
fn unreadable(name: &str, what: &str) -> Error {
    Error::Aws {
        service: SERVICE,
        operation: OPERATION,
        message: format!("alarm {name:?}: {what}"),
        transient: false,
    }
}

fn to_chrono(time: &aws_sdk_cloudwatch::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

/// The parts of a metric or composite alarm that make a reading.
fn reading(
    name: &str,
    state: Option<&StateValue>,
    transitioned: Option<&aws_sdk_cloudwatch::primitives::DateTime>,
    updated: Option<&aws_sdk_cloudwatch::primitives::DateTime>,
    reason: Option<&str>,
) -> Result<AlarmReading> {
    let state = state
        .and_then(|state| AlarmState::parse(state.as_str()))
        .ok_or_else(|| {
            unreadable(
                name,
                &format!(
                    "state {:?} is not OK, ALARM or INSUFFICIENT_DATA",
                    state.map(StateValue::as_str).unwrap_or("(none)")
                ),
            )
        })?;
    let updated_at = transitioned
        .or(updated)
        .and_then(to_chrono)
        .ok_or_else(|| unreadable(name, "no state timestamp"))?;
    Ok(AlarmReading {
        state,
        updated_at,
        reason: reason
            .map(str::trim)
            .filter(|reason| !reason.is_empty())
            .map(str::to_owned),
    })
}

#[async_trait]
impl AlarmStates for CloudWatchAlarmStates {
    async fn alarm_state(&self, name: &str) -> Result<Option<AlarmReading>> {
        if !is_alarm_name(name) {
            return Err(unreadable(
                name,
                "not an alarm name (1 to 255 characters, no control characters)",
            ));
        }
        let output = self
            .client
            .describe_alarms()
            .alarm_names(name)
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .send()
            .await
            .map_err(|error| from_sdk(SERVICE, OPERATION, error))?;
        if let Some(alarm) = output
            .metric_alarms()
            .iter()
            .find(|alarm| alarm.alarm_name() == Some(name))
        {
            return reading(
                name,
                alarm.state_value(),
                alarm.state_transitioned_timestamp(),
                alarm.state_updated_timestamp(),
                alarm.state_reason(),
            )
            .map(Some);
        }
        if let Some(alarm) = output
            .composite_alarms()
            .iter()
            .find(|alarm| alarm.alarm_name() == Some(name))
        {
            return reading(
                name,
                alarm.state_value(),
                alarm.state_transitioned_timestamp(),
                alarm.state_updated_timestamp(),
                alarm.state_reason(),
            )
            .map(Some);
        }
        Ok(None)
    }
}
