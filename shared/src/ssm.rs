//! The SSM Run Command executor: a port ([`CommandExecutor`]) with the real adapter
//! ([`SsmCommandExecutor`]) and an in-memory one for unit tests ([`RecordingExecutor`]).

use crate::catalog::Targets;
use crate::{Error, Result};
use async_trait::async_trait;
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{
    CommandFilter, CommandFilterKey, InstanceInformationStringFilter, Target,
};
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

    /// The managed instances, online now, that carry every tag key with one of its values (the
    /// semantics of SendCommand's tag targets).
    async fn resolve_tags(&self, tags: &BTreeMap<String, Vec<String>>) -> Result<ResolvedTags>;
}

/// How many ListCommands pages (50 commands each) a search reads before giving up.
const FIND_MAX_PAGES: usize = 10;
/// How many DescribeInstanceInformation pages (50 instances each) a tag resolution reads.
const RESOLVE_MAX_PAGES: usize = 10;

/// The instances tag conditions resolve to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTags {
    pub instance_ids: Vec<String>,
    /// More instances matched than were read (`RESOLVE_MAX_PAGES` pages): there are at least
    /// `instance_ids.len()`.
    pub truncated: bool,
}

/// What a runbook's `max_targets` makes of a command's targets before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinned {
    /// Nothing to resolve (instance ids, or no limit): send the request as it is.
    AsIs,
    /// Tag targets resolved within the limit: send to exactly these instances, so that nothing
    /// that joins the tag between the count and the send is reached.
    Instances(CommandRequest),
    /// Too many instances, or none: refuse, with the reason.
    Refused(String),
}

/// Hold tag targets to `max_targets`: resolve them to the managed instances that carry the
/// tags now and either pin the command to exactly those ids or refuse. Instance-id targets were
/// counted by the decision already; without a limit, tags go to SSM as tags.
pub async fn pin_tag_targets(
    executor: &dyn CommandExecutor,
    request: &CommandRequest,
    max_targets: Option<u32>,
) -> Result<Pinned> {
    let (Some(max), Targets::Tags(tags)) = (max_targets, &request.targets) else {
        return Ok(Pinned::AsIs);
    };
    let resolved = executor.resolve_tags(tags).await?;
    let described = request.targets.describe();
    let count = resolved.instance_ids.len();
    if count == 0 {
        return Ok(Pinned::Refused(format!(
            "no online managed instance carries {described}: nothing to run on"
        )));
    }
    if resolved.truncated && count <= max as usize {
        // Sparse pages ran out before the count settled: neither "too many" nor a count to pin
        // to is known. A retry may read it whole.
        return Err(Error::Aws {
            service: "ssm",
            operation: "DescribeInstanceInformation",
            message: format!(
                "could not count the instances carrying {described} within {RESOLVE_MAX_PAGES} pages"
            ),
            transient: true,
        });
    }
    if resolved.truncated || count > max as usize {
        let at_least = if resolved.truncated { "at least " } else { "" };
        return Ok(Pinned::Refused(format!(
            "{at_least}{count} instances carry {described}, more than the runbook's limit of {max} (max_targets)"
        )));
    }
    let mut pinned = request.clone();
    pinned.targets = Targets::InstanceIds(resolved.instance_ids);
    Ok(Pinned::Instances(pinned))
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

    /// DescribeInstanceInformation with `tag:<key>` filters (values of one key: any; keys: all),
    /// online EC2 instances only: the instances SendCommand can reach and that the function's
    /// policy lets it send to. (EC2's DescribeInstances would also count instances without a
    /// running SSM agent, and costs the large EC2 SDK crate.)
    async fn resolve_tags(&self, tags: &BTreeMap<String, Vec<String>>) -> Result<ResolvedTags> {
        let build_error = |error: aws_sdk_ssm::error::BuildError| Error::Aws {
            service: "ssm",
            operation: "DescribeInstanceInformation",
            message: error.to_string(),
            transient: false,
        };
        let mut filters = Vec::with_capacity(tags.len() + 2);
        for (key, values) in tags {
            filters.push(
                InstanceInformationStringFilter::builder()
                    .key(format!("tag:{key}"))
                    .set_values(Some(values.clone()))
                    .build()
                    .map_err(build_error)?,
            );
        }
        filters.push(
            InstanceInformationStringFilter::builder()
                .key("PingStatus")
                .values("Online")
                .build()
                .map_err(build_error)?,
        );
        filters.push(
            InstanceInformationStringFilter::builder()
                .key("ResourceType")
                .values("EC2Instance")
                .build()
                .map_err(build_error)?,
        );
        let mut instance_ids = Vec::new();
        let mut next_token = None;
        for _ in 0..RESOLVE_MAX_PAGES {
            let page = self
                .client
                .describe_instance_information()
                .set_filters(Some(filters.clone()))
                .max_results(50)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|error| classify_sdk_error("DescribeInstanceInformation", error))?;
            instance_ids.extend(
                page.instance_information_list()
                    .iter()
                    .filter_map(|instance| instance.instance_id().map(str::to_owned)),
            );
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                instance_ids.sort();
                instance_ids.dedup();
                return Ok(ResolvedTags {
                    instance_ids,
                    truncated: false,
                });
            }
        }
        Ok(ResolvedTags {
            instance_ids,
            truncated: true,
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
    /// Managed instances and their tags, for tag resolution.
    instances: Mutex<Vec<(String, BTreeMap<String, String>)>>,
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

    /// A managed, online instance carrying these tags.
    /// The instance is gone (terminated, or its tag removed).
    pub fn remove_instance(&self, id: &str) {
        self.instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|(instance, _)| instance != id);
    }

    pub fn add_instance(&self, id: &str, tags: &[(&str, &str)]) {
        self.instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((
                id.to_owned(),
                tags.iter()
                    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                    .collect(),
            ));
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

    async fn resolve_tags(&self, tags: &BTreeMap<String, Vec<String>>) -> Result<ResolvedTags> {
        let instances = self
            .instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(ResolvedTags {
            instance_ids: instances
                .iter()
                .filter(|(_, carried)| {
                    tags.iter().all(|(key, values)| {
                        carried.get(key).is_some_and(|value| values.contains(value))
                    })
                })
                .map(|(id, _)| id.clone())
                .collect(),
            truncated: false,
        })
    }
}

fn recorded_command_id(sequence: usize) -> String {
    format!("00000000-0000-4000-8000-{sequence:012}")
}
