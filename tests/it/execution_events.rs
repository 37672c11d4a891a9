//! Run endings against real components: a tapped run's command on moto ends, SSM's status
//! event goes through the `execution-events` function with every real adapter (SSM and the
//! ledger on moto, PagerDuty on Prism); the ledger's ending records under racing deliveries on
//! moto's DynamoDB; and what moto cannot play (tag-targeted invocations, Automation) through the
//! SDK's own mocks.

use crate::support::emulated::{ACTION_TOKEN, post, send, tap_body, world};
use crate::support::*;
use aws_sdk_ssm::operation::get_automation_execution::GetAutomationExecutionOutput;
use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use aws_sdk_ssm::operation::list_command_invocations::ListCommandInvocationsOutput;
use aws_sdk_ssm::operation::list_commands::ListCommandsOutput;
use aws_sdk_ssm::types::{
    AutomationExecution, AutomationExecutionStatus, Command, CommandInvocation,
    CommandInvocationStatus, CommandStatus, StepExecution,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use chrono::{Duration, Utc};
use execution_events::{EventOutcome, EventsApp};
use remediate_adapters::aws::ledger::DynamoLedger;
use remediate_adapters::executors::SsmRunResults;
use remediate_adapters::pagerduty::HttpPagerDuty;
use remediate_core::DedupeId;
use remediate_core::finish::{ExecutorKind, FinalState, FollowUp, RunEnding};
use remediate_core::ledger::RunHistory;
use remediate_core::pipeline::Finisher;
use remediate_core::ports::PagerDutyApi;
use remediate_core::ports::runs::{FinishClaim, RunFinishes, RunResults};
use serde_json::json;
use std::sync::Arc;
use tokio::time::Instant;

fn status_event(command_id: &str, status: &str) -> serde_json::Value {
    json!({
        "version": "0",
        "id": unique("event"),
        "detail-type": "EC2 Command Status-change Notification",
        "source": "aws.ssm",
        "account": "123456789012",
        "time": Utc::now().to_rfc3339(),
        "region": REGION,
        "resources": [],
        "detail": {
            "command-id": command_id,
            "document-name": "AWS-RunShellScript",
            "requested-date-time": Utc::now().to_rfc3339(),
            "status": status
        }
    })
}

fn deadline() -> Instant {
    Instant::now() + std::time::Duration::from_secs(20)
}

#[tokio::test]
async fn a_tapped_runs_ending_reaches_the_ledger_and_the_incident() {
    let world = world(false).await;
    let (status, reply) = send(
        &world.app,
        post(
            "/actions/restart-web",
            &tap_body(&unique("msg")),
            &[("x-remediate-token", ACTION_TOKEN.into())],
        ),
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    let run_id = reply["run_id"].as_str().expect("a run id").to_owned();
    let aws = moto_config().await;
    let run_settings = &world.app.settings.run;
    let ledger = Arc::new(DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&aws),
        run_settings.ledger_table.clone(),
    ));
    let started = ledger
        .runs_for_incident("PGR0VU2")
        .await
        .expect("history")
        .into_iter()
        .find(|run| run.run_id.as_deref() == Some(run_id.as_str()))
        .expect("the tapped run is in the ledger");
    let command_id = started.command_id.clone().expect("a command id");
    let pagerduty = HttpPagerDuty::new(
        &run_settings.api_url,
        run_settings.from_email.clone(),
        world.app.secrets.clone(),
        run_settings.api_token_parameter.clone(),
    )
    .expect("a client");
    let app = EventsApp {
        finisher: Finisher {
            region: REGION.to_owned(),
            catalogs: world.app.pipeline.catalogs.clone(),
            pagerduty: Arc::new(pagerduty),
            executors: Arc::new(SsmRunResults::new(world.ssm.clone())),
            runs: ledger.clone(),
            clock: Arc::new(remediate_core::clock::SystemClock),
            results: None,

            alarms: None,
        },
    };

    let report = app
        .handle_event(&status_event(&command_id, "Success"), deadline())
        .await
        .expect("answered");

    // moto reports every command as Success, with the run id in its Comment.
    assert_eq!(report.outcome, EventOutcome::Recorded, "{report:?}");
    assert_eq!(report.run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(report.run_state.as_deref(), Some("succeeded"));
    let ended = ledger
        .run_by_handle(&command_id)
        .await
        .expect("read")
        .expect("the run");
    assert_eq!(ended.run_state, "succeeded");
    let ending = ended.ending.clone().expect("an ending");
    assert_eq!(ending.state, FinalState::Succeeded);
    // SSM's StatusDetails is the word kept (real SSM: "Success", "Delivery Timed Out"); moto
    // answers a placeholder there.
    assert!(
        ["Success", "Details placeholder"].contains(&ending.executor_status.as_str()),
        "{}",
        ending.executor_status
    );
    let summary = ending.summary.unwrap_or_default();
    assert!(summary.contains("instances succeeded"), "{summary}");
    assert!(ended.pending.is_empty(), "the note was posted on Prism");
    // The postmortem timeline says how it ended.
    let timeline =
        remediate_core::ledger::timeline_markdown("t", "ledger", std::slice::from_ref(&ended));
    assert!(timeline.contains("(succeeded)"), "{timeline}");
    assert!(timeline.contains("ended "), "{timeline}");

    let again = app
        .handle_event(&status_event(&command_id, "Success"), deadline())
        .await
        .expect("answered");
    assert_eq!(again.outcome, EventOutcome::Duplicate);
}

#[tokio::test]
async fn an_ending_is_recorded_once_under_racing_deliveries() {
    let aws = moto_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let table = unique("ledger");
    create_ledger_table(&dynamodb, &table).await;
    let ledger = Arc::new(DynamoLedger::new(dynamodb, table));
    // A started run, as the pipeline leaves it: a claim completed with a command id.
    let trigger_id = DedupeId::from(unique("v3"));
    let now = Utc::now();
    let claim = match remediate_core::ledger::Ledger::claim(
        &*ledger,
        &trigger_id,
        now,
        Duration::seconds(60),
    )
    .await
    .expect("claim")
    {
        remediate_core::ledger::ClaimResult::Claimed(claim) => claim,
        other => panic!("{other:?}"),
    };
    let trigger = remediate_core::trigger::Trigger {
        source: remediate_core::trigger::Source::PagerDutyV3,
        dedupe_id: trigger_id.clone(),
        event_type: "incident.triggered".into(),
        action: None,
        occurred_at: now,
        incident: None,
        actor: None,
        alarm: None,
        event: None,
        workflow: None,
    };
    let handle = uuid::Uuid::new_v4().to_string();
    let mut report = remediate_core::outcome::Report::run(
        &trigger_id,
        "restart-web",
        &"run-1".into(),
        "v1",
        "tag Role=web".into(),
    );
    report.command_id = Some(handle.clone().into());
    remediate_core::ledger::Ledger::complete(&*ledger, &claim, &trigger, &report, now)
        .await
        .expect("complete");
    let ending = RunEnding {
        executor: ExecutorKind::SsmCommand,
        state: FinalState::Failed,
        executor_status: "Failed".into(),
        finished_at: now,
        duration_seconds: Some(3),
        summary: Some("0/1 instances succeeded".into()),
        excerpt: None,
    };
    let wanted = [FollowUp::Note, FollowUp::Publish];

    let mut racers = Vec::new();
    for _ in 0..6 {
        let ledger = ledger.clone();
        let trigger_id = trigger_id.clone();
        let ending = ending.clone();
        racers.push(tokio::spawn(async move {
            ledger
                .begin_finish(&trigger_id, &ending, &wanted, now, Duration::seconds(120))
                .await
        }));
    }
    let mut claimed = Vec::new();
    let mut busy = 0;
    for racer in racers {
        match racer.await.expect("joined").expect("begin_finish") {
            FinishClaim::Claimed { token, pending, .. } => claimed.push((token, pending)),
            FinishClaim::Busy => busy += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(claimed.len(), 1, "one delivery does the follow-ups");
    assert_eq!(busy, 5);
    let (token, pending) = claimed.remove(0);
    assert_eq!(pending, wanted);

    // The note failed: it is left, and a later delivery (after the hold) gets only it.
    ledger
        .end_finish(&trigger_id, &token, &[FollowUp::Note], now)
        .await
        .expect("end");
    let run = ledger
        .run_by_handle(&handle)
        .await
        .expect("read")
        .expect("run");
    assert_eq!(run.run_state, "failed");
    assert_eq!(run.pending, vec![FollowUp::Note]);
    assert_eq!(
        run.ending.map(|ending| ending.state),
        Some(FinalState::Failed)
    );
    let later = now + Duration::seconds(1);
    let FinishClaim::Claimed { token, pending, .. } = ledger
        .begin_finish(&trigger_id, &ending, &wanted, later, Duration::seconds(120))
        .await
        .expect("begin again")
    else {
        panic!("the follow-up left must be claimable");
    };
    assert_eq!(pending, vec![FollowUp::Note]);
    assert!(matches!(
        ledger
            .begin_finish(&trigger_id, &ending, &wanted, later, Duration::seconds(120))
            .await
            .expect("while held"),
        FinishClaim::Busy
    ));
    // A stale holder cannot say what is left.
    assert!(
        ledger
            .end_finish(&trigger_id, "not-the-token", &[], later)
            .await
            .is_err()
    );
    ledger
        .end_finish(&trigger_id, &token, &[], later)
        .await
        .expect("end");
    assert_eq!(
        ledger
            .begin_finish(&trigger_id, &ending, &wanted, later, Duration::seconds(120))
            .await
            .expect("done"),
        FinishClaim::Done
    );
    // A trigger with no started run cannot end.
    assert_eq!(
        ledger
            .begin_finish(
                &"no-such".into(),
                &ending,
                &wanted,
                later,
                Duration::seconds(120)
            )
            .await
            .expect("not started"),
        FinishClaim::NotStarted
    );
}

const COMMAND_ID: &str = "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b";

#[tokio::test]
async fn a_tag_targeted_commands_failed_instances_are_read_first() {
    let listed = mock!(aws_sdk_ssm::Client::list_commands)
        .match_requests(|input| input.command_id() == Some(COMMAND_ID))
        .then_output(|| {
            ListCommandsOutput::builder()
                .commands(
                    Command::builder()
                        .command_id(COMMAND_ID)
                        .comment("remediate run-9 restart-web")
                        .status(CommandStatus::Failed)
                        .status_details("Failed")
                        .target_count(3)
                        .completed_count(3)
                        .error_count(1)
                        .build(),
                )
                .build()
        });
    let invocations = mock!(aws_sdk_ssm::Client::list_command_invocations)
        .match_requests(|input| input.command_id() == Some(COMMAND_ID))
        .then_output(|| {
            let invocation = |instance: &str, status| {
                CommandInvocation::builder()
                    .instance_id(instance)
                    .status(status)
                    .build()
            };
            ListCommandInvocationsOutput::builder()
                .command_invocations(invocation("i-0ok1", CommandInvocationStatus::Success))
                .command_invocations(invocation("i-0bad", CommandInvocationStatus::Failed))
                .command_invocations(invocation("i-0ok2", CommandInvocationStatus::Success))
                .build()
        });
    let detail = mock!(aws_sdk_ssm::Client::get_command_invocation).then_output(|| {
        GetCommandInvocationOutput::builder()
            .instance_id("i-0bad")
            .status(CommandInvocationStatus::Failed)
            .status_details("Failed")
            .response_code(2)
            .standard_output_content("restarting\n")
            .standard_error_content("Job for nginx.service failed\n")
            .execution_end_date_time("2026-12-02T08:00:05.123Z")
            .build()
    });
    let client = mock_client!(
        aws_sdk_ssm,
        RuleMode::MatchAny,
        &[&listed, &invocations, &detail]
    );

    let result = SsmRunResults::new(client)
        .run_result(ExecutorKind::SsmCommand, &COMMAND_ID.into())
        .await
        .expect("a result");

    assert_eq!(result.state, Some(FinalState::Failed));
    assert_eq!(result.run_id.as_deref(), Some("run-9"));
    let counts = result.counts.expect("counts");
    assert_eq!((counts.total, counts.succeeded), (3, 2));
    assert_eq!(result.targets.len(), 3);
    assert_eq!(result.targets[0].target, "i-0bad", "failed first");
    assert_eq!(result.targets[0].exit_code, Some(2));
    assert_eq!(
        result.targets[0].error_output.as_deref(),
        Some("Job for nginx.service failed\n")
    );
    assert_eq!(
        result.finished_at.map(|at| at.to_rfc3339()),
        Some("2026-12-02T08:00:05.123+00:00".to_owned())
    );
    assert_eq!(listed.num_calls(), 1);
    assert_eq!(invocations.num_calls(), 1);
    assert_eq!(detail.num_calls(), 3);
}

#[tokio::test]
async fn a_running_command_is_not_read_in_detail() {
    let listed = mock!(aws_sdk_ssm::Client::list_commands).then_output(|| {
        ListCommandsOutput::builder()
            .commands(
                Command::builder()
                    .command_id(COMMAND_ID)
                    .status(CommandStatus::InProgress)
                    .target_count(2)
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&listed]);

    let result = SsmRunResults::new(client)
        .run_result(ExecutorKind::SsmCommand, &COMMAND_ID.into())
        .await
        .expect("a result");

    assert_eq!(result.state, None);
    assert_eq!(result.run_id, None, "not remediate's comment");
    assert!(result.targets.is_empty());
}

#[tokio::test]
async fn an_automations_outputs_failure_and_steps_are_read() {
    let execution_id = "333ba70b-2333-48db-b17e-a5e69c6f4d1c";
    let rule = mock!(aws_sdk_ssm::Client::get_automation_execution)
        .match_requests(move |input| input.automation_execution_id() == Some(execution_id))
        .then_output(|| {
            GetAutomationExecutionOutput::builder()
                .automation_execution(
                    AutomationExecution::builder()
                        .automation_execution_status(AutomationExecutionStatus::Failed)
                        .failure_message("Step fails when it is verifying the command")
                        .execution_start_time(aws_smithy_types::DateTime::from_secs(1_800_000_000))
                        .execution_end_time(aws_smithy_types::DateTime::from_secs(1_800_000_130))
                        .outputs("restart.Output", vec!["ok".to_owned()])
                        .step_executions(
                            StepExecution::builder()
                                .step_name("stopInstance")
                                .step_status(AutomationExecutionStatus::Success)
                                .build(),
                        )
                        .step_executions(
                            StepExecution::builder()
                                .step_name("startInstance")
                                .step_status(AutomationExecutionStatus::Failed)
                                .failure_message("InvalidInstanceId")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&rule]);

    let result = SsmRunResults::new(client)
        .run_result(ExecutorKind::SsmAutomation, &execution_id.into())
        .await
        .expect("a result");

    assert_eq!(result.state, Some(FinalState::Failed));
    assert_eq!(result.executor_status, "Failed");
    assert_eq!(
        result.failure.as_deref(),
        Some("Step fails when it is verifying the command")
    );
    assert_eq!(result.outputs.as_deref(), Some("restart.Output: ok"));
    assert_eq!(
        result.targets[0].target, "startInstance",
        "failed steps first"
    );
    assert_eq!(
        result
            .finished_at
            .zip(result.started_at)
            .map(|(end, start)| (end - start).num_seconds()),
        Some(130)
    );
}

#[tokio::test]
async fn resolving_passes_pagerduty_spec_validation() {
    let aws = moto_config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let parameter = unique("/remediate-test/api-token");
    put_secure_parameter(&ssm, &parameter, "y_NbAkKc66ryYTWUXYEu").await;
    let secrets = Arc::new(
        remediate_adapters::aws::secrets::ParameterStoreSecrets::new(
            ssm,
            std::time::Duration::from_secs(60),
        ),
    );
    let pagerduty = HttpPagerDuty::new(
        &prism_url(),
        "remediate-bot@example.com",
        secrets,
        parameter,
    )
    .expect("a client");

    pagerduty
        .resolve_incident(
            "PT4KHLK",
            "Resolved by remediate: restart-web succeeded (SSM command 1, run 2).",
            deadline(),
        )
        .await
        .expect("PUT /incidents/{id} with a resolution is valid");
    // An id that is no PagerDuty id never leaves the process.
    assert!(
        pagerduty
            .resolve_incident("../users", "x", deadline())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn whether_remediate_started_a_command_costs_one_call() {
    let listed = mock!(aws_sdk_ssm::Client::list_commands).then_output(|| {
        ListCommandsOutput::builder()
            .commands(
                Command::builder()
                    .command_id(COMMAND_ID)
                    .comment("nightly patch baseline")
                    .status(CommandStatus::Success)
                    .target_count(40)
                    .build(),
            )
            .build()
    });
    let detail = mock!(aws_sdk_ssm::Client::get_command_invocation)
        .then_output(|| GetCommandInvocationOutput::builder().build());
    let client = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&listed, &detail]);
    let results = SsmRunResults::new(client);

    let run_id = results
        .run_id_of(ExecutorKind::SsmCommand, &COMMAND_ID.into())
        .await
        .expect("an answer");
    let automation = results
        .run_id_of(ExecutorKind::SsmAutomation, &COMMAND_ID.into())
        .await
        .expect("an answer");

    assert_eq!(run_id, None);
    assert_eq!(automation, None, "an automation's tags are not read back");
    assert_eq!(listed.num_calls(), 1);
    assert_eq!(
        detail.num_calls(),
        0,
        "another tool's command is not read in detail"
    );
}
