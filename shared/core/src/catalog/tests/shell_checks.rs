//! Regression tests for placements a security review found the shell checks let through.

use super::*;

/// The one problem of a POSIX (`posix: true`) or PowerShell script that must be refused.
pub(super) fn refusal_of(posix: bool, script: &str) -> String {
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

pub(super) fn assert_accepted(posix: bool, scripts: &[&str]) {
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
        "& 'i'ex {{ params.x }}",
        "i`ex {{ params.x }}",
    ] {
        refusal_of(false, script);
    }
    assert_accepted(
        false,
        &[
            "& 'C:\\Tools\\tool.exe' {{ params.x }}",
            "& \"C:\\Program Files\\Tool\\tool.exe\" --name {{ params.x }}",
            "'a', 'b' | ForEach-Object { Write-Output $_ {{ params.x }} }",
            "'{0}' -f {{ params.x }}",
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
        let problem = crate::catalog::shell::check_posix(&[template]).expect("refused");
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
