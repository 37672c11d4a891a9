//! Regression tests for the second review of the shell checks: each bypass it confirmed.

use super::shell_checks::{assert_accepted, refusal_of};
use crate::template::Template;

fn check_posix(script: &str) -> Option<String> {
    crate::catalog::shell::check_posix(&[Template::parse(script).unwrap()])
}

#[test]
fn a_semicolon_inside_double_brackets_is_refused_not_looped_on() {
    for script in [
        "[[ -n {{ params.x }} ; ]]",
        "[[ -n {{ params.x }} ;",
        "echo {{ params.x }}; [[ ; ]]",
    ] {
        assert!(check_posix(script).is_some(), "{script:?}");
    }
    assert_accepted(true, &["[[ -n {{ params.x }} ]]; echo ok"]);
}

#[test]
fn nested_find_exec_is_checked_in_linear_time() {
    // Once exponential (k = 22 took 12 s); a depth past the nesting bound is refused.
    for (k, refused) in [(40, false), (200, true)] {
        let script = format!("{}echo {{{{ params.x }}}}", "find . -exec ".repeat(k));
        assert_eq!(check_posix(&script).is_some(), refused, "{k}");
    }
    let script = format!("{}sh -c {{{{ params.x }}}}", "find . -exec ".repeat(30));
    assert!(check_posix(&script).is_some());
    // Segments after one another are each checked.
    refusal_of(
        true,
        "find . -exec echo {} \\; -exec sh -c {{ params.x }} \\;",
    );
    assert_accepted(
        true,
        &["find /var/log -name {{ params.x }} -exec ls -l {} \\; -exec wc -l {} +"],
    );
}

fn refused(posix: bool, scripts: &[&str]) {
    for script in scripts {
        refusal_of(posix, script);
    }
}

#[test]
fn command_names_must_be_written_plainly() {
    for script in [
        "{eval,} {{ params.x }}",
        "{bash,-c} {{ params.x }}",
        "$'\\145val' {{ params.x }}",
        "$\"eval\" {{ params.x }}",
        "\"eval\" {{ params.x }}",
        "e\\val {{ params.x }}",
        "/usr/bin/b?sh -c {{ params.x }}",
        "/usr/bin/[b]ash -c {{ params.x }}",
        "/usr/bin/ba* -c {{ params.x }}",
        "sudo {bash,-c} {{ params.x }}",
        "nohup 'bash' -c {{ params.x }}",
        "env A={x,y} bash -c true; echo {{ params.x }}",
    ] {
        let problem = refusal_of(true, script);
        assert!(problem.contains("plainly"), "{script:?}: {problem}");
    }
    refused(
        true,
        &[
            "/proc/self/exe -c {{ params.x }}",
            "/proc/1/root/bin/sh -c {{ params.x }}",
            "system{{ params.x }}",
            "exe -c {{ params.x }}",
        ],
    );
    assert_accepted(
        true,
        &[
            "[ -n {{ params.x }} ] && echo set",
            "[[ -n {{ params.x }} ]] && echo set",
            "/usr/bin/systemctl restart {{ params.x }}",
            "taskset -c 0,1 nice -n 5 systemctl restart {{ params.x }}",
            "{ echo a; echo {{ params.x }}; }",
        ],
    );
}

#[test]
fn a_shell_or_interpreter_anywhere_in_an_unknown_command_takes_no_value() {
    refused(
        true,
        &[
            "setarch x86_64 bash -x -c {{ params.x }}",
            "nice --adjustment 5 bash -o pipefail -c {{ params.x }}",
            "nice --adjustment 5 python3 -c {{ params.x }}",
            "setarch x86_64 python3 -c {{ params.x }}",
            "sudo --user root python3 -c {{ params.x }}",
            "sudo --user root bash -x -c {{ params.x }}",
            "setarch x86_64 bash -x -c 'eval \"$V\"'\necho {{ params.x }}",
        ],
    );
    assert_accepted(
        true,
        &[
            "systemctl restart ssh {{ params.x }}",
            "sudo --user ops systemctl restart {{ params.x }}",
            "nice --adjustment 5 systemctl restart {{ params.x }}",
        ],
    );
}

#[test]
fn quotes_and_substitutions_inside_braced_parameters_are_refused() {
    refused(
        true,
        &[
            "v={{ params.x }}\necho ${u:-'}'}\neval \"$v\"\n# '",
            "v={{ params.x }}\necho \"${u:-\"}\"}\"\neval \"$v\"\n# \"",
            "v={{ params.x }}\necho ${u:-\\}}",
            "v={{ params.x }}\necho ${u:-$(eval $v)}",
            "v={{ params.x }}\necho ${u:-`eval $v`}",
            // prompt expansion runs substitutions in the value
            "v={{ params.x }}\necho \"${v@P}\"",
            "v={{ params.x }}\necho \"${v@K}\"",
            "v={{ params.x }}\necho \"${v@E}\"",
        ],
    );
    assert_accepted(
        true,
        &[
            "v={{ params.x }}; echo ${HOME:-/root} ${v%.txt} ${v:-$HOME}",
            "v={{ params.x }}; echo \"${v@Q}\" \"${v@U}\" \"${v@u}\" \"${v@L}\" \"${v@a}\"",
        ],
    );
}

#[test]
fn test_v_evaluates_subscripts_like_double_brackets() {
    refused(
        true,
        &[
            "test -v {{ params.x }} || true",
            "[ -v {{ params.x }} ]",
            "if [ -v {{ params.x }} ]; then echo set; fi",
            "test -R {{ params.x }}",
            "v={{ params.x }}; [ -v \"$v\" ]",
        ],
    );
    assert_accepted(
        true,
        &["test -n {{ params.x }} && [ -f /etc/{{ params.x }} ]"],
    );
}

#[test]
fn code_variables_may_not_be_named_outside_a_plain_assignment() {
    refused(
        true,
        &[
            "printf -v PS4 %s {{ params.x }}\nset -x\ntrue",
            "read -r PS4 <<< {{ params.x }}\nset -x\ntrue",
            "for PS4 in {{ params.x }}; do set -x; true; set +x; done",
            "declare -n r=PS4\nr={{ params.x }}\nset -x\ntrue",
            "declare -n r\necho {{ params.x }}",
            "local -n r=x; echo {{ params.x }}",
            "typeset -rn r=x; echo {{ params.x }}",
            "mapfile -t BASH_ENV < /dev/null; echo {{ params.x }}",
            "GIT_PROXY_COMMAND={{ params.x }} git fetch",
            "export JAVA_TOOL_OPTIONS={{ params.x }}",
            "SUDO_EDITOR={{ params.x }} sudoedit /etc/hosts",
        ],
    );
    assert_accepted(
        true,
        &[
            "PS4='+ '; set -x; echo {{ params.x }}",
            "export PS4='+ ' EDITOR=vi; echo {{ params.x }}",
            "APP_ENV=prod; echo \"$APP_ENV\" {{ params.x }}",
        ],
    );
}

#[test]
fn here_documents_count_as_input_for_exec_functions_and_groups() {
    refused(
        true,
        &[
            "V={{ params.x }}\nexec <<EOF\n$V\nEOF\nbash",
            "V={{ params.x }}\nexec 3<<EOF\n$V\nEOF\nbash /dev/fd/3",
            "V={{ params.x }}\nf() { bash; }\nf <<EOF\n$V\nEOF",
            "V={{ params.x }}\n{ bash; } <<EOF\n$V\nEOF",
            "bash /dev/fd/3 3<<< {{ params.x }}",
            "python3 /proc/self/fd/0; echo {{ params.x }}",
            "bash /dev/stdin; echo {{ params.x }}",
        ],
    );
    assert_accepted(
        true,
        &[
            "cat <<EOF > /tmp/report.txt\nhost $HOSTNAME\nEOF\necho {{ params.x }}",
            "f() { echo hi; }\nf <<EOF\n$HOME\nEOF\necho {{ params.x }}",
        ],
    );
}

#[test]
fn static_here_strings_into_shells_are_scripts() {
    refused(
        true,
        &[
            "export V={{ params.x }}\nbash <<< 'eval \"$V\"'",
            "export V={{ params.x }}\nsudo bash <<< 'eval \"$V\"'",
            "export V={{ params.x }}\npython3 <<< 'import os; os.system(os.environ[\"V\"])'",
        ],
    );
    assert_accepted(
        true,
        &["bash <<< 'systemctl status nginx'\necho {{ params.x }}"],
    );
}

#[test]
fn a_file_the_script_writes_may_not_be_run_or_sourced() {
    refused(
        true,
        &[
            "echo SERVICE={{ params.x }} > /etc/app.env\n. /etc/app.env",
            ". /etc/app.env\necho SERVICE={{ params.x }} > /etc/app.env",
            "printf '%s\\n' {{ params.x }} > /tmp/s.sh\nbash < /tmp/s.sh",
            "printf '%s\\n' {{ params.x }} >> /tmp/s.sh\nbash /tmp/s.sh",
            "printf '%s\\n' {{ params.x }} >| /tmp/s.sh\nsudo sh /tmp/s.sh",
            "printf %s {{ params.x }} | tee -a /tmp/s.sh\nsource /tmp/s.sh",
            "printf %s {{ params.x }} | sudo tee /tmp/s.py\npython3 /tmp/s.py",
            "cp /tmp/{{ params.x }} /usr/local/bin/t\nchmod +x /usr/local/bin/t\n/usr/local/bin/t",
            "install -m 755 /tmp/{{ params.x }} /usr/local/bin/t\nt",
            "mv /tmp/{{ params.x }} ./t.sh\n./t.sh",
            "dd of=/tmp/s.sh <<< {{ params.x }}\nsh /tmp/s.sh",
            "echo {{ params.x }} &> /tmp/s.sh\n. /tmp/s.sh",
        ],
    );
    assert_accepted(
        true,
        &[
            "echo {{ params.x }} > /tmp/out.txt\ncat /tmp/out.txt",
            ". /etc/profile.d/app.sh\necho {{ params.x }} 2>&1 >/dev/null",
        ],
    );
}

#[test]
fn database_clients_and_git_config_take_no_dynamic_code() {
    refused(
        true,
        &[
            "psql -c {{ params.x }}",
            "psql --command={{ params.x }}",
            "mysql -e {{ params.x }}",
            "mysql --execute {{ params.x }}",
            "sqlite3 /var/db/app.db {{ params.x }}",
            "git -c {{ params.x }} status",
            "v={{ params.x }}; git -c \"$v\" status",
        ],
    );
    assert_accepted(
        true,
        &[
            "psql -d app -f /opt/queries/report.sql -v name={{ params.x }}",
            "git log --author {{ params.x }}",
            "git -c core.pager=cat log -- {{ params.x }}",
        ],
    );
}
