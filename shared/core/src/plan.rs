//! What a decision asks an executor to do: the plan of one run and its executor request, each
//! already validated and rendered (no placeholder left, every value checked).

use crate::catalog::Targets;
use crate::catalog::{LogLevel, ReportOptions};
use crate::guards::Reservation;
use crate::ids::RunId;
use serde::Serialize;
use std::collections::BTreeMap;

/// SendCommand's `Comment` is at most 100 characters.
pub const MAX_COMMENT_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub run_id: RunId,
    pub runbook: String,
    pub catalog_version: String,
    /// Set when the run must only be reported, never executed, with the reason.
    pub dry_run: Option<String>,
    /// Every parameter's value, each one checked against its pattern or enum.
    pub params: BTreeMap<String, String>,
    pub request: ExecutionRequest,
    /// What the run takes from the guard state (cooldown, rate window) before it executes.
    pub reservation: Option<Reservation>,
    /// The runbook's blast radius: tag targets are resolved against it when the run starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_targets: Option<u32>,
    pub report: ReportOptions,
}

impl Plan {
    /// The targets, described for notes and logs.
    pub fn targets(&self) -> String {
        match &self.request {
            ExecutionRequest::SsmCommand(command) => command.targets.describe(),
            ExecutionRequest::SsmAutomation(automation) => automation
                .targets
                .as_ref()
                .map(Targets::describe)
                .unwrap_or_else(|| "its document's own targets".to_owned()),
            ExecutionRequest::Rundeck(job) => match &job.filter {
                Some(filter) => format!("nodes matching '{filter}'"),
                None => "the Rundeck job's own nodes".to_owned(),
            },
        }
    }

    /// The document or job that runs.
    pub fn what(&self) -> String {
        match &self.request {
            ExecutionRequest::SsmCommand(command) => command.document.clone(),
            ExecutionRequest::SsmAutomation(automation) => automation.document.clone(),
            ExecutionRequest::Rundeck(job) => format!("Rundeck job {}", job.job_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExecutionRequest {
    SsmCommand(CommandRequest),
    SsmAutomation(AutomationRequest),
    Rundeck(RundeckRequest),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutomationRequest {
    pub document: String,
    pub document_version: Option<String>,
    pub parameters: BTreeMap<String, Vec<String>>,
    pub target_parameter: Option<String>,
    pub targets: Option<Targets>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    /// SSM Automation's idempotency token: the same for every delivery of one trigger.
    pub client_token: String,
}

/// The job option that carries the run id into every Rundeck execution, so that a takeover (or
/// a person) can find the execution of a run again. The job must declare it (optional, free
/// text): Rundeck keeps only the options a job declares.
pub const RUNDECK_RUN_ID_OPTION: &str = "remediate_run_id";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RundeckRequest {
    pub job_id: String,
    /// The runbook's options, rendered; the run id option is added when the job is run.
    pub options: BTreeMap<String, String>,
    /// Passed as an option too ([`RUNDECK_RUN_ID_OPTION`]), so that an execution can be found
    /// again by its run.
    pub run_id: RunId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loglevel: Option<LogLevel>,
    /// The rendered node filter, when the runbook replaces the job's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_user: Option<String>,
}

impl RundeckRequest {
    /// The options Rundeck receives: the runbook's and the run id.
    pub fn options_with_run_id(&self) -> BTreeMap<String, String> {
        let mut options = self.options.clone();
        options.insert(RUNDECK_RUN_ID_OPTION.to_owned(), self.run_id.to_string());
        options
    }
}

/// What to send: everything SendCommand needs, already validated and rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandRequest {
    pub document: String,
    pub targets: Targets,
    pub parameters: BTreeMap<String, Vec<String>>,
    /// SendCommand `TimeoutSeconds`: how long SSM waits for an instance to pick the command up.
    pub delivery_timeout_seconds: Option<u32>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    /// The run's correlation, so a command can be traced back to its run (and found again).
    pub comment: String,
}
