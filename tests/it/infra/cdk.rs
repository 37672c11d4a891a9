//! The CDK app (infra/cdk): compiled with its pinned TypeScript and run once per test run (one
//! stack per scenario of template-scenarios.json, bundling skipped), then held to what the SAM
//! template is held to: every IAM statement against the IAM reference (tests/iam_check.py),
//! cfn-lint and checkov, each suppression with its reason next to its resource. drift.rs
//! compares the templates with SAM's.

use super::*;
use std::collections::BTreeMap;

/// What one run of the CDK app gave, and what the checkers said about it.
pub(super) struct Synth {
    /// Each scenario's template, resolved as iam_check.py resolves SAM's, by scenario name.
    pub resolved: BTreeMap<String, Value>,
    /// The settings' SAM parameter names and defaults (parameters.json).
    pub parameters: Value,
    /// The settings' patterns by SAM parameter name, null without one (patterns.json).
    pub patterns: Value,
    /// The templates' file names.
    pub files: Vec<String>,
    pub iam: (bool, String),
    pub lint: (bool, String),
    pub checkov: Vec<CheckovResult>,
}

fn run(command: &mut Command, what: &str) -> Result<Output, String> {
    let output = command
        .output()
        .map_err(|error| format!("{what} does not run: {error}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!("{what} failed:\n{}", text(&output)))
    }
}

fn synthesize() -> Result<Synth, String> {
    let app = root().join("infra/cdk");
    let tsc = app.join("node_modules/.bin/tsc");
    if !tsc.exists() {
        return Err(format!(
            "{} is missing: run the tests with scripts/test, which installs infra/cdk's pinned packages",
            tsc.display()
        ));
    }
    run(Command::new(&tsc).current_dir(&app), "tsc (infra/cdk)")?;
    let dir = std::env::temp_dir().join(format!("remediate-cdk-{}", uuid::Uuid::new_v4()));
    let synthesized = run(
        Command::new("node")
            .current_dir(&app)
            .arg("dist/bin/scenarios.js")
            .arg(scenarios())
            .arg(&dir),
        "the CDK app (node dist/bin/scenarios.js)",
    );
    let result = synthesized.and_then(|_| check(&dir));
    std::fs::remove_dir_all(&dir).ok();
    result
}

fn check(dir: &Path) -> Result<Synth, String> {
    let mut templates: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|error| error.to_string())?
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".template.json"))
        .collect();
    templates.sort();
    let python = tool(".tools/venv/bin/python");
    let iam_check = root().join("tests/iam_check.py");
    let resolved = run(
        Command::new(&python)
            .arg(&iam_check)
            .arg("--resolved-files")
            .args(&templates),
        "iam_check.py --resolved-files",
    )?;
    let resolved: BTreeMap<String, Value> =
        serde_json::from_slice::<BTreeMap<String, Value>>(&resolved.stdout)
            .map_err(|error| error.to_string())?
            .into_iter()
            .map(|(name, template)| (name.trim_start_matches("remediate-").to_owned(), template))
            .collect();
    let parameters =
        std::fs::read_to_string(dir.join("parameters.json")).map_err(|error| error.to_string())?;
    let patterns =
        std::fs::read_to_string(dir.join("patterns.json")).map_err(|error| error.to_string())?;
    // The three checkers at once: cfn-lint and checkov take about ten seconds each.
    let (iam, lint, checkov) = std::thread::scope(|scope| {
        let iam = scope.spawn(|| {
            let output = Command::new(&python)
                .arg(&iam_check)
                .args(&templates)
                .output()
                .expect("python runs");
            (output.status.success(), text(&output))
        });
        let lint = scope.spawn(|| {
            let output = Command::new(tool(".tools/venv/bin/cfn-lint"))
                .args(&templates)
                .output()
                .expect("cfn-lint runs");
            (output.status.success(), text(&output))
        });
        let checkov = scope.spawn(|| checkov(&templates));
        (iam.join(), lint.join(), checkov.join())
    });
    let panicked = |_| "a checker panicked (see above)".to_owned();
    Ok(Synth {
        resolved,
        parameters: serde_json::from_str(&parameters).map_err(|error| error.to_string())?,
        patterns: serde_json::from_str(&patterns).map_err(|error| error.to_string())?,
        files: templates
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect(),
        iam: iam.map_err(panicked)?,
        lint: lint.map_err(panicked)?,
        checkov: checkov.map_err(panicked)?,
    })
}

/// The CDK app's templates and their checks, made once per test run (about a minute).
pub(super) fn synth() -> &'static Synth {
    static ONCE: OnceLock<Result<Synth, String>> = OnceLock::new();
    match ONCE.get_or_init(synthesize) {
        Ok(synth) => synth,
        Err(problem) => panic!("{problem}"),
    }
}

/// One scenario's CDK template, resolved.
pub(super) fn cdk_resolved(scenario: &str) -> &'static Value {
    synth()
        .resolved
        .get(scenario)
        .unwrap_or_else(|| panic!("the CDK app made no stack for {scenario}"))
}

#[test]
fn the_cdk_app_makes_one_stack_per_scenario() {
    let made: Vec<&str> = synth().resolved.keys().map(String::as_str).collect();
    let mut wanted = ALL_SCENARIOS.to_vec();
    wanted.sort();
    assert_eq!(made, wanted);
}

#[test]
fn every_iam_statement_of_the_cdk_templates_fits_the_iam_reference() {
    let (clean, report) = &synth().iam;
    assert!(clean, "tests/iam_check.py on the CDK templates:\n{report}");
    assert_eq!(
        report.matches("all fit the IAM reference").count(),
        ALL_SCENARIOS.len(),
        "{report}"
    );
}

#[test]
fn the_cdk_templates_are_cfn_lint_clean() {
    let (clean, report) = &synth().lint;
    assert!(clean, "cfn-lint on the CDK templates:\n{report}");
}

#[test]
fn checkov_is_clean_on_the_cdk_templates_and_every_suppression_says_why() {
    let synth = synth();
    for file in &synth.files {
        if let Err(problem) = checkov_verdict(&synth.checkov, file) {
            panic!("{problem}");
        }
    }
    // The public URLs are real AWS::Lambda::Url resources here (checkov never checks SAM's
    // FunctionUrlConfig): each AuthType NONE is suppressed with its reason.
    for url in [
        "PagerDutyWebhookFunctionUrl",
        "RundeckNotificationFunctionUrl",
    ] {
        assert!(
            synth.checkov.iter().any(|result| {
                result.check == format!("CKV_AWS_258 AWS::Lambda::Url.{url}")
                    && matches!(&result.finding, Some(Some(reason)) if reason.contains("authenticat"))
            }),
            "{url}: AuthType NONE not suppressed with its reason"
        );
    }
}

#[test]
fn the_cdk_settings_are_the_templates_parameters_with_the_same_defaults() {
    let parameters = synth().parameters.as_object().unwrap();
    let template = resolved("defaults")["Parameters"].as_object().unwrap();
    assert_eq!(
        parameters.keys().collect::<std::collections::BTreeSet<_>>(),
        template.keys().collect::<std::collections::BTreeSet<_>>(),
        "infra/cdk/lib/settings.ts and infra/template.yaml name different parameters"
    );
    for (name, default) in parameters {
        if name == "PagerDutyFromEmail" {
            assert!(default.is_null(), "PagerDutyFromEmail is required in both");
            continue;
        }
        let sam = match &template[name] {
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(","),
            other => other.as_str().unwrap().to_owned(),
        };
        assert_eq!(default.as_str(), Some(sam.as_str()), "{name}'s default");
    }
    // Only CDK's own bookkeeping is a CloudFormation parameter of the CDK templates.
    for scenario in ALL_SCENARIOS {
        let cdk: Vec<&String> = cdk_resolved(scenario)["Parameters"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(cdk, ["BootstrapVersion"], "{scenario}");
    }
}

#[test]
fn the_cdk_settings_are_checked_by_the_templates_allowed_patterns() {
    // The translation keeps the template's Parameters as written, AllowedPattern included.
    let template = super::ca::translated()["Parameters"].as_object().unwrap();
    let patterns = synth().patterns.as_object().unwrap();
    assert_eq!(
        patterns.keys().collect::<std::collections::BTreeSet<_>>(),
        template.keys().collect::<std::collections::BTreeSet<_>>()
    );
    let mut compared = 0;
    for (name, pattern) in patterns {
        // A JavaScript regex literal writes `/` as `\/`; the template's patterns have no `\/`.
        let cdk = pattern.as_str().map(|source| source.replace("\\/", "/"));
        let sam = template[name]["AllowedPattern"].as_str().map(str::to_owned);
        assert_eq!(
            cdk, sam,
            "{name}: settings.ts and template.yaml check it differently"
        );
        compared += usize::from(sam.is_some());
    }
    assert!(compared >= 15, "only {compared} patterns compared");
}
