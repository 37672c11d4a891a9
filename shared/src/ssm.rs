//! The SSM Run Command executor: a port ([`CommandExecutor`]) with the real adapter
//! ([`SsmCommandExecutor`]) and an in-memory one for unit tests ([`RecordingExecutor`]).

use crate::catalog::Targets;
use crate::{Error, Result};
use async_trait::async_trait;
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::Target;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// SendCommand's `Comment` is at most 100 characters.
pub const MAX_COMMENT_CHARS: usize = 100;

/// Turn an SSM SDK error into ours (see [`Error::from_sdk`]).
pub fn classify_sdk_error<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + crate::error::ModeledTransient + std::error::Error + 'static,
{
    Error::from_sdk("ssm", operation, error)
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartedCommand {
    pub command_id: String,
    /// How many instances SSM resolved the targets to, when it says.
    pub target_count: Option<i32>,
}

#[async_trait]
pub trait CommandExecutor: Send + Sync {
    async fn send_command(&self, request: &CommandRequest) -> Result<StartedCommand>;
}

pub struct SsmCommandExecutor {
    client: aws_sdk_ssm::Client,
}

impl SsmCommandExecutor {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl CommandExecutor for SsmCommandExecutor {
    async fn send_command(&self, request: &CommandRequest) -> Result<StartedCommand> {
        let mut call = self
            .client
            .send_command()
            .document_name(&request.document)
            .comment(&request.comment)
            .set_parameters(Some(
                request
                    .parameters
                    .iter()
                    .map(|(name, values)| (name.clone(), values.clone()))
                    .collect::<HashMap<_, _>>(),
            ))
            .set_timeout_seconds(
                request
                    .delivery_timeout_seconds
                    .map(|seconds| seconds as i32),
            )
            .set_max_concurrency(request.max_concurrency.clone())
            .set_max_errors(request.max_errors.clone());
        call = match &request.targets {
            Targets::InstanceIds(ids) => call.set_instance_ids(Some(ids.clone())),
            Targets::Tags(tags) => tags.iter().fold(call, |call, (key, values)| {
                call.targets(
                    Target::builder()
                        .key(format!("tag:{key}"))
                        .set_values(Some(values.clone()))
                        .build(),
                )
            }),
        };
        let output = call
            .send()
            .await
            .map_err(|error| classify_sdk_error("SendCommand", error))?;
        let command = output.command.ok_or_else(|| Error::Aws {
            service: "ssm",
            operation: "SendCommand",
            message: "the response carried no command".to_owned(),
            transient: false,
        })?;
        let command_id = command.command_id.ok_or_else(|| Error::Aws {
            service: "ssm",
            operation: "SendCommand",
            message: "the response carried no command id".to_owned(),
            transient: false,
        })?;
        Ok(StartedCommand {
            command_id,
            target_count: Some(command.target_count),
        })
    }
}

/// Records every request and answers from a script: for unit tests of the handlers.
#[derive(Default)]
pub struct RecordingExecutor {
    pub sent: Mutex<Vec<CommandRequest>>,
    failures: Mutex<Vec<Error>>,
}

impl RecordingExecutor {
    /// The next calls fail with these errors, in order, before calls succeed again.
    pub fn fail_next(&self, errors: Vec<Error>) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *failures = errors.into_iter().rev().collect();
    }

    pub fn sent(&self) -> Vec<CommandRequest> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[async_trait]
impl CommandExecutor for RecordingExecutor {
    async fn send_command(&self, request: &CommandRequest) -> Result<StartedCommand> {
        if let Some(error) = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
        {
            return Err(error);
        }
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        sent.push(request.clone());
        Ok(StartedCommand {
            command_id: format!("00000000-0000-4000-8000-{:012}", sent.len()),
            target_count: Some(1),
        })
    }
}
