//! No input may panic: the release profile aborts on panic, which would kill the container with a
//! claim held. Real payloads, mutated (leaves replaced by hostile values, bytes flipped, bodies cut
//! short), and arbitrary JSON go through both parsers and through the whole handler, signed and
//! with a valid token so that they reach everything behind authentication.

use super::*;
use proptest::prelude::*;

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

/// Values that have broken parsers elsewhere: extreme times and numbers, wrong types, nulls.
fn hostile_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        Just(json!("+262143-12-31T23:59:59Z")),
        Just(json!("-262143-01-01T00:00:00Z")),
        Just(json!("1970-01-01T00:00:00Z")),
        Just(json!("9999-12-31T23:59:59.999999999+14:00")),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1e308)),
        Just(json!(-0.0)),
        Just(json!(true)),
        Just(json!([])),
        Just(json!({})),
        Just(json!("")),
        Just(json!("../../users/P1")),
        Just(json!("P".repeat(5000))),
        Just(json!("{{ssm:/secret}}")),
        Just(json!("'; rm -rf / #")),
        Just(json!("\u{0}\u{202e}\u{feff}")),
        any::<String>().prop_map(serde_json::Value::String),
        any::<i64>().prop_map(|n| json!(n)),
    ]
}

/// Replace the leaf at a pseudo-random position (the `pick`th leaf, wrapping) with `value`.
fn replace_leaf(root: &mut serde_json::Value, pick: usize, value: serde_json::Value) {
    fn paths(value: &serde_json::Value, prefix: String, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    paths(
                        child,
                        format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            serde_json::Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    paths(child, format!("{prefix}/{index}"), out);
                }
            }
            _ => out.push(prefix),
        }
    }
    let mut all = Vec::new();
    paths(root, String::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let path = &all[pick % all.len()];
    if let Some(slot) = root.pointer_mut(path) {
        *slot = value;
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("event".to_owned()),
                    Just("messages".to_owned()),
                    Just("data".to_owned()),
                    Just("type".to_owned()),
                    Just("id".to_owned()),
                    Just("occurred_at".to_owned()),
                    "[a-z_]{1,10}".prop_map(|s| s),
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
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
    fn arbitrary_json_never_panics(value in arbitrary_json()) {
        let body = value.to_string();
        let _ = remediate_adapters::pagerduty::webhook_v3::parse(body.as_bytes());
        let _ = remediate_adapters::pagerduty::custom_action::parse(body.as_bytes(), "restart-web");
        through_the_handler(&body);
    }
}
