//! What the template gives the reconciler (a five-minute schedule, one pass at a time, the
//! environment its cold start reads, a role that ends runs and starts nothing) and the
//! rundeck-notification function (only with Rundeck; a public Function URL whose path secret is
//! the authentication; a role that reads its secrets and the ledger and asks SSM nothing).

use super::*;
use remediate_adapters::config::{CatalogSource, Env};
use remediate_core::pipeline::ReconcileSettings;
use std::collections::{BTreeMap, BTreeSet};

const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/remediate-ledgertable-sample";

/// The resources that exist only when Rundeck is configured.
const NOTIFICATION_RESOURCES: [&str; 6] = [
    "RundeckNotificationFunction",
    "RundeckNotificationFunctionRole",
    "RundeckNotificationFunctionUrl",
    "RundeckNotificationLogs",
    "RundeckNotificationFunctionUrlPublicPermissions",
    "RundeckNotificationFunctionURLInvokeAllowPublicAccess",
];

/// Actions that start or pass something: no function that only ends runs may hold one.
const NEVER: [&str; 6] = [
    "ssm:SendCommand",
    "ssm:StartAutomationExecution",
    "iam:PassRole",
    "ssm:DescribeInstanceInformation",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
];

fn resource<'a>(resolved: &'a Value, logical: &str) -> &'a Value {
    let found = &resolved["Resources"][logical];
    assert!(found.is_object(), "no resource {logical}");
    found
}

fn environment<'a>(resolved: &'a Value, function: &str) -> &'a serde_json::Map<String, Value> {
    resource(resolved, function)["Properties"]["Environment"]["Variables"]
        .as_object()
        .unwrap_or_else(|| panic!("{function} has environment variables"))
}

fn statements(resolved: &Value, role: &str) -> Vec<Value> {
    resource(resolved, role)["Properties"]["Policies"]
        .as_array()
        .unwrap_or_else(|| panic!("{role} has inline policies"))
        .iter()
        .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_array().unwrap())
        .cloned()
        .collect()
}

/// Action -> every resource it is allowed on (all statements are Allow).
fn granted(statements: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow", "{statement:#}");
        for action in as_strings(&statement["Action"]) {
            granted
                .entry(action)
                .or_default()
                .extend(as_strings(&statement["Resource"]));
        }
    }
    granted
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

/// The variables as the function's cold start reads them (Lambda adds AWS_REGION).
fn env_of(
    environment: &serde_json::Map<String, Value>,
) -> Env<impl Fn(&str) -> Option<String> + '_> {
    Env(move |name: &str| match name {
        "AWS_REGION" => Some("us-east-1".to_owned()),
        _ => environment
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn catalog_reads(statements: &[Value]) -> Vec<Value> {
    statements
        .iter()
        .filter(|statement| as_strings(&statement["Action"]).contains(&"s3:GetObject".into()))
        .cloned()
        .collect()
}

fn update_is_on_run_items_only(statements: &[Value], context: &str) {
    let updates: Vec<&Value> = statements
        .iter()
        .filter(|statement| {
            as_strings(&statement["Action"]).contains(&"dynamodb:UpdateItem".into())
        })
        .collect();
    assert_eq!(updates.len(), 1, "{context}: {updates:#?}");
    assert_eq!(as_strings(&updates[0]["Resource"]), [TABLE], "{context}");
    assert_eq!(
        updates[0]["Condition"],
        serde_json::json!({
            "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["TRIGGER#*"] }
        }),
        "{context}: run items only"
    );
}

// ---------------------------------------------------------------------------------------------
// reconciler

#[test]
fn the_reconciler_runs_every_five_minutes_one_pass_at_a_time_without_retries() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let function = &resource(resolved, "ReconcilerFunction")["Properties"];
        assert_eq!(
            function["Timeout"], 300,
            "{scenario}: the pass budget is 240 s"
        );
        assert_eq!(function["ReservedConcurrentExecutions"], 1, "{scenario}");
        assert_eq!(function["Runtime"], "provided.al2023", "{scenario}");
        assert_eq!(function["Architectures"], serde_json::json!(["arm64"]));
        assert_eq!(function["LoggingConfig"]["LogFormat"], "JSON", "{scenario}");
        assert_eq!(
            function["LoggingConfig"]["LogGroup"],
            resource(resolved, "ReconcilerLogs")["Properties"]["LogGroupName"],
            "{scenario}: its own log group"
        );
        let name = resource(resolved, "ReconcilerFunction")["Properties"]["FunctionName"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "remediate-reconcilerfunction-sample".to_owned());
        let schedules: Vec<Value> = resolved["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|resource| {
                resource["Type"] == "AWS::Events::Rule"
                    && resource["Properties"]["Targets"][0]["Arn"]
                        .as_str()
                        .is_some_and(|arn| arn.ends_with(&format!(":function:{name}")))
            })
            .cloned()
            .collect();
        assert_eq!(schedules.len(), 1, "{scenario}: {schedules:#?}");
        let rule = &schedules[0]["Properties"];
        assert_eq!(rule["ScheduleExpression"], "rate(5 minutes)", "{scenario}");
        assert!(rule.get("EventPattern").is_none(), "{scenario}: {rule:#}");
        assert_eq!(rule["Targets"].as_array().unwrap().len(), 1, "{scenario}");

        let invoke = &resource(resolved, "ReconcilerInvokeConfig")["Properties"];
        assert_eq!(invoke["FunctionName"], name.as_str(), "{scenario}");
        assert_eq!(invoke["Qualifier"], "$LATEST", "{scenario}");
        assert_eq!(
            invoke["MaximumRetryAttempts"], 0,
            "{scenario}: the next pass is the retry"
        );
        assert_eq!(invoke["MaximumEventAgeInSeconds"], 300, "{scenario}");
    }
    let outputs = &resolved("defaults")["Outputs"];
    assert!(
        outputs["ReconcilerScheduleRuleArn"]["Value"]
            .as_str()
            .is_some_and(|arn| arn.contains(":rule/")),
        "{outputs:#}"
    );
}

#[test]
fn the_reconciler_starts_with_the_environment_the_template_gives_it() {
    let defaults = ReconcileSettings::default();
    // The parameters' defaults are the code's.
    let parameters = &resolved("defaults")["Parameters"];
    assert_eq!(
        parameters["ReconcileOverdueSeconds"],
        defaults.overdue_after.num_seconds().to_string()
    );
    assert_eq!(
        parameters["ReconcileGiveUpSeconds"],
        defaults.give_up_after.num_seconds().to_string()
    );
    assert_eq!(parameters["ReconcileBatch"], defaults.batch.to_string());
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let environment = environment(resolved, "ReconcilerFunction");
        let webhook = function_environment(resolved);
        for shared in [
            "PAGERDUTY_API_TOKEN_PARAMETER",
            "PAGERDUTY_FROM_EMAIL",
            "LEDGER_TABLE",
            "RESULTS_TOPIC_ARN",
            "RUNBOOKS_S3_URI",
            "RUNBOOKS_S3_EXPECTED_OWNER",
            "RUNDECK_URL",
            "RUNDECK_TOKEN_PARAMETER",
            "RUNDECK_API_VERSION",
        ] {
            assert_eq!(
                environment.get(shared),
                webhook.get(shared),
                "{scenario}: {shared}"
            );
        }
        for unneeded in [
            "REMEDIATE_KILL_SWITCH_PARAMETER",
            "REMEDIATE_DRY_RUN",
            "PAGERDUTY_WEBHOOK_SECRETS_PARAMETER",
            "PAGERDUTY_ACTION_TOKEN_PARAMETER",
            "RUNDECK_NOTIFICATION_TOKEN_PARAMETER",
        ] {
            assert!(
                !environment.contains_key(unneeded),
                "{scenario}: {unneeded}"
            );
        }
        let env = env_of(environment);
        let run = env
            .run_settings()
            .unwrap_or_else(|error| panic!("{scenario}: {error}"));
        assert_eq!(run.ledger_table, environment["LEDGER_TABLE"], "{scenario}");
        assert!(run.results_topic_arn.is_some(), "{scenario}");
        assert_eq!(run.rundeck.is_some(), scenario == "rundeck", "{scenario}");
        let source = env
            .catalog_source()
            .unwrap_or_else(|error| panic!("{scenario}: {error}"));
        assert_eq!(
            matches!(source, CatalogSource::S3 { .. }),
            environment.contains_key("RUNBOOKS_S3_URI"),
            "{scenario}"
        );
        let settings = env
            .reconcile_settings()
            .unwrap_or_else(|error| panic!("{scenario}: {error}"));
        assert_eq!(settings.overdue_after, defaults.overdue_after, "{scenario}");
        assert_eq!(settings.give_up_after, defaults.give_up_after, "{scenario}");
        // The rundeck scenario sets ReconcileBatch: the parameter reaches the code.
        let batch = if scenario == "rundeck" {
            10
        } else {
            defaults.batch
        };
        assert_eq!(settings.batch, batch, "{scenario}");
    }
}

#[test]
fn the_reconciler_ends_runs_and_can_start_nothing() {
    let unscoped = set([
        "ssm:ListCommands",
        "ssm:ListCommandInvocations",
        "ssm:GetCommandInvocation",
    ]);
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let statements = statements(resolved, "ReconcilerFunctionRole");
        let granted = granted(&statements);
        for action in NEVER {
            assert!(
                !granted.contains_key(action),
                "[{scenario}] the reconciler may {action}"
            );
        }
        for (action, resources) in &granted {
            if resources.contains("*") {
                assert!(unscoped.contains(action), "[{scenario}] {action} on *");
                assert_eq!(resources.len(), 1, "[{scenario}] {action}");
            }
        }
        for action in &unscoped {
            assert_eq!(granted[action], set(["*"]), "[{scenario}] {action}");
        }
        assert_eq!(
            granted["ssm:GetAutomationExecution"],
            set(["arn:aws:ssm:us-east-1:123456789012:automation-execution/*"]),
            "[{scenario}]"
        );
        // The ledger: its work list and runs by handle, nothing else read.
        assert_eq!(
            granted["dynamodb:Query"],
            set([
                &*format!("{TABLE}/index/by_open"),
                &*format!("{TABLE}/index/by_handle")
            ]),
            "[{scenario}] the by_open and by_handle indexes only"
        );
        for read in ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:BatchGetItem"] {
            assert!(!granted.contains_key(read), "[{scenario}] {read}");
        }
        update_is_on_run_items_only(&statements, scenario);
        let api_token =
            "arn:aws:ssm:us-east-1:123456789012:parameter/remediate/pagerduty/api-token";
        let rundeck_token =
            "arn:aws:ssm:us-east-1:123456789012:parameter/ops/rundeck/remediate-token";
        let secrets = if scenario == "rundeck" {
            set([api_token, rundeck_token])
        } else {
            set([api_token])
        };
        assert_eq!(granted["ssm:GetParameter"], secrets, "[{scenario}]");
        assert_eq!(
            granted["cloudwatch:DescribeAlarms"],
            set(["arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"]),
            "[{scenario}] this account's and region's alarms"
        );
        assert_eq!(
            granted["sns:Publish"],
            set([
                environment(resolved, "ReconcilerFunction")["RESULTS_TOPIC_ARN"]
                    .as_str()
                    .unwrap()
            ]),
            "[{scenario}]"
        );
        assert_eq!(
            catalog_reads(&statements),
            catalog_reads(&function_statements(resolved)),
            "[{scenario}] the catalog grant is the webhook function's"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// rundeck-notification

#[test]
fn the_notification_function_exists_only_with_rundeck() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let with_rundeck = scenario == "rundeck";
        for logical in NOTIFICATION_RESOURCES {
            assert_eq!(
                resolved["Resources"].get(logical).is_some(),
                with_rundeck,
                "{scenario}: {logical}"
            );
        }
        assert_eq!(
            resolved["Outputs"].get("RundeckNotificationUrl").is_some(),
            with_rundeck,
            "{scenario}"
        );
    }
    let parameters = &resolved("defaults")["Parameters"];
    assert!(
        parameters["RundeckNotificationTokenParameter"]
            .as_str()
            .is_some_and(|name| name.starts_with('/')),
        "{parameters:#}"
    );
}

#[test]
fn the_notification_url_is_public_and_its_path_secret_authenticates() {
    let resolved = resolved("rundeck");
    let url = &resource(resolved, "RundeckNotificationFunctionUrl")["Properties"];
    assert_eq!(url["AuthType"], "NONE");
    let function = resource(resolved, "RundeckNotificationFunction");
    let properties = &function["Properties"];
    assert_eq!(properties["Timeout"], 15, "Rundeck waits 15 s");
    assert_eq!(properties["Runtime"], "provided.al2023");
    assert_eq!(properties["Architectures"], serde_json::json!(["arm64"]));
    assert_eq!(properties["LoggingConfig"]["LogFormat"], "JSON");
    assert_eq!(
        properties["LoggingConfig"]["LogGroup"],
        resource(resolved, "RundeckNotificationLogs")["Properties"]["LogGroupName"]
    );
    let skip = function["Metadata"]["checkov"]["skip"]
        .as_array()
        .unwrap()
        .iter()
        .find(|skip| skip["id"] == "CKV_AWS_258")
        .expect("AuthType NONE is explained next to the function");
    assert!(
        skip["comment"].as_str().unwrap().contains("secret"),
        "{skip:#}"
    );
    // lambda:InvokeFunction through the URL only, for anyone (the secret is checked by the code),
    // and lambda:InvokeFunctionUrl: SAM adds both.
    let invoke = &resource(
        resolved,
        "RundeckNotificationFunctionURLInvokeAllowPublicAccess",
    )["Properties"];
    assert_eq!(invoke["Action"], "lambda:InvokeFunction");
    assert_eq!(invoke["InvokedViaFunctionUrl"], true);
    let invoke_url =
        &resource(resolved, "RundeckNotificationFunctionUrlPublicPermissions")["Properties"];
    assert_eq!(invoke_url["Action"], "lambda:InvokeFunctionUrl");
    assert_eq!(invoke_url["FunctionUrlAuthType"], "NONE");
    // The output is the URL to paste into Rundeck, the secret to be added at its end.
    let output = &resolved["Outputs"]["RundeckNotificationUrl"];
    let value = output["Value"].as_str().unwrap();
    assert!(
        value.starts_with("https://") && value.ends_with(".on.aws/notify/"),
        "{value}"
    );
    let description = output["Description"].as_str().unwrap();
    assert!(
        description.contains("secret")
            && description.contains("at the end")
            && description.contains("RundeckNotificationTokenParameter"),
        "{description}"
    );
    // The function's cold start reads the environment as the template gives it.
    let environment = environment(resolved, "RundeckNotificationFunction");
    let webhook = function_environment(resolved);
    for shared in [
        "PAGERDUTY_API_TOKEN_PARAMETER",
        "PAGERDUTY_FROM_EMAIL",
        "LEDGER_TABLE",
        "RESULTS_TOPIC_ARN",
        "RUNBOOKS_S3_URI",
        "RUNBOOKS_S3_EXPECTED_OWNER",
        "RUNDECK_URL",
        "RUNDECK_TOKEN_PARAMETER",
        "RUNDECK_API_VERSION",
    ] {
        assert_eq!(environment.get(shared), webhook.get(shared), "{shared}");
        assert!(environment.contains_key(shared), "{shared}");
    }
    let env = env_of(environment);
    let settings = env
        .notification_settings()
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(settings.token_parameter, "/ops/rundeck/notification-secret");
    assert_eq!(settings.rundeck.url, "https://rundeck.example.com/rundeck");
    assert_eq!(settings.rundeck.api_version, 45);
    assert!(settings.run.results_topic_arn.is_some());
    assert!(matches!(
        env.catalog_source().unwrap(),
        CatalogSource::S3 { .. }
    ));
}

#[test]
fn the_notification_function_reads_its_secrets_and_the_ledger_and_asks_ssm_nothing() {
    let resolved = resolved("rundeck");
    let statements = statements(resolved, "RundeckNotificationFunctionRole");
    let granted = granted(&statements);
    for action in NEVER {
        assert!(!granted.contains_key(action), "it may {action}");
    }
    // A notification's run is a Rundeck execution: SSM is only Parameter Store here.
    let ssm: Vec<&String> = granted
        .keys()
        .filter(|action| action.starts_with("ssm:"))
        .collect();
    assert_eq!(ssm, ["ssm:GetParameter"], "{granted:#?}");
    assert_eq!(
        granted["ssm:GetParameter"],
        set([
            "arn:aws:ssm:us-east-1:123456789012:parameter/ops/rundeck/notification-secret",
            "arn:aws:ssm:us-east-1:123456789012:parameter/ops/rundeck/remediate-token",
            "arn:aws:ssm:us-east-1:123456789012:parameter/remediate/pagerduty/api-token",
        ])
    );
    assert!(!granted.contains_key("cloudwatch:DescribeAlarms"));
    assert_eq!(
        granted["dynamodb:Query"],
        set([&*format!("{TABLE}/index/by_handle")]),
        "the by_handle index only"
    );
    update_is_on_run_items_only(&statements, "rundeck-notification");
    for (action, resources) in &granted {
        assert!(!resources.contains("*"), "{action} on *");
    }
    let decrypt = statements
        .iter()
        .find(|statement| statement["Sid"] == "DecryptSecretsThroughParameterStoreOnly")
        .expect("secrets are decrypted through Parameter Store");
    assert_eq!(
        decrypt["Condition"],
        serde_json::json!({ "StringEquals": { "kms:ViaService": "ssm.us-east-1.amazonaws.com" } })
    );
    assert_eq!(
        granted["sns:Publish"],
        set([
            environment(resolved, "RundeckNotificationFunction")["RESULTS_TOPIC_ARN"]
                .as_str()
                .unwrap()
        ])
    );
    assert_eq!(
        catalog_reads(&statements),
        catalog_reads(&function_statements(resolved)),
        "the catalog grant is the webhook function's"
    );
    assert_eq!(
        catalog_reads(&statements).len(),
        1,
        "the rundeck scenario reads S3"
    );
}
