//! remediate's library: everything the Lambda functions and the `remediate` CLI share.
//!
//! The pure domain ([`trigger`], [`catalog`], [`decision`], [`notes`]) does no I/O. Adapters sit
//! behind small ports (traits) so that unit tests use in-memory versions and the functions use
//! the real ones: [`pagerduty`] (REST client and inbound webhooks), [`ssm`] (the executor),
//! [`secrets`] (Parameter Store), [`ledger`] (DynamoDB).

pub mod aws;
pub mod catalog;
pub mod catalog_store;
pub mod clock;
pub mod config;
pub mod decision;
pub mod error;
pub mod guards;
pub mod ledger;
pub mod metrics;
pub mod notes;
pub mod outcome;
pub mod pagerduty;
pub mod secrets;
pub mod ssm;
pub mod template;
pub mod trigger;
pub mod webhook;

pub use error::{Error, Result};
