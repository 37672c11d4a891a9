//! The deployment template is checked by cfn-lint (with the SAM transform), installed by
//! scripts/test into .tools/. A missing cfn-lint fails this test; it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn sam_template_is_cfn_lint_clean() {
    let cfn_lint = root().join(".tools/venv/bin/cfn-lint");
    assert!(
        cfn_lint.exists(),
        "{} is missing: run the tests with scripts/test, which installs the pinned tools",
        cfn_lint.display()
    );
    let output = Command::new(&cfn_lint)
        .arg(root().join("infra/template.yaml"))
        .output()
        .expect("cfn-lint runs");
    assert!(
        output.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn template_sets_every_required_variable_of_the_function() {
    let template = std::fs::read_to_string(root().join("infra/template.yaml")).unwrap();
    for variable in [
        "PAGERDUTY_WEBHOOK_SECRETS_PARAMETER",
        "PAGERDUTY_ACTION_TOKEN_PARAMETER",
        "PAGERDUTY_API_TOKEN_PARAMETER",
        "PAGERDUTY_FROM_EMAIL",
        "LEDGER_TABLE",
    ] {
        assert!(
            template.contains(&format!("{variable}:")),
            "template does not set {variable}"
        );
    }
}

#[test]
fn every_variable_the_code_reads_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let config = std::fs::read_to_string(root().join("shared/src/config.rs")).unwrap();
    let mut found = 0;
    for piece in config.split('"').skip(1).step_by(2) {
        let is_variable =
            piece.len() > 3 && piece.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        if is_variable {
            found += 1;
            assert!(
                readme.contains(&format!("`{piece}`")),
                "README's configuration table lacks `{piece}`"
            );
        }
    }
    assert!(found >= 10, "found only {found} variables in config.rs");
}
