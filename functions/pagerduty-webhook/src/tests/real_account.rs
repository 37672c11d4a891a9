//! What PagerDuty really sends in a real account: every v3 event type, the bot's own notes,
//! manual Incident Workflows, taps bound to their button, per-action tokens, and a PagerDuty
//! queue that must not be held up by a trigger too old to run.

use super::*;

const WORKFLOW_CATALOG: &str = "\
version: 1
runbooks:
  - name: restart-api
    when:
      workflows: [PRSTAPI, Restart API service]
      teams: [Engineering]
    guards:
      allowed_users: [PBOB002]
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { instance_ids: [i-0123456789abcdef0] }
        parameters: { commands: [systemctl restart api] }
";

fn v3_event(event_type: &str, agent_id: &str, data: serde_json::Value) -> String {
    json!({
        "event": {
            "id": format!("ev-{}", event_type.replace('.', "-")),
            "event_type": event_type,
            "resource_type": event_type.split('.').next().unwrap(),
            "occurred_at": now().to_rfc3339(),
            "agent": { "id": agent_id, "type": "user_reference", "summary": "Bob Responder" },
            "client": null,
            "data": data,
        }
    })
    .to_string()
}

fn workflow_data(workflow_id: &str, workflow_name: &str) -> serde_json::Value {
    json!({
        "id": "PWFINST1",
        "type": "incident_workflow_instance",
        "summary": workflow_name,
        "incident_workflow": { "id": workflow_id, "type": "incident_workflow_reference",
                               "summary": workflow_name },
        "workflow_trigger": { "id": "4ad696eb-bb48-422a-8bd0-6efad6befa29",
                              "type": "workflow_trigger_reference", "summary": "Manual trigger" },
        "incident": { "id": "PINC001", "type": "incident_reference",
                      "summary": "Web tier returns 502",
                      "html_url": "https://acme.pagerduty.com/incidents/PINC001" },
        "service": { "id": "PWEB", "type": "service_reference", "summary": "Web" }
    })
}

/// `agent` starts the workflow `id` named `name` on incident PINC001.
fn workflow_start(agent: &str, id: &str, name: &str) -> String {
    v3_event("incident.workflow.started", agent, workflow_data(id, name))
}

fn workflow_harness() -> Harness {
    let mut h = harness();
    h.app.pipeline.catalogs = Arc::new(CatalogStore::fixed(
        Catalog::parse(WORKFLOW_CATALOG, "workflows").unwrap(),
        h.clock.clone(),
    ));
    // Only the re-read incident carries its team: the workflow event names the incident only.
    h.pagerduty
        .incidents
        .lock()
        .unwrap()
        .get_mut("PINC001")
        .unwrap()
        .teams = vec![Reference {
        id: "PQ9K7I8".into(),
        name: "Engineering".into(),
    }];
    h
}

/// PagerDuty's example data of every documented event type.
fn every_documented_event() -> Vec<(String, serde_json::Value)> {
    use remediate_adapters::pagerduty::webhook_v3::samples;
    samples::event_types()
        .into_iter()
        .map(|(event_type, data_type)| (event_type.to_owned(), samples::data(data_type)))
        .collect()
}

#[tokio::test]
async fn no_documented_event_type_gets_a_4xx() {
    let h = harness();
    let events = every_documented_event();
    assert!(events.len() >= 30);
    for (event_type, data) in events {
        let body = v3_event(&event_type, "PAGENT1", data);
        let (status, reply) = send(&h, signed(&body)).await;
        assert!(
            (200..300).contains(&status),
            "{event_type} answered {status}: {reply}"
        );
        assert!(reply["outcome"].is_string(), "{event_type}: {reply}");
    }
    // None of them is wanted by the test catalog's v3 runbook (its title is about latency).
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn a_note_event_is_ignored_with_its_data_type_named() {
    let h = harness();
    let note = json!({
        "incident": { "id": "PINC001", "type": "incident_reference", "summary": "x" },
        "id": "P2LA89X", "content": "remediate: restart-web started", "trimmed": false,
        "type": "incident_note"
    });
    let (status, reply) = send(&h, signed(&v3_event("incident.annotated", "PBOT1", note))).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "ignored");
    assert!(
        reply["reason"].as_str().unwrap().contains("incident_note"),
        "{reply}"
    );
}

#[tokio::test]
async fn unknown_future_event_types_are_ignored() {
    let h = harness();
    for (event_type, data) in [
        (
            "incident.hologram_projected",
            json!({"type": "incident_hologram", "id": "PH1"}),
        ),
        ("incident.shrugged", json!({"id": "PH1"})),
        ("gadget.created", json!({"type": "gadget"})),
    ] {
        let (status, reply) = send(&h, signed(&v3_event(event_type, "PAGENT1", data))).await;
        assert_eq!(status, 200, "{event_type}: {reply}");
        assert_eq!(reply["outcome"], "ignored", "{event_type}: {reply}");
    }
}

#[tokio::test]
async fn events_caused_by_the_bot_user_are_ignored() {
    let mut bot = settings();
    bot.bot_user_id = Some("PBOT123".into());
    let h = harness_with(bot);
    // An incident event whose agent is the bot: would run diagnose-api for anyone else.
    let body =
        v3_body("ev-bot", "incident.triggered", "API latency", now()).replace("PAGENT1", "PBOT123");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "ignored");
    assert!(reply["reason"].as_str().unwrap().contains("PBOT123"));
    assert!(h.executor.sent().is_empty());
    // Someone else's event still runs.
    let body = v3_body("ev-person", "incident.triggered", "API latency", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
}

#[tokio::test]
async fn a_manual_workflow_start_runs_its_runbook_as_the_agent() {
    let h = workflow_harness();
    let body = workflow_start("PBOB002", "PRSTAPI", "Restart API service");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["outcome"], "executed");
    assert_eq!(reply["runbook"], "restart-api");
    assert_eq!(h.executor.sent().len(), 1);
    let notes = h.pagerduty.notes();
    assert_eq!(notes[0].0, "PINC001");
    assert!(
        notes[0]
            .1
            .contains("started by Bob Responder (workflow Restart API service)"),
        "{}",
        notes[0].1
    );
    // A redelivery is a duplicate, not a second run.
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn a_workflow_is_matched_by_its_name_too() {
    let h = workflow_harness();
    let body = workflow_start("PBOB002", "POTHER1", "Restart API service");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
}

#[tokio::test]
async fn a_workflow_no_runbook_names_is_ignored_without_reading_pagerduty() {
    let h = workflow_harness();
    // Any read would fail: the answer must not depend on one.
    *h.pagerduty.fail_reads.lock().unwrap() = Some(Error::PagerDuty {
        operation: "GetIncident",
        status: Some(500),
        message: "should not be called".into(),
        transient: true,
    });
    let body = workflow_start("PBOB002", "PNOTOURS", "Page the database team");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "ignored");
    assert!(h.pagerduty.fail_reads.lock().unwrap().is_some(), "no read");
}

#[tokio::test]
async fn a_workflow_start_never_matches_a_runbook_that_does_not_name_it() {
    // diagnose-api of the base catalog wants v3 incident.triggered events; a workflow start is
    // a request for a workflow, never for another runbook.
    let h = harness();
    let body = workflow_start("PBOB002", "PRSTAPI", "Restart API service");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "ignored");
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn a_workflow_started_by_someone_not_allowed_is_refused() {
    let h = workflow_harness();
    let body = workflow_start("PMALLORY", "PRSTAPI", "Restart API service");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "refused");
    assert!(reply["reason"].as_str().unwrap().contains("PMALLORY"));
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn a_workflow_on_a_resolved_incident_runs_nothing() {
    let h = workflow_harness();
    h.pagerduty
        .incidents
        .lock()
        .unwrap()
        .get_mut("PINC001")
        .unwrap()
        .status = "resolved".into();
    let body = workflow_start("PBOB002", "PRSTAPI", "Restart API service");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "refused");
    assert!(reply["reason"].as_str().unwrap().contains("resolved"));
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn a_workflow_whose_incident_conditions_fail_on_the_reread_is_ignored() {
    let h = workflow_harness();
    // The event's own service reference says nothing about teams: the re-read decides.
    h.pagerduty
        .incidents
        .lock()
        .unwrap()
        .get_mut("PINC001")
        .unwrap()
        .teams
        .clear();
    let body = workflow_start("PBOB002", "PRSTAPI", "Restart API service");
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "ignored");
    assert!(
        reply["reason"].as_str().unwrap().contains("teams"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_pagerduty_outage_while_reading_a_workflow_incident_is_retryable() {
    let h = workflow_harness();
    *h.pagerduty.fail_reads.lock().unwrap() = Some(Error::PagerDuty {
        operation: "GetIncident",
        status: Some(503),
        message: "unavailable".into(),
        transient: true,
    });
    let body = workflow_start("PBOB002", "PRSTAPI", "Restart API service");
    let (status, _) = send(&h, signed(&body)).await;
    assert_eq!(status, 503);
    // The retry runs it.
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
}

#[tokio::test]
async fn a_tap_is_bound_to_its_button_label() {
    let h = harness();
    // Alice really tapped "Flush cache"; a request spends that tap on restart-web.
    h.pagerduty.log_entries.lock().unwrap().insert(
        "PINC001".into(),
        vec![tap_entry(
            "RFLUSH1",
            "Flush cache",
            now() - chrono::Duration::seconds(3),
        )],
    );
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-bind", "PALICE1", now())),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "refused");
    assert!(
        reply["reason"]
            .as_str()
            .unwrap()
            .contains("Restart web tier"),
        "{reply}"
    );
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn the_person_is_named_as_pagerduty_names_them() {
    let h = harness();
    // The body claims a different display name for PALICE1; the note uses PagerDuty's.
    let body = tap_body("m-name", "PALICE1", now()).replace("Alice Oncall", "Mallory Admin");
    let (status, reply) = send(&h, tapped("restart-web", &body)).await;
    assert_eq!(status, 202, "{reply}");
    let notes = h.pagerduty.notes();
    assert!(
        notes[0].1.contains("started by Alice Oncall"),
        "{}",
        notes[0].1
    );
    assert!(!notes[0].1.contains("Mallory"), "{}", notes[0].1);
}

#[tokio::test]
async fn a_log_entry_without_the_tap_summary_confirms_nothing() {
    let h = harness();
    let mut entry = tap_entry("RODD1", "Restart web tier", now());
    entry.summary = None;
    h.pagerduty
        .log_entries
        .lock()
        .unwrap()
        .insert("PINC001".into(), vec![entry]);
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-odd", "PALICE1", now())),
    )
    .await;
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("refused")));
}

#[tokio::test]
async fn each_action_can_have_its_own_token() {
    let mut h = harness();
    h.app.secrets = Arc::new(StaticSecrets::new([
        ("/remediate/webhook-secrets", SECRET),
        (
            "/remediate/action-token",
            "restart-web=token-for-restart-web\nflush-cache = token-for-flush-cache\n",
        ),
        ("/remediate/api-token", "pd-token"),
    ]));
    let with_token = |action: &str, token: &str, id: &str| {
        request(
            &format!("/actions/{action}"),
            &tap_body(id, "PALICE1", now()),
            &[
                ("content-type", "application/json"),
                ("x-remediate-token", token),
            ],
        )
    };
    // flush-cache's token cannot start restart-web.
    let (status, reply) = send(
        &h,
        with_token("restart-web", "token-for-flush-cache", "m-1"),
    )
    .await;
    assert_eq!((status, reply["outcome"].as_str()), (403, Some("rejected")));
    let (status, reply) = send(
        &h,
        with_token("restart-web", "token-for-restart-web", "m-2"),
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    // A bare token still works for every action.
    h.app.secrets = Arc::new(StaticSecrets::new([
        ("/remediate/action-token", "one-token-for-all"),
        ("/remediate/api-token", "pd-token"),
    ]));
    let (status, reply) = send(&h, with_token("flush-cache", "one-token-for-all", "m-3")).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "dry_run");
}

#[tokio::test]
async fn an_empty_scoped_token_authenticates_nothing() {
    let mut h = harness();
    h.app.secrets = Arc::new(StaticSecrets::new([
        ("/remediate/action-token", "restart-web=\n"),
        ("/remediate/api-token", "pd-token"),
    ]));
    for (action, token) in [("flush-cache", "restart-web="), ("restart-web", "")] {
        let request = request(
            &format!("/actions/{action}"),
            &tap_body("m-empty", "PALICE1", now()),
            &[
                ("content-type", "application/json"),
                ("x-remediate-token", token),
            ],
        );
        let (status, reply) = send(&h, request).await;
        assert_eq!(status, 403, "{action} with {token:?}: {reply}");
    }
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn with_confirmation_off_the_person_is_marked_unconfirmed() {
    let mut off = settings();
    off.confirm_taps = false;
    let h = harness_with(off);
    h.pagerduty.log_entries.lock().unwrap().clear();
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-off", "PALICE1", now())),
    )
    .await;
    assert_eq!(status, 202, "{reply}");
    let notes = h.pagerduty.notes();
    assert!(notes[0].1.contains("unconfirmed"), "{}", notes[0].1);
    let records = h.ledger.records();
    assert!(
        records[0]
            .actor
            .as_deref()
            .is_some_and(|actor| actor.contains("unconfirmed")),
        "{:?}",
        records[0].actor
    );
}

#[tokio::test]
async fn a_stale_trigger_is_not_retried_forever_after_a_transient_failure() {
    let h = harness();
    let at = now() - chrono::Duration::minutes(20);
    let body = tap_body("m-old", "PALICE1", at);
    let outage = || Error::PagerDuty {
        operation: "GetIncident",
        status: Some(503),
        message: "unavailable".into(),
        transient: true,
    };
    // Fresh enough: PagerDuty's outage asks for a retry.
    h.clock.set(at + chrono::Duration::minutes(14));
    *h.pagerduty.fail_reads.lock().unwrap() = Some(outage());
    let (status, _) = send(&h, tapped("restart-web", &body)).await;
    assert_eq!(status, 503);
    // PagerDuty's retries go on past the age limit while its API is still down: PagerDuty queues
    // the incident's later webhooks behind this one, so it is refused now, with a note.
    h.clock.set(now());
    *h.pagerduty.fail_reads.lock().unwrap() = Some(outage());
    let (status, reply) = send(&h, tapped("restart-web", &body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "refused");
    assert!(
        reply["reason"].as_str().unwrap().contains("age limit"),
        "{reply}"
    );
    assert!(
        h.pagerduty
            .notes()
            .iter()
            .any(|(_, text)| text.contains("age limit"))
    );
    assert!(h.executor.sent().is_empty());
    // The refusal is recorded on the claim: PagerDuty's next redelivery is a duplicate.
    let (status, reply) = send(&h, tapped("restart-web", &body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("duplicate")),
        "{reply}"
    );
}

/// A first delivery claimed the trigger `minutes_old` minutes after it happened, perhaps sent the
/// command (`sent`), and died. Returns the v3 body of the trigger, which happened 20 min ago.
async fn dead_holder(h: &Harness, event_id: &str, sent: bool) -> String {
    let at = now() - chrono::Duration::minutes(20);
    let trigger_id = format!("pagerduty-v3:{event_id}");
    let ClaimResult::Claimed(_) = h
        .ledger
        .claim(
            &trigger_id.as_str().into(),
            at + chrono::Duration::minutes(14),
            CLAIM_HOLD,
        )
        .await
        .unwrap()
    else {
        panic!("first claim")
    };
    if sent {
        h.executor
            .send_command(&CommandRequest {
                document: "AWS-RunShellScript".into(),
                targets: remediate_core::catalog::Targets::InstanceIds(vec![
                    "i-0123456789abcdef0".into(),
                ]),
                parameters: Default::default(),
                delivery_timeout_seconds: None,
                max_concurrency: None,
                max_errors: None,
                comment: decision::correlation_comment(
                    &decision::run_id(&trigger_id.as_str().into(), "diagnose-api"),
                    "diagnose-api",
                ),
            })
            .await
            .unwrap();
    }
    v3_body(event_id, "incident.triggered", "API latency", at)
}

#[tokio::test]
async fn a_held_claim_past_the_age_limit_still_asks_for_a_retry() {
    // The holder may have sent the command: answering anything final now could be wrong. The hold
    // lasts two minutes at most; the takeover after it looks in SSM first.
    let h = harness();
    let body = dead_holder(&h, "ev-held", true).await;
    h.clock
        .set(now() - chrono::Duration::minutes(20) + chrono::Duration::minutes(15));
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 503, "{reply}");
}

#[tokio::test]
async fn a_stale_takeover_records_the_command_its_predecessor_sent() {
    let h = harness();
    let body = dead_holder(&h, "ev-sent", true).await;
    // PagerDuty's retry arrives after the hold expired and after the age limit.
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (202, Some("executed")),
        "a run that happened is never refused as too old: {reply}"
    );
    assert_eq!(h.executor.sent().len(), 1, "not sent a second time");
    assert!(
        h.pagerduty
            .notes()
            .iter()
            .any(|(_, text)| text.contains("diagnose-api started"))
    );
}

#[tokio::test]
async fn a_stale_takeover_with_nothing_sent_is_refused_as_too_old() {
    let h = harness();
    let body = dead_holder(&h, "ev-unsent", false).await;
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("refused")),
        "{reply}"
    );
    assert!(
        reply["reason"].as_str().unwrap().contains("sent nothing"),
        "{reply}"
    );
    assert!(h.executor.sent().is_empty());
    // Recorded: a redelivery is a duplicate, not a second note.
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("duplicate")),
        "{reply}"
    );
    assert_eq!(h.pagerduty.notes().len(), 1);
}

#[tokio::test]
async fn times_no_sender_could_mean_are_bad_input_not_a_panic() {
    let h = harness();
    for at in [
        "-262143-01-01T00:00:00Z",
        "+262142-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
    ] {
        let tap = tap_body("m-time", "PALICE1", now()).replace(&now().to_rfc3339(), at);
        let (status, reply) = send(&h, tapped("restart-web", &tap)).await;
        assert_eq!(status, 400, "{at}: {reply}");
        let v3 = v3_body("ev-time", "incident.triggered", "API latency", now())
            .replace(&now().to_rfc3339(), at);
        let (status, reply) = send(&h, signed(&v3)).await;
        assert_eq!(status, 400, "{at}: {reply}");
    }
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn a_command_ssm_refuses_gives_back_its_cooldown() {
    let mut h = harness();
    h.app.pipeline.catalogs = Arc::new(CatalogStore::fixed(
        Catalog::parse(
            &CATALOG.replace(
                "        parameters: { commands: [uptime] }\n",
                "        parameters: { commands: [uptime] }\n    guards: { cooldown_seconds: 600 }\n",
            ),
            "t",
        )
        .unwrap(),
        h.clock.clone(),
    ));
    h.executor.fail_next(vec![Error::Aws {
        service: "ssm",
        operation: "SendCommand",
        message: "InvalidInstanceId".into(),
        transient: false,
    }]);
    let body = v3_body("ev-refused", "incident.triggered", "API latency", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("refused")),
        "{reply}"
    );
    // Nothing ran: the next trigger on the same instance is not held back by a cooldown.
    let body = v3_body("ev-next", "incident.triggered", "API latency", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
}
