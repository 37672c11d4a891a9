//! The SSM Run Command executor: a port ([`CommandExecutor`]) with the real adapter
//! ([`SsmCommandExecutor`]) and an in-memory one for unit tests ([`RecordingExecutor`]).

use crate::catalog::Targets;
use crate::{Error, Result};
use async_trait::async_trait;
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{CommandFilter, CommandFilterKey, Target};
use chrono::{DateTime, SecondsFormat, Utc};
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

    /// A command of `request`'s document sent since `sent_after` whose Comment is exactly
    /// `request`'s, if any. SendCommand has no idempotency token: this is how a run whose first
    /// attempt may have reached SSM (a timeout, a holder that died) is found instead of being
    /// sent twice.
    async fn find_command(
        &self,
        request: &CommandRequest,
        sent_after: DateTime<Utc>,
    ) -> Result<Option<StartedCommand>>;
}

/// How many ListCommands pages (50 commands each) a search reads before giving up.
const FIND_MAX_PAGES: usize = 10;

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
        // SendCommand has no idempotency token: the SDK must not resend it on its own. A lost
        // answer comes back as Ambiguous, and the caller looks for the command before any retry.
        let output = call
            .customize()
            .config_override(
                aws_sdk_ssm::config::Config::builder()
                    .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|error| {
                let ambiguous = match &error {
                    SdkError::TimeoutError(_)
                    | SdkError::DispatchFailure(_)
                    | SdkError::ResponseError(_) => true,
                    SdkError::ServiceError(service_error) => {
                        service_error.raw().status().is_server_error()
                    }
                    _ => false,
                };
                if ambiguous {
                    Error::Ambiguous {
                        service: "ssm",
                        operation: "SendCommand",
                        message: aws_sdk_ssm::error::DisplayErrorContext(&error).to_string(),
                    }
                } else {
                    classify_sdk_error("SendCommand", error)
                }
            })?;
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

    async fn find_command(
        &self,
        request: &CommandRequest,
        sent_after: DateTime<Utc>,
    ) -> Result<Option<StartedCommand>> {
        let comment = request.comment.as_str();
        let filter = |key: CommandFilterKey, value: String| {
            CommandFilter::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|error| Error::Aws {
                    service: "ssm",
                    operation: "ListCommands",
                    message: error.to_string(),
                    transient: false,
                })
        };
        // Only this document's commands since the trigger: in a busy account the run's command
        // would otherwise be pages away. (SSM filters on the server; moto ignores the filters
        // and returns everything, which the Comment match below still handles.)
        let filters = vec![
            filter(
                CommandFilterKey::InvokedAfter,
                sent_after.to_rfc3339_opts(SecondsFormat::Secs, true),
            )?,
            filter(CommandFilterKey::DocumentName, request.document.clone())?,
        ];
        let mut next_token = None;
        for _ in 0..FIND_MAX_PAGES {
            let page = self
                .client
                .list_commands()
                .set_filters(Some(filters.clone()))
                .max_results(50)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|error| classify_sdk_error("ListCommands", error))?;
            let found = page.commands().iter().find(|command| {
                command.comment() == Some(comment)
                    && command
                        .requested_date_time()
                        .is_none_or(|at| at.secs() >= sent_after.timestamp())
            });
            if let Some(command) = found {
                return Ok(Some(StartedCommand {
                    command_id: command.command_id().unwrap_or_default().to_owned(),
                    target_count: Some(command.target_count()),
                }));
            }
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(None);
            }
        }
        Err(Error::Aws {
            service: "ssm",
            operation: "ListCommands",
            message: format!(
                "more than {FIND_MAX_PAGES} pages of commands since {sent_after}; cannot tell whether the run was sent"
            ),
            transient: true,
        })
    }
}

/// Records every request and answers from a script: for unit tests of the handlers.
#[derive(Default)]
pub struct RecordingExecutor {
    pub sent: Mutex<Vec<CommandRequest>>,
    failures: Mutex<Vec<Error>>,
    /// The next send reaches "SSM" (it is recorded) but its answer is lost: this error comes back.
    lost_answer: Mutex<Option<Error>>,
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

    /// The next call is sent, but the caller sees this error (a timeout after SSM got it).
    pub fn lose_next_answer(&self, error: Error) {
        *self
            .lost_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(error);
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
        if let Some(error) = self
            .lost_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
        {
            return Err(error);
        }
        Ok(StartedCommand {
            command_id: recorded_command_id(sent.len()),
            target_count: Some(1),
        })
    }

    async fn find_command(
        &self,
        wanted: &CommandRequest,
        _sent_after: DateTime<Utc>,
    ) -> Result<Option<StartedCommand>> {
        let sent = self
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(sent
            .iter()
            .position(|request| {
                request.comment == wanted.comment && request.document == wanted.document
            })
            .map(|index| StartedCommand {
                command_id: recorded_command_id(index + 1),
                target_count: Some(1),
            }))
    }
}

fn recorded_command_id(sequence: usize) -> String {
    format!("00000000-0000-4000-8000-{sequence:012}")
}
