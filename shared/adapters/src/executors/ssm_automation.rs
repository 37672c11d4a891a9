//! The SSM Automation executor, behind the core's [`AutomationExecutor`] port:
//! `StartAutomationExecution` with the run id as `ClientToken`, so that every attempt of one run
//! gets one execution.
//!
//! Errors are classified with the SDK's typed checks: a definition that does not exist, invalid
//! parameters or targets, and a token reused with other parameters are refusals (people are told
//! why, a retry cannot help); the concurrent-execution limit, internal errors and throttling are
//! transient; a timeout or a lost answer is ambiguous, which the token makes safe to retry.

use crate::aws::error::may_have_been_received;
use crate::aws::from_sdk;
use async_trait::async_trait;
use aws_sdk_ssm::error::{DisplayErrorContext, SdkError};
use aws_sdk_ssm::operation::start_automation_execution::StartAutomationExecutionError;
use aws_sdk_ssm::types::{Tag, Target};
use remediate_core::catalog::Targets;
use remediate_core::plan::AutomationRequest;
use remediate_core::ports::executor::{AutomationExecutor, StartedAutomation};
use remediate_core::{Error, Result};
use std::collections::HashMap;

const OPERATION: &str = "StartAutomationExecution";

pub struct SsmAutomationExecutor {
    client: aws_sdk_ssm::Client,
}

impl SsmAutomationExecutor {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self { client }
    }
}

fn invalid(message: String) -> Error {
    Error::Aws {
        service: "ssm",
        operation: OPERATION,
        message,
        transient: false,
    }
}

/// SSM's targets for an automation: instance ids go as `ParameterValues` of the target
/// parameter (Automation's own form for "these values"), tags as `tag:<key>`.
fn targets(targets: &Targets) -> Result<Vec<Target>> {
    Ok(match targets {
        Targets::InstanceIds(ids) => vec![
            Target::builder()
                .key("ParameterValues")
                .set_values(Some(ids.clone()))
                .build(),
        ],
        Targets::Tags(tags) => tags
            .iter()
            .map(|(key, values)| {
                Target::builder()
                    .key(format!("tag:{key}"))
                    .set_values(Some(values.clone()))
                    .build()
            })
            .collect(),
    })
}

fn classify(
    error: SdkError<StartAutomationExecutionError, aws_sdk_ssm::config::http::HttpResponse>,
) -> Error {
    match &error {
        // Sent, and the answer lost, late or unreadable (one over the HTTP client's size limit
        // too): SSM may have started the execution. Ambiguous, not a refusal (which would give
        // the claim back as if nothing ran); the retry this allows carries the same token, so it
        // starts nothing new. A request the HTTP client refused to send is from_sdk's refusal.
        _ if may_have_been_received(&error) => Error::Ambiguous {
            service: "ssm",
            operation: OPERATION,
            message: DisplayErrorContext(&error).to_string(),
        },
        SdkError::ServiceError(service_error)
            if service_error
                .err()
                .is_automation_execution_limit_exceeded_exception() =>
        {
            Error::Aws {
                service: "ssm",
                operation: OPERATION,
                message: format!(
                    "too many automations are running in this account and region; retry later: {}",
                    DisplayErrorContext(&error)
                ),
                transient: true,
            }
        }
        _ => from_sdk("ssm", OPERATION, error),
    }
}

#[async_trait]
impl AutomationExecutor for SsmAutomationExecutor {
    async fn start_automation(
        &self,
        request: &AutomationRequest,
        tags: &[(String, String)],
    ) -> Result<StartedAutomation> {
        let mut call = self
            .client
            .start_automation_execution()
            .document_name(&request.document)
            .set_document_version(request.document_version.clone())
            .set_parameters(Some(
                request
                    .parameters
                    .iter()
                    .map(|(name, values)| (name.clone(), values.clone()))
                    .collect::<HashMap<_, _>>(),
            ))
            .set_target_parameter_name(request.target_parameter.clone())
            .set_max_concurrency(request.max_concurrency.clone())
            .set_max_errors(request.max_errors.clone())
            .client_token(&request.client_token);
        if let Some(requested) = &request.targets {
            call = call.set_targets(Some(targets(requested)?));
        }
        for (key, value) in tags {
            call = call.tags(
                Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .map_err(|error| invalid(format!("tag {key}: {error}")))?,
            );
        }
        let output = call.send().await.map_err(classify)?;
        let execution_id = output
            .automation_execution_id
            .ok_or_else(|| invalid("the response carried no execution id".to_owned()))?;
        Ok(StartedAutomation {
            execution_id: execution_id.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::sdk_http::tests::{answer_too_large, ssm};
    use remediate_core::error::Kind;
    use std::collections::BTreeMap;
    use wiremock::MockServer;

    fn request() -> AutomationRequest {
        AutomationRequest {
            document: "AWS-RestartEC2Instance".into(),
            document_version: None,
            parameters: BTreeMap::from([("InstanceId".into(), vec!["i-0123".into()])]),
            target_parameter: None,
            targets: None,
            max_concurrency: None,
            max_errors: None,
            client_token: "6f1b0c6e-0000-4000-8000-000000000000".into(),
        }
    }

    #[tokio::test]
    async fn an_answer_too_large_to_read_is_ambiguous_and_not_resent_by_the_sdk() {
        // The execution may have started; a later retry carries the same token.
        let server = MockServer::start().await;
        answer_too_large(&server, Some("AmazonSSM.StartAutomationExecution")).await;
        let error = SsmAutomationExecutor::new(ssm(&server.uri(), 3))
            .start_automation(&request(), &[])
            .await
            .unwrap_err();
        assert_eq!(error.kind(), Kind::Ambiguous, "{error}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_request_the_client_refuses_to_send_is_a_refusal() {
        let server = MockServer::start().await;
        let error = SsmAutomationExecutor::new(ssm(&format!("{}/a/./b", server.uri()), 3))
            .start_automation(&request(), &[])
            .await
            .unwrap_err();
        assert_eq!(error.kind(), Kind::Permanent, "{error}");
        assert!(server.received_requests().await.unwrap().is_empty());
    }
}
