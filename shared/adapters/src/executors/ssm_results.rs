//! How an SSM run ended, behind the core's [`RunResults`] port.
//!
//! - A command: `ListCommands` by its id (status, counts, its Comment, which carries the run
//!   id), then the first few instances in detail with `GetCommandInvocation` (status, exit code,
//!   the start of stdout and stderr). The instances come from the command itself when it was
//!   sent by instance ids, else from `ListCommandInvocations` (tag targets), failed ones first.
//! - An automation: `GetAutomationExecution` (status, times, outputs, failure message, steps).

use crate::aws::from_sdk;
use async_trait::async_trait;
use aws_sdk_ssm::types::{AutomationExecutionStatus, CommandInvocationStatus, CommandStatus};
use chrono::{DateTime, Utc};
use remediate_core::finish::{ExecutorKind, FinalState, RunResult, TargetCounts, TargetResult};
use remediate_core::pipeline::NOTE_TARGETS;
use remediate_core::ports::runs::RunResults;
use remediate_core::{Error, Handle, Result, RunId};

pub struct SsmRunResults {
    client: aws_sdk_ssm::Client,
}

impl SsmRunResults {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self { client }
    }
}

fn time(at: Option<&aws_sdk_ssm::primitives::DateTime>) -> Option<DateTime<Utc>> {
    at.and_then(|at| DateTime::from_timestamp(at.secs(), at.subsec_nanos()))
}

/// The run id a command's Comment carries (`remediate <run id> <runbook>`, see
/// `decision::correlation_comment`).
fn run_id_of(comment: Option<&str>) -> Option<RunId> {
    let mut words = comment?.split(' ');
    (words.next()? == "remediate")
        .then(|| words.next())
        .flatten()
        .filter(|run_id| !run_id.is_empty())
        .map(RunId::from)
}

pub fn command_state(status: &CommandStatus) -> Option<FinalState> {
    match status {
        CommandStatus::Success => Some(FinalState::Succeeded),
        CommandStatus::Failed => Some(FinalState::Failed),
        CommandStatus::Cancelled => Some(FinalState::Cancelled),
        CommandStatus::TimedOut => Some(FinalState::TimedOut),
        _ => None,
    }
}

pub fn automation_state(status: &AutomationExecutionStatus) -> Option<FinalState> {
    use AutomationExecutionStatus as S;
    match status {
        S::Success | S::CompletedWithSuccess => Some(FinalState::Succeeded),
        S::Failed
        | S::CompletedWithFailure
        | S::Rejected
        | S::ChangeCalendarOverrideRejected
        | S::Exited => Some(FinalState::Failed),
        S::Cancelled => Some(FinalState::Cancelled),
        S::Timedout => Some(FinalState::TimedOut),
        _ => None,
    }
}

fn not_found(operation: &'static str, message: String) -> Error {
    Error::Aws {
        service: "ssm",
        operation,
        message,
        transient: false,
    }
}

/// Non-empty text only.
fn text(value: Option<&str>) -> Option<String> {
    value
        .filter(|text| !text.trim().is_empty())
        .map(str::to_owned)
}

impl SsmRunResults {
    /// The command, as ListCommands lists it.
    async fn listed_command(&self, handle: &Handle) -> Result<aws_sdk_ssm::types::Command> {
        let listed = self
            .client
            .list_commands()
            .command_id(handle.as_str())
            .send()
            .await
            .map_err(|error| from_sdk("ssm", "ListCommands", error))?;
        listed
            .commands()
            .iter()
            .find(|command| command.command_id() == Some(handle.as_str()))
            .cloned()
            .ok_or_else(|| not_found("ListCommands", format!("no command {handle}")))
    }

    async fn command(&self, handle: &Handle) -> Result<RunResult> {
        let command = &self.listed_command(handle).await?;
        let status = command.status();
        let state = status.and_then(command_state);
        let succeeded = command
            .completed_count()
            .saturating_sub(command.error_count())
            .saturating_sub(command.delivery_timed_out_count())
            .max(0);
        let mut result = RunResult {
            state,
            executor_status: command
                .status_details()
                .or(status.map(CommandStatus::as_str))
                .unwrap_or("unknown")
                .to_owned(),
            started_at: time(command.requested_date_time()),
            run_id: run_id_of(command.comment()),
            counts: (command.target_count() > 0).then(|| TargetCounts {
                total: command.target_count().max(0) as u32,
                succeeded: succeeded as u32,
            }),
            ..RunResult::default()
        };
        if state.is_none() {
            return Ok(result);
        }
        let instances = match command.instance_ids() {
            ids if !ids.is_empty() => ids.to_vec(),
            _ => self.invoked_instances(handle).await?,
        };
        for instance in instances.iter().take(NOTE_TARGETS) {
            let target = self.invocation(handle, instance).await?;
            if let Some(ended) = target.1 {
                result.finished_at = result.finished_at.max(Some(ended));
            }
            result.targets.push(target.0);
        }
        Ok(result)
    }

    /// The instances a tag-targeted command ran on (the first page), failed ones first.
    async fn invoked_instances(&self, handle: &Handle) -> Result<Vec<String>> {
        let page = self
            .client
            .list_command_invocations()
            .command_id(handle.as_str())
            .max_results(50)
            .send()
            .await
            .map_err(|error| from_sdk("ssm", "ListCommandInvocations", error))?;
        let mut invocations: Vec<(bool, String)> = page
            .command_invocations()
            .iter()
            .filter_map(|invocation| {
                let succeeded = invocation.status() == Some(&CommandInvocationStatus::Success);
                invocation
                    .instance_id()
                    .map(|instance| (succeeded, instance.to_owned()))
            })
            .collect();
        // Failed first: they are what people need to see.
        invocations.sort_by_key(|(succeeded, _)| *succeeded);
        Ok(invocations.into_iter().map(|(_, id)| id).collect())
    }

    /// One instance's invocation, and when it ended. An invocation SSM no longer has is listed
    /// with what is known (its id), not an error: the rest of the ending still stands.
    async fn invocation(
        &self,
        handle: &Handle,
        instance: &str,
    ) -> Result<(TargetResult, Option<DateTime<Utc>>)> {
        use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationError;
        let answer = self
            .client
            .get_command_invocation()
            .command_id(handle.as_str())
            .instance_id(instance)
            .send()
            .await;
        let invocation = match answer {
            Ok(invocation) => invocation,
            Err(aws_sdk_ssm::error::SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    GetCommandInvocationError::InvocationDoesNotExist(_)
                ) =>
            {
                return Ok((
                    TargetResult {
                        target: instance.to_owned(),
                        status: "no invocation".to_owned(),
                        ..TargetResult::default()
                    },
                    None,
                ));
            }
            Err(error) => {
                let error = from_sdk("ssm", "GetCommandInvocation", error);
                if error.is_transient() {
                    return Err(error);
                }
                // One instance that cannot be read (terminated since, a permission) does not
                // undo the state ListCommands gave for the run.
                return Ok((
                    TargetResult {
                        target: instance.to_owned(),
                        status: format!("unreadable ({error})"),
                        ..TargetResult::default()
                    },
                    None,
                ));
            }
        };
        let ended = invocation
            .execution_end_date_time()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.with_timezone(&Utc));
        Ok((
            TargetResult {
                target: instance.to_owned(),
                status: invocation
                    .status_details()
                    .or(invocation.status().map(CommandInvocationStatus::as_str))
                    .unwrap_or("unknown")
                    .to_owned(),
                // -1: SSM's "no exit code" (never started).
                exit_code: Some(invocation.response_code()).filter(|code| *code >= 0),
                output: text(invocation.standard_output_content()),
                error_output: text(invocation.standard_error_content()),
            },
            ended,
        ))
    }

    async fn automation(&self, handle: &Handle) -> Result<RunResult> {
        let answer = self
            .client
            .get_automation_execution()
            .automation_execution_id(handle.as_str())
            .send()
            .await
            .map_err(|error| from_sdk("ssm", "GetAutomationExecution", error))?;
        let execution = answer.automation_execution().ok_or_else(|| {
            not_found(
                "GetAutomationExecution",
                format!("no automation execution {handle}"),
            )
        })?;
        let status = execution.automation_execution_status();
        let mut steps: Vec<TargetResult> = execution
            .step_executions()
            .iter()
            .map(|step| TargetResult {
                target: step.step_name().unwrap_or("step").to_owned(),
                status: step
                    .step_status()
                    .map(|status| status.as_str())
                    .unwrap_or("unknown")
                    .to_owned(),
                exit_code: None,
                output: None,
                error_output: text(step.failure_message()),
            })
            .collect();
        // Failed steps first, then in order.
        steps.sort_by_key(TargetResult::succeeded);
        let outputs = execution.outputs().map(|outputs| {
            let mut lines: Vec<String> = outputs
                .iter()
                .map(|(name, values)| format!("{name}: {}", values.join(", ")))
                .collect();
            lines.sort();
            lines.join("\n")
        });
        Ok(RunResult {
            state: status.and_then(automation_state),
            executor_status: status
                .map(AutomationExecutionStatus::as_str)
                .unwrap_or("unknown")
                .to_owned(),
            started_at: time(execution.execution_start_time()),
            finished_at: time(execution.execution_end_time()),
            // GetAutomationExecution does not return the execution's tags: the run id is not
            // read back (see `Finisher::not_in_ledger`).
            run_id: None,
            counts: None,
            targets: steps,
            outputs: outputs.filter(|text| !text.is_empty()),
            failure: text(execution.failure_message()),
        })
    }
}

#[async_trait]
impl RunResults for SsmRunResults {
    /// One ListCommands for a command (its Comment); nothing for an automation, whose tags
    /// GetAutomationExecution does not return: an automation the ledger does not know is taken
    /// for another tool's (the reconciler finds ours whose start was recorded late).
    async fn run_id_of(&self, executor: ExecutorKind, handle: &Handle) -> Result<Option<RunId>> {
        match executor {
            ExecutorKind::SsmCommand => Ok(run_id_of(self.listed_command(handle).await?.comment())),
            ExecutorKind::SsmAutomation | ExecutorKind::Rundeck => Ok(None),
        }
    }

    async fn run_result(&self, executor: ExecutorKind, handle: &Handle) -> Result<RunResult> {
        match executor {
            ExecutorKind::SsmCommand => self.command(handle).await,
            ExecutorKind::SsmAutomation => self.automation(handle).await,
            ExecutorKind::Rundeck => Err(Error::Aws {
                service: "ssm",
                operation: "run_result",
                message: format!("{handle} is a Rundeck execution, not an SSM run"),
                transient: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_id_is_read_from_remediates_comment_only() {
        assert_eq!(
            run_id_of(Some("remediate 3f2a-run restart-web")).as_deref(),
            Some("3f2a-run")
        );
        assert_eq!(run_id_of(Some("nightly patching")), None);
        assert_eq!(run_id_of(Some("remediate")), None);
        assert_eq!(run_id_of(None), None);
    }

    #[test]
    fn only_final_statuses_end_a_run() {
        assert_eq!(
            command_state(&CommandStatus::Success),
            Some(FinalState::Succeeded)
        );
        assert_eq!(
            command_state(&CommandStatus::TimedOut),
            Some(FinalState::TimedOut)
        );
        assert_eq!(command_state(&CommandStatus::InProgress), None);
        assert_eq!(command_state(&CommandStatus::Cancelling), None);
        assert_eq!(
            automation_state(&AutomationExecutionStatus::CompletedWithFailure),
            Some(FinalState::Failed)
        );
        assert_eq!(
            automation_state(&AutomationExecutionStatus::Cancelled),
            Some(FinalState::Cancelled)
        );
        assert_eq!(automation_state(&AutomationExecutionStatus::Waiting), None);
    }
}
