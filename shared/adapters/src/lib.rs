//! Everything of remediate that speaks a foreign protocol, behind the ports of `remediate-core`:
//!
//! - [`pagerduty`]: what PagerDuty sends us, verified before it is parsed (v3 signatures,
//!   Custom Incident Action tokens, both payloads), and the REST client that writes back;
//! - [`aws`]: the SDK's configuration and error classes, the ledger on DynamoDB, secrets and
//!   the kill switch in Parameter Store, the catalog's remote sources;
//! - [`cloudwatch`]: CloudWatch alarm notifications, as SNS delivers them;
//! - [`aws_events`]: EventBridge events delivered through SNS (GuardDuty and Security Hub
//!   findings, AWS Health events, any other source);
//! - [`sns`]: one SNS notification's message read into a trigger;
//! - [`executors`]: SSM Run Command;
//! - [`config`]: the environment, read once at cold start;
//! - [`tls`]: the one TLS set-up (provider, compiled-in roots) every HTTPS client shares.

pub mod aws;
pub mod aws_events;
pub mod cloudwatch;
pub mod config;
pub mod executors;
pub mod invocation;
pub mod pagerduty;
pub mod sns;
pub mod ssm_events;
pub mod startup;
pub mod tls;
