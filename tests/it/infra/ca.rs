//! Extra root certificates (`REMEDIATE_CA_FILE`, shared/adapters/src/tls.rs): the templates' two
//! optional parameters, ExtraCaLayerArn (a layer version shipping a PEM file under /opt) and
//! ExtraCaFile (its path), give every function the layer and the variable, both or neither, and
//! nothing at all when they are empty. The CDK stack does the same (also held by drift.rs) and
//! refuses what the template's Rules refuse.

use super::cdk::{cdk_resolved, synth};
use super::*;
use remediate_adapters::tls::CA_FILE_VARIABLE;
use serde_json::json;
use std::collections::BTreeMap;

const LAYER: &str = "ExtraCaLayerArn";
const FILE: &str = "ExtraCaFile";
const SAMPLE_LAYER: &str = "arn:aws:lambda:us-east-1:123456789012:layer:remediate-ca:3";
const SAMPLE_FILE: &str = "/opt/ca/internal-ca.pem";

/// SAM's translation of the template with its intrinsics unresolved (what CloudFormation
/// receives: every function, conditional or not, with its `Fn::If`s), made once per test run.
pub(super) fn translated() -> &'static Value {
    static ONCE: OnceLock<Value> = OnceLock::new();
    ONCE.get_or_init(|| {
        let output = Command::new(tool(".tools/venv/bin/python"))
            .arg(root().join("tests/iam_check.py"))
            .arg(template())
            .arg("--scenarios")
            .arg(scenarios())
            .args(["--translated", "defaults"])
            .output()
            .expect("python runs");
        assert!(output.status.success(), "{}", text(&output));
        serde_json::from_slice(&output.stdout).expect("iam_check.py --translated prints JSON")
    })
}

/// Every Lambda function of a template, by logical id.
fn functions(template: &Value) -> Vec<(&String, &Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Lambda::Function")
        .collect()
}

#[test]
fn every_function_gets_the_layer_and_the_variable_exactly_when_they_are_given() {
    let mut given_in = Vec::new();
    for scenario in ALL_SCENARIOS {
        let sam = resolved(scenario);
        let layer = sam["Parameters"][LAYER].as_str().unwrap();
        let file = sam["Parameters"][FILE].as_str().unwrap();
        assert_eq!(
            layer.is_empty(),
            file.is_empty(),
            "{scenario}: both or neither"
        );
        if !layer.is_empty() {
            given_in.push(scenario);
        }
        for (side, template) in [("SAM", sam), ("CDK", cdk_resolved(scenario))] {
            let functions = functions(template);
            assert!(functions.len() >= 4, "{side} {scenario}: {functions:?}");
            for (id, function) in &functions {
                let properties = &function["Properties"];
                let variables = properties["Environment"]["Variables"].as_object().unwrap();
                if layer.is_empty() {
                    assert!(
                        properties.get("Layers").is_none(),
                        "{side} {scenario}: {id} has layers {}",
                        properties["Layers"]
                    );
                    assert!(
                        !variables.contains_key(CA_FILE_VARIABLE),
                        "{side} {scenario}: {id} sets {CA_FILE_VARIABLE}"
                    );
                } else {
                    assert_eq!(
                        properties["Layers"],
                        json!([layer]),
                        "{side} {scenario}: {id}"
                    );
                    assert_eq!(
                        variables.get(CA_FILE_VARIABLE),
                        Some(&Value::from(file)),
                        "{side} {scenario}: {id}"
                    );
                }
            }
            if !layer.is_empty() {
                // The scenario that gives them has every function, the conditional one too.
                assert!(
                    functions
                        .iter()
                        .any(|(id, _)| *id == "RundeckNotificationFunction"),
                    "{side} {scenario}"
                );
            }
        }
    }
    assert!(
        !given_in.is_empty() && given_in.len() < ALL_SCENARIOS.len(),
        "the scenarios must give the extra CA in some and not in others: {given_in:?}"
    );
}

#[test]
fn each_function_s_layer_and_variable_hang_on_their_own_condition() {
    let template = translated();
    let not_empty =
        |parameter: &str| json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": parameter }, ""] }] });
    assert_eq!(template["Conditions"]["HasExtraCaLayer"], not_empty(LAYER));
    assert_eq!(template["Conditions"]["HasExtraCaFile"], not_empty(FILE));
    let functions = functions(template);
    let declared = std::fs::read_to_string(super::template())
        .unwrap()
        .matches("Type: AWS::Serverless::Function")
        .count();
    assert_eq!(functions.len(), declared, "{functions:?}");
    assert!(declared >= 5, "{declared}");
    for (id, function) in functions {
        assert_eq!(
            function["Properties"]["Layers"],
            json!({ "Fn::If": ["HasExtraCaLayer", [{ "Ref": LAYER }], { "Ref": "AWS::NoValue" }] }),
            "{id}"
        );
        assert_eq!(
            function["Properties"]["Environment"]["Variables"][CA_FILE_VARIABLE],
            json!({ "Fn::If": ["HasExtraCaFile", { "Ref": FILE }, { "Ref": "AWS::NoValue" }] }),
            "{id}"
        );
    }
}

#[test]
fn the_two_parameters_are_optional_and_refuse_what_could_never_be_read() {
    let parameters = &translated()["Parameters"];
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str]);
    let cases: [Case; 2] = [
        (
            LAYER,
            &[
                "",
                SAMPLE_LAYER,
                "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:ca_bundle:12",
                "arn:aws-cn:lambda:cn-north-1:123456789012:layer:Corp-CA:1",
            ],
            &[
                "remediate-ca",
                // a layer, not a layer version: Lambda attaches versions only
                "arn:aws:lambda:us-east-1:123456789012:layer:remediate-ca",
                "arn:aws:lambda:us-east-1:123456789012:function:remediate-ca:3",
                "arn:aws:lambda:us-east-1:12345678901:layer:remediate-ca:3",
                "arn:aws:lambda:us-east-1:123456789012:layer:remediate-ca:latest",
                " arn:aws:lambda:us-east-1:123456789012:layer:remediate-ca:3",
                SAMPLE_FILE,
            ],
        ),
        (
            FILE,
            &[
                "",
                SAMPLE_FILE,
                "/opt/internal-ca.pem",
                "/opt/certs/corp_root.v2.crt",
            ],
            &[
                "internal-ca.pem",
                "ca/internal-ca.pem",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/var/task/internal-ca.pem",
                "/tmp/internal-ca.pem",
                "/opt",
                "/opt/",
                "/opt/ca/",
                "/opt//internal-ca.pem",
                "/opt/../etc/passwd",
                "/opt/ca/../../etc/passwd",
                "/opt/ca/internal ca.pem",
                "/optional/internal-ca.pem",
                SAMPLE_LAYER,
            ],
        ),
    ];
    for (name, accepted, refused) in cases {
        let parameter = &parameters[name];
        assert_eq!(parameter["Type"], "String", "{name}");
        assert_eq!(
            parameter["Default"], "",
            "{name}: optional, empty by default"
        );
        let pattern = parameter["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no AllowedPattern"));
        let regex = regex::Regex::new(pattern).unwrap_or_else(|error| {
            panic!("{name}: {pattern} is no pattern the regex crate reads: {error}")
        });
        for value in accepted {
            assert!(regex.is_match(value), "{name} {pattern} refuses {value:?}");
        }
        for value in refused {
            assert!(!regex.is_match(value), "{name} {pattern} accepts {value:?}");
        }
    }
}

/// A Rules condition or assertion under the given parameter values (the intrinsics Rules use
/// here; any other fails the test, so that a new one is taught here first).
fn evaluate(node: &Value, values: &BTreeMap<String, Value>) -> Value {
    let Some((function, argument)) = node.as_object().and_then(|map| map.iter().next()) else {
        return node.clone();
    };
    let all = |argument: &Value| -> Vec<bool> {
        argument
            .as_array()
            .unwrap()
            .iter()
            .map(|item| evaluate(item, values).as_bool().unwrap())
            .collect()
    };
    match function.as_str() {
        "Ref" => values[argument.as_str().unwrap()].clone(),
        "Fn::Equals" => {
            let pair = argument.as_array().unwrap();
            Value::from(evaluate(&pair[0], values) == evaluate(&pair[1], values))
        }
        "Fn::Not" => Value::from(!all(argument)[0]),
        "Fn::And" => Value::from(all(argument).into_iter().all(|b| b)),
        "Fn::Or" => Value::from(all(argument).into_iter().any(|b| b)),
        other => panic!("{other} in a Rule: teach evaluate() about it"),
    }
}

/// What the template's Rules refuse under these values (the rest at their defaults): the
/// description of every assertion that fails.
fn refusals(template: &Value, given: &[(&str, &str)]) -> Vec<String> {
    let mut values: BTreeMap<String, Value> = template["Parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, spec)| {
            let default = spec
                .get("Default")
                .cloned()
                .unwrap_or(Value::from("required"));
            (name.clone(), default)
        })
        .collect();
    for (name, value) in given {
        assert!(values.contains_key(*name), "no parameter {name}");
        values.insert((*name).to_owned(), Value::from(*value));
    }
    let mut refused = Vec::new();
    for rule in template["Rules"].as_object().unwrap().values() {
        let applies = rule
            .get("RuleCondition")
            .is_none_or(|condition| evaluate(condition, &values) == true);
        if !applies {
            continue;
        }
        for assertion in rule["Assertions"].as_array().unwrap() {
            if evaluate(&assertion["Assert"], &values) != true {
                refused.push(assertion["AssertDescription"].as_str().unwrap().to_owned());
            }
        }
    }
    refused
}

/// The one refusal of a layer without its file, and of a file without its layer.
fn refused_halves() -> [(&'static str, &'static str, String); 2] {
    let template = translated();
    let mut halves = Vec::new();
    for (name, value, other) in [(LAYER, SAMPLE_LAYER, FILE), (FILE, SAMPLE_FILE, LAYER)] {
        let refused = refusals(template, &[(name, value)]);
        assert_eq!(refused.len(), 1, "{name} alone: {refused:?}");
        assert!(
            refused[0].starts_with(&format!("{name} needs {other}")),
            "{refused:?}"
        );
        halves.push((name, value, refused[0].clone()));
    }
    halves.try_into().unwrap()
}

#[test]
fn the_template_takes_both_or_neither() {
    let template = translated();
    assert_eq!(refusals(template, &[]), Vec::<String>::new());
    assert_eq!(
        refusals(template, &[(LAYER, SAMPLE_LAYER), (FILE, SAMPLE_FILE)]),
        Vec::<String>::new()
    );
    refused_halves();
    // The evaluation sees the catalog Rules too: it is not blind.
    assert_eq!(
        refusals(template, &[("CreateCatalogBucket", "true")]),
        ["CreateCatalogBucket needs CatalogWriterRoleArn, the one role that may write it."]
    );
}

#[test]
fn the_cdk_stack_refuses_what_the_template_refuses() {
    // synth() compiled the app (dist/), and made the stacks that give both.
    synth();
    let app = root().join("infra/cdk");
    for (name, value, refusal) in refused_halves() {
        let dir = std::env::temp_dir().join(format!("remediate-cdk-ca-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("scenarios.json");
        let scenarios = json!({
            "parameters": { "PagerDutyFromEmail": "remediate-bot@example.com" },
            "scenarios": { "half": { name: value } },
        });
        std::fs::write(&file, scenarios.to_string()).unwrap();
        let output = Command::new("node")
            .current_dir(&app)
            .arg("dist/bin/scenarios.js")
            .arg(&file)
            .arg(dir.join("out"))
            .output()
            .expect("node runs");
        std::fs::remove_dir_all(&dir).ok();
        let report = text(&output);
        assert!(!output.status.success(), "{name} alone was synthesized");
        assert!(
            report.contains(&format!("Error: {refusal}")),
            "{name} alone: not refused as the template refuses it ({refusal}):\n{report}"
        );
    }
}

#[test]
fn the_readme_says_how_to_ship_a_private_ca() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for needle in [
        "aws lambda publish-layer-version",
        "lambda:GetLayerVersion",
        "add-layer-version-permission",
        "ExtraCaFile=/opt/ca/internal-ca.pem",
    ] {
        assert!(readme.contains(needle), "README lacks {needle:?}");
    }
}
