//! Alarms whose runbook is an SSM Automation: one execution per run (the run id is the client
//! token), retried safely, refused visibly.

use super::*;

fn status_check_alarm() -> String {
    let message = alarm_message("ALARM", INSTANCE)
        .replace("disk_used_percent", "StatusCheckFailed_Instance")
        .replace(
            r#""AlarmName":"web-1-disk-used""#,
            r#""AlarmName":"web-1-status-check""#,
        );
    assert!(message.contains("web-1-status-check"));
    message
}

#[tokio::test]
async fn an_automation_runbook_starts_one_execution_keyed_by_its_run() {
    let h = harness();
    let delivery = record("m-30", &status_check_alarm());
    let report = one(&h, delivery.clone()).await;
    assert_eq!(report.outcome, Outcome::Executed, "{report:?}");
    assert_eq!(report.runbook.as_deref(), Some("restart-unhealthy"));
    let run_id = report.run_id.clone().unwrap();
    let automations = h.executor.automations();
    assert_eq!(automations.len(), 1);
    let (request, tags) = &automations[0];
    assert_eq!(request.document, "AWS-RestartEC2Instance");
    assert_eq!(request.parameters["InstanceId"], [INSTANCE]);
    assert_eq!(
        request.client_token,
        run_id.as_str(),
        "the run id is the token"
    );
    assert!(tags.contains(&("remediate:run-id".to_owned(), run_id.to_string())));
    assert!(tags.contains(&("remediate:incident-id".to_owned(), "PDISK01".to_owned())));
    assert!(h.executor.sent().is_empty(), "no Run Command");
    let notes = h.pagerduty.notes();
    assert!(
        notes[0].1.contains("SSM Automation execution auto-"),
        "{}",
        notes[0].1
    );
    assert!(
        notes[0]
            .1
            .contains("/systems-manager/automation/execution/")
    );
    assert_eq!(
        h.ledger
            .completed("sns:m-30")
            .and_then(|r| r.command_id)
            .map(|id| id.to_string()),
        Some(format!("auto-{run_id}")),
        "the execution id is the run's handle"
    );
    // Redelivered: a duplicate, no second execution.
    assert_eq!(one(&h, delivery).await.outcome, Outcome::Duplicate);
    assert_eq!(h.executor.automations().len(), 1);
}

#[tokio::test]
async fn a_throttled_automation_start_is_retried_by_lambda_and_then_starts_once() {
    let h = harness();
    h.executor.fail_next(vec![Error::Aws {
        service: "ssm",
        operation: "StartAutomationExecution",
        message: "ThrottlingException".into(),
        transient: true,
    }]);
    let delivery = record("m-31", &status_check_alarm());
    let failure = h
        .app
        .handle_records(std::slice::from_ref(&delivery), deadline())
        .await
        .expect_err("retry");
    assert!(failure.reason.contains("ThrottlingException"), "{failure}");
    assert!(h.executor.automations().is_empty());
    // The cooldown was given back with the claim: the retry runs.
    assert_eq!(one(&h, delivery).await.outcome, Outcome::Executed);
    assert_eq!(h.executor.automations().len(), 1);
}

#[tokio::test]
async fn an_automation_ssm_refuses_is_refused_with_a_note_and_its_cooldown_given_back() {
    let h = harness();
    h.executor.fail_next(vec![Error::Aws {
        service: "ssm",
        operation: "StartAutomationExecution",
        message: "AutomationDefinitionNotFoundException: no such document".into(),
        transient: false,
    }]);
    let report = one(&h, record("m-32", &status_check_alarm())).await;
    assert_eq!(report.outcome, Outcome::Refused, "{report:?}");
    assert!(report.reason.unwrap().contains("no such document"));
    let notes = h.pagerduty.notes();
    assert!(notes[0].1.contains("failed to start"), "{}", notes[0].1);
    // Nothing ran, so the next alarm is not held back by the cooldown.
    assert_eq!(
        one(&h, record("m-33", &status_check_alarm())).await.outcome,
        Outcome::Executed
    );
}
