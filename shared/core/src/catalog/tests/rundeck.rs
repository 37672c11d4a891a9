//! The `rundeck:` action: its optional fields (loglevel, filter, as_user), each checked, and
//! the run id option reserved for remediate.

use super::*;

fn catalog_with(action: &str) -> String {
    format!(
        "\
version: 1
custom_actions:
  rollback: {{ label: Roll back }}
runbooks:
  - name: rollback-web
    when:
      actions: [rollback]
    params:
      host: {{ from: '{{{{ incident.title }}}}', pattern: 'web-[0-9]{{1,3}}' }}
    action:
      rundeck:
        job_id: 4c3a1e2f-7b9d-4e0a-9f51-2d7c8b6a5e31
{action}"
    )
}

fn job_of(text: &str) -> RundeckJob {
    let catalog = Catalog::parse(text, "runbooks.yaml").unwrap();
    let Action::Rundeck(job) = &catalog.runbooks[0].action else {
        panic!("expected rundeck")
    };
    job.clone()
}

#[test]
fn every_optional_field_is_read() {
    let job = job_of(&catalog_with(
        "        options: { host: '{{ params.host }}', reason: incident }
        loglevel: VERBOSE
        filter: 'name: {{ params.host }}'
        as_user: oncall-bot
",
    ));
    assert_eq!(job.loglevel, Some(LogLevel::Verbose));
    let filter = job.filter.expect("filter");
    assert_eq!(filter.placeholders().collect::<Vec<_>>(), ["params.host"]);
    assert_eq!(job.as_user.as_deref(), Some("oncall-bot"));
    assert_eq!(job.options.len(), 2);
}

#[test]
fn the_optional_fields_may_be_left_out() {
    let job = job_of(&catalog_with(""));
    assert_eq!(job.loglevel, None);
    assert!(job.filter.is_none());
    assert_eq!(job.as_user, None);
    assert!(job.options.is_empty());
}

#[test]
fn every_documented_loglevel_is_accepted_and_nothing_else() {
    for level in LogLevel::ALL {
        let job = job_of(&catalog_with(&format!(
            "        loglevel: {}\n",
            level.as_str()
        )));
        assert_eq!(job.loglevel, Some(level));
    }
    for wrong in ["TRACE", "info", "''"] {
        let problems = problems_of(&catalog_with(&format!("        loglevel: {wrong}\n")));
        assert_eq!(problems.len(), 1, "{wrong}: {problems:?}");
        assert!(problems[0].contains("loglevel"), "{problems:?}");
        assert!(problems[0].contains("DEBUG, VERBOSE, INFO, WARN, ERROR"));
        assert!(problems[0].starts_with("runbooks.yaml:13:"), "{problems:?}");
    }
}

#[test]
fn the_filter_reads_declared_parameters_only() {
    let problems = problems_of(&catalog_with(
        "        filter: 'name: {{ incident.title }}'\n",
    ));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("declared parameters"), "{problems:?}");
    let problems = problems_of(&catalog_with("        filter: 'name: {{ params.nope }}'\n"));
    assert!(problems[0].contains("\"nope\""), "{problems:?}");
    let problems = problems_of(&catalog_with("        filter: ' '\n"));
    assert!(problems[0].contains("filter is empty"), "{problems:?}");
}

#[test]
fn as_user_is_a_fixed_user_name() {
    for wrong in ["'two words'", "''", "'{{ params.host }}'"] {
        let problems = problems_of(&catalog_with(&format!("        as_user: {wrong}\n")));
        assert_eq!(problems.len(), 1, "{wrong}: {problems:?}");
        assert!(problems[0].contains("as_user"), "{problems:?}");
    }
}

#[test]
fn the_run_id_option_is_remediates_own() {
    let problems = problems_of(&catalog_with(
        "        options: { remediate_run_id: fixed }\n",
    ));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("run id"), "{problems:?}");
    let problems = problems_of(&catalog_with("        options: { 'bad name': x }\n"));
    assert!(problems[0].contains("option name"), "{problems:?}");
}

#[test]
fn unknown_rundeck_fields_are_errors() {
    for field in ["node_filter: x", "asUser: x", "log_level: INFO"] {
        let problems = problems_of(&catalog_with(&format!("        {field}\n")));
        assert!(!problems.is_empty(), "{field}");
        let name = field.split(':').next().unwrap();
        assert!(problems[0].contains(name), "{field}: {problems:?}");
    }
}

#[test]
fn a_plan_renders_the_filter_from_a_value_that_matched_its_pattern() {
    use crate::decision::{Decision, DecisionContext, decide};
    use crate::guards::NoHistory;
    use crate::plan::ExecutionRequest;
    let catalog = Catalog::parse(
        &catalog_with(
            "        filter: 'name: {{ params.host }}'\n        loglevel: WARN\n        as_user: bot\n",
        ),
        "t",
    )
    .unwrap();
    let now = Utc::now();
    let context = DecisionContext {
        now,
        max_trigger_age: chrono::Duration::minutes(15),
        global_dry_run: None,
    };
    let decide_for = |title: &str| {
        let trigger = Trigger {
            source: crate::trigger::Source::PagerDutyAction,
            dedupe_id: "pagerduty-action:m1".into(),
            event_type: "incident.custom".into(),
            action: Some("rollback".into()),
            occurred_at: now - chrono::Duration::seconds(2),
            incident: Some(Incident {
                id: "PINC1".into(),
                title: title.into(),
                status: "triggered".into(),
                service: Some(Reference {
                    id: "PWEB".into(),
                    name: "Web".into(),
                }),
                ..Incident::default()
            }),
            actor: Some(crate::trigger::Actor {
                id: "PALICE".into(),
                name: "Alice".into(),
                kind: "user_reference".into(),
                unconfirmed: false,
            }),
            alarm: None,
            event: None,
            workflow: None,
        };
        decide(&trigger, &catalog, &context, &NoHistory)
    };
    let Decision::Execute(plan) = decide_for("web-12") else {
        panic!("expected a plan")
    };
    let ExecutionRequest::Rundeck(job) = &plan.request else {
        panic!("expected a Rundeck request")
    };
    assert_eq!(job.filter.as_deref(), Some("name: web-12"));
    assert_eq!(job.loglevel, Some(LogLevel::Warn));
    assert_eq!(job.as_user.as_deref(), Some("bot"));
    assert_eq!(
        job.options_with_run_id()["remediate_run_id"],
        plan.run_id.as_str()
    );
    // A title that does not match the pattern never reaches the filter.
    let decision = decide_for("web-1 !tags: prod");
    assert!(matches!(decision, Decision::Refuse { .. }), "{decision:?}");
}
