//! The SSM Automation executor against the SDK's own mocks (moto does not implement
//! Automation): the request it sends, and how each answer SSM can give is classified.

use aws_sdk_ssm::operation::start_automation_execution::{
    StartAutomationExecutionError, StartAutomationExecutionOutput,
};
use aws_sdk_ssm::types::error::{
    AutomationDefinitionNotFoundException, AutomationExecutionLimitExceededException,
    IdempotentParameterMismatch, InvalidAutomationExecutionParametersException,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use remediate_adapters::executors::SsmAutomationExecutor;
use remediate_core::catalog::Targets;
use remediate_core::error::Kind;
use remediate_core::plan::AutomationRequest;
use remediate_core::ports::executor::{AutomationExecutor, automation_tags};
use std::collections::BTreeMap;

const TOKEN: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

fn request(targets: Option<Targets>) -> AutomationRequest {
    AutomationRequest {
        document: "AWS-RestartEC2Instance".into(),
        document_version: Some("3".into()),
        parameters: BTreeMap::from([(
            "InstanceId".to_owned(),
            vec!["i-0abc123def4567890".to_owned()],
        )]),
        target_parameter: targets.as_ref().map(|_| "InstanceId".to_owned()),
        targets,
        max_concurrency: Some("1".into()),
        max_errors: Some("0".into()),
        client_token: TOKEN.into(),
    }
}

fn tags() -> Vec<(String, String)> {
    automation_tags(TOKEN, "restart-unhealthy-instance", Some("PDISK01"))
}

#[tokio::test]
async fn start_carries_the_token_the_tags_and_every_setting() {
    let rule = mock!(aws_sdk_ssm::Client::start_automation_execution)
        .match_requests(|input| {
            let tags: Vec<(&str, &str)> = input
                .tags()
                .iter()
                .map(|tag| (tag.key(), tag.value()))
                .collect();
            input.document_name() == Some("AWS-RestartEC2Instance")
                && input.document_version() == Some("3")
                && input.client_token() == Some(TOKEN)
                && input.parameters().unwrap()["InstanceId"] == ["i-0abc123def4567890"]
                && input.max_concurrency() == Some("1")
                && input.max_errors() == Some("0")
                && input.target_parameter_name().is_none()
                && input.targets().is_empty()
                && tags
                    == [
                        ("remediate:run-id", TOKEN),
                        ("remediate:runbook", "restart-unhealthy-instance"),
                        ("remediate:incident-id", "PDISK01"),
                    ]
        })
        .then_output(|| {
            StartAutomationExecutionOutput::builder()
                .automation_execution_id("4105a4fc-f944-11e6-9d32-0a1b2c3d495f")
                .build()
        });
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&rule]);
    let started = SsmAutomationExecutor::new(client)
        .start_automation(&request(None), &tags())
        .await
        .unwrap();
    assert_eq!(started.execution_id, "4105a4fc-f944-11e6-9d32-0a1b2c3d495f");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn targets_go_as_parameter_values_or_tags_of_the_target_parameter() {
    let by_id = mock!(aws_sdk_ssm::Client::start_automation_execution)
        .match_requests(|input| {
            let target = &input.targets()[0];
            input.target_parameter_name() == Some("InstanceId")
                && target.key() == Some("ParameterValues")
                && target.values() == ["i-1", "i-2"]
        })
        .then_output(|| {
            StartAutomationExecutionOutput::builder()
                .automation_execution_id("exec-ids")
                .build()
        });
    let by_tag = mock!(aws_sdk_ssm::Client::start_automation_execution)
        .match_requests(|input| {
            let target = &input.targets()[0];
            target.key() == Some("tag:Role") && target.values() == ["web"]
        })
        .then_output(|| {
            StartAutomationExecutionOutput::builder()
                .automation_execution_id("exec-tags")
                .build()
        });
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&by_id, &by_tag]);
    let executor = SsmAutomationExecutor::new(client);
    let ids = Targets::InstanceIds(vec!["i-1".into(), "i-2".into()]);
    let started = executor
        .start_automation(&request(Some(ids)), &tags())
        .await
        .unwrap();
    assert_eq!(started.execution_id, "exec-ids");
    let tagged = Targets::Tags(BTreeMap::from([(
        "Role".to_owned(),
        vec!["web".to_owned()],
    )]));
    let started = executor
        .start_automation(&request(Some(tagged)), &tags())
        .await
        .unwrap();
    assert_eq!(started.execution_id, "exec-tags");
}

async fn kind_of(error: StartAutomationExecutionError) -> (Kind, String) {
    let rule = mock!(aws_sdk_ssm::Client::start_automation_execution).then_error(move || {
        // Each call of the rule builds the same error again.
        match &error {
            StartAutomationExecutionError::IdempotentParameterMismatch(e) => {
                StartAutomationExecutionError::IdempotentParameterMismatch(e.clone())
            }
            StartAutomationExecutionError::AutomationDefinitionNotFoundException(e) => {
                StartAutomationExecutionError::AutomationDefinitionNotFoundException(e.clone())
            }
            StartAutomationExecutionError::InvalidAutomationExecutionParametersException(e) => {
                StartAutomationExecutionError::InvalidAutomationExecutionParametersException(
                    e.clone(),
                )
            }
            StartAutomationExecutionError::AutomationExecutionLimitExceededException(e) => {
                StartAutomationExecutionError::AutomationExecutionLimitExceededException(e.clone())
            }
            _ => StartAutomationExecutionError::unhandled("unexpected"),
        }
    });
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&rule]);
    let error = SsmAutomationExecutor::new(client)
        .start_automation(&request(None), &tags())
        .await
        .unwrap_err();
    (error.kind(), error.to_string())
}

#[tokio::test]
async fn refusals_are_permanent_and_the_execution_limit_is_transient() {
    let (kind, message) = kind_of(StartAutomationExecutionError::IdempotentParameterMismatch(
        IdempotentParameterMismatch::builder()
            .message("token reused with other parameters")
            .build(),
    ))
    .await;
    assert_eq!(kind, Kind::Permanent, "{message}");
    let (kind, message) = kind_of(
        StartAutomationExecutionError::AutomationDefinitionNotFoundException(
            AutomationDefinitionNotFoundException::builder()
                .message("no such document")
                .build(),
        ),
    )
    .await;
    assert_eq!(kind, Kind::Permanent, "{message}");
    assert!(message.contains("no such document"), "{message}");
    let (kind, message) = kind_of(
        StartAutomationExecutionError::InvalidAutomationExecutionParametersException(
            InvalidAutomationExecutionParametersException::builder()
                .message("InstanceId is required")
                .build(),
        ),
    )
    .await;
    assert_eq!(kind, Kind::Permanent, "{message}");
    let (kind, message) = kind_of(
        StartAutomationExecutionError::AutomationExecutionLimitExceededException(
            AutomationExecutionLimitExceededException::builder()
                .message("limit")
                .build(),
        ),
    )
    .await;
    assert_eq!(kind, Kind::Transient, "{message}");
}

#[tokio::test]
async fn throttling_is_transient_and_access_denied_is_permanent() {
    let throttled = mock!(aws_sdk_ssm::Client::start_automation_execution)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .times(5)
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&throttled]);
    let error = SsmAutomationExecutor::new(client)
        .start_automation(&request(None), &tags())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), Kind::Transient, "{error}");
    let denied = mock!(aws_sdk_ssm::Client::start_automation_execution)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"AccessDeniedException","message":"not authorized to perform ssm:StartAutomationExecution"}"#.into()),
        )
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&denied]);
    let error = SsmAutomationExecutor::new(client)
        .start_automation(&request(None), &tags())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), Kind::Permanent, "{error}");
    assert!(error.to_string().contains("not authorized"), "{error}");
}
