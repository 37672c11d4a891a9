use super::*;
use crate::trigger::{Incident, Reference, Trigger};
use chrono::Utc;

fn problems_of(text: &str) -> Vec<String> {
    match Catalog::parse(text, "runbooks.yaml") {
        Ok(_) => panic!("expected the catalog to be rejected"),
        Err(Error::Catalog { problems, .. }) => problems,
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

const MINIMAL: &str = "\
version: 1
runbooks:
  - name: restart-web
    when:
      actions: [restart-web]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets:
          tags: { Role: web }
        parameters:
          commands: systemctl restart nginx
";

#[test]
fn built_in_catalog_is_valid() {
    let catalog = Catalog::built_in().expect("infra/runbooks.yaml must be valid");
    assert!(
        catalog
            .runbooks
            .iter()
            .any(|runbook| runbook.name == "restart-web")
    );
    assert_eq!(catalog.version.len(), 12);
}

#[test]
fn minimal_catalog_parses_with_single_string_parameter() {
    let catalog = Catalog::parse(MINIMAL, "runbooks.yaml").unwrap();
    let Action::SsmCommand(command) = &catalog.runbooks[0].action else {
        panic!("expected ssm_command")
    };
    assert_eq!(command.parameters["commands"].len(), 1);
    assert!(command.parameters["commands"][0].is_literal());
    assert!(matches!(&command.targets, TargetSpec::Tags(tags) if tags.contains_key("Role")));
    assert_eq!(command.shell, crate::template::Quoting::Posix);
}

#[test]
fn version_is_a_content_hash() {
    let one = Catalog::parse(MINIMAL, "a").unwrap();
    let two = Catalog::parse(&MINIMAL.replace("nginx", "apache"), "a").unwrap();
    assert_ne!(one.version, two.version);
    assert_eq!(one.version, Catalog::parse(MINIMAL, "b").unwrap().version);
}

#[test]
fn unknown_field_is_an_error_with_its_line() {
    let text = MINIMAL.replace("    when:\n", "    whne: {}\n    when:\n");
    let problems = problems_of(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("runbooks.yaml:4:"), "{problems:?}");
    assert!(problems[0].contains("whne"), "{problems:?}");
}

#[test]
fn yaml_syntax_error_names_the_line() {
    let problems = problems_of("version: 1\nrunbooks:\n  - name: [unclosed\n");
    assert!(problems[0].starts_with("runbooks.yaml:"), "{problems:?}");
    assert!(
        !problems[0].starts_with("runbooks.yaml:1:1:"),
        "{problems:?}"
    );
}

#[test]
fn semantic_errors_are_all_reported_with_lines() {
    let text = "\
version: 1
runbooks:
  - name: Restart_Web
    when:
      actions: [restart-web]
      title: '(unclosed'
    action:
      ssm_command:
        document: 'x'
        targets:
          instance_ids: [not-an-instance]
        max_concurrency: '0'
        delivery_timeout_seconds: 5
";
    let problems = problems_of(text);
    let lines: Vec<&str> = problems
        .iter()
        .map(|problem| problem.split(':').nth(1).unwrap())
        .collect();
    assert!(
        problems.iter().any(|p| p.contains("Restart_Web")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("regular expression")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("document name")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("not-an-instance")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("max_concurrency")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("delivery_timeout_seconds")),
        "{problems:?}"
    );
    assert!(lines.contains(&"3"), "name on line 3: {problems:?}");
    assert!(lines.contains(&"6"), "title on line 6: {problems:?}");
    assert!(lines.contains(&"9"), "document on line 9: {problems:?}");
    assert!(lines.contains(&"13"), "timeout on line 13: {problems:?}");
}

#[test]
fn duplicate_names_and_wrong_version_are_rejected() {
    let twice = format!("{MINIMAL}{}", &MINIMAL["version: 1\nrunbooks:\n".len()..]);
    assert!(problems_of(&twice).iter().any(|p| p.contains("used twice")));
    let problems = problems_of(&MINIMAL.replace("version: 1", "version: 2"));
    assert!(problems[0].starts_with("runbooks.yaml:1:"), "{problems:?}");
    assert!(problems[0].contains("version 2"), "{problems:?}");
}

#[test]
fn when_without_conditions_is_rejected() {
    let text = MINIMAL.replace("      actions: [restart-web]\n", "      services: [web]\n");
    assert!(problems_of(&text)[0].contains("at least one of"));
}

#[test]
fn targets_need_exactly_one_kind() {
    let both = MINIMAL.replace(
        "          tags: { Role: web }\n",
        "          tags: { Role: web }\n          instance_ids: [i-0123456789abcdef0]\n",
    );
    assert!(problems_of(&both)[0].contains("exactly one"));
    let neither = MINIMAL.replace("          tags: { Role: web }\n", "          tags: {}\n");
    assert!(problems_of(&neither)[0].contains("exactly one"));
}

#[test]
fn when_matches_every_condition_given() {
    let text = "\
version: 1
runbooks:
  - name: diagnose
    when:
      sources: [pagerduty-v3]
      event_types: [incident.triggered]
      services: [PF9KMXH]
      title: '(?i)latency'
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: [i-0123456789abcdef0] }
";
    let catalog = Catalog::parse(text, "t").unwrap();
    let when = &catalog.runbooks[0].when;
    let mut trigger = Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: "e1".into(),
        event_type: "incident.triggered".into(),
        action: None,
        occurred_at: Utc::now(),
        incident: Some(Incident {
            id: "P1".into(),
            title: "High LATENCY on checkout".into(),
            status: "triggered".into(),
            service: Some(Reference {
                id: "PF9KMXH".into(),
                name: "API Service".into(),
            }),
            ..Incident::default()
        }),
        actor: None,
        alarm: None,
        event: None,
    };
    assert_eq!(when.first_mismatch(&trigger), None);
    trigger.incident.as_mut().unwrap().title = "Disk full".into();
    assert_eq!(when.first_mismatch(&trigger), Some("title"));
    trigger.incident.as_mut().unwrap().service = Some(Reference {
        id: "OTHER".into(),
        name: "Other".into(),
    });
    assert_eq!(when.first_mismatch(&trigger), Some("services"));
    trigger.event_type = "incident.resolved".into();
    assert_eq!(when.first_mismatch(&trigger), Some("event_types"));
    trigger.source = Source::PagerDutyAction;
    assert_eq!(when.first_mismatch(&trigger), Some("sources"));
}

#[test]
fn shell_placeholders_must_be_bare_and_their_shell_known() {
    let base = "version: 1\nrunbooks:\n  - name: r\n    when: { actions: [r] }\n    params: { x: { from: '{{ incident.title }}', pattern: '[a-z]+' } }\n    action:\n      ssm_command:\n        document: DOC\n        targets: { tags: { Role: web } }\n        parameters: { commands: ['CMD'] }\n";
    let quoted = base
        .replace("DOC", "AWS-RunShellScript")
        .replace("CMD", "echo \"{{ params.x }}\"");
    assert!(problems_of(&quoted)[0].contains("inside quotes"));
    let unknown = base
        .replace("DOC", "Acme-RunScript")
        .replace("CMD", "echo {{ params.x }}");
    assert!(problems_of(&unknown)[0].contains("say which shell"));
    let declared = base
        .replace("DOC", "Acme-RunScript\n        shell: posix")
        .replace("CMD", "echo {{ params.x }}");
    assert!(Catalog::parse(&declared, "t").is_ok());
}

#[test]
fn guard_limits_the_ledger_and_ssm_can_hold() {
    let with_guards = |guards: &str| {
        MINIMAL.replace(
            "    action:\n",
            &format!("    guards: {guards}\n    action:\n"),
        )
    };
    let problems = problems_of(&with_guards("{ max_targets: 51 }"));
    assert!(
        problems[0].contains("max_targets must be at most 50"),
        "{problems:?}"
    );
    let problems = problems_of(&with_guards(
        "{ max_runs: { count: 101, window_seconds: 60 } }",
    ));
    assert!(
        problems[0].contains("max_runs count must be at most 100"),
        "{problems:?}"
    );
    for fine in [
        "{ max_targets: 50 }",
        "{ max_runs: { count: 100, window_seconds: 60 } }",
    ] {
        Catalog::parse(&with_guards(fine), "runbooks.yaml").unwrap();
    }
}
