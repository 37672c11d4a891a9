use super::*;
use crate::catalog::Targets;
use crate::trigger::{Actor, Incident, Reference};

const CATALOG: &str = "\
version: 1
runbooks:
  - name: restart-web
    when:
      sources: [pagerduty-action]
      actions: [restart-web]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: web } }
        parameters: { commands: [systemctl restart nginx] }
        execution_timeout_seconds: 120
  - name: diagnose
    dry_run: true
    when:
      sources: [pagerduty-v3]
      event_types: [incident.triggered]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: [i-0123456789abcdef0] }
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
                name: "Web".into(),
            }),
            ..Incident::default()
        }),
        actor: Some(Actor {
            id: "PALICE".into(),
            name: "Alice".into(),
            kind: "user_reference".into(),
        }),
    }
}

#[test]
fn a_tap_becomes_a_plan() {
    let now = Utc::now();
    let Decision::Execute(plan) = decide(&tap("restart-web", now), &catalog(), &context(now))
    else {
        panic!("expected a plan");
    };
    assert_eq!(plan.runbook, "restart-web");
    assert_eq!(plan.dry_run, None);
    assert_eq!(plan.catalog_version, catalog().version);
    assert_eq!(plan.command.parameters["executionTimeout"], vec!["120"]);
    assert_eq!(
        plan.command.parameters["commands"],
        vec!["systemctl restart nginx"]
    );
    assert!(matches!(plan.command.targets, Targets::Tags(_)));
    assert!(
        plan.command
            .comment
            .starts_with(&format!("remediate {}", plan.run_id))
    );
    assert_eq!(plan.run_id, run_id("pagerduty-action:m1", "restart-web"));
}

#[test]
fn run_ids_are_stable_per_trigger_and_runbook() {
    assert_eq!(run_id("a", "rb"), run_id("a", "rb"));
    assert_ne!(run_id("a", "rb"), run_id("b", "rb"));
    assert_ne!(run_id("a", "rb"), run_id("a", "rb2"));
}

#[test]
fn unknown_action_is_ignored_with_an_explanation() {
    let now = Utc::now();
    let Decision::Ignore { reason } = decide(&tap("reboot-db", now), &catalog(), &context(now))
    else {
        panic!("expected ignore");
    };
    assert!(reason.contains("reboot-db"), "{reason}");
    assert!(reason.contains("restart-web (actions)"), "{reason}");
    assert!(reason.contains("diagnose (source)"), "{reason}");
}

#[test]
fn stale_and_resolved_triggers_are_refused() {
    let now = Utc::now();
    let mut stale = tap("restart-web", now);
    stale.occurred_at = now - Duration::hours(3);
    let Decision::Refuse { runbook, reason } = decide(&stale, &catalog(), &context(now)) else {
        panic!("expected refuse");
    };
    assert_eq!(runbook, "restart-web");
    assert!(reason.contains("3 h 0 min old"), "{reason}");

    let mut resolved = tap("restart-web", now);
    resolved.incident.as_mut().unwrap().status = "resolved".into();
    let Decision::Refuse { reason, .. } = decide(&resolved, &catalog(), &context(now)) else {
        panic!("expected refuse");
    };
    assert_eq!(reason, "incident #7 is resolved");
}

#[test]
fn dry_run_switches_apply_global_first() {
    let now = Utc::now();
    let mut v3 = tap("x", now);
    v3.source = Source::PagerDutyV3;
    v3.event_type = "incident.triggered".into();
    v3.action = None;
    let Decision::Execute(plan) = decide(&v3, &catalog(), &context(now)) else {
        panic!()
    };
    assert_eq!(
        plan.dry_run.as_deref(),
        Some("runbook diagnose is marked dry_run")
    );

    let mut global = context(now);
    global.global_dry_run = Some("REMEDIATE_DRY_RUN is true".into());
    let Decision::Execute(plan) = decide(&tap("restart-web", now), &catalog(), &global) else {
        panic!()
    };
    assert_eq!(plan.dry_run.as_deref(), Some("REMEDIATE_DRY_RUN is true"));
}

#[test]
fn comment_is_cut_to_100_characters() {
    let comment = correlation_comment(&run_id("a", "b"), &"x".repeat(200));
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
