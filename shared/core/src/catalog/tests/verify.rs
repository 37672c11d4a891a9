//! `verify:`: its fields, their defaults and bounds, and the runbooks it may sit on.

use super::*;
use crate::trigger::Alarm;

fn catalog_with(when: &str, verify: &str) -> String {
    format!(
        "\
version: 1
custom_actions:
  restart-web: {{ label: Restart web tier }}
runbooks:
  - name: restart-web
    when:
{when}
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: {{ tags: {{ Role: web }} }}
        parameters: {{ commands: systemctl restart nginx }}
{verify}"
    )
}

const ALARMS: &str = "      sources: [cloudwatch-alarm]";

fn verify_of(text: &str) -> Verify {
    let catalog = Catalog::parse(text, "runbooks.yaml").expect("catalog loads");
    catalog.runbooks[0].verify.clone().expect("verify is set")
}

fn alarm_trigger(name: &str) -> Trigger {
    Trigger {
        source: Source::CloudwatchAlarm,
        dedupe_id: "m1".into(),
        event_type: "alarm".into(),
        action: None,
        occurred_at: Utc::now(),
        incident: None,
        actor: None,
        alarm: Some(Alarm {
            name: name.into(),
            state: "ALARM".into(),
            dimensions: [("AutoScalingGroupName".to_owned(), "web-asg".to_owned())].into(),
            ..Alarm::default()
        }),
        event: None,
        workflow: None,
    }
}

#[test]
fn only_settle_seconds_is_required_and_the_rest_defaults() {
    let verify = verify_of(&catalog_with(
        ALARMS,
        "    verify: { settle_seconds: 120 }\n",
    ));
    assert_eq!(verify.settle_seconds, 120);
    assert_eq!(verify.on_failure, OnFailure::Note);
    assert_eq!(
        verify.alarm_name(&alarm_trigger("HighCPU")).as_deref(),
        Ok("HighCPU")
    );
}

#[test]
fn a_runbook_without_verify_has_none() {
    let catalog = Catalog::parse(&catalog_with(ALARMS, ""), "t").expect("loads");
    assert!(catalog.runbooks[0].verify.is_none());
}

#[test]
fn every_field_is_read() {
    let verify = verify_of(&catalog_with(
        ALARMS,
        "    verify:
      settle_seconds: 300
      alarm: '{{ alarm.dimensions.AutoScalingGroupName }}-cpu-high'
      on_failure: escalate
",
    ));
    assert_eq!(verify.settle_seconds, 300);
    assert_eq!(verify.on_failure, OnFailure::Escalate);
    assert_eq!(
        verify.alarm_name(&alarm_trigger("HighCPU")).as_deref(),
        Ok("web-asg-cpu-high")
    );
}

#[test]
fn settle_seconds_is_required_and_bounded() {
    let missing = problems_of(&catalog_with(ALARMS, "    verify: { on_failure: note }\n"));
    assert!(missing[0].contains("settle_seconds"), "{missing:?}");
    for (value, accepted) in [
        (29, false),
        (30, true),
        (3600, true),
        (3601, false),
        (0, false),
    ] {
        let text = catalog_with(
            ALARMS,
            &format!("    verify: {{ settle_seconds: {value} }}\n"),
        );
        match Catalog::parse(&text, "runbooks.yaml") {
            Ok(_) => assert!(accepted, "{value} was accepted"),
            Err(Error::Catalog { problems, .. }) => {
                assert!(!accepted, "{value}: {problems:?}");
                assert_eq!(problems.len(), 1, "{problems:?}");
                assert!(
                    problems[0].starts_with("runbooks.yaml:13:31: verify settle_seconds"),
                    "{problems:?}"
                );
            }
            Err(other) => panic!("unexpected error kind: {other}"),
        }
    }
    let negative = problems_of(&catalog_with(
        ALARMS,
        "    verify: { settle_seconds: -5 }\n",
    ));
    assert!(negative[0].starts_with("runbooks.yaml:13:"), "{negative:?}");
}

#[test]
fn unknown_fields_and_unknown_on_failure_words_are_errors_with_their_line() {
    let unknown = problems_of(&catalog_with(
        ALARMS,
        "    verify:\n      settle_seconds: 60\n      setle: 3\n",
    ));
    assert!(unknown[0].starts_with("runbooks.yaml:15:"), "{unknown:?}");
    assert!(unknown[0].contains("setle"), "{unknown:?}");
    let word = problems_of(&catalog_with(
        ALARMS,
        "    verify:\n      settle_seconds: 60\n      on_failure: page\n",
    ));
    assert!(word[0].starts_with("runbooks.yaml:15:"), "{word:?}");
    assert!(word[0].contains("page"), "{word:?}");
}

#[test]
fn verify_on_a_runbook_that_never_runs_for_an_alarm_is_an_error_at_verify() {
    let verify = "    verify: { settle_seconds: 60 }\n";
    for (when, why) in [
        (
            "      sources: [pagerduty-v3]",
            "sources exclude cloudwatch-alarm",
        ),
        (
            "      sources: [pagerduty-action, aws-event]",
            "sources exclude cloudwatch-alarm",
        ),
        ("      actions: [restart-web]", "actions"),
        (
            "      sources: [cloudwatch-alarm]\n      event: { source: [aws.guardduty] }",
            "event",
        ),
    ] {
        let problems = problems_of(&catalog_with(when, verify));
        assert_eq!(problems.len(), 1, "{when}: {problems:?}");
        let line = 13 + when.lines().count() - 1;
        assert!(
            problems[0].starts_with(&format!("runbooks.yaml:{line}:13: verify checks the alarm")),
            "{when}: {problems:?}"
        );
        assert!(problems[0].contains(why), "{when}: {problems:?}");
    }
    // Sources that include alarms, or none at all (any source), can carry alarm triggers.
    for when in [
        "      sources: [cloudwatch-alarm, pagerduty-v3]",
        "      event_types: [alarm]",
    ] {
        verify_of(&catalog_with(when, verify));
    }
}

#[test]
fn the_alarm_template_reads_trigger_fields_and_renders_an_alarm_name() {
    let with_alarm = |alarm: &str| {
        catalog_with(
            ALARMS,
            &format!("    verify:\n      settle_seconds: 60\n      alarm: {alarm}\n"),
        )
    };
    let unknown = problems_of(&with_alarm("'{{ params.host }}'"));
    assert!(
        unknown[0].starts_with("runbooks.yaml:15:14: verify alarm"),
        "{unknown:?}"
    );
    assert!(unknown[0].contains("params.host"), "{unknown:?}");
    let unclosed = problems_of(&with_alarm("'{{ alarm.name'"));
    assert!(unclosed[0].contains("unclosed"), "{unclosed:?}");
    let long = problems_of(&with_alarm(&"a".repeat(256)));
    assert!(
        long[0].contains("cannot be a CloudWatch alarm name"),
        "{long:?}"
    );
    let control = problems_of(&with_alarm("\"High\\tCPU\""));
    assert!(
        control[0].contains("cannot be a CloudWatch alarm name"),
        "{control:?}"
    );
    let long_around = problems_of(&with_alarm(&format!(
        "'{}{{{{ alarm.name }}}}'",
        "a".repeat(255)
    )));
    assert!(
        long_around[0].contains("cannot be a CloudWatch alarm name"),
        "{long_around:?}"
    );
    let literal = verify_of(&with_alarm(&"a".repeat(255)));
    assert_eq!(literal.alarm_name(&alarm_trigger("x")), Ok("a".repeat(255)));
}

#[test]
fn a_rendered_name_is_checked_again_and_a_missing_field_is_named() {
    let verify = verify_of(&catalog_with(
        ALARMS,
        "    verify:\n      settle_seconds: 60\n      alarm: 'prefix-{{ alarm.name }}'\n",
    ));
    assert_eq!(
        verify.alarm_name(&alarm_trigger(&"x".repeat(250))),
        Err(AlarmNameError::NotAnAlarmName {
            name: format!("prefix-{}", "x".repeat(250))
        })
    );
    assert!(matches!(
        verify.alarm_name(&alarm_trigger("bad\nname")),
        Err(AlarmNameError::NotAnAlarmName { .. })
    ));
    let mut no_alarm = alarm_trigger("x");
    no_alarm.alarm = None;
    assert_eq!(
        verify.alarm_name(&no_alarm),
        Err(AlarmNameError::MissingField {
            field: "alarm.name".into()
        })
    );
}

#[test]
fn alarm_names_follow_cloudwatch_rules() {
    assert!(is_alarm_name("HighCPU"));
    assert!(is_alarm_name("web/asg: cpu > 90% (p99)"));
    assert!(is_alarm_name(&"é".repeat(255)));
    for bad in ["", "a\u{7}b", "tab\there", &"a".repeat(256)] {
        assert!(!is_alarm_name(bad), "{bad:?}");
    }
}
