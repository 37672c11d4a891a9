//! Property tests: hostile strings through every path that could carry incident or alarm text
//! into a command, and the index against the plain linear match.

use chrono::{Duration, Utc};
use proptest::prelude::*;
use remediate_shared::catalog::Catalog;
use remediate_shared::decision::{Decision, DecisionContext, ExecutionRequest, decide};
use remediate_shared::guards::NoHistory;
use remediate_shared::template::{Quoting, Template, quote};
use remediate_shared::trigger::{Actor, Alarm, Incident, Reference, Source, Trigger};

const CATALOG: &str = "\
version: 1
custom_actions:
  restart: { label: Restart service }
runbooks:
  - name: restart-service
    when: { sources: [pagerduty-action], actions: [restart] }
    params:
      service: { from: '{{ incident.service.name }}', pattern: '[a-z][a-z0-9-]{0,30}' }
      title_word: { from: '{{ incident.title }}', pattern: '[A-Za-z ]{1,40}', default: none }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Service: '{{ params.service }}' } }
        parameters: { commands: ['systemctl restart {{ params.service }}', 'logger {{ params.title_word }}'] }
  - name: clean-disk
    when: { sources: [cloudwatch-alarm], alarm: { name: 'disk-*' } }
    params:
      instance: { from: '{{ alarm.dimensions.InstanceId }}', pattern: 'i-[0-9a-f]{8,17}' }
      path: { from: '{{ alarm.dimensions.path }}', enum: [/, /var, /data] }
    action:
      ssm_command:
        document: AWS-RunPowerShellScript
        targets: { instance_ids: ['{{ params.instance }}'] }
        parameters: { commands: ['Clear-Disk {{ params.path }}'], workingDirectory: ['{{ params.path }}'] }
";

/// Strings built to break things: quotes of every kind, substitutions, separators, newlines,
/// look-alike characters, long runs, and plain valid values now and then.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "'",
        "\"",
        "`",
        "$(",
        ")",
        "${IFS}",
        ";",
        "&&",
        "|",
        "\n",
        "\r",
        "\\",
        "\u{2018}",
        "\u{2019}",
        "\u{201A}",
        "\u{201B}",
        "\u{FF07}",
        "\u{0430}",
        "rm -rf /",
        "web",
        "api-1",
        "i-0123456789abcdef0",
        "/var",
        " ",
        "\u{0}",
        "*",
        "%",
        "{{ params.service }}",
        "$env:PATH",
        "\u{202E}",
    ]);
    prop_oneof![
        prop::collection::vec(pieces, 0..8).prop_map(|parts| parts.concat()),
        any::<String>(),
        "[a-z][a-z0-9-]{0,30}",
        prop::collection::vec(Just("a"), 1000..3000).prop_map(|parts| parts.concat()),
    ]
}

fn tap(service: &str, title: &str) -> Trigger {
    Trigger {
        source: Source::PagerDutyAction,
        dedupe_id: "pagerduty-action:m".into(),
        event_type: "incident.custom".into(),
        action: Some("restart".into()),
        occurred_at: Utc::now(),
        incident: Some(Incident {
            id: "PINC1".into(),
            title: title.into(),
            status: "triggered".into(),
            service: Some(Reference {
                id: "PSVC".into(),
                name: service.into(),
            }),
            ..Incident::default()
        }),
        actor: Some(Actor {
            id: "P1".into(),
            name: "A".into(),
            kind: "user_reference".into(),
            unconfirmed: false,
        }),
        alarm: None,
        event: None,
        workflow: None,
    }
}

fn alarm(instance: &str, path: &str) -> Trigger {
    Trigger {
        source: Source::CloudwatchAlarm,
        dedupe_id: "sns:m".into(),
        event_type: "ALARM".into(),
        action: None,
        occurred_at: Utc::now(),
        incident: None,
        actor: None,
        alarm: Some(Alarm {
            name: "disk-full".into(),
            state: "ALARM".into(),
            dimensions: [
                ("InstanceId".to_owned(), instance.to_owned()),
                ("path".to_owned(), path.to_owned()),
            ]
            .into(),
            ..Alarm::default()
        }),
        event: None,
        workflow: None,
    }
}

fn context() -> DecisionContext {
    DecisionContext {
        now: Utc::now() + Duration::seconds(1),
        max_trigger_age: Duration::minutes(15),
        global_dry_run: None,
    }
}

/// Undo PowerShell single quoting the way PowerShell reads it; None if the text would end the
/// string early (an undoubled quote inside).
fn powershell_unquote(quoted: &str) -> Option<String> {
    let is_quote = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let inner: Vec<char> = quoted
        .strip_prefix('\'')?
        .strip_suffix('\'')?
        .chars()
        .collect();
    let mut out = String::new();
    let mut i = 0;
    while i < inner.len() {
        if is_quote(inner[i]) {
            if i + 1 < inner.len() && is_quote(inner[i + 1]) {
                out.push(inner[i]);
                i += 2;
                continue;
            }
            return None;
        }
        out.push(inner[i]);
        i += 1;
    }
    Some(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, .. ProptestConfig::default() })]

    /// Whatever the incident says, a command either carries a value that matched its pattern,
    /// quoted, or is not made at all.
    #[test]
    fn incident_text_reaches_a_command_only_through_its_pattern(service in hostile(), title in hostile()) {
        let catalog = Catalog::parse(CATALOG, "t").unwrap();
        match decide(&tap(&service, &title), &catalog, &context(), &NoHistory) {
            Decision::Execute(plan) => {
                let ExecutionRequest::SsmCommand(command) = &plan.request else { panic!() };
                let service_ok = regex::Regex::new("^[a-z][a-z0-9-]{0,30}$").unwrap().is_match(&service);
                prop_assert!(service_ok, "executed with service {service:?}");
                prop_assert_eq!(&command.parameters["commands"][0], &format!("systemctl restart '{service}'"));
                let word = &plan.params["title_word"];
                let word_ok = regex::Regex::new("^[A-Za-z ]{1,40}$").unwrap().is_match(word);
                prop_assert!(word_ok, "title word {:?}", word);
                prop_assert_eq!(&command.parameters["commands"][1], &format!("logger '{word}'"));
                let tag = &command.targets;
                prop_assert_eq!(tag.describe(), format!("tag:Service={service}"));
            }
            Decision::Refuse { reason, .. } => prop_assert!(reason.starts_with("parameter "), "{}", reason),
            other => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn alarm_text_reaches_a_command_only_through_its_pattern(instance in hostile(), path in hostile()) {
        let catalog = Catalog::parse(CATALOG, "t").unwrap();
        match decide(&alarm(&instance, &path), &catalog, &context(), &NoHistory) {
            Decision::Execute(plan) => {
                let ExecutionRequest::SsmCommand(command) = &plan.request else { panic!() };
                let instance_ok = regex::Regex::new("^i-[0-9a-f]{8,17}$").unwrap().is_match(&instance);
                prop_assert!(instance_ok, "instance {:?}", instance);
                prop_assert!(["/", "/var", "/data"].contains(&path.as_str()), "path {:?}", path);
                prop_assert_eq!(&command.parameters["commands"][0], &format!("Clear-Disk '{path}'"));
                // Not a shell parameter: the value as it is, already checked against the enum.
                prop_assert_eq!(&command.parameters["workingDirectory"][0], &path);
            }
            Decision::Refuse { reason, .. } => prop_assert!(reason.starts_with("parameter "), "{}", reason),
            other => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    /// The POSIX quoting gives back exactly the value in a real shell, whatever it holds.
    #[test]
    fn posix_quoting_round_trips_through_sh(value in hostile().prop_filter("argv cannot hold NUL", |v| !v.contains('\0'))) {
        let quoted = quote(&value, Quoting::Posix);
        let output = std::process::Command::new("sh").arg("-c").arg(format!("printf %s {quoted}")).output().unwrap();
        prop_assert_eq!(String::from_utf8_lossy(&output.stdout).into_owned(), value);
    }

    #[test]
    fn powershell_quoting_never_ends_the_string_early(value in hostile()) {
        let quoted = quote(&value, Quoting::Powershell);
        prop_assert_eq!(powershell_unquote(&quoted), Some(value));
    }

    #[test]
    fn templates_and_catalogs_never_panic(text in hostile()) {
        let _ = Template::parse(&text);
        let _ = Catalog::parse(&text, "fuzz");
        let _ = Catalog::parse(&format!("version: 1\nrunbooks:\n  - name: {text}\n"), "fuzz");
    }
}

// ---------------------------------------------------------------------------------------------
// The index finds exactly what the linear scan finds.

fn catalog_from(specs: &[(Option<usize>, Option<usize>, bool)]) -> Catalog {
    const SERVICES: [&str; 4] = ["svc-a", "svc-b", "PSVC3", "svc-d"];
    const TITLES: [&str; 5] = ["(?i)latency", "disk", "^Web", "5\\d\\d", "timeout|slow"];
    let mut text = String::from(if specs.is_empty() {
        "version: 1\nrunbooks: []\n"
    } else {
        "version: 1\ncustom_actions:\n  go: { label: Go }\nrunbooks:\n"
    });
    for (i, (service, title, action_only)) in specs.iter().enumerate() {
        text.push_str(&format!("  - name: rb-{i}\n    when:\n"));
        if *action_only {
            text.push_str("      actions: [go]\n");
        } else {
            text.push_str("      sources: [pagerduty-v3]\n");
        }
        if let Some(service) = service {
            text.push_str(&format!("      services: [{}]\n", SERVICES[*service]));
        }
        if let Some(title) = title {
            text.push_str(&format!("      title: '{}'\n", TITLES[*title]));
        }
        text.push_str("    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        targets: { instance_ids: [i-0123456789abcdef0] }\n");
    }
    Catalog::parse(&text, "generated").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_the_linear_scan(
        specs in prop::collection::vec((prop::option::of(0usize..4), prop::option::of(0usize..5), any::<bool>()), 0..40),
        service_name in prop::sample::select(vec!["svc-a", "svc-b", "svc-c", "Other"]),
        service_id in prop::sample::select(vec!["PSVC3", "PX", "svc-d"]),
        title in prop::sample::select(vec!["High latency", "disk full", "Web 503", "slow api", "nothing", ""]),
        action in prop::option::of(Just("go")),
    ) {
        let catalog = catalog_from(&specs);
        let trigger = Trigger {
            source: if action.is_some() { Source::PagerDutyAction } else { Source::PagerDutyV3 },
            dedupe_id: "x".into(),
            event_type: "incident.triggered".into(),
            action: action.map(str::to_owned),
            occurred_at: Utc::now(),
            incident: Some(Incident {
                id: "P1".into(),
                title: title.into(),
                status: "triggered".into(),
                service: Some(Reference { id: service_id.into(), name: service_name.into() }),
                ..Incident::default()
            }),
            actor: None,
            alarm: None,
            event: None,
            workflow: None,
        };
        let linear = catalog.evaluate_all(&trigger).into_iter().find(|(_, miss)| miss.is_none()).map(|(rb, _)| rb.name.clone());
        let indexed = catalog.first_match(&trigger).map(|rb| rb.name.clone());
        prop_assert_eq!(indexed, linear);
    }
}
