//! The CDK stack is the SAM stack: under every scenario, the CDK app's template (cdk.rs) and
//! SAM's translation of infra/template.yaml, both resolved by iam_check.py, have the same
//! resources under the same logical ids with the same properties, the same IAM statements and the
//! same outputs. What may differ is listed here, each with its reason; anything else is drift,
//! and a deliberate difference is shown to fail the comparison.

use super::cdk::cdk_resolved;
use super::*;
use std::collections::BTreeSet;

/// Resources only CDK has, by type: its version-reporting bookkeeping (`cdk synth` through the
/// CLI adds it; the tests' app does not).
const CDK_ONLY_TYPES: [&str; 1] = ["AWS::CDK::Metadata"];

/// Parts of a resource left out of the comparison, and why:
/// - `Metadata`: SAM's build settings, CDK's construct paths. The checkov suppressions in it are
///   checked by checkov on each template, each with its reason;
/// - `DependsOn`: creation order only, implied by the references either way;
/// - a function's `Code`: SAM's CodeUri (the cargo-lambda build) and CDK's asset hold the same
///   binaries, built by `sam build` and by RustFunction;
/// - the tag `lambda:createdBy: SAM`, which SAM adds to every function and role it translates.
const IGNORED: [&str; 2] = ["Metadata", "DependsOn"];

/// Properties holding an IAM policy document, wherever they appear.
const POLICY_DOCUMENTS: [&str; 3] = ["PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"];

/// A value as CloudFormation reads it: numbers and booleans as their strings (SAM passes
/// parameter values as strings, CDK writes numbers), objects and lists item by item.
fn scalars(value: &Value) -> Value {
    match value {
        Value::Number(number) => Value::from(number.to_string()),
        Value::Bool(flag) => Value::from(flag.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(scalars).collect()),
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| (key.clone(), scalars(value)))
            .collect(),
        other => other.clone(),
    }
}

/// An IAM document as IAM reads it: one action, resource or principal is a list of one, and
/// the order of statements and of the items in them does not matter.
fn policy(document: &Value) -> Value {
    let sorted = |value: &Value| {
        let mut items = as_strings(value);
        items.sort();
        Value::from(items)
    };
    let mut statements: Vec<String> = document["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|statement| {
            let mut statement = statement.clone();
            let map = statement.as_object_mut().unwrap();
            for key in ["Action", "NotAction", "Resource", "NotResource"] {
                if let Some(value) = map.get(key) {
                    let value = sorted(value);
                    map.insert(key.to_owned(), value);
                }
            }
            if let Some(Value::Object(principal)) = map.get_mut("Principal") {
                for value in principal.values_mut() {
                    *value = sorted(value);
                }
            }
            statement.to_string()
        })
        .collect();
    statements.sort();
    serde_json::json!({ "Version": document["Version"], "Statement": statements })
}

/// `arn:aws:lambda:<region>:<account>:function:<name>` -> `<name>`: Lambda takes either.
fn function_name(value: &Value) -> Value {
    match value
        .as_str()
        .and_then(|arn| arn.split(":function:").nth(1))
    {
        Some(name) if value.as_str().unwrap().starts_with("arn:") => Value::from(name),
        _ => value.clone(),
    }
}

/// One resource as the comparison sees it.
pub(super) fn normalized(resource: &Value) -> Value {
    let mut resource = resource.clone();
    let map = resource.as_object_mut().unwrap();
    for key in IGNORED {
        map.remove(key);
    }
    // Delete is CloudFormation's default: CDK writes it, SAM leaves it out.
    for key in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if map.get(key).is_some_and(|policy| policy == "Delete") {
            map.remove(key);
        }
    }
    let kind = map["Type"].as_str().unwrap_or_default().to_owned();
    if let Some(Value::Object(properties)) = map.get_mut("Properties") {
        if kind == "AWS::Lambda::Function" {
            properties.remove("Code");
        }
        if let Some(Value::Array(tags)) = properties.get_mut("Tags") {
            tags.retain(|tag| tag["Key"] != "lambda:createdBy");
            if tags.is_empty() {
                properties.remove("Tags");
            }
        }
        for key in POLICY_DOCUMENTS {
            if let Some(document) = properties.get(key) {
                let document = policy(document);
                properties.insert(key.to_owned(), document);
            }
        }
        if let Some(Value::Array(policies)) = properties.get_mut("Policies") {
            for inline in policies {
                inline["PolicyDocument"] = policy(&inline["PolicyDocument"]);
            }
        }
        for key in ["FunctionName", "TargetFunctionArn"] {
            if matches!(
                kind.as_str(),
                "AWS::Lambda::Permission" | "AWS::Lambda::Url"
            ) && let Some(value) = properties.get(key)
            {
                let name = function_name(value);
                properties.insert(key.to_owned(), name);
            }
        }
        if let Some(Value::String(body)) = properties.get("DashboardBody") {
            let body: Value = serde_json::from_str(body).expect("a dashboard body is JSON");
            properties.insert("DashboardBody".to_owned(), body);
        }
    }
    scalars(&resource)
}

/// Where two values differ, path by path.
fn differences(path: &str, sam: &Value, cdk: &Value, found: &mut Vec<String>) {
    match (sam, cdk) {
        (Value::Object(left), Value::Object(right)) => {
            let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
            for key in keys {
                match (left.get(key), right.get(key)) {
                    (Some(l), Some(r)) => differences(&format!("{path}.{key}"), l, r, found),
                    (Some(l), None) => found.push(format!("{path}.{key}: only SAM has {l}")),
                    (None, Some(r)) => found.push(format!("{path}.{key}: only CDK has {r}")),
                    (None, None) => unreachable!(),
                }
            }
        }
        (Value::Array(left), Value::Array(right)) if left.len() == right.len() => {
            for (index, (l, r)) in left.iter().zip(right).enumerate() {
                differences(&format!("{path}[{index}]"), l, r, found);
            }
        }
        _ if sam != cdk => found.push(format!("{path}: SAM {sam}, CDK {cdk}")),
        _ => {}
    }
}

/// Every difference between a resolved SAM template and a resolved CDK template.
pub(super) fn drift(sam: &Value, cdk: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let resources = |template: &Value| template["Resources"].as_object().unwrap().clone();
    let (sam_resources, cdk_resources) = (resources(sam), resources(cdk));
    let ids: BTreeSet<&String> = sam_resources.keys().chain(cdk_resources.keys()).collect();
    for id in ids {
        match (sam_resources.get(id), cdk_resources.get(id)) {
            (Some(s), Some(c)) => differences(id, &normalized(s), &normalized(c), &mut found),
            (Some(s), None) => found.push(format!("{id}: only in SAM ({})", s["Type"])),
            (None, Some(c)) if CDK_ONLY_TYPES.contains(&c["Type"].as_str().unwrap_or("")) => {}
            (None, Some(c)) => found.push(format!("{id}: only in CDK ({})", c["Type"])),
            (None, None) => unreachable!(),
        }
    }
    // Outputs: the same names, values and descriptions (SAM's condition is resolved away).
    let outputs = |template: &Value| -> Value {
        let mut outputs = template["Outputs"].clone();
        for output in outputs.as_object_mut().unwrap().values_mut() {
            output.as_object_mut().unwrap().remove("Condition");
        }
        scalars(&outputs)
    };
    differences("Outputs", &outputs(sam), &outputs(cdk), &mut found);
    found
}

#[test]
fn the_cdk_stack_is_the_sam_stack_in_every_scenario() {
    for scenario in ALL_SCENARIOS {
        let found = drift(resolved(scenario), cdk_resolved(scenario));
        assert!(
            found.is_empty(),
            "[{scenario}] infra/cdk and infra/template.yaml differ:\n{}",
            found.join("\n")
        );
    }
}

/// (resource, property path) pairs the comparison must see in both templates: if normalizing
/// ever dropped one, the comparison would pass on nothing.
const KEY_PROPERTIES: [(&str, &str); 24] = [
    ("PagerDutyWebhookFunction", "/Properties/Runtime"),
    ("PagerDutyWebhookFunction", "/Properties/Architectures"),
    ("PagerDutyWebhookFunction", "/Properties/MemorySize"),
    ("PagerDutyWebhookFunction", "/Properties/Timeout"),
    ("PagerDutyWebhookFunction", "/Properties/TracingConfig/Mode"),
    (
        "PagerDutyWebhookFunction",
        "/Properties/LoggingConfig/LogFormat",
    ),
    (
        "PagerDutyWebhookFunction",
        "/Properties/Environment/Variables/LEDGER_TABLE",
    ),
    (
        "PagerDutyWebhookFunction",
        "/Properties/ReservedConcurrentExecutions",
    ),
    ("PagerDutyWebhookFunctionUrl", "/Properties/AuthType"),
    ("SnsAlarmFunctionAlarmNotifications", "/Properties/TopicArn"),
    (
        "ExecutionEventsFunctionRunEnded",
        "/Properties/EventPattern/$or",
    ),
    (
        "ExecutionEventsFunctionRunEnded",
        "/Properties/Targets/0/DeadLetterConfig",
    ),
    (
        "ReconcilerFunctionEveryFiveMinutes",
        "/Properties/ScheduleExpression",
    ),
    ("LedgerTable", "/Properties/KeySchema"),
    ("LedgerTable", "/Properties/GlobalSecondaryIndexes"),
    ("LedgerTable", "/Properties/TimeToLiveSpecification"),
    (
        "LedgerTable",
        "/Properties/PointInTimeRecoverySpecification",
    ),
    ("LedgerTable", "/Properties/BillingMode"),
    ("LedgerTable", "/DeletionPolicy"),
    ("ResultsTopic", "/Properties/KmsMasterKeyId"),
    ("TopicKey", "/Properties/KeyPolicy/Statement"),
    ("PagerDutyWebhookErrorsAlarm", "/Properties/MetricName"),
    ("Dashboard", "/Properties/DashboardBody/widgets"),
    (
        "PagerDutyWebhookFunctionRole",
        "/Properties/Policies/0/PolicyDocument/Statement",
    ),
];

#[test]
fn the_comparison_sees_every_key_property_in_both_templates() {
    let (sam, cdk) = (resolved("defaults"), cdk_resolved("defaults"));
    for (resource, property) in KEY_PROPERTIES {
        for (side, template) in [("SAM", sam), ("CDK", cdk)] {
            let value = normalized(&template["Resources"][resource]);
            let found = value.pointer(property);
            assert!(
                found.is_some_and(|found| !found.is_null() && found != &Value::from("")),
                "{side}: {resource}{property} is not compared"
            );
        }
    }
    // Every IAM statement is compared: the webhook role alone holds ten.
    let statements =
        normalized(&sam["Resources"]["PagerDutyWebhookFunctionRole"])["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .len();
    assert!(statements >= 10, "{statements}");
}

#[test]
fn a_deliberate_difference_is_drift() {
    let sam = resolved("rundeck");
    let cdk = cdk_resolved("rundeck");
    assert!(drift(sam, cdk).is_empty());
    type Mutation = fn(&mut Value);
    let mutations: [(&str, Mutation, &str); 14] = [
        (
            "more memory",
            |t| t["Resources"]["SnsAlarmFunction"]["Properties"]["MemorySize"] = 512.into(),
            "SnsAlarmFunction.Properties.MemorySize",
        ),
        (
            "another runtime",
            |t| {
                t["Resources"]["ReconcilerFunction"]["Properties"]["Runtime"] =
                    "provided.al2".into()
            },
            "ReconcilerFunction.Properties.Runtime",
        ),
        (
            "an environment value",
            |t| {
                t["Resources"]["RundeckNotificationFunction"]["Properties"]["Environment"]["Variables"]
                    ["RUNDECK_API_VERSION"] = "41".into()
            },
            "RUNDECK_API_VERSION",
        ),
        (
            "one more action",
            |t| {
                let statements = &mut t["Resources"]["ExecutionEventsFunctionRole"]["Properties"]["Policies"]
                    [0]["PolicyDocument"]["Statement"];
                statements[0]["Action"]
                    .as_array_mut()
                    .unwrap()
                    .push("ssm:SendCommand".into());
            },
            "ExecutionEventsFunctionRole.Properties.Policies[0].PolicyDocument.Statement",
        ),
        (
            "a statement less",
            |t| {
                t["Resources"]["ReconcilerFunctionRole"]["Properties"]["Policies"][0]
                    ["PolicyDocument"]["Statement"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
            "ReconcilerFunctionRole.Properties.Policies[0].PolicyDocument.Statement",
        ),
        (
            "a wider resource",
            |t| {
                t["Resources"]["TopicKey"]["Properties"]["KeyPolicy"]["Statement"][1]["Action"] =
                    "kms:*".into()
            },
            "TopicKey.Properties.KeyPolicy",
        ),
        (
            "another schedule",
            |t| {
                t["Resources"]["ReconcilerFunctionEveryFiveMinutes"]["Properties"]["ScheduleExpression"] =
                    "rate(1 minute)".into()
            },
            "ScheduleExpression",
        ),
        (
            "a status less in the rule",
            |t| {
                t["Resources"]["ExecutionEventsFunctionRunEnded"]["Properties"]["EventPattern"]
                    ["$or"][0]["detail"]["status"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
            "EventPattern",
        ),
        (
            "a renamed logical id",
            |t| {
                let resources = t["Resources"].as_object_mut().unwrap();
                let alarm = resources.remove("ReconcilerErrorsAlarm").unwrap();
                resources.insert("ReconcilerErrors".to_owned(), alarm);
            },
            "ReconcilerErrorsAlarm: only in SAM",
        ),
        (
            "no point-in-time recovery",
            |t| {
                t["Resources"]["LedgerTable"]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] =
                    false.into()
            },
            "PointInTimeRecoveryEnabled",
        ),
        (
            "a dashboard metric renamed",
            |t| {
                let body = &mut t["Resources"]["Dashboard"]["Properties"]["DashboardBody"];
                *body = body
                    .as_str()
                    .unwrap()
                    .replace("\"Triggers\"", "\"Trigger\"")
                    .into();
            },
            "Dashboard.Properties.DashboardBody",
        ),
        (
            "a function without the extra CA's layer",
            |t| {
                t["Resources"]["ReconcilerFunction"]["Properties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("Layers");
            },
            "ReconcilerFunction.Properties.Layers: only SAM has",
        ),
        (
            "another extra CA file",
            |t| {
                t["Resources"]["SnsAlarmFunction"]["Properties"]["Environment"]["Variables"]["REMEDIATE_CA_FILE"] =
                    "/opt/ca/other.pem".into()
            },
            "SnsAlarmFunction.Properties.Environment.Variables.REMEDIATE_CA_FILE",
        ),
        (
            "an output's value",
            |t| t["Outputs"]["WebhookUrl"]["Value"] = "https://example.com/".into(),
            "Outputs.WebhookUrl.Value",
        ),
    ];
    for (what, mutate, expected) in mutations {
        let mut mutated = cdk.clone();
        mutate(&mut mutated);
        let found = drift(sam, &mutated);
        assert!(
            found.iter().any(|difference| difference.contains(expected)),
            "{what} went unnoticed: {found:#?}"
        );
    }
    // CDK's own bookkeeping is not drift; any other extra resource is.
    let mut extra = cdk.clone();
    extra["Resources"]["CDKMetadata"] =
        serde_json::json!({ "Type": "AWS::CDK::Metadata", "Properties": {} });
    assert!(drift(sam, &extra).is_empty());
    extra["Resources"]["Stray"] = serde_json::json!({ "Type": "AWS::SQS::Queue" });
    assert_eq!(
        drift(sam, &extra),
        ["Stray: only in CDK (\"AWS::SQS::Queue\")"]
    );
}
