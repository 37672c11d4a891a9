//! Errors that moto cannot produce (throttling, 5xx, modeled refusals), from the SDK's own mocks:
//! each must be classified right, because that bit decides between "retry" and "tell people".

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;
use aws_sdk_ssm::operation::send_command::{SendCommandError, SendCommandOutput};
use aws_sdk_ssm::types::Command;
use aws_sdk_ssm::types::error::InvalidDocument;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_adapters::executors::SsmCommandExecutor;
use remediate_core::catalog::Targets;
use remediate_core::ledger::Ledger;
use remediate_core::pipeline::Pipeline;
use remediate_core::plan::CommandRequest;
use remediate_core::ports::CommandExecutor;
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
            &"pagerduty-v3:e1".into(),
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
    use pagerduty_webhook::WebhookApp;
    use remediate_adapters::config::{RunSettings, WebhookSettings};
    use remediate_adapters::pagerduty::signature::sign;
    use remediate_core::catalog::Catalog;
    use remediate_core::catalog_store::CatalogStore;
    use remediate_core::clock::SystemClock;
    use remediate_core::secrets::StaticSecrets;
    use remediate_core::testing::InMemoryGuards;
    use remediate_core::testing::InMemoryPagerDuty;
    use remediate_core::testing::RecordingExecutor;
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
    let app = {
        let settings = WebhookSettings {
            webhook_secrets_parameter: Some("/secrets".into()),
            action_token_parameter: None,
            action_token_header: "x-remediate-token".into(),
            confirm_taps: true,
            bot_user_id: None,
            run: RunSettings {
                api_token_parameter: "/api".into(),
                from_email: "bot@example.com".into(),
                api_url: "http://127.0.0.1:9".into(),
                ledger_table: "ledger".into(),
                max_trigger_age: std::time::Duration::from_secs(900),
                global_dry_run: None,
                region: "eu-west-1".into(),
                results_topic_arn: None,
                incident_key: None,
                rundeck: None,
            },
        };
        WebhookApp {
            pipeline: Pipeline {
                settings: settings.pipeline(),
                catalogs: Arc::new(CatalogStore::fixed(catalog, clock.clone())),
                kill_switch: Arc::new(remediate_core::kill_switch::KillSwitch::absent(
                    clock.clone(),
                )),
                pagerduty: Arc::new(InMemoryPagerDuty::default()),
                executor: executor.clone(),
                automation: executor.clone(),
                rundeck: None,
                ledger: Arc::new(DynamoLedger::new(client, "ledger")),
                guards: Arc::new(InMemoryGuards::default()),
                clock,
                results: None,
            },
            settings,
            secrets: Arc::new(StaticSecrets::new([
                ("/secrets", "s3cret"),
                ("/api", "token"),
            ])),
        }
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

/// The claim's put reached DynamoDB but its answer was lost (a 500), so the SDK sent it again and
/// the retry failed its condition against the item the first attempt wrote. The ledger must
/// recognise its own token in the returned item and hold the claim, not answer "in progress"
/// (a 503 for the whole hold, two minutes).
#[tokio::test]
async fn a_claim_retried_after_a_lost_answer_recognises_its_own_token() {
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use remediate_core::ledger::ClaimResult;

    // The SDK's retry resends the same request; the mocks see its input once, at the first
    // attempt, so the item it wrote is kept from there.
    let written = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = written.clone();
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |input| {
            *seen.lock().unwrap() = input.item().cloned();
            input.return_values_on_condition_check_failure()
                == Some(&aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld)
        })
        .sequence()
        // The put is applied, and its answer is lost.
        .http_status(
            500,
            Some(r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"lost"}"#.into()),
        )
        // The retry fails its condition, and DynamoDB hands back the item the first attempt wrote.
        .error(move || {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .message("The conditional request failed")
                    .set_item(written.lock().unwrap().clone())
                    .build(),
            )
        })
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&put], |config| {
        config.retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
    });
    let ledger = DynamoLedger::new(client, "ledger");
    let result = ledger
        .claim(
            &"pagerduty-v3:e-lost".into(),
            chrono::Utc::now(),
            chrono::Duration::seconds(120),
        )
        .await
        .unwrap();
    assert_eq!(put.num_calls(), 2, "the first attempt and the SDK's retry");
    let ClaimResult::Claimed(claim) = result else {
        panic!("our own claim, retried, must be held: {result:?}");
    };
    assert!(claim.taken_over, "the lost answer hid what was replaced");
}

/// Someone else's in-progress claim in the failed condition is still "in progress".
#[tokio::test]
async fn a_claim_held_by_another_token_is_in_progress() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_smithy_mocks::MockResponse;
    use remediate_core::ledger::ClaimResult;

    let held = mock!(aws_sdk_dynamodb::Client::put_item).then_compute_response(|input| {
        let mut item = input.item().cloned().unwrap_or_default();
        item.insert(
            "claim_token".into(),
            AttributeValue::S("someone-else".into()),
        );
        MockResponse::Error(PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .set_item(Some(item))
                .build(),
        ))
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, &[&held]);
    let result = DynamoLedger::new(client, "ledger")
        .claim(
            &"pagerduty-v3:e-held".into(),
            chrono::Utc::now(),
            chrono::Duration::seconds(120),
        )
        .await
        .unwrap();
    assert!(
        matches!(result, ClaimResult::InProgress { .. }),
        "{result:?}"
    );
}

/// After a lost SendCommand answer, the search asks SSM for this document's commands since the
/// trigger (in a busy account the run's command is not on the first page) and follows NextToken
/// until it finds the run's Comment.
#[tokio::test]
async fn the_command_search_filters_by_document_and_time_and_reads_later_pages() {
    use aws_sdk_ssm::operation::list_commands::ListCommandsOutput;
    use aws_sdk_ssm::types::CommandFilterKey;

    let since: chrono::DateTime<chrono::Utc> = "2026-11-25T03:00:00Z".parse().unwrap();
    let filtered = |input: &aws_sdk_ssm::operation::list_commands::ListCommandsInput| {
        let filters = input.filters();
        let has = |key: CommandFilterKey, value: &str| {
            filters
                .iter()
                .any(|filter| *filter.key() == key && filter.value() == value)
        };
        has(CommandFilterKey::InvokedAfter, "2026-11-25T03:00:00Z")
            && has(CommandFilterKey::DocumentName, "AWS-RunShellScript")
    };
    let first_page = mock!(aws_sdk_ssm::Client::list_commands)
        .match_requests(move |input| filtered(input) && input.next_token().is_none())
        .then_output(|| {
            ListCommandsOutput::builder()
                .commands(
                    Command::builder()
                        .command_id("someone-elses")
                        .comment("remediate 0000 other")
                        .build(),
                )
                .next_token("page-2")
                .build()
        });
    let second_page = mock!(aws_sdk_ssm::Client::list_commands)
        .match_requests(move |input| filtered(input) && input.next_token() == Some("page-2"))
        .then_output(|| {
            ListCommandsOutput::builder()
                .commands(
                    Command::builder()
                        .command_id("ours")
                        .comment("remediate 6f1b0c6e run")
                        .target_count(2)
                        .requested_date_time(aws_smithy_types::DateTime::from_secs(
                            "2026-11-25T03:00:05Z"
                                .parse::<chrono::DateTime<chrono::Utc>>()
                                .unwrap()
                                .timestamp(),
                        ))
                        .build(),
                )
                .build()
        });
    let client = mock_client!(
        aws_sdk_ssm,
        RuleMode::Sequential,
        &[&first_page, &second_page]
    );
    let found = SsmCommandExecutor::new(client)
        .find_command(&request(), since)
        .await
        .unwrap()
        .expect("the run's command is on the second page");
    assert_eq!(found.command_id, "ours");
    assert_eq!(found.target_count, Some(2));
    assert_eq!((first_page.num_calls(), second_page.num_calls()), (1, 1));
}

mod parameters;
