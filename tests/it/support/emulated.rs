//! The pagerduty-webhook app wired to every real adapter on the emulators: Parameter Store,
//! SSM and DynamoDB on moto, PagerDuty on Prism. Shared by the emulator tests and the latency
//! harness.

use super::*;
use chrono::Utc;
use lambda_http::{Body, Request};
use pagerduty_webhook::WebhookApp;
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_adapters::aws::secrets::ParameterStoreSecrets;
use remediate_adapters::config::{RunSettings, WebhookSettings};
use remediate_adapters::executors::{SsmAutomationExecutor, SsmCommandExecutor};
use remediate_adapters::pagerduty::HttpPagerDuty;
use remediate_core::catalog::Catalog;
use remediate_core::clock::SystemClock;
use remediate_core::pipeline::Pipeline;
use remediate_core::secrets::SecretStore;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const SIGNING_SECRET: &str = "emulated-signing-secret";
pub const ACTION_TOKEN: &str = "emulated-action-token";

pub struct World {
    pub app: Arc<WebhookApp>,
    pub ssm: aws_sdk_ssm::Client,
    pub instances: Vec<String>,
}

pub async fn world(confirm_taps: bool) -> World {
    let aws = moto_config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let prefix = unique("/remediate-test");
    let role = unique("web");
    let instances = run_tagged_instances(2, "Role", &role).await;
    assert_eq!(instances.len(), 2, "moto started the instances");
    put_secure_parameter(
        &ssm,
        &format!("{prefix}/webhook-secrets"),
        &format!("retired-secret\n{SIGNING_SECRET}\n"),
    )
    .await;
    put_secure_parameter(&ssm, &format!("{prefix}/action-token"), ACTION_TOKEN).await;
    put_secure_parameter(&ssm, &format!("{prefix}/api-token"), "y_NbAkKc66ryYTWUXYEu").await;
    let table = unique("ledger");
    create_ledger_table(&dynamodb, &table).await;
    let catalog = Catalog::parse(
        &format!(
            "version: 1
custom_actions:
  restart-web: {{ label: Restart web tier }}
runbooks:
  - name: restart-web
    when: {{ sources: [pagerduty-action], actions: [restart-web] }}
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: {{ tags: {{ Role: {role} }} }}
        parameters: {{ commands: [systemctl restart nginx] }}
        execution_timeout_seconds: 120
  - name: diagnose-api
    when: {{ sources: [pagerduty-v3], event_types: [incident.triggered] }}
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: {{ tags: {{ Role: {role} }} }}
        parameters: {{ commands: [uptime] }}
"
        ),
        "emulated",
    )
    .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(ParameterStoreSecrets::new(
        ssm.clone(),
        Duration::from_secs(60),
    ));
    let settings = WebhookSettings {
        webhook_secrets_parameter: Some(format!("{prefix}/webhook-secrets")),
        action_token_parameter: Some(format!("{prefix}/action-token")),
        action_token_header: "x-remediate-token".into(),
        confirm_taps,
        bot_user_id: None,
        run: RunSettings {
            api_token_parameter: format!("{prefix}/api-token"),
            from_email: "remediate-bot@example.com".into(),
            api_url: prism_url(),
            ledger_table: table.clone(),
            max_trigger_age: Duration::from_secs(900),
            global_dry_run: None,
            region: REGION.into(),
            results_topic_arn: None,
            incident_key: None,
            rundeck: None,
        },
    };
    let pagerduty = HttpPagerDuty::new(
        &settings.run.api_url,
        settings.run.from_email.clone(),
        secrets.clone(),
        settings.run.api_token_parameter.clone(),
    )
    .unwrap();
    let ledger = Arc::new(DynamoLedger::new(dynamodb, table));
    let app = WebhookApp {
        pipeline: Pipeline {
            settings: settings.pipeline(),
            catalogs: Arc::new(remediate_core::catalog_store::CatalogStore::fixed(
                catalog,
                Arc::new(remediate_core::clock::SystemClock),
            )),
            kill_switch: Arc::new(remediate_core::kill_switch::KillSwitch::absent(Arc::new(
                remediate_core::clock::SystemClock,
            ))),
            pagerduty: Arc::new(pagerduty),
            executor: Arc::new(SsmCommandExecutor::new(ssm.clone())),
            automation: Arc::new(SsmAutomationExecutor::new(ssm.clone())),
            rundeck: None,
            ledger: ledger.clone(),
            guards: ledger,
            clock: Arc::new(SystemClock),
            results: None,
        },
        settings,
        secrets,
    };
    World {
        app: Arc::new(app),
        ssm,
        instances,
    }
}

pub fn v3_body(event_id: &str) -> String {
    json!({ "event": {
        "id": event_id, "event_type": "incident.triggered", "resource_type": "incident",
        "occurred_at": Utc::now().to_rfc3339(),
        "agent": { "id": "PAGENT1", "type": "user_reference", "summary": "Bob" },
        "data": { "id": "PGR0VU2", "type": "incident", "number": 2, "status": "triggered",
                  "title": "API latency over SLO", "urgency": "high",
                  "service": { "id": "PF9KMXH", "summary": "API Service", "type": "service_reference" } }
    }})
    .to_string()
}

pub fn tap_body(message_id: &str) -> String {
    let now = Utc::now().to_rfc3339();
    json!({ "messages": [{
        "id": message_id, "event": "incident.custom", "created_on": now,
        "incident": { "id": "PGR0VU2", "incident_number": 2, "title": "Web down", "status": "triggered",
                      "service": { "id": "PF9KMXH", "summary": "Web", "type": "service_reference" } },
        "log_entries": [{ "type": "custom_log_entry", "created_at": now,
                          "agent": { "id": "PXPGF42", "type": "user_reference", "summary": "Earline Greenholt" } }]
    }]})
    .to_string()
}

pub fn post(path: &str, body: &str, headers: &[(&str, String)]) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::Text(body.to_owned())).unwrap()
}

pub async fn send(app: &WebhookApp, request: Request) -> (u16, Value) {
    let response = app.handle(request).await;
    let status = response.status().as_u16();
    let Body::Text(text) = response.body() else {
        panic!("unexpected body")
    };
    (status, serde_json::from_str(text).unwrap())
}
