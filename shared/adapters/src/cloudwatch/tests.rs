use super::*;
use proptest::prelude::*;
use serde_json::{Value, json};

const SINGLE: &str =
    include_str!("../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-single-metric.json");
const MULTIPLE: &str = include_str!(
    "../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-multiple-metrics.json"
);
const COMPOSITE: &str =
    include_str!("../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-composite.json");
const OK_NULL_DESCRIPTION: &str = include_str!(
    "../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-ok-null-description.json"
);
const TOKYO: &str =
    include_str!("../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-tokyo.json");

/// `Records[0].Sns.Message` of an SNS event fixture.
fn sns_message(record: &str) -> String {
    let event: Value = serde_json::from_str(record).unwrap();
    event["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn parse_fixture(record: &str) -> AlarmNotification {
    parse_alarm(&sns_message(record)).unwrap()
}

/// The notification of the Tokyo fixture as a value, for tests that change one field.
fn tokyo() -> Value {
    serde_json::from_str(&sns_message(TOKYO)).unwrap()
}

fn parse_value(value: &Value) -> Result<AlarmNotification, NotAnAlarm> {
    parse_alarm(&value.to_string())
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn aws_single_metric_sample() {
    let parsed = parse_fixture(SINGLE);
    assert_eq!(parsed.alarm.name, "EXAMPLE");
    assert_eq!(parsed.alarm.state, "ALARM");
    assert_eq!(parsed.old_state.as_deref(), Some("INSUFFICIENT_DATA"));
    assert_eq!(parsed.kind, AlarmKind::SingleMetric);
    assert_eq!(parsed.alarm.namespace.as_deref(), Some("AWS/EC2"));
    assert_eq!(parsed.alarm.metric.as_deref(), Some("NetworkOut"));
    assert_eq!(parsed.alarm.dimensions["InstanceId"], "TestInstance");
    assert_eq!(parsed.changed_at, at("2015-06-03T17:43:27.123Z"));
    // The sample's placeholders are neither a region nor an account id.
    assert_eq!(parsed.alarm.region, None);
    assert_eq!(parsed.alarm.account.as_deref(), Some("123456789012"));
    assert!(parsed.reason.unwrap().starts_with("Threshold Crossed"));
}

#[test]
fn aws_multiple_metrics_sample_is_metric_math() {
    let parsed = parse_fixture(MULTIPLE);
    assert_eq!(
        parsed.kind,
        AlarmKind::MetricMath {
            expression: Some("m1*1".to_owned())
        }
    );
    assert_eq!(parsed.alarm.namespace.as_deref(), Some("AWS/EC2"));
    assert_eq!(parsed.alarm.metric.as_deref(), Some("NetworkOut"));
    assert_eq!(parsed.alarm.dimensions["InstanceId"], "TestInstance");
    // AWSAccountId "EXAMPLE" and an ARN with placeholders: the raw id is all there is.
    assert_eq!(parsed.alarm.account.as_deref(), Some("EXAMPLE"));
}

#[test]
fn composite_alarm_has_its_rule_and_no_metric() {
    let parsed = parse_fixture(COMPOSITE);
    assert_eq!(
        parsed.kind,
        AlarmKind::Composite {
            rule: r#"ALARM("cpu-high") AND ALARM("disk-full")"#.to_owned()
        }
    );
    assert_eq!(parsed.alarm.name, "service-degraded");
    assert_eq!(parsed.alarm.namespace, None);
    assert_eq!(parsed.alarm.metric, None);
    assert!(parsed.alarm.dimensions.is_empty());
    assert_eq!(parsed.alarm.region.as_deref(), Some("eu-west-1"));
    assert_eq!(parsed.alarm.account.as_deref(), Some("123456789012"));
}

#[test]
fn ok_transition_with_null_description_and_no_treat_missing_data() {
    let parsed = parse_fixture(OK_NULL_DESCRIPTION);
    assert_eq!(parsed.alarm.state, "OK");
    assert_eq!(parsed.old_state.as_deref(), Some("ALARM"));
    assert_eq!(parsed.description, None);
    assert_eq!(parsed.alarm.region.as_deref(), Some("us-east-2"));
    assert_eq!(
        parsed.alarm.dimensions["LoadBalancer"],
        "app/orders-api/50dc6c495c0c9188"
    );
}

#[test]
fn tokyo_display_name_region_and_lowercase_dimension_keys() {
    let parsed = parse_fixture(TOKYO);
    assert_eq!(parsed.alarm.region.as_deref(), Some("ap-northeast-1"));
    assert_eq!(parsed.alarm.arn, None);
    assert_eq!(parsed.alarm.account.as_deref(), Some("123456789012"));
    assert_eq!(
        parsed.alarm.dimensions,
        BTreeMap::from([
            ("FunctionName".to_owned(), "checkout".to_owned()),
            ("Resource".to_owned(), "live".to_owned()),
        ])
    );
}

#[test]
fn description_absent_and_reason_absent_are_none() {
    let mut message = tokyo();
    let object = message.as_object_mut().unwrap();
    object.remove("AlarmDescription");
    object.remove("NewStateReason");
    let parsed = parse_value(&message).unwrap();
    assert_eq!((parsed.description, parsed.reason), (None, None));
}

#[test]
fn dimension_keys_in_either_casing() {
    let mut message = tokyo();
    message["Trigger"]["Dimensions"] = json!([{"Name": "FunctionName", "Value": "checkout"}]);
    let parsed = parse_value(&message).unwrap();
    assert_eq!(parsed.alarm.dimensions["FunctionName"], "checkout");

    message["Trigger"]["Dimensions"] = json!([
        {"name": "FunctionName", "value": "a"},
        {"name": "FunctionName", "value": "b"},
    ]);
    assert!(matches!(parse_value(&message), Err(NotAnAlarm::Invalid(_))));
}

#[test]
fn state_change_time_with_and_without_a_colon_or_with_z() {
    let mut message = tokyo();
    for text in [
        "2024-05-14T02:21:30.512+0000",
        "2024-05-14T02:21:30.512Z",
        "2024-05-14T02:21:30.512+00:00",
        "2024-05-14T11:21:30.512+0900",
    ] {
        message["StateChangeTime"] = json!(text);
        let parsed = parse_value(&message).unwrap();
        assert_eq!(parsed.changed_at, at("2024-05-14T02:21:30.512Z"), "{text}");
    }
}

#[test]
fn implausible_or_malformed_times_are_invalid() {
    let mut message = tokyo();
    for text in [
        "1970-01-01T00:00:00.000+0000",
        "2300-01-01T00:00:00.000+0000",
        "+262143-01-01T00:00:00.000+0000",
        "yesterday",
        "",
    ] {
        message["StateChangeTime"] = json!(text);
        assert!(
            matches!(parse_value(&message), Err(NotAnAlarm::Invalid(_))),
            "{text}"
        );
    }
}

#[test]
fn the_arn_region_wins_over_the_display_name() {
    let mut message = tokyo();
    message["AlarmArn"] = json!("arn:aws:cloudwatch:eu-west-1:210987654321:alarm:x");
    let parsed = parse_value(&message).unwrap();
    assert_eq!(parsed.alarm.region.as_deref(), Some("eu-west-1"));
    assert_eq!(parsed.alarm.account.as_deref(), Some("210987654321"));
}

#[test]
fn regions_from_display_names_arns_or_nothing() {
    let mut message = tokyo();
    for (region, code) in [
        ("Europe (Ireland)", Some("eu-west-1")),
        ("EU (Ireland)", Some("eu-west-1")),
        ("AWS GovCloud (US-West)", Some("us-gov-west-1")),
        ("China (Beijing)", Some("cn-north-1")),
        ("Somewhere (New)", None),
    ] {
        message["Region"] = json!(region);
        let parsed = parse_value(&message).unwrap();
        assert_eq!(parsed.alarm.region.as_deref(), code, "{region}");
    }
    // An unknown display name, but the ARN says where.
    message["AlarmArn"] = json!("arn:aws-cn:cloudwatch:cn-northwest-1:123456789012:alarm:x:y");
    let parsed = parse_value(&message).unwrap();
    assert_eq!(parsed.alarm.region.as_deref(), Some("cn-northwest-1"));
    // Neither.
    message.as_object_mut().unwrap().remove("Region");
    message["AlarmArn"] = json!("arn:aws:sns:us-east-1:123456789012:topic");
    assert_eq!(parse_value(&message).unwrap().alarm.region, None);
}

#[test]
fn empty_percentile_numbers_and_unknown_fields_are_ignored() {
    let mut message = tokyo();
    message["Trigger"]["EvaluateLowSampleCountPercentile"] = json!("");
    message["Trigger"]["Threshold"] = json!(0.5);
    message["Trigger"]["Period"] = json!(300);
    message["Trigger"]["SomethingNew"] = json!({"a": [1, 2]});
    message["AlarmConfigurationUpdatedTimestamp"] = json!("2024-05-01T00:00:00.000+0000");
    assert!(parse_value(&message).is_ok());
}

#[test]
fn new_state_must_be_a_cloudwatch_state() {
    let mut message = tokyo();
    for state in ["alarm", "FIRING", "", "OK "] {
        message["NewStateValue"] = json!(state);
        assert!(
            matches!(parse_value(&message), Err(NotAnAlarm::Invalid(_))),
            "{state}"
        );
    }
    message["NewStateValue"] = json!("INSUFFICIENT_DATA");
    assert_eq!(
        parse_value(&message).unwrap().alarm.state,
        "INSUFFICIENT_DATA"
    );
    message["NewStateValue"] = json!(1);
    assert!(matches!(parse_value(&message), Err(NotAnAlarm::Invalid(_))));
}

fn math_message(metrics: Value) -> Value {
    let mut message = tokyo();
    message["Trigger"] = json!({"Period": 60, "Threshold": 1.0, "Metrics": metrics});
    message
}

fn stat(id: &str, namespace: &str, name: &str, dimensions: Value) -> Value {
    json!({"Id": id, "ReturnData": false, "MetricStat": {"Metric": {
        "Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
        "Period": 60, "Stat": "Sum"}})
}

#[test]
fn metric_math_names_a_metric_only_when_all_agree() {
    let expression = json!({"Id": "e1", "Expression": "m1+m2", "ReturnData": true});
    let one = json!([{"name": "FunctionName", "value": "a"}]);
    let other = json!([{"name": "FunctionName", "value": "b"}]);

    // Same metric, same dimensions: named, with the dimensions.
    let message = math_message(json!([
        expression,
        stat("m1", "AWS/Lambda", "Errors", one.clone()),
        stat("m2", "AWS/Lambda", "Errors", one.clone())
    ]));
    let parsed = parse_value(&message).unwrap();
    assert_eq!(
        parsed.kind,
        AlarmKind::MetricMath {
            expression: Some("m1+m2".to_owned())
        }
    );
    assert_eq!(parsed.alarm.metric.as_deref(), Some("Errors"));
    assert_eq!(parsed.alarm.dimensions["FunctionName"], "a");

    // Same metric of two functions: named, but no dimensions.
    let message = math_message(json!([
        expression,
        stat("m1", "AWS/Lambda", "Errors", one.clone()),
        stat("m2", "AWS/Lambda", "Errors", other)
    ]));
    let parsed = parse_value(&message).unwrap();
    assert_eq!(parsed.alarm.namespace.as_deref(), Some("AWS/Lambda"));
    assert!(parsed.alarm.dimensions.is_empty());

    // Two metrics: neither named.
    let message = math_message(json!([
        expression,
        stat("m1", "AWS/Lambda", "Errors", one.clone()),
        stat("m2", "AWS/Lambda", "Invocations", one)
    ]));
    let parsed = parse_value(&message).unwrap();
    assert_eq!((parsed.alarm.namespace, parsed.alarm.metric), (None, None));
    assert!(parsed.alarm.dimensions.is_empty());
}

#[test]
fn metric_math_expression_only_from_the_one_returned_query() {
    let plain = json!([{"Id": "m1", "ReturnData": true, "MetricStat": {"Metric": {
        "Namespace": "AWS/EC2", "MetricName": "CPUUtilization"}}}]);
    let parsed = parse_value(&math_message(plain)).unwrap();
    assert_eq!(parsed.kind, AlarmKind::MetricMath { expression: None });
    assert_eq!(parsed.alarm.metric.as_deref(), Some("CPUUtilization"));

    let two = json!([
        {"Id": "e1", "Expression": "m1*2", "ReturnData": true},
        {"Id": "e2", "Expression": "m1*3", "ReturnData": true},
    ]);
    let parsed = parse_value(&math_message(two)).unwrap();
    assert_eq!(parsed.kind, AlarmKind::MetricMath { expression: None });
    assert_eq!(parsed.alarm.metric, None);
}

#[test]
fn composite_without_a_trigger_and_with_a_description_null() {
    let mut message = tokyo();
    let object = message.as_object_mut().unwrap();
    object.remove("Trigger");
    object.insert("AlarmDescription".to_owned(), Value::Null);
    object.insert("AlarmRule".to_owned(), json!("ALARM(a) OR ALARM(b)"));
    let parsed = parse_value(&message).unwrap();
    assert!(matches!(parsed.kind, AlarmKind::Composite { .. }));
    assert_eq!(parsed.description, None);
}

#[test]
fn not_json_wrong_shape_and_invalid_are_told_apart() {
    let not_json = parse_alarm("Hello from the SNS console").unwrap_err();
    assert_eq!(not_json.label(), "not-json");
    for other in [
        r#"[1, 2]"#,
        r#""a string""#,
        r#"{"version": "0", "detail-type": "GuardDuty Finding"}"#,
        r#"{"AlarmName": "only a name"}"#,
    ] {
        let error = parse_alarm(other).unwrap_err();
        assert!(
            matches!(error, NotAnAlarm::WrongShape(_)),
            "{other}: {error}"
        );
    }
    let mut message = tokyo();
    message["AlarmName"] = json!("  ");
    let error = parse_value(&message).unwrap_err();
    assert_eq!(error.label(), "invalid-alarm");
    assert!(error.to_string().contains("empty AlarmName"), "{error}");
}

#[test]
fn messages_over_sns_limit_are_invalid() {
    let mut message = tokyo();
    message["AlarmDescription"] = json!("x".repeat(MAX_MESSAGE_BYTES));
    let error = parse_value(&message).unwrap_err();
    assert!(matches!(error, NotAnAlarm::Invalid(_)), "{error}");
    assert!(error.to_string().len() < 200);
}

#[test]
fn error_messages_quote_at_most_a_little_of_the_input() {
    let mut message = tokyo();
    message["NewStateValue"] = json!("Z".repeat(10_000));
    let error = parse_value(&message).unwrap_err();
    assert!(error.to_string().len() < 200, "{error}");
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "ALARM",
            "OK",
            "2024-05-14T02:21:30.512+0000",
            "9999-12-31T23:59:59.999+9999",
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
            "EU (Ireland)",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "name",
                    "value",
                    "Name",
                    "Value",
                    "MetricName",
                    "Namespace",
                    "Dimensions",
                    "Metrics",
                    "MetricStat",
                    "Metric",
                    "Expression",
                    "ReturnData",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..4
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Paths into the Tokyo notification and its metric-math variant where a random value goes.
const FIELDS: &[&[&str]] = &[
    &["AlarmName"],
    &["AlarmDescription"],
    &["AWSAccountId"],
    &["NewStateValue"],
    &["NewStateReason"],
    &["StateChangeTime"],
    &["Region"],
    &["AlarmArn"],
    &["OldStateValue"],
    &["AlarmRule"],
    &["Trigger"],
    &["Trigger", "MetricName"],
    &["Trigger", "Namespace"],
    &["Trigger", "Dimensions"],
    &["Trigger", "Metrics"],
    &["Trigger", "Threshold"],
];

fn set(message: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = message;
    for key in parents {
        at = &mut at[*key];
    }
    if at.is_object() {
        at[*last] = value;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(text in ".{0,300}") {
        let _ = parse_alarm(&text);
    }

    #[test]
    fn arbitrary_values_in_any_field_never_panic(
        field in prop::sample::select(FIELDS),
        value in any_json(),
        math in any::<bool>(),
    ) {
        let text = if math { sns_message(MULTIPLE) } else { sns_message(TOKYO) };
        let mut message: Value = serde_json::from_str(&text).unwrap();
        set(&mut message, field, value);
        if let Ok(parsed) = parse_value(&message) {
            prop_assert!(STATES.contains(&parsed.alarm.state.as_str()));
            prop_assert!(is_plausible(parsed.changed_at));
            prop_assert!(!parsed.alarm.name.trim().is_empty());
        }
    }
}
