use super::*;
use crate::Error;
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
custom_actions:
  restart-web: { label: Restart web tier }
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
    assert!(problems[0].starts_with("runbooks.yaml:6:"), "{problems:?}");
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
custom_actions:
  restart-web: { label: Restart web tier }
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
    let twice = format!("{MINIMAL}{}", MINIMAL.split_once("runbooks:\n").unwrap().1);
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
        workflow: None,
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
    let base = "version: 1\ncustom_actions:\n  r: { label: R }\nrunbooks:\n  - name: r\n    when: { actions: [r] }\n    params: { x: { from: '{{ incident.title }}', pattern: '[a-z]+' } }\n    action:\n      ssm_command:\n        document: DOC\n        targets: { tags: { Role: web } }\n        parameters: { commands: ['CMD'] }\n";
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
fn guard_durations_are_bounded_so_time_arithmetic_cannot_overflow() {
    for guards in [
        "    guards: { cooldown_seconds: 100000000000000000 }\n",
        "    guards: { max_runs: { count: 1, window_seconds: 18446744073709551615 } }\n",
    ] {
        let text = MINIMAL.replace("    action:\n", &format!("{guards}    action:\n"));
        let problems = problems_of(&text);
        assert!(problems[0].contains("a year"), "{problems:?}");
    }
}

/// A one-runbook catalog whose `commands` is `script` (a YAML literal block, lines as given),
/// reading parameters `x` (a pattern) and `n` (digits).
fn script_catalog(document: &str, shell: Option<&str>, script: &str) -> String {
    let shell = shell.map_or_else(String::new, |shell| format!("        shell: {shell}\n"));
    let body: String = script
        .lines()
        .map(|line| format!("              {line}\n"))
        .collect();
    format!(
        "version: 1
runbooks:
  - name: r
    when: {{ sources: [pagerduty-v3] }}
    params:
      x: {{ from: '{{{{ incident.title }}}}', pattern: '[a-z]+' }}
      n: {{ from: '{{{{ incident.number }}}}', pattern: '[0-9]+' }}
    action:
      ssm_command:
        document: {document}
{shell}        targets: {{ tags: {{ Role: web }} }}
        parameters:
          commands:
            - |-
{body}"
    )
}

fn script_problems(document: &str, shell: Option<&str>, script: &str) -> Vec<String> {
    match Catalog::parse(&script_catalog(document, shell, script), "runbooks.yaml") {
        Ok(_) => vec![],
        Err(Error::Catalog { problems, .. }) => problems,
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

#[test]
fn the_shell_of_a_known_document_cannot_be_changed() {
    for (document, shell) in [
        ("AWS-RunShellScript", "powershell"),
        ("AWS-RunShellScript", "none"),
        ("AWS-RunPowerShellScript", "posix"),
        ("AWS-RunPowerShellScript", "none"),
        ("arn:aws:ssm:eu-west-1::document/AWS-RunShellScript", "none"),
    ] {
        let problems = script_problems(document, Some(shell), "echo {{ params.x }}");
        assert_eq!(problems.len(), 1, "{document} {shell}: {problems:?}");
        assert!(
            problems[0].starts_with("runbooks.yaml:11:16: "),
            "{problems:?}"
        );
        assert!(problems[0].contains("runs its commands in"), "{problems:?}");
    }
    // Saying what the document already does is allowed; an unknown document still must say it.
    assert!(script_problems("AWS-RunShellScript", Some("posix"), "echo {{ params.x }}").is_empty());
    assert!(
        script_problems(
            "AWS-RunPowerShellScript",
            Some("powershell"),
            "echo {{ params.x }}"
        )
        .is_empty()
    );
    assert!(
        script_problems("Acme-RunScript", None, "echo {{ params.x }}")[0]
            .contains("say which shell")
    );
    assert!(script_problems("Acme-RunScript", Some("none"), "echo {{ params.x }}").is_empty());
}

#[test]
fn placeholders_in_posix_contexts_that_parse_again_are_errors() {
    let refused = [
        // here-documents: the body and the delimiter
        "cat <<EOF\n{{ params.x }}\nEOF",
        "cat <<-'EOF'\n\tnote {{ params.x }}\n\tEOF",
        "cat <<{{ params.x }}\nbody\nx",
        // commands that parse their arguments as code
        "eval echo {{ params.x }}",
        "sh -c 'echo $1' _ {{ params.x }}",
        "bash -c {{ params.x }}",
        "/bin/dash -ec {{ params.x }}",
        "zsh -c {{ params.x }}",
        "ssh web1 uptime {{ params.x }}",
        "su -c {{ params.x }} ops",
        "sudo -u ops bash -c {{ params.x }}",
        "sudo -s {{ params.x }}",
        "timeout 5 sh -c {{ params.x }}",
        "env -S {{ params.x }}",
        "find /var -name x -exec sh -c {{ params.x }} \\;",
        "source {{ params.x }}",
        ". {{ params.x }}",
        "python3 -c {{ params.x }}",
        "perl -e {{ params.x }}",
        "awk {{ params.x }} /etc/passwd",
        "sed {{ params.x }} /etc/hosts",
        "watch -n 5 df {{ params.x }}",
        "trap {{ params.x }} EXIT",
        // a value travels through a variable into a re-parsing command
        "v={{ params.x }}\neval \"$v\"",
        "v={{ params.x }}; sh -c \"echo $v\"",
        "v={{ params.x }}\nsh <<EOF\necho $v\nEOF",
        // xargs splits and unquotes what it reads; a shell reading a pipe runs it
        "echo {{ params.x }} | xargs rm",
        "echo {{ params.x }} | sh",
        // arithmetic evaluates names as expressions (bash runs $(...) in subscripts)
        "echo $(( {{ params.n }} + 1 ))",
        "n={{ params.n }}; (( n > 3 )) && echo big",
        "n={{ params.n }}; [[ $n -gt 3 ]] && echo big",
        "let n={{ params.n }}+1",
        "declare -i n={{ params.n }}",
        "printf -v {{ params.x }} %s 1",
        "unset {{ params.x }}",
        // backquotes parse their text again; \\ and $ change how the quote is read
        "echo `echo {{ params.x }}`",
        "echo \\{{ params.x }}",
        "echo ${{ params.x }}",
        // the value would be the command itself
        "{{ params.x }} --version",
        "v={{ params.x }}; $v --version",
        "/usr/local/bin/{{ params.x }}",
        // a comment ends at a newline, which a value may hold
        "echo ok # {{ params.x }}",
        // commands in process substitutions, functions and subshells are commands too
        "cat <(eval echo {{ params.x }})",
        "function f { eval echo {{ params.x }}; }",
        "f() { eval echo {{ params.x }}; }",
        "(eval echo {{ params.x }})",
        "if true; then sh -c {{ params.x }}; fi",
        // bash's old arithmetic
        "n={{ params.n }}; echo $[n + 1]",
        // a wrapper's command is a command
        "sudo -u ops {{ params.x }}",
        "timeout 5 {{ params.x }}",
    ];
    for script in refused {
        let problems = script_problems("AWS-RunShellScript", None, script);
        assert_eq!(problems.len(), 1, "{script:?}: {problems:?}");
        assert!(
            problems[0].starts_with("runbooks.yaml:14:13: "),
            "{script:?}: {problems:?}"
        );
    }
    let accepted = [
        "systemctl restart {{ params.x }}",
        "logger -t remediate \"restart for\" {{ params.x }}",
        "cat <<'EOF' > /tmp/motd\nstatic text $HOME\nEOF\necho {{ params.x }}",
        "echo $((1024 * 1024)) {{ params.x }}",
        "export SERVICE={{ params.x }}\nsystemctl status \"$SERVICE\"",
        "sudo -u ops systemctl restart {{ params.x }}",
        "find /var/log -name {{ params.x }} -delete",
        "journalctl -u {{ params.x }} | tail -n 50",
        "service ssh restart && echo {{ params.x }}",
        "echo --opt={{ params.x }} # a comment's 'quotes' and \"quotes\"",
        "sh -c 'uptime'",
        "if [ -f /etc/x ]; then echo {{ params.x }}; fi",
    ];
    for script in accepted {
        let problems = script_problems("AWS-RunShellScript", None, script);
        assert!(problems.is_empty(), "{script:?}: {problems:?}");
    }
}

#[test]
fn placeholders_in_powershell_contexts_that_parse_again_are_errors() {
    let refused = [
        // strings of every quote kind, typographic ones included, and here-strings
        "Write-Output '{{ params.x }}'",
        "Write-Output \u{2018}{{ params.x }}\u{2019}",
        "Write-Output \u{201A}a {{ params.x }}\u{201B}",
        "Write-Output \"{{ params.x }}\"",
        "Write-Output \u{201C}{{ params.x }}\u{201D}",
        "Write-Output \u{201E}{{ params.x }}\"",
        "Write-Output \"`\"{{ params.x }}\"",
        "$s = @'\n{{ params.x }}\n'@",
        "$s = @\"\nHello {{ params.x }}\n\"@",
        "$s = @'\n'a'\n'@; Write-Output {{ params.x }}'",
        // escapes and sigils next to the value
        "Write-Output `{{ params.x }}",
        "Write-Output ${{ params.x }}",
        "Write-Output @{{ params.x }}",
        // commands that parse text as code
        "Invoke-Expression {{ params.x }}",
        "iex {{ params.x }}",
        "IEX(\"echo \" + {{ params.x }})",
        "powershell -Command {{ params.x }}",
        "pwsh.exe -NoProfile -c {{ params.x }}",
        "powershell -EncodedCommand {{ params.x }}",
        "cmd /c echo {{ params.x }}",
        "Start-Process notepad -ArgumentList {{ params.x }}",
        "$v = {{ params.x }}; Invoke-Expression $v",
        "{{ params.x }} | iex",
        "[scriptblock]::Create({{ params.x }})",
        "$ExecutionContext.InvokeCommand.ExpandString({{ params.x }})",
        // the value would be the command itself
        "{{ params.x }} -Force",
        "& {{ params.x }}",
        ". {{ params.x }}",
        // the stop-parsing token sends the rest of the line verbatim: a newline would end it
        "icacls --% {{ params.x }}",
        // comments end at a newline, which a value may hold
        "Write-Output ok # {{ params.x }}",
        "<# {{ params.x }} #>",
    ];
    for script in refused {
        let problems = script_problems("AWS-RunPowerShellScript", None, script);
        assert_eq!(problems.len(), 1, "{script:?}: {problems:?}");
        assert!(
            problems[0].starts_with("runbooks.yaml:14:13: "),
            "{script:?}: {problems:?}"
        );
    }
    let accepted = [
        "Restart-Service -Name {{ params.x }}",
        "Write-Output 'it''s' {{ params.x }} \"done\"",
        "$s = @'\nstatic 'text'\n'@\nWrite-Output $s {{ params.x }}",
        "Get-Service {{ params.x }} | Select-Object Status # it's a comment",
        "<# block 'comment #> Write-Output {{ params.x }}",
    ];
    for script in accepted {
        let problems = script_problems("AWS-RunPowerShellScript", None, script);
        assert!(problems.is_empty(), "{script:?}: {problems:?}");
    }
}

#[test]
fn a_parameter_pattern_is_compiled_on_its_own_before_it_is_anchored() {
    let text = "\
version: 1
runbooks:
  - name: r
    when: { sources: [pagerduty-v3] }
    params:
      x: { from: '{{ incident.title }}', pattern: 'x)|(.*' }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: web } }
        parameters: { commands: ['echo {{ params.x }}'] }
";
    let problems = problems_of(text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("runbooks.yaml:6:51: "),
        "{problems:?}"
    );
    assert!(problems[0].contains("parameter x: pattern"), "{problems:?}");
}

#[test]
fn deeply_nested_commands_are_refused_not_followed() {
    let posix = format!(
        "echo {}{{{{ params.x }}}}{}",
        "$(".repeat(5000),
        ")".repeat(5000)
    );
    let problems = script_problems("AWS-RunShellScript", None, &posix);
    assert!(problems[0].contains("too deeply"), "{problems:?}");
    let backquotes = format!("echo {}", "`echo \\".repeat(100));
    let problems = script_problems(
        "AWS-RunShellScript",
        None,
        &format!("{backquotes} {{{{ params.x }}}}"),
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    let powershell = format!(
        "Write-Output {}{{{{ params.x }}}}{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let problems = script_problems("AWS-RunPowerShellScript", None, &powershell);
    assert!(problems[0].contains("too deeply"), "{problems:?}");
    // Nesting within the limit is followed.
    let shallow = format!(
        "echo {}{{{{ params.x }}}}{}",
        "$(echo ".repeat(10),
        ")".repeat(10)
    );
    assert!(script_problems("AWS-RunShellScript", None, &shallow).is_empty());
}

#[test]
fn runbooks_that_could_never_match_or_pass_are_errors() {
    let alarm_with_users = MINIMAL
        .replace(
            "      actions: [restart-web]\n",
            "      sources: [cloudwatch-alarm]\n",
        )
        .replace(
            "    action:\n",
            "    guards: { allowed_users: [PALICE1] }\n    action:\n",
        );
    let problems = problems_of(&alarm_with_users);
    assert!(
        problems[0].contains("allowed_users can never hold"),
        "{problems:?}"
    );
    for when in [
        "      workflows: [PWF1]\n      sources: [pagerduty-action]\n",
        "      workflows: [PWF1]\n      event_types: [incident.triggered]\n",
    ] {
        let text = MINIMAL.replace("      actions: [restart-web]\n", when);
        let problems = problems_of(&text);
        assert!(
            problems[0].contains("incident.workflow.started"),
            "{problems:?}"
        );
    }
    let fine = MINIMAL.replace(
        "      actions: [restart-web]\n",
        "      workflows: [PWF1]\n      sources: [pagerduty-v3]\n      event_types: [incident.workflow.started]\n",
    );
    assert!(Catalog::parse(&fine, "t").is_ok());
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

#[test]
fn thousands_of_wrappers_are_refused_not_recursed_into() {
    let script = format!("{}echo {{{{ params.x }}}}", "nohup ".repeat(3000));
    let problems = script_problems("AWS-RunShellScript", None, &script);
    assert!(problems[0].contains("too deeply"), "{problems:?}");
}

mod event_match;
mod patterns;
mod prebuilt;
mod rundeck;
mod shell_checks;
mod shell_checks_2;
mod shell_checks_3;
mod verify;

/// A document parameter is a string or a list of strings, as YAML typed them: numbers, booleans,
/// nulls and maps are refused, quoted ones are text.
#[test]
fn document_parameters_are_strings_or_lists_of_strings() {
    let commands = |value: &str| {
        let text = MINIMAL.replace(
            "commands: systemctl restart nginx",
            &format!("commands: {value}"),
        );
        Catalog::parse(&text, "t").ok().map(|catalog| {
            let Action::SsmCommand(command) = &catalog.runbooks[0].action else {
                panic!("expected ssm_command")
            };
            command.parameters["commands"].len()
        })
    };
    for (value, accepted) in [
        ("systemctl restart nginx", Some(1)),
        ("[a, \"b\"]", Some(2)),
        ("\"5\"", Some(1)),
        ("''", Some(1)),
        ("'0x1F'", Some(1)),
        ("[]", Some(0)),
        ("|\n            echo hi\n            echo there", Some(1)),
        ("5", None),
        ("1.5", None),
        ("true", None),
        ("~", None),
        ("[a, 5]", None),
        ("[true]", None),
        ("[a, ~]", None),
        ("[0x1F]", None),
        ("[[a]]", None),
        ("{a: b}", None),
    ] {
        assert_eq!(commands(value), accepted, "{value}");
    }
}
