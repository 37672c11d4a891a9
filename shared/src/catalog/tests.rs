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

/// The one problem of a POSIX (`posix: true`) or PowerShell script that must be refused.
fn refusal_of(posix: bool, script: &str) -> String {
    let document = if posix {
        "AWS-RunShellScript"
    } else {
        "AWS-RunPowerShellScript"
    };
    let problems = script_problems(document, None, script);
    assert_eq!(
        problems.len(),
        1,
        "{script:?} should be refused: {problems:?}"
    );
    problems[0].clone()
}

fn assert_accepted(posix: bool, scripts: &[&str]) {
    let document = if posix {
        "AWS-RunShellScript"
    } else {
        "AWS-RunPowerShellScript"
    };
    for script in scripts {
        let problems = script_problems(document, None, script);
        assert!(problems.is_empty(), "{script:?}: {problems:?}");
    }
}

#[test]
fn a_line_ending_in_a_pipe_or_list_operator_continues_onto_the_next() {
    for script in [
        "printf %s {{ params.x }} |\nsh",
        "printf %s {{ params.x }} |\n\n  # the shell\n  sh",
        "printf %s {{ params.x }} \\\n| sh",
        "printf %s {{ params.x }} |\\\nsh",
        "cat <<'EOF' |\nstatic\nEOF\nprintf %s {{ params.x }} |\nsh",
    ] {
        assert!(refusal_of(true, script).contains("`sh`"), "{script:?}");
    }
    for script in [
        "Write-Output {{ params.x }} |\niex",
        "Write-Output {{ params.x }} |\n\n  # run it\n  Invoke-Expression",
    ] {
        assert!(refusal_of(false, script).contains("`i"), "{script:?}");
    }
    assert_accepted(
        true,
        &[
            "systemctl status {{ params.x }} |\n  tail -n 5",
            "true &&\n  echo {{ params.x }} ||\n  echo failed",
        ],
    );
    assert_accepted(
        false,
        &["Get-Service {{ params.x }} |\n  Select-Object Status"],
    );
}

#[test]
fn case_arms_are_checked_like_any_other_command() {
    for script in [
        "case a in (x) eval {{ params.x }};; esac",
        "case a in\n  (x) eval {{ params.x }} ;;\nesac",
        "case a in x) true;; y|z) sh -c {{ params.x }};; esac",
        "case a in x) true;& (y) sh -c {{ params.x }};; esac",
        "echo $(case a in x) eval {{ params.x }};; esac)",
        "echo $(case a in (x) eval {{ params.x }};; esac)",
        "echo $(case a in x) true;; esac; eval {{ params.x }})",
        "case a in x) case b in (y) eval {{ params.x }};; esac;; esac",
    ] {
        assert!(
            refusal_of(true, script).contains("`eval`")
                || refusal_of(true, script).contains("`sh`"),
            "{script:?}"
        );
    }
    assert_accepted(
        true,
        &[
            "case {{ params.x }} in a) : ;; *) : ;; esac",
            "case {{ params.x }} in\n  (a|b) systemctl restart {{ params.x }};;\n  *) echo no;;\nesac",
            "echo $(case {{ params.x }} in a) echo A;; esac) {{ params.x }}",
        ],
    );
}

#[test]
fn data_that_reaches_a_shell_through_groups_functions_and_substitutions_is_refused() {
    for script in [
        "sh < <(printf %s {{ params.x }})",
        "sh <(printf %s {{ params.x }})",
        ". <(printf %s {{ params.x }})",
        "printf %s {{ params.x }} | ( sh )",
        "printf %s {{ params.x }} | { sh; }",
        "printf %s {{ params.x }} | { true; sh; }",
        "f() { sh; }\nprintf %s {{ params.x }} | f",
        "printf %s {{ params.x }} | f\nf() { bash; }",
        "function f { eval \"$(cat)\"; }\nprintf %s {{ params.x }} | f",
        "printf %s {{ params.x }} | while read -r l; do sh; done",
        "printf %s {{ params.x }} | if true; then sh; fi",
        "printf %s {{ params.x }} | echo \"$(sh)\"",
        "printf %s {{ params.x }} > >(sh)",
        "printf %s {{ params.x }} | tee >(sh)",
        "while read -r l; do sh; done < <(printf %s {{ params.x }})",
        "{ sh; } <<< {{ params.x }}",
        "exec < <(printf %s {{ params.x }})\nsh",
        "exec 3< <(printf %s {{ params.x }})\nsh <&3",
        "coproc sh\nprintf %s {{ params.x }} >&\"${COPROC[1]}\"",
    ] {
        refusal_of(true, script);
    }
    assert_accepted(
        true,
        &[
            "printf %s {{ params.x }} | ( tail -n 1 )",
            "printf %s {{ params.x }} | { read -r v; echo \"$v\"; }",
            "f() { echo hi; }\nprintf %s {{ params.x }} | f",
            "while read -r l; do echo \"$l\"; done < <(printf %s {{ params.x }})",
            "printf %s {{ params.x }} | while read -r l; do echo \"$l\"; done",
            "diff <(sort /etc/a) <(sort /etc/b) && echo {{ params.x }}",
        ],
    );
}

#[test]
fn a_quoted_powershell_call_target_is_the_command_name() {
    for (script, name) in [
        ("& 'powershell.exe' -Command {{ params.x }}", "powershell"),
        ("&'cmd.exe' /c echo {{ params.x }}", "cmd"),
        ("& \"pwsh\" -c {{ params.x }}", "pwsh"),
        ("& \"p`wsh\" -c {{ params.x }}", "pwsh"),
        (". 'iex' {{ params.x }}", "iex"),
    ] {
        let problem = refusal_of(false, script);
        assert!(
            problem.contains(&format!("`{name}`")),
            "{script:?}: {problem}"
        );
    }
    for script in [
        "& \"$env:ComSpec\" /c echo {{ params.x }}",
        "& \"$tool\" {{ params.x }}",
    ] {
        assert!(
            refusal_of(false, script).contains("expansion"),
            "{script:?}"
        );
    }
    for script in [
        "i'e'x {{ params.x }}",
        "'i'ex {{ params.x }}",
        "i`ex {{ params.x }}",
    ] {
        refusal_of(false, script);
    }
    assert_accepted(
        false,
        &[
            "& 'C:\\Tools\\tool.exe' {{ params.x }}",
            "& \"C:\\Program Files\\Tool\\tool.exe\" --name {{ params.x }}",
        ],
    );
}

#[test]
fn powershell_methods_that_turn_text_into_code_are_found_by_their_own_rule() {
    for script in [
        "$v = {{ params.x }}; [scriptblock]::Create($v)",
        "$v = {{ params.x }}; [ScriptBlock]::Create.Invoke($v)",
        "$v = {{ params.x }}; $ExecutionContext.InvokeCommand.ExpandString($v)",
        "$v = {{ params.x }}; $ExecutionContext.InvokeCommand.InvokeScript($v)",
        "$v = {{ params.x }}; $ExecutionContext.InvokeCommand.NewScriptBlock($v)",
        "$v = {{ params.x }}\n$ExecutionContext.InvokeCommand.ExpandString( $v )",
    ] {
        let problem = refusal_of(false, script);
        assert!(
            problem.contains("turns text into code"),
            "{script:?}: {problem}"
        );
    }
    for script in [
        "$v = {{ params.x }}; $m = 'ExpandString'; $ExecutionContext.InvokeCommand.$m($v)",
        "$v = {{ params.x }}; $ExecutionContext.InvokeCommand.'ExpandString'($v)",
    ] {
        let problem = refusal_of(false, script);
        assert!(problem.contains("member"), "{script:?}: {problem}");
    }
}

#[test]
fn code_hidden_in_static_strings_and_aliases_is_checked() {
    for script in [
        "bash -c 'eval \"$V\"'\necho {{ params.x }}",
        "sh -c 'sh -c \"eval \\$V\"'\necho {{ params.x }}",
        "trap 'eval \"$V\"' EXIT\necho {{ params.x }}",
        "eval 'eval \"$V\"'\necho {{ params.x }}",
        "sudo -u ops bash -c 'eval \"$V\"'\necho {{ params.x }}",
    ] {
        assert!(refusal_of(true, script).contains("`eval`"), "{script:?}");
    }
    for script in [
        "alias e=eval\necho {{ params.x }}",
        "alias\necho {{ params.x }}",
        "python3 -c 'import os; os.system(os.environ[\"V\"])'\necho {{ params.x }}",
        "perl -e 'eval $ENV{V}'\necho {{ params.x }}",
        "awk 'BEGIN { system(ENVIRON[\"V\"]) }'\necho {{ params.x }}",
        "awk '{ print | \"sh\" }' /tmp/f\necho {{ params.x }}",
    ] {
        refusal_of(true, script);
    }
    assert_accepted(
        true,
        &[
            "trap 'rm -f /tmp/x' EXIT\necho {{ params.x }}",
            "trap - EXIT\necho {{ params.x }}",
            "bash -c 'systemctl status nginx'\necho {{ params.x }}",
            "awk '{ print $1 }' /etc/hosts\necho {{ params.x }}",
            "python3 /opt/tools/report.py\necho {{ params.x }}",
        ],
    );
    for script in [
        "Set-Alias e iex\ne {{ params.x }}",
        "New-Alias -Name e -Value iex\ne {{ params.x }}",
        "sal e iex; e {{ params.x }}",
        "nal e iex; e {{ params.x }}",
        "& (Get-Command iex) {{ params.x }}",
        "&(gcm iex) {{ params.x }}",
        ". (gcm iex) {{ params.x }}",
    ] {
        refusal_of(false, script);
    }
}

#[test]
fn commands_that_run_their_arguments_or_input_are_known() {
    for script in [
        "parallel echo ::: {{ params.x }}",
        "printf %s {{ params.x }} | parallel",
        "pkexec sh -c {{ params.x }}",
        "unshare -U sh -c {{ params.x }}",
        "unshare -S 0 {{ params.x }}",
        "sg wheel {{ params.x }}",
        "sg wheel -c {{ params.x }}",
        "capsh -- -c {{ params.x }}",
        "tar -cf /tmp/a.tar --checkpoint=1 --checkpoint-action=exec=true /etc/{{ params.x }}",
        "tar --to-command=cat -xf /tmp/{{ params.x }}",
        "tar -I gzip -cf /tmp/a /etc/{{ params.x }}",
        "tar -cIf gzip /tmp/a /etc/{{ params.x }}",
        "tar -F /tmp/s -cf /tmp/a /etc/{{ params.x }}",
        "tar --use-compress-program=gzip -cf /tmp/a /etc/{{ params.x }}",
        "tar --info-script=/tmp/s -cf /tmp/a /etc/{{ params.x }}",
        "tar --new-volume-script=/tmp/s -cf /tmp/a /etc/{{ params.x }}",
        "stdbuf -o L sh -c {{ params.x }}",
        "ionice -c 3 sh -c {{ params.x }}",
        "setsid sh -c {{ params.x }}",
        "chroot /srv sh -c {{ params.x }}",
        "runuser -u ops -- sh -c {{ params.x }}",
        "doas sh -c {{ params.x }}",
        "busybox sh -c {{ params.x }}",
        "find . -execdir sh -c {{ params.x }} \\;",
        "find . -ok sh -c {{ params.x }} \\;",
        "node -e {{ params.x }}",
        "ruby -e {{ params.x }}",
        "script -c {{ params.x }}",
        "nice -n 5 sh -c {{ params.x }}",
        "command eval {{ params.x }}",
        "builtin eval {{ params.x }}",
        "exec sh -c {{ params.x }}",
        "time sh -c {{ params.x }}",
        "flock /tmp/l -c {{ params.x }}",
        "flock /tmp/l sh -c {{ params.x }}",
        "tmux new-session -d {{ params.x }}",
        "env -S {{ params.x }}",
        "watch {{ params.x }}",
        "timeout 5 sh -c {{ params.x }}",
        "xargs -a /tmp/f echo {{ params.x }}",
        "gawk {{ params.x }} /etc/hosts",
        "printf %s {{ params.x }} | mapfile -C eval -c 1 a",
        "hash -p /bin/sh ls\nprintf %s {{ params.x }} | ls",
        "export PS4={{ params.x }}; set -x",
        "GIT_SSH_COMMAND={{ params.x }} git fetch",
    ] {
        refusal_of(true, script);
    }
    assert_accepted(
        true,
        &[
            "tar -czf /tmp/logs.tgz /var/log/{{ params.x }}",
            "nice -n 5 systemctl restart {{ params.x }}",
            "stdbuf -oL journalctl -u {{ params.x }}",
            "unshare -n ping -c 1 {{ params.x }}",
        ],
    );
}

#[test]
fn bash_arithmetic_reached_through_variables_is_refused() {
    for script in [
        "declare -i n; n={{ params.n }}",
        "typeset -i n\nn={{ params.n }}",
        "f() { local -i n; n=$1; }; f {{ params.n }}",
        "s=abc; v={{ params.n }}; echo ${s:0:$v}",
        "s=abc; v={{ params.n }}; echo ${s:v}",
        "s=abc; v={{ params.n }}; echo \"${s:1:v}\"",
        "v={{ params.x }}; echo ${!v}",
        "v={{ params.x }}; echo \"${!v}\"",
        "a={{ params.x }}; [[ -v a[$x] ]]",
        "v={{ params.x }}; [[ -v v ]]",
        "v={{ params.n }}; [[ 1 -eq $v ]]",
        "[[ x == \"]]\" && 1 -gt $n ]]\necho {{ params.x }}",
        "i={{ params.n }}; echo \"${a[i]}\"",
        "i={{ params.n }}; echo ${a[$i]}",
        "i={{ params.n }}; a[i]=1",
        "v={{ params.x }}; read \"a[$v]\" < /dev/null",
        "v={{ params.x }}; printf -v 'a[v]' %s 1",
        "v={{ params.x }}; declare \"$v=1\"",
    ] {
        refusal_of(true, script);
    }
    assert_accepted(
        true,
        &[
            "s=abc; echo ${s:0:2} ${s: -1} ${#s} ${s:-default} {{ params.x }}",
            "a=(x y); echo \"${a[1]}\" \"${a[@]}\" {{ params.x }}",
            "read -r line < /etc/hostname; echo \"$line\" {{ params.x }}",
            "a[0]=1; echo {{ params.x }}",
            "[[ -n {{ params.x }} ]] && [[ 1 -eq 1 ]]",
            "local v={{ params.x }}",
        ],
    );
}

#[test]
fn here_document_delimiters_are_read_as_bash_reads_them() {
    for script in [
        // bash takes the delimiter's text without expanding it: the body runs to `E${x}`
        "x=E; sh <<E${x}\neval \"$V\"\nE\nE${x}\necho {{ params.x }}",
        // any quote makes the body literal, and the delimiter is the text without quotes
        "sh <<\"E\"x\n$V\nEx\necho {{ params.x }}",
        "cat <<-EOF\n\t\tEOF\neval echo {{ params.x }}\nEOF",
    ] {
        refusal_of(true, script);
    }
    assert!(
        refusal_of(
            true,
            "x=E; sh <<E${x}\neval \"$V\"\nE\nE${x}\necho {{ params.x }}"
        )
        .contains("delimiter")
    );
    // YAML turns a CR LF line break into LF; a "\r" escape still reaches the script.
    for script in [
        "echo {{ params.x }}\r\nsh -c true",
        "cat <<E\r\n$(id)\nE\r\nE\necho {{ params.x }}",
    ] {
        let template = crate::template::Template::parse(script).unwrap();
        let problem = super::shell::check_posix(&[template]).expect("refused");
        assert!(problem.contains("carriage return"), "{problem}");
    }
    assert_accepted(
        true,
        &[
            "cat <<-'EOF'\n\tstatic $V\n\tEOF\necho {{ params.x }}",
            "sh <<'E'x\ntrue\nEx\necho {{ params.x }}",
        ],
    );
}
