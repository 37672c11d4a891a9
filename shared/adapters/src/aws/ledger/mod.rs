//! The ledger on DynamoDB: one trigger, one run, under at-least-once delivery.
//!
//! A trigger is *claimed* with a conditional write keyed by its dedupe id before anything runs.
//! The claim holds for a while (`hold_for`); a holder that dies leaves a claim that another
//! delivery can take over after it expires. A completed claim answers every later delivery with
//! the original outcome. The same idea as Powertools' idempotency utility.
//!
//! Key design (one DynamoDB table, string keys `pk` and `sk`, TTL attribute `expires_at_ttl`):
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | trigger claim and run record | `TRIGGER#<dedupe id>` | `CLAIM` | state, claim_token, hold_until; once completed: outcome, run_state, reason, trigger_id, source, event_type, incident_id, incident_number, actor, runbook, run_id, catalog_version, targets, command_id, executor, start_error, note, occurred_at, decided_at, open_run (started runs, until their ending is followed up); once ended: ending (JSON), pending (string set), finish_token, finish_hold_until |
//! | cooldown | `COOLDOWN#<runbook>#<target>` | `COOLDOWN` | until (epoch seconds), run_id (the run that took it) |
//! | rate window | `WINDOW#<runbook>#<window start>` | `WINDOW` | run_ids (string set of the runs counted) |
//! | suppression noted | `SUPPRESSED#<runbook>#<target>#<held until>` | `NOTED` | (none) |
//! | used once (a tap's log entry) | `MARK#<key>` | `MARK` | owner (the trigger that used it) |
//!
//! Four sparse global secondary indexes read the run records back: `by_incident` (incident_id,
//! decided_at) and `by_runbook` (runbook, decided_at) for history, `by_handle` (command_id) to
//! find the run of an executor's completion event, `by_open` (open_run, decided_at) for the
//! reconciler: the started runs whose ending is not recorded and followed up yet.
//!
//! A first delivery costs two writes (the claim, then its completion) and no reads: a lost
//! claim race returns the existing item with the failed condition, so it needs no read either.

mod claims;
mod finishes;
mod guards;
mod history;
mod schema;

pub use schema::{
    INDEX_BY_HANDLE, INDEX_BY_INCIDENT, INDEX_BY_OPEN, INDEX_BY_RUNBOOK, create_table,
};

use crate::aws::error::ModeledTransient;
use crate::aws::from_sdk;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use remediate_core::finish::ExecutorKind;
use remediate_core::ledger::RunRecord;
use remediate_core::outcome::{Outcome, Report};
use remediate_core::{Error, Handle, RunId};
use std::collections::HashMap;

/// DynamoDB, for the functions.
pub struct DynamoLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

const STATE_IN_PROGRESS: &str = "in_progress";
const STATE_COMPLETED: &str = "completed";
/// The `by_open` index's one key: every open run, ordered by `decided_at`.
pub(crate) const OPEN_RUN: &str = "OPEN";

impl DynamoLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn claim_key(dedupe_id: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(format!("TRIGGER#{dedupe_id}")),
            ),
            ("sk".to_owned(), AttributeValue::S("CLAIM".to_owned())),
        ])
    }
}

fn string_attr(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

fn number_attr(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|value| value.as_n().ok())
        .and_then(|number| number.parse().ok())
}

/// The attributes written onto the claim item (absent values are not written, which keeps the
/// indexes sparse).
fn record_attributes(record: &RunRecord) -> Vec<(&'static str, AttributeValue)> {
    let s = |value: &str| AttributeValue::S(value.to_owned());
    let mut out = vec![
        ("trigger_id", s(&record.trigger_id)),
        ("source", s(&record.source)),
        ("event_type", s(&record.event_type)),
        ("outcome", s(record.outcome.as_str())),
        ("run_state", s(&record.run_state)),
        (
            "occurred_at",
            s(&record
                .occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        ),
        (
            "decided_at",
            s(&record
                .decided_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        ),
    ];
    let optional = [
        ("incident_id", record.incident_id.as_deref()),
        ("actor", record.actor.as_deref()),
        ("runbook", record.runbook.as_deref()),
        ("run_id", record.run_id.as_deref()),
        ("catalog_version", record.catalog_version.as_deref()),
        ("targets", record.targets.as_deref()),
        ("reason", record.reason.as_deref()),
        ("command_id", record.command_id.as_deref()),
        ("executor", record.executor.map(ExecutorKind::as_str)),
        ("start_error", record.start_error.as_deref()),
        ("note", record.note.as_deref()),
    ];
    out.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name, s(value)))),
    );
    // A started run is open until its ending is recorded and followed up: the sparse `by_open`
    // index is how the reconciler finds the runs whose ending never came.
    if record.outcome == Outcome::Executed && record.command_id.is_some() {
        out.push(("open_run", s(OPEN_RUN)));
    }
    if let Some(verify) = record
        .verify
        .as_ref()
        .and_then(|verify| serde_json::to_string(verify).ok())
    {
        out.push(("verify", AttributeValue::S(verify)));
    }
    if let Some(number) = record.incident_number {
        out.push(("incident_number", AttributeValue::N(number.to_string())));
    }
    out
}

fn record_from_item(item: &HashMap<String, AttributeValue>) -> Option<RunRecord> {
    let time = |name: &str| {
        string_attr(item, name)
            .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let (ending, pending) = finishes::ending_from_item(item);
    Some(RunRecord {
        trigger_id: string_attr(item, "trigger_id")?.into(),
        source: string_attr(item, "source").unwrap_or_default(),
        event_type: string_attr(item, "event_type").unwrap_or_default(),
        incident_id: string_attr(item, "incident_id"),
        incident_number: number_attr(item, "incident_number").map(|n| n as u64),
        actor: string_attr(item, "actor"),
        runbook: string_attr(item, "runbook"),
        run_id: string_attr(item, "run_id").map(RunId::from),
        catalog_version: string_attr(item, "catalog_version"),
        targets: string_attr(item, "targets"),
        outcome: string_attr(item, "outcome").and_then(|text| Outcome::parse(&text))?,
        run_state: string_attr(item, "run_state").unwrap_or_default(),
        reason: string_attr(item, "reason"),
        command_id: string_attr(item, "command_id").map(Handle::from),
        executor: string_attr(item, "executor").and_then(|text| ExecutorKind::parse(&text)),
        verify: string_attr(item, "verify").and_then(|json| serde_json::from_str(&json).ok()),
        start_error: string_attr(item, "start_error"),
        note: string_attr(item, "note"),
        occurred_at: time("occurred_at")?,
        decided_at: time("decided_at")?,
        ending,
        pending,
    })
}

pub(super) fn iso(time: DateTime<Utc>) -> AttributeValue {
    AttributeValue::S(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn report_from_item(item: &HashMap<String, AttributeValue>) -> Report {
    let outcome = string_attr(item, "outcome")
        .and_then(|text| Outcome::parse(&text))
        .unwrap_or(Outcome::Executed);
    let mut report = Report::new(outcome, string_attr(item, "reason"));
    report.run_id = string_attr(item, "run_id").map(RunId::from);
    report.runbook = string_attr(item, "runbook");
    report.command_id = string_attr(item, "command_id").map(Handle::from);
    report
}

fn classify<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Error
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata
        + ModeledTransient
        + std::error::Error
        + 'static,
{
    from_sdk("dynamodb", operation, error)
}
