//! The catalog's patterns: checked at load (with their positions), compiled on first use, one
//! per distinct text; the index's title sets built on first use; tag keys.

use super::*;

/// `count` runbooks on one service, each with a title and the same parameter pattern.
fn catalog_text(count: usize, title: impl Fn(usize) -> String, pattern: &str) -> String {
    let mut text = String::from("version: 1\nrunbooks:\n");
    for i in 0..count {
        text.push_str(&format!(
            "  - name: r{i}\n    when:\n      sources: [pagerduty-v3]\n      services: [PWEB]\n      title: '{}'\n    params:\n      host: {{ from: '{{{{ incident.title }}}}', pattern: '{pattern}' }}\n    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        targets: {{ tags: {{ Role: web }} }}\n        parameters: {{ commands: ['echo {{{{ params.host }}}}'] }}\n",
            title(i)
        ));
    }
    text
}

fn incident_trigger(title: &str) -> Trigger {
    Trigger {
        source: Source::PagerDutyV3,
        dedupe_id: "e1".into(),
        event_type: "incident.triggered".into(),
        action: None,
        occurred_at: Utc::now(),
        incident: Some(Incident {
            id: "P1".into(),
            title: title.into(),
            status: "triggered".into(),
            service: Some(Reference {
                id: "PWEB".into(),
                name: "Web".into(),
            }),
            ..Incident::default()
        }),
        actor: None,
        alarm: None,
        event: None,
        workflow: None,
    }
}

fn pattern_of(param: &Param) -> &Pattern {
    match &param.rule {
        ParamRule::Pattern { regex, .. } => regex,
        ParamRule::Enum(_) => panic!("expected a pattern"),
    }
}

#[test]
fn patterns_are_compiled_on_first_use_and_shared_by_their_text() {
    let text = catalog_text(3, |i| format!(r"(?i)disk full on web-{i}\b"), "web-[0-9]+");
    let catalog = Catalog::parse(&text, "t").unwrap();
    let titles: Vec<&Pattern> = catalog
        .runbooks
        .iter()
        .map(|runbook| runbook.when.title.as_ref().unwrap())
        .collect();
    let params: Vec<&Pattern> = catalog
        .runbooks
        .iter()
        .map(|runbook| pattern_of(&runbook.params[0]))
        .collect();
    assert!(titles.iter().chain(&params).all(|p| !p.is_compiled()));
    assert!(params[0].shares(params[1]) && params[1].shares(params[2]));
    assert!(!titles[0].shares(titles[1]));
    assert_eq!(params[0].as_str(), r"\A(?:web-[0-9]+)\z");

    let found = catalog.first_match(&incident_trigger("DISK FULL on web-1"));
    assert_eq!(found.map(|runbook| runbook.name.as_str()), Some("r1"));
    assert!(titles[1].is_compiled());
    assert!(!titles[2].is_compiled(), "never reached");
    assert!(catalog.runbooks[1].params[0].rule.accepts("web-1"));
    assert!(!catalog.runbooks[1].params[0].rule.accepts("web-1; reboot"));
    assert!(
        params.iter().all(|p| p.is_compiled()),
        "one pattern, shared"
    );
}

#[test]
fn an_invalid_or_oversized_title_fails_the_load_at_its_position() {
    for (title, why) in [
        ("(latency", "unclosed group"),
        (r"\p{Latin}{2}\p{Nope}", "Unicode property not found"),
        (r"\w{500}", "exceeds size limit"),
    ] {
        let text = catalog_text(1, |_| title.to_owned(), "web-[0-9]+");
        let problems = problems_of(&text);
        assert_eq!(problems.len(), 1, "{title}: {problems:?}");
        assert!(
            problems[0]
                .starts_with("runbooks.yaml:7:14: title is not a valid regular expression: "),
            "{problems:?}"
        );
        assert!(problems[0].contains(why), "{problems:?}");
    }
}

#[test]
fn an_invalid_or_oversized_parameter_pattern_fails_the_load_at_its_position() {
    for (pattern, why) in [
        ("web-[0-9", "unclosed character class"),
        ("x)|(.*", "unopened group"),
        (r"(?x)web #", "compiles alone but not anchored"),
        (r"[\w-]{1,64}", "exceeds size limit"),
    ] {
        let text = catalog_text(1, |_| "disk".to_owned(), pattern);
        let problems = problems_of(&text);
        assert_eq!(problems.len(), 1, "{pattern}: {problems:?}");
        assert!(
            problems[0].starts_with("runbooks.yaml:9:54: parameter host: pattern: "),
            "{problems:?}"
        );
        assert!(problems[0].contains(why), "{pattern}: {problems:?}");
    }
    // A size error is the size, not a guess about comments.
    let text = catalog_text(1, |_| "disk".to_owned(), r"[\w-]{1,64}");
    assert!(!problems_of(&text)[0].contains("(?x)"));
}

#[test]
fn a_bucket_builds_its_set_of_titles_on_first_use_and_agrees_with_a_linear_scan() {
    let text = catalog_text(6, |i| format!("(?i)(latency|errors) on shard-{i}$"), "x+");
    let catalog = Catalog::parse(&text, "t").unwrap();
    assert_eq!(catalog.index.built_title_sets(), 0);
    for title in [
        "High latency on shard-4",
        "errors on shard-0",
        "latency on shard-9",
        "nothing",
    ] {
        let trigger = incident_trigger(title);
        let linear = catalog
            .evaluate_all(&trigger)
            .into_iter()
            .find(|(_, mismatch)| mismatch.is_none())
            .map(|(runbook, _)| runbook.name.clone());
        assert_eq!(
            catalog
                .first_match(&trigger)
                .map(|runbook| runbook.name.clone()),
            linear,
            "{title}"
        );
    }
    assert_eq!(catalog.index.built_title_sets(), 1);
    // A trigger without an incident never needs the set.
    let fresh = Catalog::parse(&text, "t").unwrap();
    let mut trigger = incident_trigger("latency on shard-1");
    trigger.incident = None;
    assert!(fresh.first_match(&trigger).is_none());
    assert_eq!(fresh.index.built_title_sets(), 0);
}

#[test]
fn tag_keys_are_checked_by_their_characters_and_length() {
    let with_key = |key: &str| {
        MINIMAL.replace(
            "tags: { Role: web }",
            &format!("tags: {{ \"{key}\": web }}"),
        )
    };
    for key in [
        "Role",
        "aws:cloudformation:stack-name",
        "Équipe 1",
        "a/b=c+d@e",
        &"ä".repeat(128),
    ] {
        assert!(Catalog::parse(&with_key(key), "t").is_ok(), "{key}");
    }
    for key in ["", "Role!", "a\tb", &"ä".repeat(129)] {
        let problems = problems_of(&with_key(key));
        assert!(
            problems[0].contains("is not a valid tag key"),
            "{key}: {problems:?}"
        );
    }
}
