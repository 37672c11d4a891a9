//! `when.event`'s finding keys: `finding_type`, `min_severity` and `resource`.

use super::*;
use crate::trigger::AwsEvent;

/// A catalog with one runbook whose `when.event` is `event` (YAML lines at six spaces' indent
/// under `event:`).
fn catalog_with_event(event: &str) -> String {
    format!(
        "\
version: 1
runbooks:
  - name: isolate
    when:
      sources: [aws-event]
      event:
        source: [aws.guardduty]
{event}    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: {{ instance_ids: [i-0123456789abcdef0] }}
"
    )
}

fn when_of(event: &str) -> When {
    let text = catalog_with_event(event);
    let catalog = Catalog::parse(&text, "t").unwrap_or_else(|error| panic!("{error}\n{text}"));
    catalog.runbooks[0].when.clone()
}

fn guardduty(finding_type: Option<&str>, severity: Option<&str>, resources: &[&str]) -> Trigger {
    Trigger {
        source: Source::AwsEvent,
        dedupe_id: "m1".into(),
        event_type: "GuardDuty Finding".into(),
        action: None,
        occurred_at: Utc::now(),
        incident: None,
        actor: None,
        alarm: None,
        event: Some(AwsEvent {
            id: "cd2d702e-ab31-411b-9344-793ce56b1bc7".into(),
            source: "aws.guardduty".into(),
            detail_type: "GuardDuty Finding".into(),
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
            finding_type: finding_type.map(str::to_owned),
            severity: severity.map(str::to_owned),
        }),
        workflow: None,
    }
}

#[test]
fn finding_type_glob_matches_the_finding_type() {
    let when = when_of(
        "        finding_type: [\"UnauthorizedAccess:EC2/*\", Backdoor:EC2/C&CActivity.B]\n",
    );
    let ssh = guardduty(Some("UnauthorizedAccess:EC2/SSHBruteForce"), None, &[]);
    assert_eq!(when.first_mismatch(&ssh), None);
    let backdoor = guardduty(Some("Backdoor:EC2/C&CActivity.B"), None, &[]);
    assert_eq!(when.first_mismatch(&backdoor), None);
}

#[test]
fn finding_type_glob_refuses_other_types_and_events_without_one() {
    let when = when_of("        finding_type: [\"UnauthorizedAccess:EC2/*\"]\n");
    // Anchored: a type that only contains the pattern does not match.
    let iam = guardduty(
        Some("UnauthorizedAccess:IAMUser/MaliciousIPCaller"),
        None,
        &[],
    );
    assert_eq!(when.first_mismatch(&iam), Some("event.finding_type"));
    let prefixed = guardduty(Some("X-UnauthorizedAccess:EC2/SSHBruteForce"), None, &[]);
    assert_eq!(when.first_mismatch(&prefixed), Some("event.finding_type"));
    assert_eq!(
        when.first_mismatch(&guardduty(None, None, &[])),
        Some("event.finding_type")
    );
}

#[test]
fn min_severity_matches_that_label_and_every_more_severe_one() {
    let when = when_of("        min_severity: HIGH\n");
    for label in ["HIGH", "CRITICAL"] {
        assert_eq!(
            when.first_mismatch(&guardduty(None, Some(label), &[])),
            None,
            "{label}"
        );
    }
}

#[test]
fn min_severity_refuses_less_severe_and_ungraded_events() {
    let when = when_of("        min_severity: HIGH\n");
    for label in ["INFORMATIONAL", "LOW", "MEDIUM"] {
        assert_eq!(
            when.first_mismatch(&guardduty(None, Some(label), &[])),
            Some("event.min_severity"),
            "{label}"
        );
    }
    // No grade (an AWS Health event) is not "at least HIGH"; nor is a label we do not know.
    assert_eq!(
        when.first_mismatch(&guardduty(None, None, &[])),
        Some("event.min_severity")
    );
    assert_eq!(
        when.first_mismatch(&guardduty(None, Some("SEVERE"), &[])),
        Some("event.min_severity")
    );
}

#[test]
fn min_severity_informational_holds_for_any_graded_event() {
    let when = when_of("        min_severity: INFORMATIONAL\n");
    assert_eq!(
        when.first_mismatch(&guardduty(None, Some("LOW"), &[])),
        None
    );
}

#[test]
fn unknown_min_severity_is_a_load_error_with_its_position() {
    for label in ["SEVERE", "high", "CRITCAL", "\"\""] {
        let text = catalog_with_event(&format!("        min_severity: {label}\n"));
        let problems = problems_of(&text);
        assert_eq!(problems.len(), 1, "{label}: {problems:?}");
        assert!(problems[0].starts_with("runbooks.yaml:8:"), "{problems:?}");
        assert!(problems[0].contains("min_severity"), "{problems:?}");
        assert!(
            problems[0].contains("INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"),
            "{problems:?}"
        );
    }
}

#[test]
fn resource_glob_matches_when_any_resource_matches_any_glob() {
    let when = when_of("        resource: [\"i-*\", \"arn:aws:ec2:*:instance/i-*\"]\n");
    let instance_second = guardduty(None, None, &["arn:aws:s3:::logs", "i-99999999"]);
    assert_eq!(when.first_mismatch(&instance_second), None);
    let arn = guardduty(
        None,
        None,
        &["arn:aws:ec2:us-east-1:111122223333:instance/i-0abc1234"],
    );
    assert_eq!(when.first_mismatch(&arn), None);
}

#[test]
fn resource_glob_refuses_events_naming_no_matching_resource() {
    let when = when_of("        resource: [\"i-*\"]\n");
    let bucket = guardduty(
        None,
        None,
        &["arn:aws:s3:::logs", "AWS::::Account:111122223333"],
    );
    assert_eq!(when.first_mismatch(&bucket), Some("event.resource"));
    assert_eq!(
        when.first_mismatch(&guardduty(None, None, &[])),
        Some("event.resource")
    );
}

#[test]
fn finding_keys_together_must_all_hold() {
    let when = when_of(
        "        finding_type: [\"UnauthorizedAccess:EC2/*\"]\n        min_severity: MEDIUM\n        resource: [\"i-*\"]\n",
    );
    let ssh = "UnauthorizedAccess:EC2/SSHBruteForce";
    assert_eq!(
        when.first_mismatch(&guardduty(Some(ssh), Some("HIGH"), &["i-99999999"])),
        None
    );
    assert_eq!(
        when.first_mismatch(&guardduty(Some(ssh), Some("LOW"), &["i-99999999"])),
        Some("event.min_severity")
    );
    assert_eq!(
        when.first_mismatch(&guardduty(Some(ssh), Some("HIGH"), &["arn:aws:s3:::b"])),
        Some("event.resource")
    );
}

#[test]
fn misspelt_event_key_is_refused_by_name() {
    let text = catalog_with_event("        severity: HIGH\n");
    let problems = problems_of(&text);
    assert!(problems[0].contains("severity"), "{problems:?}");
}

#[test]
fn finding_fields_are_readable_trigger_fields() {
    let trigger = guardduty(
        Some("UnauthorizedAccess:EC2/SSHBruteForce"),
        Some("HIGH"),
        &["i-99999999", "arn:aws:s3:::logs"],
    );
    assert_eq!(
        trigger.field("event.finding_type").as_deref(),
        Some("UnauthorizedAccess:EC2/SSHBruteForce")
    );
    assert_eq!(trigger.field("event.severity").as_deref(), Some("HIGH"));
    assert_eq!(
        trigger.field("event.resource").as_deref(),
        Some("i-99999999")
    );
    assert!(crate::trigger::is_known_field("event.finding_type"));
    assert!(crate::trigger::is_known_field("event.severity"));
}

#[test]
fn built_in_isolate_runbook_wants_high_ec2_findings_that_name_an_instance() {
    let catalog = Catalog::built_in().unwrap();
    let name = |trigger: &Trigger| catalog.first_match(trigger).map(|r| r.name.clone());
    let ssh = "UnauthorizedAccess:EC2/SSHBruteForce";
    // The GuardDuty fixture as the parser reads it: the instance is the attacker (HIGH).
    let attacker = guardduty(Some(ssh), Some("HIGH"), &["i-99999999"]);
    assert_eq!(
        name(&attacker).as_deref(),
        Some("isolate-compromised-instance")
    );
    let runbook = catalog.get("isolate-compromised-instance").unwrap();
    let instance = &runbook.params[0];
    let rendered = instance
        .from
        .render(crate::template::Quoting::None, |field| {
            attacker.field(field)
        })
        .unwrap();
    assert_eq!(rendered, "i-99999999");
    assert!(instance.rule.accepts("i-99999999"));
    // The instance is the target of someone else's brute force (LOW): nothing to isolate.
    assert_eq!(
        name(&guardduty(Some(ssh), Some("LOW"), &["i-99999999"])),
        None
    );
    // An access key finding names no instance.
    let key = guardduty(
        Some("Backdoor:EC2/C&CActivity.B"),
        Some("HIGH"),
        &["ASIAEXAMPLE"],
    );
    assert_eq!(name(&key), None);
}

#[test]
fn an_alarm_runbook_may_only_listen_for_alarm() {
    let catalog = |states: &str| {
        format!(
            "\
version: 1
runbooks:
  - name: clean-disk
    when:
      sources: [cloudwatch-alarm]
      alarm:
        name: '*-disk-used'
        state: {states}
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: {{ instance_ids: [i-0123456789abcdef0] }}
"
        )
    };
    assert!(Catalog::parse(&catalog("[ALARM]"), "t").is_ok());
    for states in ["[OK]", "[ALARM, INSUFFICIENT_DATA]"] {
        let problems = problems_of(&catalog(states));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("only ALARM starts a runbook"),
            "{}",
            problems[0]
        );
        assert!(problems[0].starts_with("runbooks.yaml:"), "{}", problems[0]);
    }
}
