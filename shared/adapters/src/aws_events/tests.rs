use super::findings::{guardduty_severity, normalized_severity};
use super::*;
use crate::cloudwatch::MAX_MESSAGE_BYTES;
use proptest::prelude::*;
use serde_json::{Value, json};

const GUARDDUTY_EC2: &str =
    include_str!("../../../../events/fixtures/aws/eventbridge-guardduty-finding-ec2.json");
const GUARDDUTY_IAM: &str =
    include_str!("../../../../events/fixtures/aws/eventbridge-guardduty-finding-iam.json");
const SECURITY_HUB: &str =
    include_str!("../../../../events/fixtures/aws/eventbridge-securityhub-findings-imported.json");
const HEALTH: &str =
    include_str!("../../../../events/fixtures/aws/eventbridge-health-ec2-issue.json");
const ALARM: &str =
    include_str!("../../../../events/fixtures/aws/cloudwatch-alarm-sns-payload-tokyo.json");

fn value_of(fixture: &str) -> Value {
    serde_json::from_str(fixture).unwrap()
}

fn parse_value(value: &Value) -> Result<AwsEventNotification, NotAnEvent> {
    parse_event(&value.to_string())
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn guardduty_ec2_finding_reads_type_severity_and_instance() {
    let parsed = parse_event(GUARDDUTY_EC2).unwrap();
    let event = &parsed.event;
    assert_eq!(event.id, "cd2d702e-ab31-411b-9344-793ce56b1bc7");
    assert_eq!(event.source, "aws.guardduty");
    assert_eq!(event.detail_type, "GuardDuty Finding");
    assert_eq!(event.account.as_deref(), Some("111122223333"));
    assert_eq!(event.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        event.finding_type.as_deref(),
        Some("UnauthorizedAccess:EC2/SSHBruteForce")
    );
    // 8: GuardDuty's High band (7.0-8.9); the instance is the attacker.
    assert_eq!(event.severity.as_deref(), Some("HIGH"));
    // The envelope's resources are empty: the instance comes from the finding.
    assert_eq!(event.resources, ["i-99999999"]);
    assert_eq!(parsed.time, at("2020-05-26T23:01:07Z"));
    assert_eq!(
        parsed.title.as_deref(),
        Some("i-99999999 is performing SSH brute force attacks against 203.0.113.10.")
    );
    assert_eq!(parsed.category, None);
}

#[test]
fn guardduty_access_key_finding_reads_the_key_and_an_integer_severity() {
    let parsed = parse_event(GUARDDUTY_IAM).unwrap();
    assert_eq!(
        parsed.event.finding_type.as_deref(),
        Some("Recon:IAMUser/UserPermissions")
    );
    // `"severity": 5`, an integer, as AWS's own example writes it.
    assert_eq!(parsed.event.severity.as_deref(), Some("MEDIUM"));
    assert_eq!(parsed.event.resources, ["ASIASZ4SI7REEEXAMPLE"]);
    assert_eq!(parsed.time, at("2020-05-26T22:55:21Z"));
    assert_eq!(
        parsed.title.as_deref(),
        Some("Unusual user permission reconnaissance activity by testuser.")
    );
}

#[test]
fn guardduty_s3_finding_names_its_buckets() {
    let mut event = value_of(GUARDDUTY_IAM);
    event["detail"]["resource"]["s3BucketDetails"] = json!([
        {"name": "exports", "arn": "arn:aws:s3:::exports", "type": "Destination"},
        {"name": null, "arn": "arn:aws:s3:::logs"},
    ]);
    let parsed = parse_value(&event).unwrap();
    assert_eq!(
        parsed.event.resources,
        [
            "ASIASZ4SI7REEEXAMPLE",
            "exports",
            "arn:aws:s3:::exports",
            "arn:aws:s3:::logs"
        ]
    );
}

#[test]
fn guardduty_severity_as_integer_or_float_maps_to_its_documented_band() {
    let mut event = value_of(GUARDDUTY_EC2);
    for (severity, label) in [
        (json!(1), "LOW"),
        (json!(2.0), "LOW"),
        (json!(3.9), "LOW"),
        (json!(4), "MEDIUM"),
        (json!(5.0), "MEDIUM"),
        (json!(6.9), "MEDIUM"),
        (json!(7), "HIGH"),
        (json!(8.9), "HIGH"),
        (json!(9.0), "CRITICAL"),
        (json!(10), "CRITICAL"),
    ] {
        event["detail"]["severity"] = severity.clone();
        let parsed = parse_value(&event).unwrap();
        assert_eq!(parsed.event.severity.as_deref(), Some(label), "{severity}");
    }
}

#[test]
fn guardduty_severity_outside_its_range_or_not_a_number_is_invalid() {
    let mut event = value_of(GUARDDUTY_EC2);
    for severity in [
        json!(-1),
        json!(10.5),
        json!(1e300),
        json!("8.0"),
        json!([8]),
    ] {
        event["detail"]["severity"] = severity.clone();
        assert!(
            matches!(parse_value(&event), Err(NotAnEvent::Invalid(_))),
            "{severity}"
        );
    }
    event["detail"]["severity"] = Value::Null;
    assert_eq!(parse_value(&event).unwrap().event.severity, None);
}

#[test]
fn severity_band_edges() {
    assert_eq!(guardduty_severity(0.0).unwrap(), "LOW");
    assert_eq!(guardduty_severity(3.99).unwrap(), "LOW");
    assert_eq!(guardduty_severity(8.99).unwrap(), "HIGH");
    assert!(guardduty_severity(f64::NAN).is_err());
    assert_eq!(normalized_severity(0.0).unwrap(), "INFORMATIONAL");
    assert_eq!(normalized_severity(1.0).unwrap(), "LOW");
    assert_eq!(normalized_severity(39.0).unwrap(), "LOW");
    assert_eq!(normalized_severity(40.0).unwrap(), "MEDIUM");
    assert_eq!(normalized_severity(69.0).unwrap(), "MEDIUM");
    assert_eq!(normalized_severity(70.0).unwrap(), "HIGH");
    assert_eq!(normalized_severity(89.0).unwrap(), "HIGH");
    assert_eq!(normalized_severity(90.0).unwrap(), "CRITICAL");
    assert_eq!(normalized_severity(100.0).unwrap(), "CRITICAL");
    assert!(normalized_severity(101.0).is_err());
    assert!(normalized_severity(f64::NAN).is_err());
}

#[test]
fn security_hub_finding_reads_first_type_label_and_resources_before_the_envelope() {
    let parsed = parse_event(SECURITY_HUB).unwrap();
    let event = &parsed.event;
    assert_eq!(event.id, "CWE-event-id");
    assert_eq!(event.source, "aws.securityhub");
    assert_eq!(event.detail_type, "Security Hub Findings - Imported");
    assert_eq!(event.account.as_deref(), Some("111122223333"));
    assert_eq!(event.region.as_deref(), Some("us-west-2"));
    assert_eq!(
        event.finding_type.as_deref(),
        Some(
            "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
        )
    );
    assert_eq!(event.severity.as_deref(), Some("CRITICAL"));
    // The finding's resource first (what it is about), then the envelope's (the finding).
    assert_eq!(
        event.resources,
        [
            "AWS::::Account:123456789012",
            "arn:aws:securityhub:us-west-2::product/aws/macie/arn:aws:macie:us-west-2:111122223333:integtest/trigger/6294d71b927c41cbab915159a8f326a3/alert/f2893b211841",
        ]
    );
    assert_eq!(parsed.time, at("2019-04-11T21:52:17Z"));
    assert_eq!(
        parsed.title.as_deref(),
        Some("1.13 Ensure MFA is enabled for the \"root\" account")
    );
}

#[test]
fn security_hub_older_finding_with_only_normalized_severity() {
    let mut event = value_of(SECURITY_HUB);
    event["detail"]["findings"][0]["Severity"] = json!({"Normalized": 70});
    assert_eq!(
        parse_value(&event).unwrap().event.severity.as_deref(),
        Some("HIGH")
    );
    event["detail"]["findings"][0]["Severity"] = json!({"Label": null, "Normalized": 0});
    assert_eq!(
        parse_value(&event).unwrap().event.severity.as_deref(),
        Some("INFORMATIONAL")
    );
    // The label wins over a normalized value that disagrees.
    event["detail"]["findings"][0]["Severity"] = json!({"Label": "LOW", "Normalized": 95});
    assert_eq!(
        parse_value(&event).unwrap().event.severity.as_deref(),
        Some("LOW")
    );
    event["detail"]["findings"][0]["Severity"] = json!({"Label": "medium"});
    assert_eq!(
        parse_value(&event).unwrap().event.severity.as_deref(),
        Some("MEDIUM")
    );
    event["detail"]["findings"][0]
        .as_object_mut()
        .unwrap()
        .remove("Severity");
    assert_eq!(parse_value(&event).unwrap().event.severity, None);
}

#[test]
fn security_hub_unknown_label_or_normalized_out_of_range_is_invalid() {
    let mut event = value_of(SECURITY_HUB);
    for severity in [json!({"Label": "SEVERE"}), json!({"Normalized": 250})] {
        event["detail"]["findings"][0]["Severity"] = severity.clone();
        assert!(
            matches!(parse_value(&event), Err(NotAnEvent::Invalid(_))),
            "{severity}"
        );
    }
}

#[test]
fn security_hub_event_with_several_findings_is_refused_not_half_read() {
    let mut event = value_of(SECURITY_HUB);
    let first = event["detail"]["findings"][0].clone();
    // The second finding is broken: the count is decided before any finding is read.
    event["detail"]["findings"] = json!([first, {"Types": 7}]);
    let error = parse_value(&event).unwrap_err();
    assert_eq!(error, NotAnEvent::SeveralFindings(2));
    assert_eq!(error.label(), "several-findings");
    assert!(error.to_string().contains("one finding per event"));
}

#[test]
fn security_hub_event_without_findings_is_an_event_without_finding_fields() {
    let mut event = value_of(SECURITY_HUB);
    event["detail"]["findings"] = json!([]);
    let parsed = parse_value(&event).unwrap();
    assert_eq!(parsed.event.finding_type, None);
    assert_eq!(parsed.event.severity, None);
    assert_eq!(parsed.event.resources.len(), 1);
}

#[test]
fn health_event_reads_type_code_category_and_deduplicated_entities() {
    let parsed = parse_event(HEALTH).unwrap();
    let event = &parsed.event;
    assert_eq!(event.id, "7bf73129-1428-4cd3-a780-95db273d1602");
    assert_eq!(event.source, "aws.health");
    assert_eq!(event.detail_type, "AWS Health Event");
    assert_eq!(event.account.as_deref(), Some("123456789012"));
    assert_eq!(event.region.as_deref(), Some("us-west-2"));
    assert_eq!(
        event.finding_type.as_deref(),
        Some("AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED")
    );
    // Health grades nothing.
    assert_eq!(event.severity, None);
    // The entity and the envelope name the same instance: once.
    assert_eq!(event.resources, ["i-abcd1111"]);
    assert_eq!(parsed.time, at("2016-06-05T06:27:57Z"));
    assert_eq!(parsed.category.as_deref(), Some("issue"));
    assert_eq!(parsed.title, None);
}

#[test]
fn other_source_is_an_event_without_finding_fields() {
    let event = json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
    });
    let parsed = parse_value(&event).unwrap();
    assert_eq!(parsed.event.source, "aws.ec2");
    assert_eq!(parsed.event.finding_type, None);
    assert_eq!(parsed.event.severity, None);
    assert_eq!(
        parsed.event.resources,
        ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]
    );
}

#[test]
fn null_or_absent_resources_are_no_resources() {
    let mut event = value_of(GUARDDUTY_IAM);
    event["resources"] = Value::Null;
    assert_eq!(parse_value(&event).unwrap().event.resources.len(), 1);
    event.as_object_mut().unwrap().remove("resources");
    assert_eq!(parse_value(&event).unwrap().event.resources.len(), 1);
    event["resources"] = json!([
        "  ",
        "ASIASZ4SI7REEEXAMPLE",
        "arn:aws:iam::111122223333:user/testuser"
    ]);
    assert_eq!(
        parse_value(&event).unwrap().event.resources,
        [
            "ASIASZ4SI7REEEXAMPLE",
            "arn:aws:iam::111122223333:user/testuser"
        ]
    );
    event["resources"] = json!([7]);
    assert!(matches!(parse_value(&event), Err(NotAnEvent::Invalid(_))));
}

#[test]
fn absent_or_null_detail_is_an_event_without_a_finding() {
    let mut event = value_of(GUARDDUTY_EC2);
    event["detail"] = Value::Null;
    let parsed = parse_value(&event).unwrap();
    assert_eq!(parsed.event.finding_type, None);
    assert!(parsed.event.resources.is_empty());
    event.as_object_mut().unwrap().remove("detail");
    assert_eq!(
        parse_value(&event).unwrap().event.detail_type,
        "GuardDuty Finding"
    );
}

#[test]
fn detail_of_the_wrong_shape_is_invalid() {
    let mut event = value_of(GUARDDUTY_EC2);
    event["detail"] = json!("a string");
    assert!(matches!(parse_value(&event), Err(NotAnEvent::Invalid(_))));
    event["detail"] = json!({"resource": {"instanceDetails": {"instanceId": 42}}});
    assert!(matches!(parse_value(&event), Err(NotAnEvent::Invalid(_))));
}

#[test]
fn missing_detail_type_or_source_is_not_an_event() {
    for field in ["detail-type", "source"] {
        let mut event = value_of(GUARDDUTY_EC2);
        event.as_object_mut().unwrap().remove(field);
        let error = parse_value(&event).unwrap_err();
        assert!(matches!(error, NotAnEvent::WrongShape(_)), "{field}");
        assert_eq!(error.label(), "not-an-event");
    }
}

#[test]
fn cloudwatch_alarm_message_is_the_wrong_shape() {
    let record = value_of(ALARM);
    let message = record["Records"][0]["Sns"]["Message"].as_str().unwrap();
    assert!(matches!(
        parse_event(message),
        Err(NotAnEvent::WrongShape(_))
    ));
}

#[test]
fn non_json_and_non_objects_are_told_apart() {
    let error = parse_event("Hello from the SNS console").unwrap_err();
    assert!(matches!(error, NotAnEvent::NotJson(_)));
    assert_eq!(error.label(), "not-json");
    for text in ["[]", "null", "\"GuardDuty Finding\"", "42"] {
        assert!(
            matches!(parse_event(text), Err(NotAnEvent::WrongShape(_))),
            "{text}"
        );
    }
}

#[test]
fn id_and_time_are_required_and_checked() {
    let mut event = value_of(HEALTH);
    event["id"] = json!("  ");
    assert!(matches!(parse_value(&event), Err(NotAnEvent::Invalid(_))));

    let mut event = value_of(HEALTH);
    event.as_object_mut().unwrap().remove("time");
    let error = parse_value(&event).unwrap_err();
    assert_eq!(error.label(), "invalid-event");
    // GuardDuty's user guide shows its envelope with this placeholder time.
    for time in [
        "1970-01-01T00:00:00Z",
        "yesterday",
        "2016-06-05 06:27:57",
        "2300-01-01T00:00:00Z",
    ] {
        event["time"] = json!(time);
        assert!(
            matches!(parse_value(&event), Err(NotAnEvent::Invalid(_))),
            "{time}"
        );
    }
    event["time"] = json!("2016-06-05T08:27:57+02:00");
    assert_eq!(
        parse_value(&event).unwrap().time,
        at("2016-06-05T06:27:57Z")
    );
}

#[test]
fn oversized_message_is_refused_before_parsing() {
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(MAX_MESSAGE_BYTES));
    assert!(matches!(parse_event(&big), Err(NotAnEvent::Invalid(_))));
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(Value::String),
        Just(json!("2020-05-26T23:01:07Z")),
        Just(json!("i-99999999")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "type",
                    "severity",
                    "resource",
                    "instanceDetails",
                    "instanceId",
                    "Types",
                    "Severity",
                    "Label",
                    "Normalized",
                    "Resources",
                    "Id",
                    "eventTypeCode",
                    "affectedEntities",
                    "entityValue",
                    "findings",
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

/// Paths into the fixtures where a random value goes.
const FIELDS: &[&[&str]] = &[
    &["id"],
    &["detail-type"],
    &["source"],
    &["account"],
    &["time"],
    &["region"],
    &["resources"],
    &["detail"],
    &["detail", "type"],
    &["detail", "severity"],
    &["detail", "title"],
    &["detail", "resource"],
    &["detail", "resource", "instanceDetails"],
    &["detail", "resource", "s3BucketDetails"],
    &["detail", "findings"],
    &["detail", "eventTypeCode"],
    &["detail", "affectedEntities"],
];

fn set(event: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = event;
    for key in parents {
        match at.get_mut(*key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Some(object) = at.as_object_mut() {
        object.insert((*last).to_owned(), value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(text in ".{0,300}") {
        let _ = parse_event(&text);
    }

    #[test]
    fn arbitrary_json_values_never_panic(value in any_json()) {
        let _ = parse_value(&value);
    }

    #[test]
    fn arbitrary_values_in_any_field_never_panic(
        field in prop::sample::select(FIELDS),
        value in any_json(),
        fixture in prop::sample::select(vec![GUARDDUTY_EC2, GUARDDUTY_IAM, SECURITY_HUB, HEALTH]),
    ) {
        let mut event = value_of(fixture);
        set(&mut event, field, value);
        if let Ok(parsed) = parse_value(&event) {
            prop_assert!(is_plausible(parsed.time));
            prop_assert!(!parsed.event.id.trim().is_empty());
            let known_label = parsed
                .event
                .severity
                .as_deref()
                .is_none_or(|label| remediate_core::trigger::severity_rank(label).is_some());
            prop_assert!(known_label);
            let mut unique = parsed.event.resources.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), parsed.event.resources.len());
        }
    }
}
