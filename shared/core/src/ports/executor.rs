//! The executor port: SSM Run Command today (the SSM Automation and Rundeck executors come
//! next, each behind its own small trait).

use crate::Result;
use crate::ids::Handle;
use crate::plan::CommandRequest;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartedCommand {
    pub command_id: Handle,
    /// How many instances SSM resolved the targets to, when it says.
    pub target_count: Option<i32>,
}

#[async_trait]
pub trait CommandExecutor: Send + Sync {
    async fn send_command(&self, request: &CommandRequest) -> Result<StartedCommand>;

    /// A command of `request`'s document sent since `sent_after` whose Comment is exactly
    /// `request`'s, if any. SendCommand has no idempotency token: this is how a run whose first
    /// attempt may have reached SSM (a timeout, a holder that died) is found instead of being
    /// sent twice.
    async fn find_command(
        &self,
        request: &CommandRequest,
        sent_after: DateTime<Utc>,
    ) -> Result<Option<StartedCommand>>;

    /// The managed instances, online now, that carry every tag key with one of its values (the
    /// semantics of SendCommand's tag targets).
    async fn resolve_tags(&self, tags: &BTreeMap<String, Vec<String>>) -> Result<ResolvedTags>;
}

/// How many DescribeInstanceInformation pages (50 instances each) a tag resolution reads.
pub const RESOLVE_MAX_PAGES: usize = 10;

/// The instances tag conditions resolve to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTags {
    pub instance_ids: Vec<String>,
    /// More instances matched than were read (`RESOLVE_MAX_PAGES` pages): there are at least
    /// `instance_ids.len()`.
    pub truncated: bool,
}
