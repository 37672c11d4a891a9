//! The SSM Run Command executor, behind the core's [`CommandExecutor`] port.

use crate::aws::error::may_have_been_received;
use crate::aws::from_sdk;
use async_trait::async_trait;
use aws_sdk_ssm::error::SdkError;
use aws_sdk_ssm::types::{
    CommandFilter, CommandFilterKey, InstanceInformationStringFilter, Target,
};
use chrono::{DateTime, SecondsFormat, Utc};
use remediate_core::catalog::Targets;
use remediate_core::plan::CommandRequest;
use remediate_core::ports::executor::{
    CommandExecutor, RESOLVE_MAX_PAGES, ResolvedTags, StartedCommand,
};
use remediate_core::{Error, Result};
use std::collections::{BTreeMap, HashMap};

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
                // A dispatch failure is ambiguous unless the HTTP client refused the request
                // before sending it (a user error). An answer over the client's size limit is
                // ambiguous too: SSM got the request and answered, so the command may exist;
                // the caller looks for it, and it is never resent as if nothing had happened.
                let ambiguous = may_have_been_received(&error)
                    || matches!(&error, SdkError::ServiceError(service_error)
                        if service_error.raw().status().is_server_error());
                if ambiguous {
                    Error::Ambiguous {
                        service: "ssm",
                        operation: "SendCommand",
                        message: aws_sdk_ssm::error::DisplayErrorContext(&error).to_string(),
                    }
                } else {
                    from_sdk("ssm", "SendCommand", error)
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
            command_id: command_id.into(),
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
                .map_err(|error| from_sdk("ssm", "ListCommands", error))?;
            let found = page.commands().iter().find(|command| {
                command.comment() == Some(comment)
                    && command
                        .requested_date_time()
                        .is_none_or(|at| at.secs() >= sent_after.timestamp())
            });
            if let Some(command) = found {
                return Ok(Some(StartedCommand {
                    command_id: command.command_id().unwrap_or_default().into(),
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
                .map_err(|error| from_sdk("ssm", "DescribeInstanceInformation", error))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::sdk_http::tests::{answer_too_large, ssm};
    use remediate_core::error::Kind;
    use wiremock::MockServer;

    fn request() -> CommandRequest {
        CommandRequest {
            document: "AWS-RunShellScript".into(),
            targets: Targets::InstanceIds(vec!["i-0123456789abcdef0".into()]),
            parameters: BTreeMap::from([("commands".into(), vec!["uptime".into()])]),
            delivery_timeout_seconds: None,
            max_concurrency: None,
            max_errors: None,
            comment: "remediate run".into(),
        }
    }

    #[tokio::test]
    async fn an_answer_too_large_to_read_leaves_the_command_ambiguous() {
        // SSM got the command and answered: it may exist, so the caller must look for it.
        let server = MockServer::start().await;
        answer_too_large(&server, Some("AmazonSSM.SendCommand")).await;
        let error = SsmCommandExecutor::new(ssm(&server.uri(), 3))
            .send_command(&request())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), Kind::Ambiguous, "{error}");
        assert!(error.to_string().contains("larger than"), "{error}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_request_the_client_refuses_to_send_is_not_ambiguous() {
        let server = MockServer::start().await;
        let error = SsmCommandExecutor::new(ssm(&format!("{}/a/../b", server.uri()), 3))
            .send_command(&request())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), Kind::Permanent, "{error}");
        assert!(server.received_requests().await.unwrap().is_empty());
    }
}
