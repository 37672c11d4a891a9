//! What the template gives people to watch: tracing and JSON logs on every function, alarms on
//! each function's errors and throttles and on each failure queue (to the operator topic, if
//! any), a dashboard whose every metric is one the code emits, the topics' key that CloudWatch
//! and EventBridge may use, and the outputs to paste into PagerDuty. Also: SAM's translation of
//! the template (what CloudFormation deploys) is cfn-lint clean, which the template itself being
//! clean does not prove.

use super::*;
use remediate_core::finish::FinalState;
use remediate_core::metrics;
use remediate_core::outcome::Outcome;
use std::collections::{BTreeMap, BTreeSet};

const XRAY: &str = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess";
const BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
const OPERATOR_TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:ops-oncall";

/// (logical id, resource) of every resource of a type.
pub(super) fn of_type<'a>(resolved: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resolved["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.as_str(), resource))
        .collect()
}

/// The functions' names as the template resolves them (what `Ref` gives, and the metrics'
/// `FunctionName`), by logical id.
fn function_names(resolved: &Value) -> BTreeMap<String, String> {
    of_type(resolved, "AWS::Lambda::Function")
        .into_iter()
        .map(|(logical, _)| {
            let name = format!("remediate-{}-sample", logical.to_ascii_lowercase());
            (logical.to_owned(), name)
        })
        .collect()
}

#[test]
fn every_function_is_traced_and_logs_json_to_a_log_group_of_its_own() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let functions = of_type(resolved, "AWS::Lambda::Function");
        assert_eq!(
            functions.len(),
            if scenario == "rundeck" { 5 } else { 4 },
            "{scenario}"
        );
        let log_groups: BTreeSet<&str> = of_type(resolved, "AWS::Logs::LogGroup")
            .into_iter()
            .map(|(_, group)| group["Properties"]["LogGroupName"].as_str().unwrap())
            .collect();
        let mut used = BTreeSet::new();
        for (logical, function) in functions {
            let properties = &function["Properties"];
            assert_eq!(
                properties["TracingConfig"]["Mode"], "Active",
                "{scenario}: {logical}"
            );
            assert_eq!(properties["LoggingConfig"]["LogFormat"], "JSON");
            let group = properties["LoggingConfig"]["LogGroup"].as_str().unwrap();
            assert!(log_groups.contains(group), "{scenario}: {logical}: {group}");
            assert!(used.insert(group), "{scenario}: {group} shared");
            // Named after the stack, not the function: the function names its log group, so a
            // log group named after the function would be a circular dependency.
            assert!(group.starts_with("/aws/lambda/remediate/"), "{group}");
            let role = format!("{logical}Role");
            let managed: BTreeSet<String> =
                as_strings(&resolved["Resources"][&role]["Properties"]["ManagedPolicyArns"])
                    .into_iter()
                    .collect();
            // Tracing adds AWS's X-Ray write-only policy (PutTraceSegments, PutTelemetryRecords
            // and the sampling reads: X-Ray actions take no resource types, so "*"), and
            // nothing else is managed.
            assert_eq!(
                managed,
                BTreeSet::from([BASIC.to_owned(), XRAY.to_owned()]),
                "{scenario}: {role}"
            );
        }
        assert_eq!(
            used.len(),
            log_groups.len(),
            "{scenario}: an unused log group"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// cfn-lint on SAM's translation

/// cfn-lint over templates as aws-sam-translator translates them: (exit code, report).
pub(super) fn cfn_lint_translated(source: &Path, scenarios: Option<&Path>) -> (i32, String) {
    let mut command = Command::new(tool(".tools/venv/bin/python"));
    command.arg(root().join("tests/iam_check.py")).arg(source);
    if let Some(scenarios) = scenarios {
        command.arg("--scenarios").arg(scenarios);
    }
    let output = command
        .args(["--translated", "defaults"])
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", text(&output));
    let file = std::env::temp_dir().join(format!(
        "remediate-translated-{}.json",
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&file, &output.stdout).unwrap();
    let lint = Command::new(tool(".tools/venv/bin/cfn-lint"))
        .arg(&file)
        .output()
        .expect("cfn-lint runs");
    std::fs::remove_file(&file).ok();
    (lint.status.code().unwrap_or(-1), text(&lint))
}

#[test]
fn what_cloudformation_deploys_is_cfn_lint_clean() {
    // One translation covers every branch: SAM keeps the template's conditions as they are.
    let (code, report) = cfn_lint_translated(&template(), Some(&scenarios()));
    assert_eq!(
        code, 0,
        "cfn-lint found problems in SAM's translation:\n{report}"
    );
}

#[test]
fn cfn_lint_on_the_translation_sees_what_it_misses_in_the_sam_template() {
    let fixture = root().join("tests/fixtures/translated/log-group-cycle-and-join-delimiter.yaml");
    let direct = Command::new(tool(".tools/venv/bin/cfn-lint"))
        .arg(&fixture)
        .output()
        .expect("cfn-lint runs");
    assert!(direct.status.success(), "{}", text(&direct));
    let (code, report) = cfn_lint_translated(&fixture, None);
    assert_ne!(code, 0, "{report}");
    let source = std::fs::read_to_string(&fixture).unwrap();
    for expected in source.lines().filter_map(|l| l.strip_prefix("# expect: ")) {
        assert!(report.contains(expected), "{expected} not found:\n{report}");
    }
}

// ---------------------------------------------------------------------------------------------
// Alarms

struct Alarm<'a> {
    logical: &'a str,
    properties: &'a Value,
}

impl Alarm<'_> {
    fn dimension(&self, name: &str) -> Option<&str> {
        self.properties["Dimensions"]
            .as_array()?
            .iter()
            .find(|dimension| dimension["Name"] == name)
            .and_then(|dimension| dimension["Value"].as_str())
    }
}

fn alarms(resolved: &Value) -> Vec<Alarm<'_>> {
    of_type(resolved, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(logical, alarm)| Alarm {
            logical,
            properties: &alarm["Properties"],
        })
        .collect()
}

#[test]
fn every_function_and_failure_queue_has_its_alarms_and_they_notify_the_operator_topic() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let alarms = alarms(resolved);
        let mut expected = 0;
        for (logical, name) in function_names(resolved) {
            for metric in ["Errors", "Throttles"] {
                let found: Vec<&Alarm> = alarms
                    .iter()
                    .filter(|alarm| {
                        alarm.properties["Namespace"] == "AWS/Lambda"
                            && alarm.properties["MetricName"] == metric
                            && alarm.dimension("FunctionName") == Some(&name)
                    })
                    .collect();
                assert_eq!(found.len(), 1, "{scenario}: {logical} {metric}");
                let alarm = found[0].properties;
                assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
                assert_eq!(alarm["Threshold"], 1, "{scenario}: {logical} {metric}");
                assert_eq!(alarm["TreatMissingData"], "notBreaching");
                expected += 1;
            }
        }
        for (logical, _) in of_type(resolved, "AWS::SQS::Queue") {
            let queue = format!("remediate-{}-sample", logical.to_ascii_lowercase());
            let found: Vec<&Alarm> = alarms
                .iter()
                .filter(|alarm| {
                    alarm.properties["Namespace"] == "AWS/SQS"
                        && alarm.properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
                        && alarm.dimension("QueueName") == Some(&queue)
                })
                .collect();
            assert_eq!(found.len(), 1, "{scenario}: {logical}");
            assert_eq!(found[0].properties["Threshold"], 1);
            expected += 1;
        }
        assert_eq!(alarms.len(), expected, "{scenario}: an alarm on nothing");
        let alarm_topic = resolved["Outputs"]["AlarmTopicArnOut"]["Value"].clone();
        for alarm in &alarms {
            let name = alarm.properties["AlarmName"].as_str().unwrap();
            assert!(name.starts_with("remediate-"), "{name}");
            for actions in ["AlarmActions", "OKActions"] {
                let wanted = if scenario == "existing-alarm-topic" {
                    serde_json::json!([OPERATOR_TOPIC])
                } else {
                    Value::Null
                };
                assert_eq!(
                    alarm.properties[actions], wanted,
                    "{scenario}: {} {actions}",
                    alarm.logical
                );
                // remediate's own alarms never feed remediate.
                assert!(
                    !as_strings(&alarm.properties[actions])
                        .contains(&alarm_topic.as_str().unwrap().to_owned()),
                    "{scenario}: {}",
                    alarm.logical
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard

/// Every metric of a dashboard body: (namespace, name, dimensions), options dropped.
fn dashboard_metrics(body: &Value) -> Vec<(String, String, BTreeMap<String, String>)> {
    let mut found = Vec::new();
    for widget in body["widgets"].as_array().into_iter().flatten() {
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let parts: Vec<&str> = metric
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let dimensions = parts[2..]
                .chunks(2)
                .map(|pair| {
                    (
                        pair[0].to_owned(),
                        pair.get(1).copied().unwrap_or("").to_owned(),
                    )
                })
                .collect();
            found.push((parts[0].to_owned(), parts[1].to_owned(), dimensions));
        }
    }
    found
}

/// An EMF line as CloudWatch reads it: (namespace, metric, dimensions with their values).
fn emf_metric(line: &str) -> (String, String, BTreeMap<String, String>) {
    let line: Value = serde_json::from_str(line).unwrap();
    let declared = &line["_aws"]["CloudWatchMetrics"][0];
    let dimensions = as_strings(&declared["Dimensions"][0])
        .into_iter()
        .map(|name| {
            let value = line[&name].as_str().unwrap().to_owned();
            (name, value)
        })
        .collect();
    (
        declared["Namespace"].as_str().unwrap().to_owned(),
        declared["Metrics"][0]["Name"].as_str().unwrap().to_owned(),
        dimensions,
    )
}

/// What is wrong with a dashboard, given the resolved template it belongs to: a metric of the
/// functions' namespace that the code does not emit (from the code's own EMF lines), an outcome
/// or end state left out, a Lambda or SQS metric of something the stack does not have, a log
/// query over the wrong log groups or fields, an alarm missing from the alarm widget.
pub(super) fn dashboard_problems(body: &Value, resolved: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut emitted = BTreeSet::new();
    for function in [pagerduty_webhook::FUNCTION_NAME, sns_alarm::FUNCTION_NAME] {
        for outcome in Outcome::ALL {
            emitted.insert(emf_metric(&metrics::outcome_line(
                function, outcome, None, 0,
            )));
        }
    }
    for function in [
        execution_events::FUNCTION_NAME,
        reconciler::FUNCTION_NAME,
        rundeck_notification::FUNCTION_NAME,
    ] {
        for state in FinalState::ALL {
            emitted.insert(emf_metric(&metrics::run_ended_line(function, state, 0)));
        }
    }
    let functions: BTreeSet<String> = function_names(resolved).into_values().collect();
    let queues: BTreeSet<String> = of_type(resolved, "AWS::SQS::Queue")
        .into_iter()
        .map(|(logical, _)| format!("remediate-{}-sample", logical.to_ascii_lowercase()))
        .collect();
    let mut shown = BTreeSet::new();
    let mut lambda: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sqs = BTreeSet::new();
    for (namespace, name, dimensions) in dashboard_metrics(body) {
        let metric = (namespace.clone(), name.clone(), dimensions.clone());
        match namespace.as_str() {
            metrics::NAMESPACE => {
                if !emitted.contains(&metric) {
                    problems.push(format!("the code emits no {metric:?}"));
                }
                shown.insert(metric);
            }
            "AWS/Lambda" => match dimensions.get("FunctionName") {
                Some(function) if dimensions.len() == 1 && functions.contains(function) => {
                    lambda.entry(name).or_default().insert(function.clone());
                }
                _ => problems.push(format!("no such function: {metric:?}")),
            },
            "AWS/SQS" => match dimensions.get("QueueName") {
                Some(queue)
                    if name == "ApproximateNumberOfMessagesVisible" && queues.contains(queue) =>
                {
                    sqs.insert(queue.clone());
                }
                _ => problems.push(format!("no such queue metric: {metric:?}")),
            },
            _ => problems.push(format!("unexpected namespace: {metric:?}")),
        }
    }
    for missing in emitted.difference(&shown) {
        problems.push(format!("not on the dashboard: {missing:?}"));
    }
    for name in ["Errors", "Throttles", "Duration"] {
        if lambda.get(name) != Some(&functions) {
            problems.push(format!(
                "{name} of {:?}, not of every function",
                lambda.get(name)
            ));
        }
    }
    if lambda.len() != 3 {
        problems.push(format!("Lambda metrics: {:?}", lambda.keys()));
    }
    if sqs != queues {
        problems.push(format!("queues shown: {sqs:?}, the stack's: {queues:?}"));
    }
    let widgets = body["widgets"].as_array().cloned().unwrap_or_default();
    let queries: Vec<&str> = widgets
        .iter()
        .filter(|widget| widget["type"] == "log")
        .filter_map(|widget| widget["properties"]["query"].as_str())
        .collect();
    let groups_of = |function: &str| {
        resolved["Resources"][function]["Properties"]["LoggingConfig"]["LogGroup"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let wanted_sources = format!(
        "SOURCE '{}' | SOURCE '{}' |",
        groups_of("PagerDutyWebhookFunction"),
        groups_of("SnsAlarmFunction")
    );
    let wanted = format!(
        "{wanted_sources} filter ispresent({runbook})\n| stats sum({triggers}) as triggers by \
         {runbook}, {outcome}, {function}\n| sort triggers desc",
        runbook = metrics::RUNBOOK,
        triggers = metrics::TRIGGERS,
        outcome = metrics::OUTCOME,
        function = metrics::FUNCTION,
    );
    if queries != [wanted.as_str()] {
        problems.push(format!(
            "the runbook table reads {queries:?}, not {wanted:?} (the code's field names)"
        ));
    }
    let listed: BTreeSet<String> = widgets
        .iter()
        .filter(|widget| widget["type"] == "alarm")
        .flat_map(|widget| as_strings(&widget["properties"]["alarms"]))
        .collect();
    let alarms: BTreeSet<String> = alarms(resolved)
        .iter()
        .map(|alarm| {
            let name = alarm.properties["AlarmName"].as_str().unwrap();
            format!("arn:aws:cloudwatch:us-east-1:{SAMPLE_ACCOUNT}:alarm:{name}")
        })
        .collect();
    if listed != alarms {
        problems.push(format!("alarm widget: {listed:?}, alarms: {alarms:?}"));
    }
    problems
}

pub(super) fn dashboard_body(resolved: &Value) -> Value {
    let dashboards = of_type(resolved, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one dashboard");
    serde_json::from_str(
        dashboards[0].1["Properties"]["DashboardBody"]
            .as_str()
            .expect("the body resolves to a string"),
    )
    .expect("the body is JSON")
}

#[test]
fn the_dashboard_shows_every_metric_the_code_emits_and_nothing_else() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let problems = dashboard_problems(&dashboard_body(resolved), resolved);
        assert!(problems.is_empty(), "{scenario}: {problems:#?}");
    }
}

#[test]
fn a_dashboard_drifting_from_the_code_is_refused() {
    let resolved = resolved("rundeck");
    let body = dashboard_body(resolved).to_string();
    for (what, from, to, expected) in [
        (
            "a renamed metric",
            "\"Triggers\"",
            "\"Trigger\"",
            "the code emits no",
        ),
        (
            "an outcome renamed",
            "\"dry_run\"",
            "\"dryrun\"",
            "not on the dashboard",
        ),
        (
            "an end state left out",
            "\"timed_out\"",
            "\"late\"",
            "the code emits no",
        ),
        (
            "a dimension renamed",
            "\"RunState\"",
            "\"State\"",
            "the code emits no",
        ),
        (
            "a stranger's function",
            "rundecknotificationfunction-sample",
            "x",
            "no such function",
        ),
        (
            "another log group",
            "/pagerduty-webhook'",
            "/x'",
            "the runbook table reads",
        ),
        (
            "a field renamed",
            "by Runbook,",
            "by Book,",
            "the runbook table reads",
        ),
    ] {
        let mutated: Value = serde_json::from_str(&body.replace(from, to)).unwrap();
        let problems = dashboard_problems(&mutated, resolved);
        assert!(
            problems.iter().any(|problem| problem.contains(expected)),
            "{what} went unnoticed: {problems:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The topics' key and the outputs

#[test]
fn the_topics_key_lets_cloudwatch_and_eventbridge_publish_and_the_functions_use_it() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let key = &resolved["Resources"]["TopicKey"]["Properties"];
        assert_eq!(key["EnableKeyRotation"], true);
        let statements = key["KeyPolicy"]["Statement"].as_array().unwrap();
        for service in ["cloudwatch.amazonaws.com", "events.amazonaws.com"] {
            let grants: Vec<&Value> = statements
                .iter()
                .filter(|s| as_strings(&s["Principal"]["Service"]).contains(&service.into()))
                .collect();
            assert_eq!(grants.len(), 1, "{scenario}: {service}");
            let grant = grants[0];
            assert_eq!(grant["Effect"], "Allow");
            let actions: BTreeSet<String> = as_strings(&grant["Action"]).into_iter().collect();
            assert!(
                actions.contains("kms:Decrypt") && actions.contains("kms:GenerateDataKey"),
                "{scenario}: {service}: {actions:?}"
            );
            // KMS requests SNS makes for EventBridge deliveries carry no aws:Source* keys: a
            // condition on them would drop every finding without a word.
            let conditions = grant["Condition"].to_string();
            assert!(
                !conditions.contains("aws:Source"),
                "{scenario}: {conditions}"
            );
        }
        // The account's own principals get the key through IAM (the functions' roles grant
        // GenerateDataKey and Decrypt via SNS only): the key policy must let IAM grant them.
        let account = statements
            .iter()
            .find(|s| s["Principal"]["AWS"] == format!("arn:aws:iam::{SAMPLE_ACCOUNT}:root"))
            .expect("the account administers the key");
        let actions = as_strings(&account["Action"]);
        for action in ["kms:GenerateDataKey", "kms:Decrypt", "kms:PutKeyPolicy"] {
            assert!(actions.contains(&action.into()), "{scenario}: {action}");
        }
        let key_id =
            format!("arn:aws:kms:us-east-1:{SAMPLE_ACCOUNT}:key/remediate-topickey-sample");
        assert_eq!(
            resolved["Resources"]["ResultsTopic"]["Properties"]["KmsMasterKeyId"],
            key_id
        );
        if scenario == "existing-alarm-topic" {
            assert!(resolved["Resources"].get("AlarmTopic").is_none());
            continue;
        }
        assert_eq!(
            resolved["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"],
            key_id
        );
        let policy = &resolved["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"];
        let publish = &policy["Statement"][0];
        assert_eq!(publish["Action"], "sns:Publish");
        assert_eq!(
            as_strings(&publish["Principal"]["Service"]),
            ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
        );
        assert_eq!(
            publish["Condition"],
            serde_json::json!({ "StringEquals": { "aws:SourceAccount": SAMPLE_ACCOUNT } })
        );
    }
}

#[test]
fn the_outputs_are_the_urls_to_paste_into_pagerduty_and_the_dashboards_link() {
    let resolved = resolved("defaults");
    let outputs = &resolved["Outputs"];
    let webhook = outputs["WebhookUrl"]["Value"].as_str().unwrap();
    assert!(
        webhook.starts_with("https://") && webhook.ends_with(".lambda-url.us-east-1.on.aws/"),
        "{webhook}"
    );
    assert_eq!(
        outputs["ActionUrlExample"]["Value"],
        format!("{webhook}actions/restart-web")
    );
    let dashboard =
        of_type(resolved, "AWS::CloudWatch::Dashboard")[0].1["Properties"]["DashboardName"]
            .as_str()
            .unwrap();
    assert_eq!(
        outputs["DashboardUrl"]["Value"],
        format!(
            "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/{dashboard}"
        )
    );
}
