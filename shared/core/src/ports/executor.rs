//! The executor ports, one small trait per executor: SSM Run Command, SSM Automation and Rundeck
//! jobs.

use crate::Result;
use crate::ids::Handle;
use crate::plan::{AutomationRequest, CommandRequest, RundeckRequest};
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

/// An automation execution that SSM started (or had started for the same client token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartedAutomation {
    pub execution_id: Handle,
}

/// The tags every automation execution carries, so that it can be traced back to its run and
/// incident from the console or a Config rule.
pub fn automation_tags(
    run_id: &str,
    runbook: &str,
    incident_id: Option<&str>,
) -> Vec<(String, String)> {
    let mut tags = vec![
        ("remediate:run-id".to_owned(), run_id.to_owned()),
        ("remediate:runbook".to_owned(), runbook.to_owned()),
    ];
    if let Some(incident_id) = incident_id {
        tags.push(("remediate:incident-id".to_owned(), incident_id.to_owned()));
    }
    tags
}

#[async_trait]
pub trait AutomationExecutor: Send + Sync {
    /// Start the automation. The request's client token (the run id) makes this idempotent:
    /// every retry of one run gets the execution the first attempt started, so a lost answer
    /// or a takeover never starts a second one.
    async fn start_automation(
        &self,
        request: &AutomationRequest,
        tags: &[(String, String)],
    ) -> Result<StartedAutomation>;
}

/// A Rundeck execution: the one a job run started, or the one a search found for a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartedJob {
    /// `rundeck:<execution id>` (see [`rundeck_handle`]).
    pub execution_id: Handle,
    /// The execution's page in Rundeck's UI, when Rundeck said.
    pub permalink: Option<String>,
}

/// What a Rundeck execution's handle starts with.
pub const RUNDECK_HANDLE_PREFIX: &str = "rundeck:";

/// The run's handle for Rundeck execution `execution_id`. Rundeck numbers executions 1, 2, 3...
/// per server, while SSM's ids are UUIDs: the prefix keeps the ledger's by-handle index free
/// of collisions and says which executor a handle belongs to (the Rundeck notification function
/// builds the same handle from the execution id it receives).
pub fn rundeck_handle(execution_id: u64) -> Handle {
    Handle::new(format!("{RUNDECK_HANDLE_PREFIX}{execution_id}"))
}

#[async_trait]
pub trait RundeckExecutor: Send + Sync {
    /// Run the job with the request's options, the run id among them
    /// ([`RundeckRequest::options_with_run_id`]). Rundeck takes no idempotency token: a run whose
    /// answer was lost is found with [`RundeckExecutor::find_execution`] instead of run again.
    async fn run_job(&self, request: &RundeckRequest) -> Result<StartedJob>;

    /// The execution of the request's job that carries the request's run id option, among the
    /// job's most recent executions, if any: how a takeover or a lost answer learns whether the
    /// job already runs for this run.
    async fn find_execution(&self, request: &RundeckRequest) -> Result<Option<StartedJob>>;
}
