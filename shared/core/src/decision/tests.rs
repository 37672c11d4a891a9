use super::*;
use crate::guards::{GuardStore, NoHistory};
use crate::plan::{CommandRequest, ExecutionRequest, Plan};
use crate::testing::InMemoryGuards;
use crate::trigger::{Actor, Alarm, Incident, Reference};

const CATALOG: &str = "\
version: 1
runbooks:
  - name: restart-web
    when:
      sources: [pagerduty-action]
      actions: [restart-web]
    params:
      service:
        from: '{{ incident.service.name }}'
        enum: [web, api]
    guards:
      allowed_users: [PALICE]
      incident_status: [triggered, acknowledged]
      cooldown_seconds: 600
      max_runs: { count: 3, window_seconds: 3600 }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: '{{ params.service }}' } }
        parameters: { commands: ['systemctl restart {{ params.service }}'] }
        execution_timeout_seconds: 120
  - name: disk-cleanup
    when:
      sources: [cloudwatch-alarm]
      alarm: { name: 'disk-*', dimensions: { InstanceId: 'i-*' } }
    params:
      instance:
        from: '{{ alarm.dimensions.InstanceId }}'
        pattern: 'i-[0-9a-f]{8,17}'
      mount:
        from: '{{ alarm.dimensions.path }}'
        pattern: '/[a-z0-9/_-]{0,64}'
        default: /
    guards:
      max_targets: 1
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: ['{{ params.instance }}'] }
        parameters: { commands: ['journalctl --vacuum-size=200M', 'df -h {{ params.mount }}'] }
  - name: diagnose
    dry_run: true
    when:
      sources: [pagerduty-v3]
      event_types: [incident.triggered]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: [i-0123456789abcdef0] }
  - name: restart-ec2
    when:
      actions: [restart-ec2]
    action:
      ssm_automation:
        document: AWS-RestartEC2Instance
        parameters: { InstanceId: [i-0123456789abcdef0] }
  - name: rundeck-deploy
    when:
      actions: [rollback]
    params:
      service: { from: '{{ incident.service.name }}', enum: [web] }
    action:
      rundeck:
        job_id: 4c3a1e2f-7b9d-4e0a-9f51-2d7c8b6a5e31
        options: { service: '{{ params.service }}' }
custom_actions:
  restart-web: { label: Restart web tier }
  restart-ec2: { label: Restart EC2 instance }
  rollback: { label: Roll back }
";

fn catalog() -> Catalog {
    Catalog::parse(CATALOG, "test").unwrap()
}

fn context(now: DateTime<Utc>) -> DecisionContext {
    DecisionContext {
        now,
        max_trigger_age: Duration::minutes(15),
        global_dry_run: None,
    }
}

fn tap(action: &str, now: DateTime<Utc>) -> Trigger {
    Trigger {
        source: Source::PagerDutyAction,
        dedupe_id: "pagerduty-action:m1".into(),
        event_type: "incident.custom".into(),
        action: Some(action.into()),
        occurred_at: now - Duration::seconds(2),
        incident: Some(Incident {
            id: "PINC1".into(),
            number: Some(7),
            title: "Web down".into(),
            status: "triggered".into(),
            service: Some(Reference {
                id: "PSVC".into(),
                name: "web".into(),
            }),
            ..Incident::default()
        }),
        actor: Some(Actor {
            id: "PALICE".into(),
            name: "Alice".into(),
            kind: "user_reference".into(),
            unconfirmed: false,
        }),
        alarm: None,
        event: None,
        workflow: None,
    }
}

fn alarm(instance: &str, now: DateTime<Utc>) -> Trigger {
    Trigger {
        source: Source::CloudwatchAlarm,
        dedupe_id: "sns:1".into(),
        event_type: "ALARM".into(),
        action: None,
        occurred_at: now,
        incident: None,
        actor: None,
        alarm: Some(Alarm {
            name: "disk-full-web".into(),
            state: "ALARM".into(),
            dimensions: [("InstanceId".to_owned(), instance.to_owned())].into(),
            ..Alarm::default()
        }),
        event: None,
        workflow: None,
    }
}

fn execute(decision: Decision) -> Box<Plan> {
    match decision {
        Decision::Execute(plan) => plan,
        other => panic!("expected a plan, got {other:?}"),
    }
}

fn command(plan: &Plan) -> &CommandRequest {
    match &plan.request {
        ExecutionRequest::SsmCommand(command) => command,
        other => panic!("expected a command, got {other:?}"),
    }
}

fn refusal(decision: Decision) -> String {
    match decision {
        Decision::Refuse { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_tap_becomes_a_plan_with_rendered_and_quoted_parameters() {
    let now = Utc::now();
    let plan = execute(decide(
        &tap("restart-web", now),
        &catalog(),
        &context(now),
        &NoHistory,
    ));
    assert_eq!(plan.runbook, "restart-web");
    assert_eq!(plan.dry_run, None);
    assert_eq!(plan.params["service"], "web");
    let command = command(&plan);
    assert_eq!(
        command.parameters["commands"],
        vec!["systemctl restart 'web'"]
    );
    assert_eq!(command.parameters["executionTimeout"], vec!["120"]);
    assert_eq!(
        command.targets,
        Targets::Tags([("Role".to_owned(), vec!["web".to_owned()])].into())
    );
    assert!(
        command
            .comment
            .starts_with(&format!("remediate {}", plan.run_id))
    );
    assert_eq!(
        plan.run_id,
        run_id(&"pagerduty-action:m1".into(), "restart-web")
    );
    let reservation = plan
        .reservation
        .as_ref()
        .expect("guards make a reservation");
    assert_eq!(reservation.target, "tag:Role=web");
    assert_eq!(reservation.cooldown_seconds, Some(600));
}

#[test]
fn an_alarm_renders_its_instance_and_a_default() {
    let now = Utc::now();
    let plan = execute(decide(
        &alarm("i-0123456789abcdef0", now),
        &catalog(),
        &context(now),
        &NoHistory,
    ));
    let command = command(&plan);
    assert_eq!(
        command.targets,
        Targets::InstanceIds(vec!["i-0123456789abcdef0".into()])
    );
    assert_eq!(command.parameters["commands"][1], "df -h '/'");
}

#[test]
fn a_value_outside_its_pattern_refuses_the_run() {
    let now = Utc::now();
    let reason = refusal(decide(
        &alarm("i-0123456789abcdef0; rm -rf /", now),
        &catalog(),
        &context(now),
        &NoHistory,
    ));
    assert!(reason.contains("parameter instance"), "{reason}");
    assert!(reason.contains("does not match its pattern"), "{reason}");

    let mut other_service = tap("restart-web", now);
    other_service
        .incident
        .as_mut()
        .unwrap()
        .service
        .as_mut()
        .unwrap()
        .name = "db".into();
    let reason = refusal(decide(
        &other_service,
        &catalog(),
        &context(now),
        &NoHistory,
    ));
    assert!(reason.contains("one of web, api"), "{reason}");
}

#[test]
fn guards_refuse_with_reasons() {
    let now = Utc::now();
    let mut mallory = tap("restart-web", now);
    mallory.actor.as_mut().unwrap().id = "PMALLORY".into();
    let reason = refusal(decide(&mallory, &catalog(), &context(now), &NoHistory));
    assert!(reason.contains("not among the users allowed"), "{reason}");

    let mut resolved = tap("restart-web", now);
    resolved.incident.as_mut().unwrap().status = "resolved".into();
    assert_eq!(
        refusal(decide(&resolved, &catalog(), &context(now), &NoHistory)),
        "incident #7 is resolved"
    );
}

#[tokio::test]
async fn cooldowns_and_windows_suppress_through_the_view() {
    let now = Utc::now();
    let guards = InMemoryGuards::default();
    let plan = execute(decide(
        &tap("restart-web", now),
        &catalog(),
        &context(now),
        &guards,
    ));
    guards
        .reserve(plan.reservation.as_ref().unwrap(), now)
        .await
        .unwrap();
    match decide(&tap("restart-web", now), &catalog(), &context(now), &guards) {
        Decision::Suppress { reason, .. } => assert!(reason.contains("cooling down"), "{reason}"),
        other => panic!("expected suppression, got {other:?}"),
    }
}

#[test]
fn unknown_action_is_ignored_with_an_explanation() {
    let now = Utc::now();
    let Decision::Ignore { reason } = decide(
        &tap("reboot-db", now),
        &catalog(),
        &context(now),
        &NoHistory,
    ) else {
        panic!("expected ignore");
    };
    assert!(reason.contains("reboot-db"), "{reason}");
    assert!(reason.contains("restart-web (actions)"), "{reason}");
    assert!(reason.contains("diagnose (sources)"), "{reason}");
}

#[test]
fn stale_triggers_are_refused() {
    let now = Utc::now();
    let mut stale = tap("restart-web", now);
    stale.occurred_at = now - Duration::hours(3);
    let reason = refusal(decide(&stale, &catalog(), &context(now), &NoHistory));
    assert!(reason.contains("3 h 0 min old"), "{reason}");
}

#[test]
fn max_targets_is_a_blast_radius() {
    let text = CATALOG
        .replace("max_targets: 1", "max_targets: 1\n    # two ids below")
        .replace(
            "targets: { instance_ids: ['{{ params.instance }}'] }",
            "targets: { instance_ids: ['{{ params.instance }}', i-0fedcba9876543210] }",
        );
    let catalog = Catalog::parse(&text, "t").unwrap();
    let now = Utc::now();
    let reason = refusal(decide(
        &alarm("i-0123456789abcdef0", now),
        &catalog,
        &context(now),
        &NoHistory,
    ));
    assert!(reason.contains("2 targets exceed"), "{reason}");
}

#[test]
fn dry_run_switches_apply_global_first() {
    let now = Utc::now();
    let mut v3 = tap("x", now);
    v3.source = Source::PagerDutyV3;
    v3.event_type = "incident.triggered".into();
    v3.action = None;
    let plan = execute(decide(&v3, &catalog(), &context(now), &NoHistory));
    assert_eq!(
        plan.dry_run.as_deref(),
        Some("runbook diagnose is marked dry_run")
    );

    let mut global = context(now);
    global.global_dry_run = Some("REMEDIATE_DRY_RUN is on".into());
    let plan = execute(decide(
        &tap("restart-web", now),
        &catalog(),
        &global,
        &NoHistory,
    ));
    assert_eq!(plan.dry_run.as_deref(), Some("REMEDIATE_DRY_RUN is on"));
}

#[test]
fn automation_and_rundeck_plans_carry_their_idempotency_handles() {
    let now = Utc::now();
    let plan = execute(decide(
        &tap("restart-ec2", now),
        &catalog(),
        &context(now),
        &NoHistory,
    ));
    let ExecutionRequest::SsmAutomation(automation) = &plan.request else {
        panic!()
    };
    assert_eq!(automation.client_token, plan.run_id.as_str());
    assert_eq!(
        automation.parameters["InstanceId"],
        vec!["i-0123456789abcdef0"]
    );

    let plan = execute(decide(
        &tap("rollback", now),
        &catalog(),
        &context(now),
        &NoHistory,
    ));
    let ExecutionRequest::Rundeck(job) = &plan.request else {
        panic!()
    };
    assert_eq!(job.options["service"], "web");
    assert_eq!(job.run_id, plan.run_id);
}

#[test]
fn explanation_lists_every_check() {
    let now = Utc::now();
    let mut verdicts = Vec::new();
    let decision = decide_explained(
        &tap("restart-web", now),
        &catalog(),
        &context(now),
        &NoHistory,
        Some(&mut verdicts),
    );
    assert!(matches!(decision, Decision::Execute(_)));
    let checks: Vec<&str> = verdicts.iter().map(|v| v.check.as_str()).collect();
    for check in [
        "age",
        "incident open",
        "allowed_users",
        "incident_status",
        "parameters",
        "dry run",
    ] {
        assert!(checks.contains(&check), "{checks:?}");
    }
    assert!(verdicts.iter().all(|v| v.passed));
}

#[test]
fn run_ids_are_stable_per_trigger_and_runbook() {
    assert_eq!(run_id(&"a".into(), "rb"), run_id(&"a".into(), "rb"));
    assert_ne!(run_id(&"a".into(), "rb"), run_id(&"b".into(), "rb"));
    assert_ne!(run_id(&"a".into(), "rb"), run_id(&"a".into(), "rb2"));
}

#[test]
fn comment_is_cut_to_100_characters() {
    let comment = correlation_comment(&run_id(&"a".into(), "b"), &"x".repeat(200));
    assert_eq!(comment.chars().count(), 100);
    assert!(comment.starts_with("remediate "));
}

#[test]
fn durations_read_well() {
    assert_eq!(human_duration(Duration::seconds(42)), "42 s");
    assert_eq!(human_duration(Duration::minutes(15)), "15 min");
    assert_eq!(human_duration(Duration::minutes(75)), "1 h 15 min");
    assert_eq!(human_duration(Duration::hours(49)), "2 d 1 h");
}

const LOOSE: &str = "\
version: 1
runbooks:
  - name: loose
    when: { actions: [loose] }
    params:
      number: { from: '{{ incident.number }}', pattern: '\\d+', default: '1' }
      word: { from: '{{ incident.title }}', pattern: '[ -~]+' }
      tail: { from: '{{ incident.service.name }}', pattern: '[ -~]+' }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: web } }
        parameters:
          commands: ['logger {{ params.word }} {{ params.number }}']
          workingDirectory: ['/srv/{{ params.word }}{{ params.tail }}']
custom_actions:
  loose: { label: Loose }
";

fn loose_tap(title: &str, service: &str, now: DateTime<Utc>) -> Trigger {
    let mut trigger = tap("loose", now);
    let incident = trigger.incident.as_mut().unwrap();
    incident.title = title.into();
    incident.service.as_mut().unwrap().name = service.into();
    trigger
}

#[test]
fn patterns_match_ascii_only_unless_the_parameter_asks_for_unicode() {
    let now = Utc::now();
    // `number` reads the actor's name here, so the test can hand it any text.
    let ascii = Catalog::parse(
        &LOOSE.replace("{{ incident.number }}", "{{ actor.name }}"),
        "t",
    )
    .unwrap();
    let unicode = Catalog::parse(
        &LOOSE
            .replace("{{ incident.number }}", "{{ actor.name }}")
            .replace(
                "pattern: '\\d+', default",
                "pattern: '\\d+', unicode: true, default",
            ),
        "t",
    )
    .unwrap();
    let arabic_digits = "\u{0661}\u{0662}\u{0663}";
    let by = |name: &str| {
        let mut trigger = loose_tap("disk", "web", now);
        trigger.actor.as_mut().unwrap().name = name.into();
        trigger
    };
    let reason = refusal(decide(
        &by(arabic_digits),
        &ascii,
        &context(now),
        &NoHistory,
    ));
    assert!(reason.starts_with("parameter number: "), "{reason}");
    assert!(reason.contains("not ASCII"), "{reason}");
    let plan = execute(decide(
        &by(arabic_digits),
        &unicode,
        &context(now),
        &NoHistory,
    ));
    assert_eq!(plan.params["number"], arabic_digits);
    for catalog in [&ascii, &unicode] {
        let plan = execute(decide(&by("42"), catalog, &context(now), &NoHistory));
        assert_eq!(plan.params["number"], "42");
    }
}

#[test]
fn values_that_would_make_ssm_resolve_a_reference_are_refused() {
    let now = Utc::now();
    let catalog = Catalog::parse(LOOSE, "t").unwrap();
    for title in ["{{ssm:/prod/db/password}}", "a{{resolve:x}}", "{{"] {
        let reason = refusal(decide(
            &loose_tap(title, "web", now),
            &catalog,
            &context(now),
            &NoHistory,
        ));
        assert!(reason.starts_with("parameter word: "), "{reason}");
        assert!(reason.contains("{{"), "{reason}");
    }
    // Two values that are harmless alone but meet as `{{` in an unquoted parameter.
    let reason = refusal(decide(
        &loose_tap("x{", "{ssm:/prod/db/password}}", now),
        &catalog,
        &context(now),
        &NoHistory,
    ));
    assert!(reason.contains("workingDirectory"), "{reason}");
    assert!(reason.contains("{{"), "{reason}");
    let plan = execute(decide(
        &loose_tap("x{", "y", now),
        &catalog,
        &context(now),
        &NoHistory,
    ));
    assert_eq!(command(&plan).parameters["workingDirectory"], ["/srv/x{y"]);
}

#[test]
fn powershell_values_that_native_programs_would_split_are_refused() {
    let now = Utc::now();
    let catalog = Catalog::parse(
        &LOOSE.replace("AWS-RunShellScript", "AWS-RunPowerShellScript"),
        "t",
    )
    .unwrap();
    for title in ["a\"b", "dir\\"] {
        let reason = refusal(decide(
            &loose_tap(title, "web", now),
            &catalog,
            &context(now),
            &NoHistory,
        ));
        assert!(reason.starts_with("parameter word: "), "{reason}");
        assert!(reason.contains("native program"), "{reason}");
    }
    // Inner backslashes are fine, and POSIX scripts take both.
    execute(decide(
        &loose_tap("a\\b", "web", now),
        &catalog,
        &context(now),
        &NoHistory,
    ));
    let posix = Catalog::parse(LOOSE, "t").unwrap();
    execute(decide(
        &loose_tap("dir\\", "web", now),
        &posix,
        &context(now),
        &NoHistory,
    ));
}
