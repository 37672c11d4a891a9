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

/// DynamoDB throttles the claim: nothing runs, the sender is told to retry, and since the failed
/// write left nothing behind, the retry claims and runs exactly once.
#[tokio::test]
async fn a_throttled_ledger_means_retry_later_and_nothing_half_done() {
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use remediate_shared::catalog::Catalog;
    use remediate_shared::catalog_store::{CatalogStore, KillSwitch};
    use remediate_shared::clock::SystemClock;
    use remediate_shared::config::WebhookSettings;
    use remediate_shared::guards::InMemoryGuards;
    use remediate_shared::pagerduty::InMemoryPagerDuty;
    use remediate_shared::pagerduty::signature::sign;
    use remediate_shared::secrets::StaticSecrets;
    use remediate_shared::ssm::RecordingExecutor;
    use remediate_shared::webhook::WebhookApp;
    use std::sync::Arc;

    let throttled = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        PutItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                .build(),
        )
    });
    let claimed =
        mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
    let completed = mock!(aws_sdk_dynamodb::Client::update_item)
        .then_output(|| UpdateItemOutput::builder().build());
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::Sequential,
        &[&throttled, &claimed, &completed],
        |config| { config.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled()) }
    );
    let clock = Arc::new(SystemClock);
    let executor = Arc::new(RecordingExecutor::default());
    let catalog = Catalog::parse(
        "version: 1\nrunbooks:\n  - name: diagnose\n    when: { sources: [pagerduty-v3], event_types: [incident.triggered] }\n    action:\n      ssm_command: { document: AWS-RunShellScript, targets: { instance_ids: [i-0123456789abcdef0] } }\n",
        "t",
    )
    .unwrap();
    let app = WebhookApp {
        settings: WebhookSettings {
            webhook_secrets_parameter: Some("/secrets".into()),
            action_token_parameter: None,
            action_token_header: "x-remediate-token".into(),
            confirm_taps: true,
            bot_user_id: None,
            api_token_parameter: "/api".into(),
            from_email: "bot@example.com".into(),
            api_url: "http://127.0.0.1:9".into(),
            ledger_table: "ledger".into(),
            max_trigger_age: std::time::Duration::from_secs(900),
            global_dry_run: None,
            region: "eu-west-1".into(),
        },
        catalogs: Arc::new(CatalogStore::fixed(catalog, clock.clone())),
        kill_switch: Arc::new(KillSwitch::absent(clock.clone())),
        secrets: Arc::new(StaticSecrets::new([
            ("/secrets", "s3cret"),
            ("/api", "token"),
        ])),
        pagerduty: Arc::new(InMemoryPagerDuty::default()),
        executor: executor.clone(),
        ledger: Arc::new(DynamoLedger::new(client, "ledger")),
        guards: Arc::new(InMemoryGuards::default()),
        clock,
    };
    let body = serde_json::json!({"event": {"id": "e-throttle", "event_type": "incident.triggered", "resource_type": "incident",
        "occurred_at": chrono::Utc::now().to_rfc3339(), "data": {"id": "PINC1", "type": "incident", "status": "triggered", "title": "x"}}})
    .to_string();
    let request = || {
        http::Request::builder()
            .method("POST")
            .uri("/")
            .header("content-type", "application/json")
            .header("x-pagerduty-signature", sign("s3cret", body.as_bytes()))
            .body(lambda_http::Body::Text(body.clone()))
            .unwrap()
    };
    assert_eq!(app.handle(request()).await.status(), 503);
    assert!(executor.sent().is_empty(), "nothing runs without a claim");
    assert_eq!(app.handle(request()).await.status(), 202);
    assert_eq!(executor.sent().len(), 1);
    assert_eq!(
        (
            throttled.num_calls(),
            claimed.num_calls(),
            completed.num_calls()
        ),
        (1, 1, 1)
    );
}
