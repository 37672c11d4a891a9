//! What the template gives the execution-events function: the rule that invokes it (exactly the
//! statuses the code treats as final), the environment its cold start reads, and a role that
//! reads how runs ended and can start nothing.

use super::*;
use aws_sdk_ssm::types::{AutomationExecutionStatus, CommandStatus};
use remediate_adapters::config::{CatalogSource, Env};
use remediate_adapters::executors::ssm_results::{automation_state, command_state};
use remediate_adapters::ssm_events::{
    AUTOMATION_STATUS_CHANGE, COMMAND_STATUS_CHANGE, read_status_event,
};
use std::collections::{BTreeMap, BTreeSet};

fn resource<'a>(resolved: &'a Value, logical: &str) -> &'a Value {
    let found = &resolved["Resources"][logical];
    assert!(found.is_object(), "no resource {logical}");
    found
}

fn events_environment(resolved: &Value) -> &serde_json::Map<String, Value> {
    resource(resolved, "ExecutionEventsFunction")["Properties"]["Environment"]["Variables"]
        .as_object()
        .expect("execution-events has environment variables")
}

fn events_statements(resolved: &Value) -> Vec<Value> {
    resource(resolved, "ExecutionEventsFunctionRole")["Properties"]["Policies"]
        .as_array()
        .expect("the execution-events role has inline policies")
        .iter()
        .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_array().unwrap())
        .cloned()
        .collect()
}

fn resources_of(resolved: &Value, kind: &str) -> Vec<(String, Value)> {
    resolved["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.clone(), resource.clone()))
        .collect()
}

/// The statuses the code reads as a run's end, from every status the SDK knows.
fn final_statuses() -> (BTreeSet<String>, BTreeSet<String>) {
    let commands = CommandStatus::values()
        .iter()
        .filter(|status| command_state(&CommandStatus::from(**status)).is_some())
        .map(|status| (*status).to_owned())
        .collect();
    let automations = AutomationExecutionStatus::values()
        .iter()
        .filter(|status| automation_state(&AutomationExecutionStatus::from(**status)).is_some())
        .map(|status| (*status).to_owned())
        .collect();
    (commands, automations)
}

/// EventBridge's matching for the forms the rule uses: exact values in arrays, nested objects,
/// and `$or` over sub-patterns. Any other form (prefix, anything-but, ...) matches nothing here,
/// so a rule that starts using one fails the tests below until this learns it.
fn matches(pattern: &Value, event: &Value) -> bool {
    pattern.as_object().unwrap().iter().all(|(key, wanted)| {
        if key == "$or" {
            return wanted
                .as_array()
                .unwrap()
                .iter()
                .any(|branch| matches(branch, event));
        }
        match (wanted, event.get(key)) {
            (Value::Array(values), Some(actual)) => values.contains(actual),
            (Value::Object(_), Some(actual)) => matches(wanted, actual),
            _ => false,
        }
    })
}

fn sample(name: &str) -> Value {
    let path = root().join("events/execution").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The one rule that invokes the function, with its one target (the reconciler's schedule is
/// the template's other rule).
fn the_rule(resolved: &Value) -> (String, Value, Value) {
    let rules: Vec<(String, Value)> = resources_of(resolved, "AWS::Events::Rule")
        .into_iter()
        .filter(|(name, _)| name.starts_with("ExecutionEventsFunction"))
        .collect();
    assert_eq!(rules.len(), 1, "one rule: {rules:#?}");
    let (name, rule) = rules.into_iter().next().unwrap();
    let targets = rule["Properties"]["Targets"].as_array().unwrap().clone();
    assert_eq!(targets.len(), 1, "{name}: one target");
    (name, rule, targets[0].clone())
}

#[test]
fn the_rule_sends_exactly_the_statuses_the_code_reads_as_final() {
    let resolved = resolved("defaults");
    let (name, rule, _) = the_rule(resolved);
    let pattern = &rule["Properties"]["EventPattern"];
    assert_eq!(pattern["source"], serde_json::json!(["aws.ssm"]), "{name}");
    let keys: BTreeSet<&str> = pattern
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["source", "$or"]),
        "{name}: {pattern:#}"
    );
    // detail-type -> (the status key, its values)
    let mut branches: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for branch in pattern["$or"].as_array().unwrap() {
        let fields: BTreeSet<&str> = branch
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            BTreeSet::from(["detail-type", "detail"]),
            "{branch:#}"
        );
        let detail_type = as_strings(&branch["detail-type"]);
        assert_eq!(detail_type.len(), 1, "{branch:#}");
        let detail = branch["detail"].as_object().unwrap();
        assert_eq!(detail.len(), 1, "one status key: {branch:#}");
        let (key, values) = detail.iter().next().unwrap();
        assert!(
            values.as_array().unwrap().iter().all(Value::is_string),
            "exact values only: {branch:#}"
        );
        let statuses: BTreeSet<String> = as_strings(values).into_iter().collect();
        let previous = branches.insert(detail_type[0].clone(), (key.clone(), statuses));
        assert!(previous.is_none(), "{} twice", detail_type[0]);
    }
    let (commands, automations) = final_statuses();
    assert!(commands.contains("Success") && automations.contains("TimedOut"));
    assert_eq!(
        branches,
        BTreeMap::from([
            (
                COMMAND_STATUS_CHANGE.to_owned(),
                ("status".to_owned(), commands)
            ),
            (
                AUTOMATION_STATUS_CHANGE.to_owned(),
                ("Status".to_owned(), automations)
            ),
        ]),
        "the rule's statuses differ from ssm_results.rs (command_state, automation_state)"
    );
}

#[test]
fn the_rule_matches_an_event_exactly_when_the_function_would_act_on_it() {
    let resolved = resolved("defaults");
    let (_, rule, _) = the_rule(resolved);
    let pattern = &rule["Properties"]["EventPattern"];
    let mut events: Vec<(String, Value)> = std::fs::read_dir(root().join("events/execution"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name.clone(), sample(&name))
        })
        .collect();
    assert!(events.len() >= 5, "{} samples", events.len());
    // Every status the SDK knows, on each kind of event, and one of another source.
    for status in CommandStatus::values() {
        let mut event = sample("command-success.json");
        event["detail"]["status"] = Value::from(*status);
        events.push((format!("command {status}"), event));
    }
    for status in AutomationExecutionStatus::values() {
        let mut event = sample("automation-success.json");
        event["detail"]["Status"] = Value::from(*status);
        events.push((format!("automation {status}"), event));
    }
    let mut other = sample("command-success.json");
    other["source"] = Value::from("aws.ec2");
    events.push(("another source".to_owned(), other));

    let mut matched = 0;
    for (name, event) in &events {
        let acted_on = read_status_event(event).is_ok_and(|status| status.final_state.is_some());
        assert_eq!(
            matches(pattern, event),
            acted_on,
            "{name}: the rule and the function disagree"
        );
        matched += usize::from(acted_on);
    }
    assert!(matched >= 10, "only {matched} events matched");
}

#[test]
fn what_the_rule_and_lambda_cannot_deliver_lands_in_the_failure_queue() {
    let resolved = resolved("defaults");
    let (rule_name, _, target) = the_rule(resolved);
    let queue = "arn:aws:sqs:us-east-1:123456789012:remediate-executioneventsfailurequeue-sample";
    let invoke = &resource(resolved, "ExecutionEventsInvokeConfig")["Properties"];
    let function = invoke["FunctionName"].as_str().unwrap();
    assert!(
        target["Arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":function:{function}")),
        "the rule invokes the function: {target:#}"
    );
    assert_eq!(target["DeadLetterConfig"]["Arn"], queue);
    assert!(
        target["RetryPolicy"]["MaximumEventAgeInSeconds"].is_number(),
        "{target:#}"
    );
    assert_eq!(invoke["MaximumRetryAttempts"], 2);
    assert!(invoke["MaximumEventAgeInSeconds"].is_number(), "{invoke:#}");
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"],
        queue
    );
    let sqs = &resource(resolved, "ExecutionEventsFailureQueue")["Properties"];
    assert_eq!(sqs["SqsManagedSseEnabled"], true);
    // EventBridge sends through the queue's policy, for this rule only; Lambda through the role.
    let policy = &resource(resolved, "ExecutionEventsFailureQueuePolicy")["Properties"];
    let statements = policy["PolicyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{statements:#?}");
    let permission = resources_of(resolved, "AWS::Lambda::Permission")
        .into_iter()
        .find(|(name, _)| name.starts_with(&rule_name))
        .expect("the rule's invoke permission");
    let rule_arn = &permission.1["Properties"]["SourceArn"];
    assert!(rule_arn.as_str().unwrap().contains(":rule/"), "{rule_arn}");
    assert_eq!(
        statements[0]["Principal"],
        serde_json::json!({ "Service": "events.amazonaws.com" })
    );
    assert_eq!(statements[0]["Action"], "sqs:SendMessage");
    assert_eq!(statements[0]["Resource"], queue);
    assert_eq!(
        statements[0]["Condition"],
        serde_json::json!({ "ArnEquals": { "aws:SourceArn": rule_arn } })
    );
    let sends: Vec<String> = events_statements(resolved)
        .iter()
        .filter(|statement| as_strings(&statement["Action"]).contains(&"sqs:SendMessage".into()))
        .flat_map(|statement| as_strings(&statement["Resource"]))
        .collect();
    assert_eq!(sends, [queue]);
}

#[test]
fn execution_events_starts_with_the_environment_the_template_gives_it() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let environment = events_environment(resolved);
        let webhook = function_environment(resolved);
        assert_eq!(
            environment["PAGERDUTY_API_TOKEN_PARAMETER"], "/remediate/pagerduty/api-token",
            "{scenario}"
        );
        for shared in [
            "PAGERDUTY_API_TOKEN_PARAMETER",
            "PAGERDUTY_FROM_EMAIL",
            "LEDGER_TABLE",
            "RESULTS_TOPIC_ARN",
        ] {
            assert_eq!(
                environment.get(shared),
                webhook.get(shared),
                "{scenario}: {shared}"
            );
            assert!(environment.contains_key(shared), "{scenario}: {shared}");
        }
        // The same catalog as the functions that start runs: its report options decide the end.
        for catalog in ["RUNBOOKS_S3_URI", "RUNBOOKS_S3_EXPECTED_OWNER"] {
            assert_eq!(
                environment.get(catalog),
                webhook.get(catalog),
                "{scenario}: {catalog}"
            );
        }
        for unneeded in [
            "REMEDIATE_KILL_SWITCH_PARAMETER",
            "PAGERDUTY_WEBHOOK_SECRETS_PARAMETER",
            "PAGERDUTY_ACTION_TOKEN_PARAMETER",
            "RUNDECK_URL",
            "RUNDECK_TOKEN_PARAMETER",
        ] {
            assert!(
                !environment.contains_key(unneeded),
                "{scenario}: {unneeded}"
            );
        }
        // The cold start reads it as the function does (Lambda adds AWS_REGION).
        let env = Env(|name: &str| match name {
            "AWS_REGION" => Some("us-east-1".to_owned()),
            _ => environment
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
        let run = env
            .run_settings()
            .unwrap_or_else(|error| panic!("{scenario}: {error}"));
        assert_eq!(run.ledger_table, environment["LEDGER_TABLE"], "{scenario}");
        assert!(run.results_topic_arn.is_some(), "{scenario}");
        let source = env
            .catalog_source()
            .unwrap_or_else(|error| panic!("{scenario}: {error}"));
        assert_eq!(
            matches!(source, CatalogSource::S3 { .. }),
            environment.contains_key("RUNBOOKS_S3_URI"),
            "{scenario}"
        );
    }
    let source = std::fs::read_to_string(template()).unwrap();
    assert!(
        source.contains("ReservedConcurrentExecutions: !Ref ExecutionEventsReservedConcurrency")
    );
    let rundeck = resolved("rundeck");
    assert_eq!(
        resource(rundeck, "ExecutionEventsFunction")["Properties"]["ReservedConcurrentExecutions"],
        "3"
    );
}

#[test]
fn execution_events_reads_how_runs_ended_and_can_start_nothing() {
    let never = [
        "ssm:SendCommand",
        "ssm:StartAutomationExecution",
        "iam:PassRole",
        "ssm:DescribeInstanceInformation",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    ];
    // Actions the IAM reference gives no resource types: "*" is the only resource that works.
    let unscoped = [
        "ssm:ListCommands",
        "ssm:ListCommandInvocations",
        "ssm:GetCommandInvocation",
    ];
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/remediate-ledgertable-sample";
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let statements = events_statements(resolved);
        let mut granted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for statement in &statements {
            assert_eq!(statement["Effect"], "Allow", "{scenario}");
            for action in as_strings(&statement["Action"]) {
                granted
                    .entry(action)
                    .or_default()
                    .extend(as_strings(&statement["Resource"]));
            }
        }
        for action in never {
            assert!(
                !granted.contains_key(action),
                "[{scenario}] execution-events may {action}"
            );
        }
        for (action, resources) in &granted {
            if resources.iter().any(|resource| resource == "*") {
                assert!(
                    unscoped.contains(&action.as_str()),
                    "[{scenario}] {action} on *"
                );
            }
        }
        for action in unscoped {
            assert_eq!(granted[action], ["*"], "[{scenario}] {action}");
        }
        assert_eq!(
            granted["ssm:GetAutomationExecution"],
            ["arn:aws:ssm:us-east-1:123456789012:automation-execution/*"],
            "[{scenario}]"
        );
        assert_eq!(
            granted["dynamodb:Query"],
            [format!("{table}/index/by_handle")],
            "[{scenario}] the by_handle index only"
        );
        assert_eq!(granted["dynamodb:UpdateItem"], [table], "[{scenario}]");
        let update = statements
            .iter()
            .find(|statement| statement["Action"] == "dynamodb:UpdateItem")
            .unwrap();
        assert_eq!(
            update["Condition"],
            serde_json::json!({
                "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["TRIGGER#*"] }
            }),
            "[{scenario}] run items only"
        );
        assert_eq!(
            granted["ssm:GetParameter"],
            ["arn:aws:ssm:us-east-1:123456789012:parameter/remediate/pagerduty/api-token"],
            "[{scenario}] the API token only"
        );
        assert_eq!(
            granted["sns:Publish"],
            [events_environment(resolved)["RESULTS_TOPIC_ARN"]
                .as_str()
                .unwrap()],
            "[{scenario}]"
        );
        // The catalog grant is the webhook function's, statement for statement.
        let reads = |statements: Vec<Value>| -> Vec<Value> {
            statements
                .into_iter()
                .filter(|statement| {
                    as_strings(&statement["Action"]).contains(&"s3:GetObject".into())
                })
                .collect()
        };
        assert_eq!(
            reads(statements.clone()),
            reads(function_statements(resolved)),
            "[{scenario}]"
        );
    }
}
