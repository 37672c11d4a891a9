//! No input may panic: the release profile aborts on panic, which would kill the container with a
//! claim held. Real payloads, mutated (leaves replaced by hostile values, bytes flipped, bodies cut
//! short), and arbitrary JSON go through both parsers and through the whole handler, signed and
//! with a valid token so that they reach everything behind authentication.

use super::*;
use proptest::prelude::*;
use remediate_core::testing::hostile::{arbitrary_json, hostile_value, replace_leaf};

/// Real bodies: PagerDuty's v3 sample, a tap, a workflow start, a note.
fn real_bodies() -> Vec<String> {
    let mut bodies = vec![
        include_str!("../../../../events/fixtures/v3-incident.priority_updated.json").to_owned(),
        include_str!("../../../../events/fixtures/v2-incident.custom.json").to_owned(),
        v3_body("ev-real", "incident.triggered", "API latency", now()),
        tap_body("m-real", "PALICE1", now()),
    ];
    for (event_type, data) in [
        (
            "incident.workflow.started",
            include_str!(
                "../../../../events/fixtures/v3-event-data/incident_workflow_instance.json"
            ),
        ),
        (
            "incident.annotated",
            include_str!("../../../../events/fixtures/v3-event-data/incident_note.json"),
        ),
    ] {
        let data: serde_json::Value = serde_json::from_str(data).unwrap();
        bodies.push(
            json!({"event": {"id": "01ABC", "event_type": event_type, "resource_type": "incident",
                             "occurred_at": now().to_rfc3339(), "agent": null, "data": data}})
            .to_string(),
        );
    }
    bodies
}

/// Sends a body through both routes of the handler, authenticated, and checks the answer is a
/// well-formed HTTP answer (no panic is the property; a 5xx would mean an input made a transient
/// failure up).
fn through_the_handler(body: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let h = harness();
        for request in [signed(body), tapped("restart-web", body)] {
            let (status, reply) = send(&h, request).await;
            assert!(
                matches!(status, 200 | 202 | 400 | 404),
                "status {status} for {body}: {reply}"
            );
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_payloads_never_panic(
        which in 0usize..6,
        pick in any::<usize>(),
        value in hostile_value(),
    ) {
        let bodies = real_bodies();
        let mut parsed: serde_json::Value = serde_json::from_str(&bodies[which % bodies.len()]).unwrap();
        replace_leaf(&mut parsed, pick, value);
        let body = parsed.to_string();
        let _ = remediate_adapters::pagerduty::webhook_v3::parse(body.as_bytes());
        let _ = remediate_adapters::pagerduty::custom_action::parse(body.as_bytes(), "restart-web");
        through_the_handler(&body);
    }

    #[test]
    fn cut_and_flipped_bytes_never_panic(
        which in 0usize..6,
        cut in any::<usize>(),
        flip in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let bodies = real_bodies();
        let mut bytes = bodies[which % bodies.len()].clone().into_bytes();
        let at = flip % bytes.len();
        bytes[at] = byte;
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = remediate_adapters::pagerduty::webhook_v3::parse(&bytes);
        let _ = remediate_adapters::pagerduty::custom_action::parse(&bytes, "restart-web");
        if let Ok(text) = String::from_utf8(bytes) {
            through_the_handler(&text);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(value in arbitrary_json(&["event", "messages", "data", "type", "id", "occurred_at"])) {
        let body = value.to_string();
        let _ = remediate_adapters::pagerduty::webhook_v3::parse(body.as_bytes());
        let _ = remediate_adapters::pagerduty::custom_action::parse(body.as_bytes(), "restart-web");
        through_the_handler(&body);
    }
}
