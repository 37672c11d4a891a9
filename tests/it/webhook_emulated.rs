//! The pagerduty-webhook app with every real adapter: Parameter Store, SSM Run Command and
//! DynamoDB on moto, PagerDuty's REST API on Prism serving PagerDuty's official spec (Prism
//! rejects any request that breaks the spec, so a posted note proves the request's shape).

use crate::support::emulated::*;
use crate::support::*;
use remediate_adapters::pagerduty::signature::sign;
use std::sync::Arc;
use std::time::Instant;

/// Commands in moto whose Comment carries this run id.
async fn commands_for_run(
    ssm: &aws_sdk_ssm::Client,
    run_id: &str,
) -> Vec<aws_sdk_ssm::types::Command> {
    let listed = ssm
        .list_commands()
        .max_results(50)
        .send()
        .await
        .expect("ListCommands on moto");
    listed
        .commands()
        .iter()
        .filter(|command| {
            command
                .comment()
                .is_some_and(|comment| comment.contains(run_id))
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn signed_webhook_sends_the_command_and_a_note_pagerduty_accepts() {
    let world = world(true).await;
    let body = v3_body(&unique("ev"));
    let started = Instant::now();
    let (status, reply) = send(
        &world.app,
        post(
            "/",
            &body,
            &[(
                "x-pagerduty-signature",
                sign(SIGNING_SECRET, body.as_bytes()),
            )],
        ),
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["outcome"], "executed");
    assert_eq!(
        reply["note"], "posted",
        "Prism rejected the note request: {reply}"
    );
    assert!(
        elapsed < pagerduty_webhook::V3_BUDGET,
        "answered in {elapsed:?}"
    );

    let run_id = reply["run_id"].as_str().unwrap();
    let commands = commands_for_run(&world.ssm, run_id).await;
    assert_eq!(commands.len(), 1, "exactly one command for the run");
    let command = &commands[0];
    assert_eq!(command.command_id(), reply["command_id"].as_str());
    assert_eq!(command.document_name(), Some("AWS-RunShellScript"));
    assert_eq!(command.targets()[0].key(), Some("tag:Role"));
    assert_eq!(command.parameters().unwrap()["commands"], ["uptime"]);

    // moto resolved the tag target to both instances; each invocation exists.
    for instance in &world.instances {
        let invocation = world
            .ssm
            .get_command_invocation()
            .command_id(command.command_id().unwrap())
            .instance_id(instance)
            .send()
            .await
            .expect("GetCommandInvocation for each tagged instance");
        assert_eq!(invocation.document_name(), Some("AWS-RunShellScript"));
    }
}

#[tokio::test]
async fn fifty_concurrent_deliveries_run_once() {
    let world = world(true).await;
    let body = Arc::new(v3_body(&unique("ev")));
    let signature = sign(SIGNING_SECRET, body.as_bytes());
    let mut deliveries = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (app, body, signature) = (world.app.clone(), body.clone(), signature.clone());
        deliveries.spawn(async move {
            send(
                &app,
                post("/", &body, &[("x-pagerduty-signature", signature)]),
            )
            .await
        });
    }
    let mut executed = Vec::new();
    let mut others = Vec::new();
    while let Some(result) = deliveries.join_next().await {
        let (status, reply) = result.unwrap();
        if reply["outcome"] == "executed" {
            executed.push(reply);
        } else {
            // Everyone else is told "already handled" or "being handled, retry later".
            assert!(
                (status == 200 && reply["outcome"] == "duplicate") || status == 503,
                "unexpected answer {status} {reply}"
            );
            others.push(status);
        }
    }
    assert_eq!(executed.len(), 1, "exactly one delivery executes");
    assert_eq!(others.len(), 49);
    let run_id = executed[0]["run_id"].as_str().unwrap();
    assert_eq!(
        commands_for_run(&world.ssm, run_id).await.len(),
        1,
        "exactly one SendCommand"
    );
}

#[tokio::test]
async fn a_tap_runs_when_confirmation_is_off() {
    let world = world(false).await;
    let body = tap_body(&unique("msg"));
    let (status, reply) = send(
        &world.app,
        post(
            "/actions/restart-web",
            &body,
            &[("x-remediate-token", ACTION_TOKEN.into())],
        ),
    )
    .await;
    // Prism answers GET /incidents/{id} with the spec's example: an acknowledged incident.
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["note"], "posted");
    let commands = commands_for_run(&world.ssm, reply["run_id"].as_str().unwrap()).await;
    assert_eq!(commands.len(), 1);
    assert_eq!(
        commands[0].parameters().unwrap()["executionTimeout"],
        ["120"]
    );
}

#[tokio::test]
async fn a_tap_pagerduty_cannot_confirm_is_refused() {
    let world = world(true).await;
    let body = tap_body(&unique("msg"));
    let (status, reply) = send(
        &world.app,
        post(
            "/actions/restart-web",
            &body,
            &[("x-remediate-token", ACTION_TOKEN.into())],
        ),
    )
    .await;
    // The spec's example log has only a trigger_log_entry: no tap to confirm. A reason naming the
    // missing action (not "unreadable") also proves the log-entries request passed validation.
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("refused")),
        "{reply}"
    );
    assert!(
        reply["reason"]
            .as_str()
            .unwrap()
            .contains("shows no recent \"Restart web tier\" action"),
        "{reply}"
    );
}

#[tokio::test]
async fn wrong_token_and_signature_are_rejected_with_moto_secrets() {
    let world = world(true).await;
    let body = v3_body(&unique("ev"));
    let (status, _) = send(
        &world.app,
        post(
            "/",
            &body,
            &[("x-pagerduty-signature", sign("guess", body.as_bytes()))],
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &world.app,
        post(
            "/actions/restart-web",
            &tap_body("m"),
            &[("x-remediate-token", "guess".into())],
        ),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_takeover_finds_the_dead_holders_command_in_ssm() {
    use remediate_adapters::aws::ledger::DynamoLedger;
    use remediate_core::decision::{correlation_comment, run_id};
    use remediate_core::ledger::{ClaimResult, Ledger};
    let world = world(true).await;
    let event_id = unique("ev");
    let trigger_id = format!("pagerduty-v3:{event_id}");
    // A first delivery claimed the trigger three minutes ago, sent the command, and died.
    let aws = moto_config().await;
    let ledger = DynamoLedger::new(
        aws_sdk_dynamodb::Client::new(&aws),
        world.app.settings.run.ledger_table.clone(),
    );
    let claimed_at = chrono::Utc::now() - chrono::Duration::minutes(3);
    let ClaimResult::Claimed(_) = ledger
        .claim(
            &trigger_id.as_str().into(),
            claimed_at,
            chrono::Duration::seconds(120),
        )
        .await
        .unwrap()
    else {
        panic!("first claim must win");
    };
    let run = run_id(&trigger_id.as_str().into(), "diagnose-api");
    let sent = world
        .ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(world.instances[0].clone())
        .parameters("commands", vec!["uptime".to_owned()])
        .comment(correlation_comment(&run, "diagnose-api"))
        .send()
        .await
        .unwrap();
    let first_command = sent.command().unwrap().command_id().unwrap().to_owned();

    // PagerDuty's retry: the claim has expired, so this delivery takes it over.
    let body = v3_body(&event_id);
    let (status, reply) = send(
        &world.app,
        post(
            "/",
            &body,
            &[(
                "x-pagerduty-signature",
                sign(SIGNING_SECRET, body.as_bytes()),
            )],
        ),
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(
        reply["command_id"],
        first_command.as_str(),
        "the earlier command is reported, not a new one"
    );
    assert_eq!(
        commands_for_run(&world.ssm, &run).await.len(),
        1,
        "SSM holds exactly one command for the run"
    );
}

#[tokio::test]
async fn the_kill_switch_turns_a_tap_into_a_dry_run() {
    use remediate_adapters::aws::kill_switch::parameter_switch;
    use remediate_core::clock::SystemClock;
    let mut world = world(false).await;
    let name = unique("/remediate-test/kill");
    world
        .ssm
        .put_parameter()
        .name(&name)
        .value("on")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    Arc::get_mut(&mut world.app).unwrap().pipeline.kill_switch = Arc::new(parameter_switch(
        world.ssm.clone(),
        name.clone(),
        Arc::new(SystemClock),
    ));
    let body = tap_body(&unique("msg"));
    let (status, reply) = send(
        &world.app,
        post(
            "/actions/restart-web",
            &body,
            &[("x-remediate-token", ACTION_TOKEN.into())],
        ),
    )
    .await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("dry_run")),
        "{reply}"
    );
    assert!(
        reply["reason"].as_str().unwrap().contains("kill switch"),
        "{reply}"
    );
    assert!(
        commands_for_run(&world.ssm, reply["run_id"].as_str().unwrap())
            .await
            .is_empty()
    );
}
