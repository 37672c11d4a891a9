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
