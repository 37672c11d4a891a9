//! Errors that moto cannot produce (throttling, 5xx, modeled refusals), from the SDK's own mocks:
//! each must be classified right, because that bit decides between "retry" and "tell people".

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;
use aws_sdk_ssm::operation::send_command::{SendCommandError, SendCommandOutput};
use aws_sdk_ssm::types::Command;
use aws_sdk_ssm::types::error::InvalidDocument;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use remediate_shared::catalog::Targets;
use remediate_shared::ledger::{DynamoLedger, Ledger};
use remediate_shared::ssm::{CommandExecutor, CommandRequest, SsmCommandExecutor};
use std::collections::BTreeMap;

fn request() -> CommandRequest {
    CommandRequest {
        document: "AWS-RunShellScript".into(),
        targets: Targets::Tags(BTreeMap::from([("Role".into(), vec!["web".into()])])),
        parameters: BTreeMap::from([("commands".into(), vec!["uptime".into()])]),
        delivery_timeout_seconds: Some(60),
        max_concurrency: Some("1".into()),
        max_errors: Some("0".into()),
        comment: "remediate 6f1b0c6e run".into(),
    }
}

#[tokio::test]
async fn send_command_carries_every_setting() {
    let rule = mock!(aws_sdk_ssm::Client::send_command)
        .match_requests(|input| {
            let target = &input.targets()[0];
            input.document_name() == Some("AWS-RunShellScript")
                && input.comment() == Some("remediate 6f1b0c6e run")
                && target.key() == Some("tag:Role")
                && target.values() == ["web"]
                && input.parameters().unwrap()["commands"] == ["uptime"]
                && input.timeout_seconds() == Some(60)
                && input.max_concurrency() == Some("1")
                && input.max_errors() == Some("0")
                && input.instance_ids().is_empty()
        })
        .then_output(|| {
            SendCommandOutput::builder()
                .command(
                    Command::builder()
                        .command_id("cmd-1")
                        .target_count(3)
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&rule]);
    let started = SsmCommandExecutor::new(client)
        .send_command(&request())
        .await
        .unwrap();
    assert_eq!(started.command_id, "cmd-1");
    assert_eq!(started.target_count, Some(3));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn throttling_and_server_errors_are_transient() {
    let throttled = mock!(aws_sdk_ssm::Client::send_command)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .times(5)
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&throttled]);
    let error = SsmCommandExecutor::new(client)
        .send_command(&request())
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("ThrottlingException"), "{error}");

    let unavailable = mock!(aws_sdk_ssm::Client::send_command)
        .sequence()
        .http_status(
            503,
            Some(r#"{"__type":"InternalServerError","message":"down"}"#.into()),
        )
        .times(5)
        .build();
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&unavailable]);
    let error = SsmCommandExecutor::new(client)
        .send_command(&request())
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
}

#[tokio::test]
async fn a_refused_document_is_permanent() {
    let rule = mock!(aws_sdk_ssm::Client::send_command).then_error(|| {
        SendCommandError::InvalidDocument(
            InvalidDocument::builder()
                .message("no such document")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_ssm, RuleMode::Sequential, &[&rule]);
    let error = SsmCommandExecutor::new(client)
        .send_command(&request())
        .await
        .unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert!(error.to_string().contains("no such document"), "{error}");
}

#[tokio::test]
async fn ledger_throttling_is_transient_and_claims_nothing() {
    let rule = mock!(aws_sdk_dynamodb::Client::put_item)
        .sequence()
        .error(|| {
            PutItemError::ProvisionedThroughputExceededException(
                ProvisionedThroughputExceededException::builder()
                    .message("slow down")
                    .build(),
            )
        })
        .times(5)
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&rule]);
    let ledger = DynamoLedger::new(client, "ledger");
    let error = ledger
        .claim(
            "pagerduty-v3:e1",
            chrono::Utc::now(),
            chrono::Duration::seconds(60),
        )
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
}
