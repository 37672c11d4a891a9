//! The `remediate` binary, run as people run it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn remediate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_remediate"))
        .args(args)
        // The SNS options read these when not given: tests say what they pass.
        .env_remove("SNS_CERTIFICATES_DIR")
        .env_remove("SNS_TOPIC_ARNS")
        .current_dir(root())
        .output()
        .expect("remediate runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn check_accepts_the_example_catalog() {
    let output = remediate(&["check", "infra/runbooks.yaml"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).starts_with("infra/runbooks.yaml: ok, 8 runbook(s), version "));
}

#[test]
fn check_reports_file_line_column_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "version: 1\nrunbooks:\n  - name: x\n    when: { actions: [go] }\n    params:\n      host: { from: '{{ incident.nope }}', pattern: '.*' }\n    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        targets: { instance_ids: ['{{ params.other }}'] }\ncustom_actions:\n  go: { label: Go }\n",
    )
    .unwrap();
    let output = remediate(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let prefix = format!("{}:", path.display());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines.iter().all(|line| line.starts_with(&prefix)), "{text}");
    assert!(
        text.contains(":6:") && text.contains("incident.nope"),
        "{text}"
    );
    assert!(
        text.contains(":10:") && text.contains("no parameter \"other\""),
        "{text}"
    );
}

#[test]
fn check_reports_shell_and_pattern_errors_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shell.yaml");
    std::fs::write(
        &path,
        "version: 1\nrunbooks:\n  - name: x\n    when: { actions: [go] }\n    params:\n      host: { from: '{{ incident.title }}', pattern: 'x)|(.*' }\n      word: { from: '{{ incident.title }}', pattern: '[a-z]+' }\n    action:\n      ssm_command:\n        document: AWS-RunShellScript\n        shell: powershell\n        targets: { tags: { Role: web } }\n        parameters:\n          commands: ['eval echo {{ params.word }}']\ncustom_actions:\n  go: { label: Go }\n",
    )
    .unwrap();
    let output = remediate(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let prefix = path.display().to_string();
    for (at, says) in [
        (":6:54: ", "pattern"),
        (":11:16: ", "runs its commands in posix"),
        (":14:21: ", "`eval` parses its arguments"),
    ] {
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("{prefix}{at}")) && line.contains(says)),
            "{at} {says}: {text}"
        );
    }
}

#[test]
fn list_names_every_runbook_in_order() {
    let output = remediate(&["list", "infra/runbooks.yaml"]);
    assert!(output.status.success());
    let text = stdout(&output);
    let first = text.find("1. restart-web").unwrap();
    let second = text.find("2. restart-api").unwrap();
    let third = text.find("3. diagnose-api-latency").unwrap();
    assert!(first < second && second < third, "{text}");
    assert!(text.contains("cooldown 300 s per target"), "{text}");
    assert!(text.contains("[dry run]"), "{text}");
}

/// The simulation must agree with the function on every sample: expected.json says what the
/// function answers (held to it by tests/it/events.rs), and simulate must say the same.
#[test]
fn simulate_agrees_with_the_function_on_every_sample() {
    let dir = root().join("events/webhook");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    for (name, want) in expected.as_object().unwrap() {
        let event = format!("events/webhook/{name}.json");
        let output = remediate(&[
            "simulate",
            "--catalog",
            "infra/runbooks.yaml",
            &event,
            "--secret",
            "remediate-demo-signing-secret",
            "--token",
            "remediate-demo-action-token",
            "--json",
        ]);
        assert!(output.status.success(), "{name}: {output:?}");
        let got: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(got["status"], want["status"], "{name}: {got}");
        let decision = match want["outcome"].as_str() {
            Some("executed") | Some("dry_run") => "execute",
            Some("ignored") => "ignore",
            Some("refused") => "refuse",
            _ => "reject",
        };
        assert_eq!(got["decision"], decision, "{name}: {got}");
        if want["outcome"] == "dry_run" {
            assert!(got["plan"]["dry_run"].is_string(), "{name}: {got}");
        }
    }
}

#[test]
fn simulate_json_has_the_documented_fields() {
    let output = remediate(&[
        "simulate",
        "events/webhook/action-restart-web.json",
        "--json",
    ]);
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    for field in [
        "decision",
        "status",
        "runbook",
        "reason",
        "plan",
        "trigger",
        "verdicts",
        "note",
        "authentication",
    ] {
        assert!(got.get(field).is_some(), "missing {field}: {got}");
    }
    assert_eq!(got["plan"]["request"]["kind"], "ssm_command");
    assert_eq!(got["plan"]["params"]["incident"], "33");
    assert_eq!(
        got["plan"]["request"]["parameters"]["commands"][0],
        "logger -t remediate \"restart-web for PagerDuty incident\" '33'"
    );
    assert!(
        got["note"]
            .as_str()
            .unwrap()
            .contains("restart-web started by Alice Oncall")
    );
    assert!(
        got["authentication"]
            .as_str()
            .unwrap()
            .contains("not checked")
    );
}

#[test]
fn simulate_explains_a_refusal_in_text() {
    // An hour later the same tap is stale: refused, with the note people would see.
    let output = remediate(&[
        "simulate",
        "events/webhook/action-restart-web.json",
        "--now",
        "2026-11-25T04:30:00Z",
    ]);
    let text = stdout(&output);
    assert!(
        text.contains("decision   REFUSE restart-web (HTTP 200)"),
        "{text}"
    );
    assert!(text.contains("check      FAIL age"), "{text}");
    assert!(
        text.contains("note       remediate: restart-web not run for Alice Oncall"),
        "{text}"
    );
}

#[test]
fn simulate_rejects_what_is_neither_a_function_url_an_sns_nor_an_eventbridge_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.json");
    std::fs::write(&path, r#"{"detail-type":"Scheduled Event"}"#).unwrap();
    let output = remediate(&["simulate", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("not a Lambda Function URL event, an SNS event or an SSM status event")
    );
    // An SNS record without its message is recognised as SNS, and said to be incomplete.
    std::fs::write(&path, r#"{"Records":[{"EventSource":"aws:sns"}]}"#).unwrap();
    let output = remediate(&["simulate", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a Lambda SNS event"));
}

const SNS_TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:remediate-alarms";

/// events/sns/expected.json says what the sns-alarm function answers (held to it by
/// tests/it/sns_events.rs); simulate, given the samples' certificates and topic, says the same.
#[test]
fn simulate_agrees_with_the_sns_function_on_every_sample() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("events/sns/expected.json")).unwrap(),
    )
    .unwrap();
    for (name, want) in expected.as_object().unwrap() {
        let event = format!("events/sns/{name}.json");
        let output = remediate(&[
            "simulate",
            &event,
            "--certificates",
            "events/sns/certificates",
            "--topic",
            SNS_TOPIC,
            "--json",
        ]);
        assert!(output.status.success(), "{name}: {output:?}");
        let got: Value = serde_json::from_slice(&output.stdout).unwrap();
        let record = &got["records"][0];
        let decision = match want["outcome"].as_str() {
            Some("executed") | Some("dry_run") => "execute",
            Some("ignored") => "ignore",
            _ => "reject",
        };
        assert_eq!(record["decision"], decision, "{name}: {got}");
        assert_eq!(record["runbook"], want["runbook"], "{name}: {got}");
        assert!(record["status"].is_null(), "SNS has no HTTP status: {got}");
    }
}

#[test]
fn simulate_runs_the_disk_alarm_on_exactly_its_instance() {
    let output = remediate(&[
        "simulate",
        "events/sns/alarm-disk-used.json",
        "--certificates",
        "events/sns/certificates",
    ]);
    let text = stdout(&output);
    assert!(text.contains("decision   EXECUTE clean-disk\n"), "{text}");
    assert!(text.contains("SNS signature checked"), "{text}");
    assert!(text.contains("\"i-0a1b2c3d4e5f67890\""), "{text}");
    assert!(text.contains("not run    the incident lookup"), "{text}");
}

#[test]
fn simulate_ignores_a_message_that_is_not_json() {
    let output = remediate(&["simulate", "events/sns/not-json.json"]);
    let text = stdout(&output);
    assert!(text.contains("decision   IGNORE\n"), "{text}");
    assert!(text.contains("not JSON"), "{text}");
    assert!(text.contains("SNS signature not checked"), "{text}");
}

#[test]
fn simulate_rejects_a_tampered_sns_message_only_when_given_certificates() {
    let checked = stdout(&remediate(&[
        "simulate",
        "events/sns/bad-tampered-message.json",
        "--certificates",
        "events/sns/certificates",
    ]));
    assert!(checked.contains("decision   REJECT\n"), "{checked}");
    assert!(checked.contains("reason     SNS signature:"), "{checked}");
    // Without certificates nothing can tell: the simulation says so and goes on.
    let unchecked = stdout(&remediate(&[
        "simulate",
        "events/sns/bad-tampered-message.json",
    ]));
    assert!(
        unchecked.contains("SNS signature not checked"),
        "{unchecked}"
    );
    assert!(
        unchecked.contains("decision   EXECUTE clean-disk"),
        "{unchecked}"
    );
}

#[test]
fn simulate_says_a_recovery_is_recorded_never_run() {
    let text = stdout(&remediate(&[
        "simulate",
        "events/sns/alarm-disk-used-ok.json",
    ]));
    assert!(text.contains("decision   IGNORE clean-disk\n"), "{text}");
    assert!(text.contains("runs nothing"), "{text}");
}

#[test]
fn simulate_reads_ssm_status_events_as_the_execution_events_function_does() {
    let output = remediate(&[
        "simulate",
        "events/execution/command-success.json",
        "--json",
    ]);
    assert!(output.status.success(), "{output:?}");
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["decision"], "finish", "{got}");
    assert_eq!(got["executor"], "ssm_command");
    assert_eq!(got["handle"], "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b");
    assert_eq!(got["run_state"], "succeeded");

    let output = remediate(&["simulate", "events/execution/command-in-progress.json"]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output).contains("decision   ignore: status InProgress is not final"),
        "{}",
        stdout(&output)
    );

    let output = remediate(&[
        "simulate",
        "events/execution/automation-timed-out-nnbsp.json",
        "--json",
    ]);
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["run_state"], "timed_out", "{got}");

    let output = remediate(&[
        "simulate",
        "events/execution/command-invocation.json",
        "--json",
    ]);
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["decision"], "ignore", "{got}");
}
