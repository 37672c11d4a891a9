//! The workspace's integration tests, linked into one binary (every extra test binary links the
//! AWS SDK again). Each module is one area; `support` starts nothing itself: the emulators are
//! started by `scripts/test`, and a test whose emulator is missing fails with a clear message.

mod support;

mod alarm_states;
mod alarm_storm;
mod aws_errors;
mod catalog_sources;
mod events;
mod execution_events;
mod history;
mod infra;
mod ledger_retries;
mod pagerduty_client;
mod reconcile;
mod results_topic;
mod rundeck;
mod rundeck_notification;
mod sns_alarm_emulated;
mod sns_events;
mod ssm_automation;
mod tls;
mod webhook_emulated;
