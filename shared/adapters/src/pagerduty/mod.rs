//! Everything PagerDuty: verifying and reading what it sends us (v3 webhooks, Custom Incident
//! Actions) and the small REST client that writes back.

pub mod action_token;
pub mod client;
pub mod custom_action;
pub mod payload;
pub mod signature;
pub mod webhook_v3;

pub use client::HttpPagerDuty;
