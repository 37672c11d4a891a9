//! Property tests: hostile strings through every path that could carry incident or alarm text
//! into a command, and the index against the plain linear match.

use chrono::{Duration, Utc};
use proptest::prelude::*;
use remediate_core::catalog::Catalog;
use remediate_core::decision::{Decision, DecisionContext, decide};
use remediate_core::guards::NoHistory;
use remediate_core::plan::ExecutionRequest;
use remediate_core::template::{Quoting, Template, quote};
use remediate_core::trigger::{Actor, Alarm, Incident, Reference, Source, Trigger};

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
        "\u{201C}",
        "\u{201D}",
        "\u{201E}",
        "@'",
        "'@",
        "@\"",
        "\"@",
        "\n'@",
        "`",
        "`'",
        "$(",
        "{{",
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

/// Read a PowerShell single-quoted string the way PowerShell's tokenizer does: it opens and
/// closes with any of the five single quote characters, a doubled one stands for itself, and
/// nothing else (double quotes of any kind, backticks, `$`, here-string markers, newlines) is
/// special. None if the string would end before the last character.
fn powershell_unquote(quoted: &str) -> Option<String> {
    let is_quote = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let chars: Vec<char> = quoted.chars().collect();
    if !chars.first().copied().is_some_and(is_quote) {
        return None;
    }
    let mut out = String::new();
    let mut i = 1;
    while i < chars.len() {
        if is_quote(chars[i]) {
            if i + 1 < chars.len() && is_quote(chars[i + 1]) {
                out.push(chars[i]);
                i += 2;
                continue;
            }
            // The closing quote: it must be the last character.
            return (i == chars.len() - 1).then_some(out);
        }
        out.push(chars[i]);
        i += 1;
    }
    None
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

// ---------------------------------------------------------------------------------------------
// Anchoring: a value the anchored pattern accepts is matched entirely by the user's pattern.

/// Pattern text from pieces that include the ones that broke anchoring by concatenation.
fn pattern_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "x", "a", "b", "ab", ")", "(", "|", ".*", ".", "[a-z]", "\\d", "\\w", "?", "+", "*",
        "(?m)", "(?s)", "(?x)", "(?i)", "^", "$", "\\", "#", "\n", "{2}", "(?:", "[^;]", " ",
        "\\z", "\\A", "(?-u)",
    ]);
    prop::collection::vec(pieces, 0..8).prop_map(|parts| parts.concat())
}

fn value_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "x",
        "a",
        "b",
        "ab",
        "abc; rm -rf /",
        "\n",
        "1",
        "\u{0661}",
        " ",
        ";",
        "#",
        "",
    ]);
    prop::collection::vec(pieces, 0..5).prop_map(|parts| parts.concat())
}

/// Whether `pattern`, compiled alone, has a match that spans all of `value` (the longest
/// anchored match, by a different engine than the one under test).
fn matches_entirely(pattern: &str, value: &str) -> Option<bool> {
    use regex_automata::{Anchored, Input, MatchKind, meta};
    let regex = meta::Regex::builder()
        .configure(meta::Config::new().match_kind(MatchKind::All))
        .build(pattern)
        .ok()?;
    let input = Input::new(value).anchored(Anchored::Yes);
    Some(
        regex
            .search(&input)
            .is_some_and(|found| found.end() == value.len()),
    )
}

fn catalog_with_pattern(pattern: &str) -> String {
    // A YAML double-quoted scalar holds any text.
    let yaml = pattern
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!(
        "version: 1\nrunbooks:\n  - name: r\n    when: {{ sources: [pagerduty-v3] }}\n    params:\n      x: {{ from: '{{{{ incident.title }}}}', pattern: \"{yaml}\", unicode: true }}\n    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        targets: {{ tags: {{ Role: web }} }}\n        parameters: {{ commands: ['echo {{{{ params.x }}}}'] }}\n"
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn anchoring_never_widens_a_pattern(pattern in pattern_text(), value in value_text()) {
        let catalog = match Catalog::parse(&catalog_with_pattern(&pattern), "t") {
            Ok(catalog) => catalog,
            // A pattern that does not compile on its own is refused: nothing to check.
            Err(_) => {
                let alone = regex::RegexBuilder::new(&pattern).size_limit(1 << 20).build();
                prop_assert!(alone.is_err() || pattern.contains('#'), "{pattern:?} refused");
                return Ok(());
            }
        };
        let rule = &catalog.runbooks[0].params[0].rule;
        if rule.accepts(&value) {
            prop_assert_eq!(matches_entirely(&pattern, &value), Some(true), "{:?} accepted {:?}", pattern, value);
        } else if !value.contains("{{") {
            prop_assert_ne!(matches_entirely(&pattern, &value), Some(true), "{:?} refused {:?}", pattern, value);
        }
    }
}

#[test]
fn the_pattern_that_escaped_its_anchors_is_refused() {
    assert!(Catalog::parse(&catalog_with_pattern("x)|(.*"), "t").is_err());
    let catalog = Catalog::parse(&catalog_with_pattern("x|y"), "t").unwrap();
    let rule = &catalog.runbooks[0].params[0].rule;
    assert!(rule.accepts("x") && rule.accepts("y"));
    assert!(!rule.accepts("xabc; rm -rf /") && !rule.accepts("abc; rm -rf /y"));
}

// ---------------------------------------------------------------------------------------------
// Hostile values through scripts the catalog accepts, run by a real shell: whatever the value,
// it never runs anything (the marker file is never made) and arrives as one argument.

/// Where a value that escaped would leave its mark (one per test process).
fn mark() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("remediate-escaped-{}", std::process::id()))
}

/// Values that try to run `touch MARK` from every context a script might put them in.
fn payload() -> impl Strategy<Value = String> {
    let touch = format!("touch {}", mark().display());
    let pieces = prop::sample::select(vec![
        "'", "\"", "`", "$(", ")", ";", "\n", "\\", "#", "EOF", "'@", "@'", "a[", "]", "{{", "}}",
        "${", "}", "$((", "))", "<<", "&&", "|", " ", "x",
    ]);
    let openers = prop::sample::select(vec![
        ";", "\n", "'; ", "'\n", "\"; ", "`", "$(", "a[$(", ") ;", "\nEOF\n", "|", "&&", "\\'; ",
    ]);
    let closers = prop::sample::select(vec![";", "`", ")", "'", "\"", "#", "\n", ")]", ""]);
    (
        prop::collection::vec(pieces.clone(), 0..4),
        openers,
        closers,
        prop::collection::vec(pieces, 0..3),
    )
        .prop_map(move |(before, opener, closer, after)| {
            format!(
                "{}{opener}{touch}{closer}{}",
                before.concat(),
                after.concat()
            )
        })
}

/// Script lines around the placeholder: each a construct a runbook may use with parameters.
fn posix_script() -> impl Strategy<Value = String> {
    let lines = prop::sample::select(vec![
        "printf '%s\\n' {{ params.x }}",
        "export V={{ params.x }}",
        "V={{ params.x }}; printf '%s\\n' \"$V\"",
        "cat <<'EOF'\nstatic $V `text`\nEOF",
        "echo $((6 * 7)) >/dev/null",
        "if [ -n \"$V\" ]; then printf '%s\\n' {{ params.x }}; fi",
        "case {{ params.x }} in a) : ;; *) : ;; esac",
        "sh -c 'true'",
        "printf '%s\\n' {{ params.x }}{{ params.x }} | tail -n 1 >/dev/null",
        "# a comment with 'quotes",
        "eval 'true'",
        "cat <<EOF\n$V\nEOF",
        "echo \"$V\" | sh",
        "sh -c \"printf %s $V\"",
        "printf '%s\\n' `printf %s {{ params.x }}`",
        "printf '%s\\n' \\{{ params.x }}",
        "(( V > 1 ))",
        "printf '%s\\n' ${{ params.x }}",
        "eval printf %s {{ params.x }}",
    ]);
    prop::collection::vec(lines, 1..5).prop_map(|lines| lines.join("\n"))
}

fn script_catalog(script: &str) -> String {
    let body: String = script
        .lines()
        .map(|line| format!("              {line}\n"))
        .collect();
    format!(
        "version: 1\nrunbooks:\n  - name: r\n    when: {{ actions: [restart] }}\n    params:\n      x: {{ from: '{{{{ incident.title }}}}', pattern: '(?s).*' }}\n    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        targets: {{ tags: {{ Role: web }} }}\n        parameters:\n          commands:\n            - |-\n{body}custom_actions:\n  restart: {{ label: Restart service }}\n"
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn hostile_values_never_escape_a_script_the_catalog_accepts(script in posix_script(), value in payload()) {
        let mark = mark();
        let _ = std::fs::remove_file(&mark);
        let catalog = match Catalog::parse(&script_catalog(&script), "t") {
            Ok(catalog) => catalog,
            Err(_) => return Ok(()),
        };
        let decision = decide(&tap("web", &value), &catalog, &context(), &NoHistory);
        let Decision::Execute(plan) = decision else {
            // Refused (a value with `{{`): nothing runs.
            prop_assert!(value.contains("{{"), "{decision:?}");
            return Ok(());
        };
        let ExecutionRequest::SsmCommand(command) = &plan.request else { panic!() };
        let rendered = command.parameters["commands"].join("\n");
        for shell in ["sh", "bash", "dash"] {
            let _ = std::process::Command::new("timeout")
                .args(["5", shell, "-c", &rendered])
                // Scripts may write files (`(( V > 1 ))` is a redirection to dash).
                .current_dir(std::env::temp_dir())
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
            prop_assert!(!mark.exists(), "{shell} ran the value {value:?} of script {rendered:?}");
        }
    }

    #[test]
    fn shell_checks_never_panic(script in posix_script(), noise in hostile()) {
        for document in ["AWS-RunShellScript", "AWS-RunPowerShellScript"] {
            let text = script_catalog(&format!("{script}{noise}")).replace("AWS-RunShellScript", document);
            let _ = Catalog::parse(&text, "fuzz");
            let text = script_catalog(&format!("{noise}{{{{ params.x }}}}{noise}")).replace("AWS-RunShellScript", document);
            let _ = Catalog::parse(&text, "fuzz");
        }
    }
}
