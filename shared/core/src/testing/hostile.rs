//! Hostile inputs for the no-panic property tests of every function: values that have broken
//! parsers elsewhere, a leaf of a real payload replaced by one, and arbitrary JSON shaped by the
//! keys a parser looks for. No input may panic: the release profile aborts on panic.

use proptest::prelude::*;
use serde_json::json;

/// Values that have broken parsers elsewhere: extreme times and numbers, wrong types, nulls.
pub fn hostile_value() -> impl Strategy<Value = serde_json::Value> {
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
pub fn replace_leaf(root: &mut serde_json::Value, pick: usize, value: serde_json::Value) {
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

pub fn arbitrary_json(keys: &'static [&'static str]) -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(keys).prop_map(str::to_owned),
                    "[a-z_]{1,10}".prop_map(|s| s),
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}
