//! Dry runs, and everything that goes wrong around a run: throttling, refusals, lost answers,
//! takeovers of dead deliveries, held claims, cooldowns, revoked keys, replayed taps, rotated
//! secrets, and `max_targets`.

use super::*;

#[tokio::test]
async fn dry_run_reports_and_executes_nothing() {
    let h = harness();
    let (status, reply) = send(
        &h,
        tapped("flush-cache", &tap_body("m-6", "PALICE1", now())),
    )
    .await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("dry_run")),
        "{reply}"
    );
    assert!(h.executor.sent().is_empty());
    assert!(
        h.pagerduty.notes()[0]
            .1
            .contains("would run AWS-RunShellScript on tag:Role=cache")
    );

    let mut global = settings();
    global.run.global_dry_run = Some("REMEDIATE_DRY_RUN is on".into());
    let h = harness_with(global);
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-7", "PALICE1", now())),
    )
    .await;
    assert_eq!(
        (status, reply["reason"].as_str()),
        (200, Some("REMEDIATE_DRY_RUN is on"))
    );
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn throttling_asks_for_a_retry_that_then_runs_once() {
    let h = harness();
    h.executor.fail_next(vec![Error::Aws {
        service: "ssm",
        operation: "SendCommand",
        message: "ThrottlingException: Rate exceeded".into(),
        transient: true,
    }]);
    let body = v3_body("ev-7", "incident.triggered", "API latency", now());
    let (status, _) = send(&h, signed(&body)).await;
    assert_eq!(status, 503);
    assert!(h.executor.sent().is_empty());
    assert!(
        !h.ledger.is_held("pagerduty-v3:ev-7"),
        "the claim must be released for the retry"
    );
    let (status, _) = send(&h, signed(&body)).await;
    assert_eq!(status, 202);
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn an_executor_refusal_is_final_and_noted() {
    let h = harness();
    h.executor.fail_next(vec![Error::Aws {
        service: "ssm",
        operation: "SendCommand",
        message: "InvalidDocument: no such document".into(),
        transient: false,
    }]);
    let body = v3_body("ev-8", "incident.triggered", "API latency", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("refused")),
        "{reply}"
    );
    assert!(
        reply["start_error"]
            .as_str()
            .unwrap()
            .contains("InvalidDocument")
    );
    assert!(h.pagerduty.notes()[0].1.contains("failed to start"));
    let (_, again) = send(&h, signed(&body)).await;
    assert_eq!(again["outcome"], "duplicate");
}

#[tokio::test]
async fn a_failed_note_neither_undoes_nor_repeats_the_run() {
    let h = harness();
    *h.pagerduty.fail_notes.lock().unwrap() = Some(Error::PagerDuty {
        operation: "CreateIncidentNote",
        status: Some(503),
        message: "Service Unavailable".into(),
        transient: true,
    });
    let body = v3_body("ev-9", "incident.triggered", "API latency", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!((status, reply["note"].as_str()), (202, Some("pending")));
    assert_eq!(h.executor.sent().len(), 1);
    assert_eq!(send(&h, signed(&body)).await.1["outcome"], "duplicate");
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn pagerduty_outage_during_confirmation_is_retryable() {
    let h = harness();
    *h.pagerduty.fail_reads.lock().unwrap() = Some(Error::PagerDuty {
        operation: "GetIncident",
        status: Some(429),
        message: "rate limited".into(),
        transient: true,
    });
    let body = tap_body("m-9", "PALICE1", now());
    let (status, _) = send(&h, tapped("restart-web", &body)).await;
    assert_eq!(status, 503);
    assert!(
        !h.ledger.is_held("pagerduty-action:m-9"),
        "the claim must be released for the retry"
    );
    assert_eq!(send(&h, tapped("restart-web", &body)).await.0, 202);
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn a_tap_on_an_unknown_incident_is_refused() {
    let h = harness();
    h.pagerduty.incidents.lock().unwrap().clear();
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-8", "PALICE1", now())),
    )
    .await;
    // 404 from PagerDuty is final: the incident does not exist.
    assert_eq!((status, reply["outcome"].as_str()), (200, Some("refused")));
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn base64_bodies_are_decoded() {
    let h = harness();
    let body = v3_body("ev-10", "incident.triggered", "API latency", now());
    let signature = signature::sign(SECRET, body.as_bytes());
    let event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": { "content-type": "application/json", "x-pagerduty-signature": signature },
        "requestContext": {
            "accountId": "123456789012", "apiId": "x", "domainName": "x.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "x", "http": { "method": "POST", "path": "/", "protocol": "HTTP/1.1",
            "sourceIp": "198.51.100.7", "userAgent": "PagerDuty-Webhook/V3.0" },
            "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "25/Nov/2026:03:12:09 +0000", "timeEpoch": 1_795_583_529_000_i64
        },
        "body": base64::engine::general_purpose::STANDARD.encode(&body),
        "isBase64Encoded": true
    });
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let (status, reply) = send(&h, request).await;
    assert_eq!(status, 202, "{reply}");
}

#[tokio::test]
async fn the_clock_decides_staleness() {
    let h = harness();
    let body = v3_body("ev-11", "incident.triggered", "API latency", now());
    h.clock.advance(chrono::Duration::minutes(16));
    let (_, reply) = send(&h, signed(&body)).await;
    assert_eq!(reply["outcome"], "refused");
}

#[tokio::test]
async fn a_timeout_after_ssm_accepted_the_command_is_not_a_second_run() {
    let h = harness();
    h.executor.lose_next_answer(Error::Ambiguous {
        service: "ssm",
        operation: "SendCommand",
        message: "operation timed out".into(),
    });
    let body = v3_body("ev-lost", "incident.triggered", "API latency", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (202, Some("executed")),
        "{reply}"
    );
    assert_eq!(h.executor.sent().len(), 1);
    assert_eq!(send(&h, signed(&body)).await.1["outcome"], "duplicate");
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn a_takeover_finds_the_command_its_dead_predecessor_sent() {
    let h = harness();
    let trigger_id = "pagerduty-v3:ev-dead";
    // A first delivery claimed the trigger, sent the command, and died before recording it.
    let ClaimResult::Claimed(_) = h
        .ledger
        .claim(
            &trigger_id.into(),
            now() - chrono::Duration::minutes(3),
            CLAIM_HOLD,
        )
        .await
        .unwrap()
    else {
        panic!("first claim")
    };
    let comment = decision::correlation_comment(
        &decision::run_id(&trigger_id.into(), "diagnose-api"),
        "diagnose-api",
    );
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
            comment,
        })
        .await
        .unwrap();
    // PagerDuty's retry arrives after the hold expired.
    let body = v3_body(
        "ev-dead",
        "incident.triggered",
        "API latency",
        now() - chrono::Duration::seconds(30),
    );
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (202, Some("executed")),
        "{reply}"
    );
    assert_eq!(
        h.executor.sent().len(),
        1,
        "the command was not sent a second time"
    );
    assert_eq!(reply["command_id"], "00000000-0000-4000-8000-000000000001");
}

#[tokio::test]
async fn a_takeover_with_nothing_sent_runs_once() {
    let h = harness();
    let ClaimResult::Claimed(_) = h
        .ledger
        .claim(
            &"pagerduty-v3:ev-early".into(),
            now() - chrono::Duration::minutes(3),
            CLAIM_HOLD,
        )
        .await
        .unwrap()
    else {
        panic!("first claim")
    };
    let body = v3_body("ev-early", "incident.triggered", "API latency", now());
    assert_eq!(send(&h, signed(&body)).await.0, 202);
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn redeliveries_while_a_claim_is_held_are_told_to_retry() {
    let h = harness();
    let ClaimResult::Claimed(_) = h
        .ledger
        .claim(&"pagerduty-v3:ev-busy".into(), now(), CLAIM_HOLD)
        .await
        .unwrap()
    else {
        panic!("first claim")
    };
    let body = v3_body("ev-busy", "incident.triggered", "API latency", now());
    assert_eq!(send(&h, signed(&body)).await.0, 503);
    assert!(h.executor.sent().is_empty());
}

#[tokio::test]
async fn repeated_taps_within_a_cooldown_get_one_combined_note() {
    let catalog = CATALOG.replace(
        "        parameters: { commands: [systemctl restart nginx] }\n  - name: flush-cache",
        "        parameters: { commands: [systemctl restart nginx] }\n    guards: { cooldown_seconds: 300 }\n  - name: flush-cache",
    );
    let mut h = harness();
    // Five real taps: five log entries.
    h.pagerduty.log_entries.lock().unwrap().insert(
        "PINC001".into(),
        (0..6)
            .map(|n| {
                tap_entry(
                    &format!("RTAP{n}"),
                    "Restart web tier",
                    now() - chrono::Duration::seconds(n),
                )
            })
            .collect(),
    );
    h.app.pipeline.catalogs = Arc::new(CatalogStore::fixed(
        Catalog::parse(&catalog, "t").unwrap(),
        h.clock.clone(),
    ));
    let mut outcomes = Vec::new();
    for n in 0..5 {
        let (_, reply) = send(
            &h,
            tapped(
                "restart-web",
                &tap_body(&format!("m-cool-{n}"), "PALICE1", now()),
            ),
        )
        .await;
        outcomes.push(reply["outcome"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        outcomes,
        [
            "executed",
            "suppressed",
            "suppressed",
            "suppressed",
            "suppressed"
        ]
    );
    assert_eq!(h.executor.sent().len(), 1);
    let notes = h.pagerduty.notes();
    assert_eq!(
        notes.len(),
        2,
        "one note for the run, one for the whole window: {notes:?}"
    );
    assert!(
        notes[1].1.contains("held back") && notes[1].1.contains("cooling down until"),
        "{}",
        notes[1].1
    );
    // After the cooldown, the next tap runs again.
    h.clock.advance(chrono::Duration::seconds(301));
    let later = tap_body("m-cool-late", "PALICE1", now());
    assert_eq!(
        send(&h, tapped("restart-web", &later)).await.1["outcome"],
        "executed"
    );
}

#[tokio::test]
async fn a_lost_answer_with_no_command_found_holds_the_claim_until_a_takeover() {
    let h = harness();
    h.executor.fail_next(vec![Error::Ambiguous {
        service: "ssm",
        operation: "SendCommand",
        message: "operation timed out".into(),
    }]);
    let body = v3_body("ev-held", "incident.triggered", "API latency", now());
    assert_eq!(send(&h, signed(&body)).await.0, 503);
    assert!(
        h.ledger.is_held("pagerduty-v3:ev-held"),
        "the claim is kept: SSM may still have it"
    );
    assert_eq!(
        send(&h, signed(&body)).await.0,
        503,
        "redeliveries wait for the hold to expire"
    );
    h.clock.advance(chrono::Duration::seconds(121));
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn a_revoked_pagerduty_key_is_retryable_not_a_refusal() {
    let h = harness();
    *h.pagerduty.fail_reads.lock().unwrap() = Some(Error::PagerDuty {
        operation: "GetIncident",
        status: Some(401),
        message: "Unauthorized".into(),
        transient: false,
    });
    let body = tap_body("m-401", "PALICE1", now());
    assert_eq!(send(&h, tapped("restart-web", &body)).await.0, 503);
    assert!(!h.ledger.is_held("pagerduty-action:m-401"));
    // Once the key is fixed, PagerDuty's retry runs it.
    assert_eq!(send(&h, tapped("restart-web", &body)).await.0, 202);
}

#[tokio::test]
async fn a_replayed_tap_under_a_new_message_id_runs_nothing() {
    let h = harness();
    assert_eq!(
        send(
            &h,
            tapped("restart-web", &tap_body("m-real", "PALICE1", now()))
        )
        .await
        .0,
        202
    );
    // Same person, same moment, new message id: the log entry that confirmed the first is used.
    let (status, reply) = send(
        &h,
        tapped("restart-web", &tap_body("m-forged", "PALICE1", now())),
    )
    .await;
    assert_eq!(
        (status, reply["outcome"].as_str()),
        (200, Some("refused")),
        "{reply}"
    );
    assert!(
        reply["reason"]
            .as_str()
            .unwrap()
            .contains("already acted on"),
        "{reply}"
    );
    assert_eq!(h.executor.sent().len(), 1);
}

#[tokio::test]
async fn a_tap_far_from_its_log_entry_is_not_confirmed() {
    let h = harness();
    // The body claims a tap 10 minutes before the only log entry: not the same tap.
    let body = tap_body("m-far", "PALICE1", now() - chrono::Duration::minutes(10));
    let (_, reply) = send(&h, tapped("restart-web", &body)).await;
    assert_eq!(reply["outcome"], "refused", "{reply}");
    assert!(h.executor.sent().is_empty());
}

/// A secret store whose parameter was overwritten after it was cached: `get` still answers the
/// old value, `reread` the new one (once).
struct OverwrittenSecrets {
    cached: StaticSecrets,
    fresh: StaticSecrets,
    rereads: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl SecretStore for OverwrittenSecrets {
    async fn get(&self, parameter: &str) -> remediate_core::Result<Secret> {
        self.cached.get(parameter).await
    }

    async fn reread(&self, parameter: &str) -> remediate_core::Result<Option<Secret>> {
        if self
            .rereads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            > 0
        {
            return Ok(None);
        }
        self.fresh.get(parameter).await.map(Some)
    }
}

#[tokio::test]
async fn a_secret_rotated_by_overwrite_is_read_again_before_a_403() {
    let mut harness = harness();
    let store = Arc::new(OverwrittenSecrets {
        cached: StaticSecrets::new([
            ("/remediate/webhook-secrets", "old-secret"),
            ("/remediate/action-token", "old-token"),
        ]),
        fresh: StaticSecrets::new([
            ("/remediate/webhook-secrets", SECRET),
            ("/remediate/action-token", TOKEN),
        ]),
        rereads: std::sync::atomic::AtomicUsize::new(0),
    });
    harness.app.secrets = store.clone();
    let body = v3_body("e-rotated", "incident.triggered", "High latency", now());
    let (status, _) = send(&harness, signed(&body)).await;
    assert_eq!(
        status, 202,
        "signed with the new secret: accepted after one re-read"
    );
    // The store allows no second re-read so soon: a forged signature is a 403 without a read.
    let forged = request(
        "/",
        &v3_body("e-forged", "incident.triggered", "High latency", now()),
        &[
            ("content-type", "application/json"),
            ("x-pagerduty-signature", "v1=00"),
        ],
    );
    let (status, _) = send(&harness, forged).await;
    assert_eq!(status, 403);
    assert_eq!(store.rereads.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_action_token_rotated_by_overwrite_is_read_again_before_a_403() {
    let mut harness = harness();
    harness.app.secrets = Arc::new(OverwrittenSecrets {
        cached: StaticSecrets::new([
            ("/remediate/action-token", "old-token"),
            ("/remediate/api-token", "pd-token"),
        ]),
        fresh: StaticSecrets::new([("/remediate/action-token", TOKEN)]),
        rereads: std::sync::atomic::AtomicUsize::new(0),
    });
    let body = tap_body("m-rotated", "PALICE1", now());
    let (status, answer) = send(&harness, tapped("restart-web", &body)).await;
    assert_eq!(status, 202, "{answer}");
}

const TAGGED_CATALOG: &str = "\
version: 1
runbooks:
  - name: restart-web
    when: { sources: [pagerduty-v3], event_types: [incident.triggered] }
    guards: { max_targets: 2, cooldown_seconds: 600 }
    action:
      ssm_command:
        document: AWS-RunShellScript
        targets: { tags: { Role: [web, api], Env: prod } }
        parameters: { commands: [uptime] }
";

fn tagged_harness() -> Harness {
    let mut harness = harness();
    harness.app.pipeline.catalogs = Arc::new(CatalogStore::fixed(
        Catalog::parse(TAGGED_CATALOG, "test").unwrap(),
        Arc::new(remediate_core::clock::SystemClock),
    ));
    harness
        .executor
        .add_instance("i-0000000000000000a", &[("Role", "web"), ("Env", "prod")]);
    harness
        .executor
        .add_instance("i-0000000000000000b", &[("Role", "api"), ("Env", "prod")]);
    harness.executor.add_instance(
        "i-0000000000000000c",
        &[("Role", "web"), ("Env", "staging")],
    );
    harness
}

#[tokio::test]
async fn max_targets_pins_tag_targets_to_the_instances_counted() {
    let h = tagged_harness();
    let body = v3_body("ev-tags", "incident.triggered", "Web down", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
    let sent = h.executor.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].targets,
        remediate_core::catalog::Targets::InstanceIds(vec![
            "i-0000000000000000a".into(),
            "i-0000000000000000b".into()
        ]),
        "exactly the instances counted, so nothing joins between the count and the send"
    );
}

#[tokio::test]
async fn more_tagged_instances_than_max_targets_is_refused_with_the_count() {
    let h = tagged_harness();
    h.executor
        .add_instance("i-0000000000000000d", &[("Role", "web"), ("Env", "prod")]);
    let body = v3_body("ev-many", "incident.triggered", "Web down", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "refused");
    let reason = reply["reason"].as_str().unwrap();
    assert!(reason.contains("3 instances carry"), "{reason}");
    assert!(reason.contains("limit of 2"), "{reason}");
    assert!(h.executor.sent().is_empty());
    assert!(h.pagerduty.notes()[0].1.contains("3 instances carry"));
    // A refused run takes no cooldown: once the fleet is back within the limit, the next
    // trigger on the same targets runs.
    h.executor.remove_instance("i-0000000000000000d");
    let body = v3_body("ev-within", "incident.triggered", "Web down", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 202, "{reply}");
}

#[tokio::test]
async fn a_tag_no_instance_carries_is_refused_not_executed() {
    let mut h = harness();
    h.app.pipeline.catalogs = Arc::new(CatalogStore::fixed(
        Catalog::parse(TAGGED_CATALOG, "test").unwrap(),
        Arc::new(remediate_core::clock::SystemClock),
    ));
    let body = v3_body("ev-none", "incident.triggered", "Web down", now());
    let (status, reply) = send(&h, signed(&body)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["outcome"], "refused");
    assert!(
        reply["reason"]
            .as_str()
            .unwrap()
            .contains("no online managed instance carries"),
        "{reply}"
    );
    assert!(h.executor.sent().is_empty());
}
