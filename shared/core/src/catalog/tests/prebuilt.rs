//! The prebuilt form of a compiled-in catalog: it must load into exactly the catalog its YAML
//! parses into, a bad catalog must fail when it is prebuilt (at build time) with its positions,
//! and a damaged prebuilt form must be an error, never a panic or a half-loaded catalog.

use super::*;

/// Every field of every raw type, with a value other than its default where one exists, so that
/// a field the JSON form drops or renames changes the loaded catalog.
const EVERY_FIELD: &str = r#"
version: 1
custom_actions:
  restart: { label: Restart it }
  rollback: { label: Roll back }
runbooks:
  - name: restart
    description: every incident field
    when:
      sources: [pagerduty-action]
      event_types: [incident.custom]
      actions: [restart]
      services: [PXYZ123, web]
      title: '(?i)disk (full|almost full)'
      urgency: [high]
      priority: [P1]
      teams: [sre]
      status: [triggered, acknowledged]
    params:
      host: { from: '{{ incident.title }}', pattern: 'web-[0-9]+', unicode: true, default: web-1, secret: true }
      size: { from: '{{ incident.urgency }}', enum: [high, low] }
    guards:
      allowed_users: [PUSER01]
      allowed_teams: [sre]
      incident_status: [triggered]
      urgency: [high]
      max_targets: 3
      cooldown_seconds: 600
      max_runs: { count: 2, window_seconds: 3600 }
    action:
      ssm_command:
        document: AWS-RunPowerShellScript
        shell: powershell
        targets: { tags: { Role: [web, api], Env: prod } }
        parameters:
          commands: ['Restart-Service {{ params.host }}', 'Get-Service {{ params.size }}']
          workingDirectory: 'C:\app'
        delivery_timeout_seconds: 60
        execution_timeout_seconds: 120
        max_concurrency: 50%
        max_errors: '1'
    report: { note_on_start: false, note_on_finish: false, resolve_on_success: true, publish: false }
    dry_run: true
  - name: alarm-and-automation
    when:
      sources: [cloudwatch-alarm]
      alarm:
        name_regex: '^disk-.*$'
        state: [ALARM]
        namespace: [CWAgent]
        metric: [disk_used_percent]
        dimensions: { path: '/var*', InstanceId: 'i-*' }
    params:
      instance: { from: '{{ alarm.dimensions.InstanceId }}', pattern: 'i-[0-9a-f]{8,17}' }
    action:
      ssm_automation:
        document: AWS-RestartEC2Instance
        document_version: '3'
        parameters: { InstanceId: ['{{ params.instance }}'] }
        target_parameter: InstanceId
        targets: { instance_ids: ['{{ params.instance }}', i-0123456789abcdef0] }
        max_concurrency: '2'
        max_errors: 10%
    verify: { settle_seconds: 300, alarm: '{{ alarm.name }}', on_failure: escalate }
  - name: alarm-glob
    when:
      sources: [cloudwatch-alarm]
      alarm: { name: 'web-*-disk?' }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: [i-0123456789abcdef0] }
        parameters: { commands: 'df -h' }
  - name: workflow
    when:
      workflows: [PRSTAPI, Restart API service]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: api } }
        parameters: { commands: 'systemctl restart api' }
  - name: finding
    when:
      sources: [aws-event]
      event:
        source: [aws.guardduty]
        detail_type: [GuardDuty Finding]
        finding_type: ['UnauthorizedAccess:EC2/*']
        min_severity: HIGH
        resource: ['arn:aws:ec2:*:instance/i-*']
    params:
      service: { from: '{{ event.source }}', pattern: '[a-z.]+' }
    action:
      rundeck:
        job_id: 4c3a1e2f-7b9d-4e0a-9f51-2d7c8b6a5e31
        options: { service: '{{ params.service }}', mode: safe }
        loglevel: DEBUG
        filter: 'tags: {{ params.service }}'
        as_user: automation
"#;

fn round_trip(text: &str) -> Catalog {
    let prebuilt = Catalog::prebuild(text, "runbooks.yaml").expect("prebuild");
    Catalog::from_prebuilt(&prebuilt, "runbooks.yaml").expect("load the prebuilt form")
}

/// Everything a catalog holds, patterns by their text (`Debug` shows every field). The index is
/// left out: it is built from the runbooks by the same code either way, and its maps print in
/// no fixed order.
fn described(catalog: &Catalog) -> String {
    format!(
        "{} {:?} {:?} {:?}",
        catalog.source_name, catalog.version, catalog.runbooks, catalog.custom_actions
    )
}

fn problems_of_prebuilt(prebuilt: &str) -> Vec<String> {
    match Catalog::from_prebuilt(prebuilt, "built in") {
        Ok(_) => panic!("expected the prebuilt form to be refused"),
        Err(Error::Catalog { problems, .. }) => problems,
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

#[test]
fn the_prebuilt_form_loads_into_what_the_yaml_parses_into() {
    for text in [EVERY_FIELD, BUILT_IN_CATALOG, MINIMAL] {
        let parsed = Catalog::parse(text, "runbooks.yaml").unwrap();
        assert_eq!(described(&round_trip(text)), described(&parsed));
    }
    // The fixture reaches what it claims to: a dropped field would go unnoticed otherwise.
    let every = Catalog::parse(EVERY_FIELD, "runbooks.yaml").unwrap();
    assert_eq!(every.runbooks.len(), 5);
    assert!(!every.runbooks[3].when.workflows.is_empty());
    assert!(every.runbooks[0].params.iter().any(|param| param.secret));
    assert!(every.runbooks[1].verify.is_some());
    assert!(every.runbooks[0].dry_run && !every.runbooks[0].report.publish);
}

#[test]
fn the_prebuilt_form_keeps_the_version_of_its_yaml() {
    assert_eq!(round_trip(MINIMAL).version, content_version(MINIMAL));
}

#[test]
fn patterns_of_a_prebuilt_catalog_are_shared_and_compiled_on_first_use() {
    let text = MINIMAL.replace(
        "      actions: [restart-web]\n",
        "      actions: [restart-web]\n      title: 'web-[0-9]+'\n      alarm: { name_regex: 'web-[0-9]+' }\n",
    );
    let catalog = round_trip(&text);
    let when = &catalog.runbooks[0].when;
    let (title, alarm) = (when.title.as_ref().unwrap(), when.alarm.as_ref().unwrap());
    assert!(title.shares(alarm.name.as_ref().unwrap()));
    assert!(!title.is_compiled());
    assert!(title.is_match("web-12"));
    assert!(title.is_compiled());
}

#[test]
fn a_bad_catalog_fails_when_prebuilt_with_the_same_problems_as_when_parsed() {
    let bad = MINIMAL.replace("name: restart-web", "name: Restart_Web");
    let Err(Error::Catalog { problems, .. }) = Catalog::prebuild(&bad, "runbooks.yaml") else {
        panic!("a bad catalog was prebuilt")
    };
    assert_eq!(problems, problems_of(&bad));
    assert!(problems[0].starts_with("runbooks.yaml:5:"), "{problems:?}");
    let Err(Error::Catalog { problems, .. }) = Catalog::prebuild("version: [", "runbooks.yaml")
    else {
        panic!("broken YAML was prebuilt")
    };
    assert_eq!(problems, problems_of("version: ["));
}

#[test]
fn a_damaged_prebuilt_form_is_refused_with_a_clear_error() {
    let prebuilt = Catalog::prebuild(MINIMAL, "runbooks.yaml").unwrap();
    let cases = [
        ("not json", "does not read"),
        ("", "does not read"),
        (&prebuilt[..prebuilt.len() / 2], "does not read"),
        (
            &prebuilt.replace("\"format\":1", "\"format\":2"),
            "has format 2",
        ),
        // An unknown field of the envelope (the first "version" is the envelope's).
        (
            &prebuilt.replacen("\"version\":", "\"extra\":1,\"version\":", 1),
            "does not read",
        ),
        // Checks other than the patterns' still run.
        (
            &prebuilt.replace("restart-web\"", "Restart_Web\""),
            "fails checks",
        ),
    ];
    for (damaged, expected) in cases {
        let problems = problems_of_prebuilt(damaged);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(expected), "{damaged:?}: {problems:?}");
        assert!(problems[0].contains("rebuild"), "{problems:?}");
    }
}

#[test]
fn a_pattern_that_skipped_its_checks_and_does_not_compile_matches_nothing() {
    // Only a prebuilt form altered after its build can carry one: it must fail closed.
    let prebuilt = Catalog::prebuild(
        &MINIMAL.replace(
            "      actions: [restart-web]\n",
            "      actions: [restart-web]\n      title: 'web'\n",
        ),
        "runbooks.yaml",
    )
    .unwrap();
    let altered = prebuilt.replace("\"title\":\"web\"", "\"title\":\"(web\"");
    assert_ne!(altered, prebuilt);
    let catalog =
        Catalog::from_prebuilt(&altered, "built in").expect("titles are not checked again");
    let title = catalog.runbooks[0].when.title.as_ref().unwrap();
    assert_eq!(title.as_str(), "(web");
    assert!(!title.is_match("web"));
    assert!(!title.is_match("(web"));
}

#[test]
fn parameter_patterns_are_checked_even_in_a_prebuilt_catalog() {
    // Alone, `x)|(.*` is a syntax error; anchored unchecked, it would become `\A(?:x)|(.*)\z`,
    // which matches any value: the check alone is what keeps incident text out of a command.
    let text = MINIMAL.replace(
        "    action:\n",
        "    params:\n      host: { from: '{{ incident.title }}', pattern: 'x' }\n    action:\n",
    );
    let prebuilt = Catalog::prebuild(&text, "runbooks.yaml").unwrap();
    let altered = prebuilt.replace("\"pattern\":\"x\"", "\"pattern\":\"x)|(.*\"");
    assert_ne!(altered, prebuilt);
    let problems = problems_of_prebuilt(&altered);
    assert!(problems[0].contains("fails checks"), "{problems:?}");
    assert!(problems[0].contains("host"), "{problems:?}");
}

#[test]
fn a_parameter_pattern_is_checked_even_when_a_title_wrote_the_same_text_first() {
    // The title is accepted unchecked and stored; the parameter's use of the same text must
    // not reuse it as if it had been checked.
    let text = MINIMAL.replace(
        "    action:\n",
        "    params:\n      host: { from: '{{ incident.title }}', pattern: 'x' }\n    action:\n",
    );
    let text = text.replace(
        "      actions: [restart-web]\n",
        "      actions: [restart-web]\n      title: 'x'\n",
    );
    let prebuilt = Catalog::prebuild(&text, "runbooks.yaml").unwrap();
    // Titles come before parameters in a runbook, so the title stores the text first.
    let title_at = prebuilt.find("\"title\":\"x\"").expect("the title");
    let pattern_at = prebuilt
        .find("\"pattern\":\"x\"")
        .expect("the parameter's pattern");
    assert!(title_at < pattern_at);
    let altered = prebuilt
        .replace("\"title\":\"x\"", "\"title\":\"x)|(.*\"")
        .replace("\"pattern\":\"x\"", "\"pattern\":\"x)|(.*\"");
    let problems = problems_of_prebuilt(&altered);
    assert!(problems[0].contains("fails checks"), "{problems:?}");
    assert!(problems[0].contains("host"), "{problems:?}");
}
