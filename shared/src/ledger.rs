//! The ledger: one trigger, one run, under at-least-once delivery.
//!
//! A trigger is *claimed* with a conditional write keyed by its dedupe id before anything runs.
//! The claim holds for a while (`hold_for`); a holder that dies leaves a claim that another
//! delivery can take over after it expires. A completed claim answers every later delivery with
//! the original outcome. The same idea as Powertools' idempotency utility.
//!
//! Key design (one DynamoDB table, string keys `pk` and `sk`, TTL attribute `expires_at_ttl`):
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | trigger claim and run record | `TRIGGER#<dedupe id>` | `CLAIM` | state, claim_token, hold_until; once completed: outcome, run_state, reason, trigger_id, source, event_type, incident_id, incident_number, actor, runbook, run_id, catalog_version, targets, command_id, start_error, note, occurred_at, decided_at |
//! | cooldown | `COOLDOWN#<runbook>#<target>` | `COOLDOWN` | until (epoch seconds), run_id (the run that took it) |
//! | rate window | `WINDOW#<runbook>#<window start>` | `WINDOW` | run_ids (string set of the runs counted) |
//! | suppression noted | `SUPPRESSED#<runbook>#<target>#<held until>` | `NOTED` | (none) |
//! | used once (a tap's log entry) | `MARK#<key>` | `MARK` | owner (the trigger that used it) |
//!
//! Three sparse global secondary indexes read the run records back: `by_incident` (incident_id,
//! decided_at) and `by_runbook` (runbook, decided_at) for history, `by_handle` (command_id) to
//! find the run of an executor's completion event.
//!
//! A first delivery costs two writes (the claim, then its completion) and no reads: a lost
//! claim race returns the existing item with the failed condition, so it needs no read either.

use crate::guards::{GuardStore, Reservation, Reserved, after, window_start};
use crate::outcome::{NoteDelivery, Outcome, Report};
use crate::trigger::{Actor, Trigger};
use crate::{Error, Result};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// How long a completed claim is kept: longer than PagerDuty's 48 hours of retries and SNS's
/// redelivery, so every late redelivery still finds it.
pub const COMPLETED_RETENTION: Duration = Duration::days(7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub dedupe_id: String,
    /// Proves that this holder still holds the claim when it completes or releases it.
    pub token: String,
    /// The claim was taken over from a holder whose hold expired: that holder may have started
    /// the run before it died, so the executor must be asked before starting it again.
    pub taken_over: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClaimResult {
    /// The caller holds the trigger and may act on it.
    Claimed(Claim),
    /// Another delivery completed it: here is what it answered.
    Completed(Report),
    /// Another delivery holds it and may still be working: the sender should retry later.
    InProgress { hold_until: DateTime<Utc> },
}

#[async_trait]
pub trait Ledger: Send + Sync {
    async fn claim(
        &self,
        dedupe_id: &str,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult>;
    /// Record the outcome on the claim, which becomes the run record; later deliveries are
    /// answered with it.
    async fn complete(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Give the claim up (nothing was done), so a retry can take it at once.
    async fn release(&self, claim: &Claim) -> Result<()>;
    /// Mark `key` as used by `owner`, for the retention period. True if it was free or is
    /// already this owner's (a redelivery), false if another owner used it.
    async fn mark_once(&self, key: &str, owner: &str, now: DateTime<Utc>) -> Result<bool>;
}

fn taken_over(claim: &Claim) -> Error {
    Error::Aws {
        service: "dynamodb",
        operation: "UpdateItem",
        message: format!(
            "claim on {} was taken over before it completed",
            claim.dedupe_id
        ),
        transient: false,
    }
}

fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------------------------

/// DynamoDB, for the functions.
pub struct DynamoLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

const STATE_IN_PROGRESS: &str = "in_progress";
const STATE_COMPLETED: &str = "completed";

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

/// One completed trigger as the ledger keeps it: what happened, to what, why, by whom, when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub trigger_id: String,
    pub source: String,
    pub event_type: String,
    pub incident_id: Option<String>,
    pub incident_number: Option<u64>,
    /// `Name (id)` of the person or agent behind the trigger.
    pub actor: Option<String>,
    pub runbook: Option<String>,
    pub run_id: Option<String>,
    pub catalog_version: Option<String>,
    pub targets: Option<String>,
    pub outcome: Outcome,
    /// The run's state: started, refused, suppressed, dry_run (the end states, succeeded, failed,
    /// cancelled, timed_out, unknown, come from the executor's completion events).
    pub run_state: String,
    pub reason: Option<String>,
    /// The executor's handle (SSM command id).
    pub command_id: Option<String>,
    pub start_error: Option<String>,
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub decided_at: DateTime<Utc>,
}

fn run_state(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Executed => "started",
        Outcome::DryRun => "dry_run",
        Outcome::Refused => "refused",
        Outcome::Suppressed => "suppressed",
        Outcome::Ignored => "ignored",
        Outcome::Rejected => "rejected",
        Outcome::Duplicate => "duplicate",
    }
}

impl RunRecord {
    pub fn new(trigger: &Trigger, report: &Report, now: DateTime<Utc>) -> Self {
        let incident = trigger.incident.as_ref();
        Self {
            trigger_id: trigger.dedupe_id.clone(),
            source: trigger.source.as_str().to_owned(),
            event_type: trigger.event_type.clone(),
            incident_id: incident.map(|incident| incident.id.clone()),
            incident_number: incident.and_then(|incident| incident.number),
            actor: trigger.actor.as_ref().map(Actor::display),
            runbook: report.runbook.clone(),
            run_id: report.run_id.clone(),
            catalog_version: report.catalog_version.clone(),
            targets: report.targets.clone(),
            outcome: report.outcome,
            run_state: run_state(report.outcome).to_owned(),
            reason: report.reason.clone(),
            command_id: report.command_id.clone(),
            start_error: report.start_error.clone(),
            note: report.note.map(|note| match note {
                NoteDelivery::Posted => "posted".to_owned(),
                NoteDelivery::Pending => "pending".to_owned(),
                NoteDelivery::NotApplicable => "not_applicable".to_owned(),
            }),
            occurred_at: trigger.occurred_at,
            decided_at: now,
        }
    }

    /// The attributes written onto the claim item (absent values are not written, which keeps
    /// the indexes sparse).
    fn attributes(&self) -> Vec<(&'static str, AttributeValue)> {
        let s = |value: &str| AttributeValue::S(value.to_owned());
        let mut out = vec![
            ("trigger_id", s(&self.trigger_id)),
            ("source", s(&self.source)),
            ("event_type", s(&self.event_type)),
            ("outcome", s(self.outcome.as_str())),
            ("run_state", s(&self.run_state)),
            (
                "occurred_at",
                s(&self
                    .occurred_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            ),
            (
                "decided_at",
                s(&self
                    .decided_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            ),
        ];
        let optional = [
            ("incident_id", &self.incident_id),
            ("actor", &self.actor),
            ("runbook", &self.runbook),
            ("run_id", &self.run_id),
            ("catalog_version", &self.catalog_version),
            ("targets", &self.targets),
            ("reason", &self.reason),
            ("command_id", &self.command_id),
            ("start_error", &self.start_error),
            ("note", &self.note),
        ];
        out.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| value.as_deref().map(|value| (name, s(value)))),
        );
        if let Some(number) = self.incident_number {
            out.push(("incident_number", AttributeValue::N(number.to_string())));
        }
        out
    }

    fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let time = |name: &str| {
            string_attr(item, name)
                .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        Some(Self {
            trigger_id: string_attr(item, "trigger_id")?,
            source: string_attr(item, "source").unwrap_or_default(),
            event_type: string_attr(item, "event_type").unwrap_or_default(),
            incident_id: string_attr(item, "incident_id"),
            incident_number: number_attr(item, "incident_number").map(|n| n as u64),
            actor: string_attr(item, "actor"),
            runbook: string_attr(item, "runbook"),
            run_id: string_attr(item, "run_id"),
            catalog_version: string_attr(item, "catalog_version"),
            targets: string_attr(item, "targets"),
            outcome: string_attr(item, "outcome").and_then(|text| Outcome::parse(&text))?,
            run_state: string_attr(item, "run_state").unwrap_or_default(),
            reason: string_attr(item, "reason"),
            command_id: string_attr(item, "command_id"),
            start_error: string_attr(item, "start_error"),
            note: string_attr(item, "note"),
            occurred_at: time("occurred_at")?,
            decided_at: time("decided_at")?,
        })
    }
}

/// Reading the run records back, for people (`remediate history`) and for completion events.
#[async_trait]
pub trait RunHistory: Send + Sync {
    async fn runs_for_incident(&self, incident_id: &str) -> Result<Vec<RunRecord>>;
    async fn runs_for_runbook(
        &self,
        runbook: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>>;
    async fn runs_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RunRecord>>;
    async fn run_by_handle(&self, handle: &str) -> Result<Option<RunRecord>>;
}

/// Create the ledger table as infra/template.yaml defines it (keys and the three sparse indexes),
/// on demand: for local runs and tests against an emulator. Deployments use the template.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let build_error = |error: aws_sdk_dynamodb::error::BuildError| Error::Aws {
        service: "dynamodb",
        operation: "CreateTable",
        message: error.to_string(),
        transient: false,
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let index = |name: &str, hash: &str, range: Option<&str>| {
        let mut builder = GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            );
        if let Some(range) = range {
            builder = builder.key_schema(key(range, KeyType::Range)?);
        }
        builder.build()
    };
    let mut call = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash).map_err(build_error)?)
        .key_schema(key("sk", KeyType::Range).map_err(build_error)?)
        .global_secondary_indexes(
            index(INDEX_BY_INCIDENT, "incident_id", Some("decided_at")).map_err(build_error)?,
        )
        .global_secondary_indexes(
            index(INDEX_BY_RUNBOOK, "runbook", Some("decided_at")).map_err(build_error)?,
        )
        .global_secondary_indexes(index(INDEX_BY_HANDLE, "command_id", None).map_err(build_error)?);
    for attribute in [
        "pk",
        "sk",
        "incident_id",
        "runbook",
        "decided_at",
        "command_id",
    ] {
        call = call.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_error)?,
        );
    }
    call.send()
        .await
        .map(|_| ())
        .map_err(|error| Error::from_sdk("dynamodb", "CreateTable", error))
}

/// Index names, as infra/template.yaml defines them.
pub const INDEX_BY_INCIDENT: &str = "by_incident";
pub const INDEX_BY_RUNBOOK: &str = "by_runbook";
pub const INDEX_BY_HANDLE: &str = "by_handle";

fn iso(time: DateTime<Utc>) -> AttributeValue {
    AttributeValue::S(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl DynamoLedger {
    async fn query_index(
        &self,
        index: &str,
        key_condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Vec<RunRecord>> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let mut call = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(key_condition)
                .set_exclusive_start_key(start);
            for (name, value) in &values {
                call = call.expression_attribute_values(*name, value.clone());
            }
            let page = call
                .send()
                .await
                .map_err(|error| Error::from_sdk("dynamodb", "Query", error))?;
            records.extend(page.items().iter().filter_map(RunRecord::from_item));
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        records.sort_by_key(|record| record.decided_at);
        Ok(records)
    }
}

#[async_trait]
impl RunHistory for DynamoLedger {
    async fn runs_for_incident(&self, incident_id: &str) -> Result<Vec<RunRecord>> {
        self.query_index(
            INDEX_BY_INCIDENT,
            "incident_id = :id",
            vec![(":id", AttributeValue::S(incident_id.to_owned()))],
        )
        .await
    }

    async fn runs_for_runbook(
        &self,
        runbook: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>> {
        self.query_index(
            INDEX_BY_RUNBOOK,
            "runbook = :runbook AND decided_at BETWEEN :from AND :to",
            vec![
                (":runbook", AttributeValue::S(runbook.to_owned())),
                (":from", iso(from)),
                (":to", iso(to)),
            ],
        )
        .await
    }

    /// A time range crosses every partition: a filtered scan. Fine for a person's occasional
    /// question; the functions never call it.
    async fn runs_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RunRecord>> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :prefix) AND decided_at BETWEEN :from AND :to")
                .expression_attribute_values(":prefix", AttributeValue::S("TRIGGER#".into()))
                .expression_attribute_values(":from", iso(from))
                .expression_attribute_values(":to", iso(to))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| Error::from_sdk("dynamodb", "Scan", error))?;
            records.extend(page.items().iter().filter_map(RunRecord::from_item));
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        records.sort_by_key(|record| record.decided_at);
        Ok(records)
    }

    async fn run_by_handle(&self, handle: &str) -> Result<Option<RunRecord>> {
        Ok(self
            .query_index(
                INDEX_BY_HANDLE,
                "command_id = :handle",
                vec![(":handle", AttributeValue::S(handle.to_owned()))],
            )
            .await?
            .into_iter()
            .next())
    }
}

/// The timeline as Markdown, ready to paste into a postmortem.
pub fn timeline_markdown(title: &str, table: &str, records: &[RunRecord]) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut text = format!("## {title}\n\n");
    if records.is_empty() {
        text.push_str("No automated actions recorded.\n");
        return text;
    }
    text.push_str("| time (UTC) | runbook | outcome | triggered by | targets | details |\n|---|---|---|---|---|---|\n");
    for record in records {
        let mut details = Vec::new();
        if let Some(command) = &record.command_id {
            details.push(format!("SSM command {command}"));
        }
        if let Some(reason) = &record.reason {
            details.push(reason.clone());
        }
        if let Some(note) = &record.note {
            details.push(format!("note {note}"));
        }
        if let Some(run) = &record.run_id {
            details.push(format!("run {run}"));
        }
        let cause = match &record.actor {
            Some(actor) if record.source == "pagerduty-action" => actor.clone(),
            Some(actor) => format!("{} ({actor})", record.event_type),
            None => record.event_type.clone(),
        };
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} |",
            record.decided_at.format("%Y-%m-%d %H:%M:%S"),
            cell(record.runbook.as_deref().unwrap_or("-")),
            cell(&format!("{} ({})", record.outcome, record.run_state)),
            cell(&cause),
            cell(record.targets.as_deref().unwrap_or("-")),
            cell(&details.join("; ")),
        );
    }
    let _ = writeln!(
        text,
        "\n{} record(s) from the ledger table {table} (`remediate history`).",
        records.len()
    );
    text
}

fn report_from_item(item: &HashMap<String, AttributeValue>) -> Report {
    let outcome = string_attr(item, "outcome")
        .and_then(|text| Outcome::parse(&text))
        .unwrap_or(Outcome::Executed);
    let mut report = Report::new(outcome, string_attr(item, "reason"));
    report.run_id = string_attr(item, "run_id");
    report.runbook = string_attr(item, "runbook");
    report.command_id = string_attr(item, "command_id");
    report
}

fn classify<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Error
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata
        + crate::error::ModeledTransient
        + std::error::Error
        + 'static,
{
    Error::from_sdk("dynamodb", operation, error)
}

#[async_trait]
impl Ledger for DynamoLedger {
    async fn claim(
        &self,
        dedupe_id: &str,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult> {
        let token = new_token();
        let hold_until = now + hold_for;
        let mut item = Self::claim_key(dedupe_id);
        item.insert("state".into(), AttributeValue::S(STATE_IN_PROGRESS.into()));
        item.insert("claim_token".into(), AttributeValue::S(token.clone()));
        item.insert(
            "hold_until".into(),
            AttributeValue::N(hold_until.timestamp().to_string()),
        );
        item.insert("updated_at".into(), AttributeValue::S(now.to_rfc3339()));
        item.insert(
            "expires_at_ttl".into(),
            AttributeValue::N((now + COMPLETED_RETENTION).timestamp().to_string()),
        );
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :in_progress AND hold_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(
                ":in_progress",
                AttributeValue::S(STATE_IN_PROGRESS.into()),
            )
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(ClaimResult::Claimed(Claim {
                dedupe_id: dedupe_id.to_owned(),
                token,
                // ReturnValues ALL_OLD hands back the expired claim we replaced, at no extra cost.
                taken_over: output.attributes.is_some_and(|old| !old.is_empty()),
            })),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                let PutItemError::ConditionalCheckFailedException(failure) =
                    service_error.into_err()
                else {
                    unreachable!("matched above");
                };
                let existing = failure.item.unwrap_or_default();
                if string_attr(&existing, "state").as_deref() == Some(STATE_COMPLETED) {
                    Ok(ClaimResult::Completed(report_from_item(&existing)))
                } else if string_attr(&existing, "claim_token").as_deref() == Some(token.as_str()) {
                    // Our own write: an earlier attempt of this very call succeeded, its answer
                    // was lost (a timeout, a 500), and the SDK's retry failed the condition
                    // against it. The token is new for every call, so nobody else can hold it.
                    // What that attempt replaced (an expired claim, perhaps one that had sent
                    // the command) went with the lost answer: treat it as a takeover, so the
                    // executor is asked before anything is sent.
                    Ok(ClaimResult::Claimed(Claim {
                        dedupe_id: dedupe_id.to_owned(),
                        token,
                        taken_over: true,
                    }))
                } else {
                    let hold_until = number_attr(&existing, "hold_until")
                        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
                        .unwrap_or(hold_until);
                    Ok(ClaimResult::InProgress { hold_until })
                }
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    async fn complete(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let record = RunRecord::new(trigger, report, now);
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(&claim.dedupe_id)))
            .condition_expression("#claim_token = :token")
            .expression_attribute_names("#claim_token", "claim_token")
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()));
        let mut assignments = Vec::new();
        let mut attributes = record.attributes();
        attributes.push(("state", AttributeValue::S(STATE_COMPLETED.into())));
        attributes.push(("updated_at", AttributeValue::S(now.to_rfc3339())));
        for (position, (name, value)) in attributes.into_iter().enumerate() {
            assignments.push(format!("#a{position} = :v{position}"));
            call = call
                .expression_attribute_names(format!("#a{position}"), name)
                .expression_attribute_values(format!(":v{position}"), value);
        }
        call.update_expression(format!("SET {}", assignments.join(", ")))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| match &error {
                SdkError::ServiceError(service_error)
                    if matches!(
                        service_error.err(),
                        UpdateItemError::ConditionalCheckFailedException(_)
                    ) =>
                {
                    taken_over(claim)
                }
                _ => classify("UpdateItem", error),
            })
    }

    async fn mark_once(&self, key: &str, owner: &str, now: DateTime<Utc>) -> Result<bool> {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S(format!("MARK#{key}"))),
            ("sk".to_owned(), AttributeValue::S("MARK".to_owned())),
            ("owner".to_owned(), AttributeValue::S(owner.to_owned())),
            (
                "expires_at_ttl".to_owned(),
                AttributeValue::N((now + COMPLETED_RETENTION).timestamp().to_string()),
            ),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(false)
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    async fn release(&self, claim: &Claim) -> Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::claim_key(&claim.dedupe_id)))
            .condition_expression("claim_token = :token")
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone else holds it now: nothing of ours to release.
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    DeleteItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(classify("DeleteItem", error)),
        }
    }
}

/// Cooldowns and rate windows with conditional writes, so that guards hold across concurrent
/// function instances. The cooldown is taken first, then a place in the window; a full window
/// gives the cooldown back. Costs one write per guard a runbook has, no reads.
#[async_trait]
impl GuardStore for DynamoLedger {
    async fn reserve(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<Reserved> {
        let mut cooldown_until = None;
        if let Some(seconds) = reservation.cooldown_seconds {
            let until = after(now, seconds);
            let mut item = cooldown_key(reservation);
            item.insert(
                "until".into(),
                AttributeValue::N(until.timestamp().to_string()),
            );
            item.insert(
                "run_id".into(),
                AttributeValue::S(reservation.run_id.clone()),
            );
            item.insert(
                "expires_at_ttl".into(),
                AttributeValue::N(after(until, DAY_SECONDS).timestamp().to_string()),
            );
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                // Free, expired, or our own (a takeover of this run after its holder died).
                .condition_expression(
                    "attribute_not_exists(pk) OR #until <= :now OR run_id = :run_id",
                )
                .expression_attribute_names("#until", "until")
                .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
                .expression_attribute_values(
                    ":run_id",
                    AttributeValue::S(reservation.run_id.clone()),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match result {
                // Free, expired, or already this run's (a takeover, or this call's own write
                // retried after a lost answer). Either way the run goes on to its window place,
                // which counts each run once, so it is taken exactly once.
                Ok(_) => cooldown_until = Some(until),
                Err(SdkError::ServiceError(service_error))
                    if matches!(
                        service_error.err(),
                        PutItemError::ConditionalCheckFailedException(_)
                    ) =>
                {
                    let PutItemError::ConditionalCheckFailedException(failure) =
                        service_error.into_err()
                    else {
                        unreachable!("matched above");
                    };
                    let until = failure
                        .item
                        .as_ref()
                        .and_then(|item| number_attr(item, "until"))
                        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
                        .unwrap_or(now);
                    return Ok(Reserved::CoolingDown { until });
                }
                Err(error) => return Err(classify("PutItem", error)),
            }
        }
        if let Some(limit) = reservation.max_runs {
            let start = window_start(now, limit.window_seconds);
            let expires = window_expiry(start, limit.window_seconds);
            // The window holds the ids of the runs it counted: adding a run id is idempotent, so
            // a write the SDK retried after a lost answer, or a takeover of the same run, takes
            // no second place. (The catalog caps max_runs so that the set stays a few KB.)
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(window_key(reservation, start)))
                .update_expression("ADD run_ids :run SET expires_at_ttl = :expires")
                .condition_expression(
                    "attribute_not_exists(run_ids) OR contains(run_ids, :run_id) OR size(run_ids) < :limit",
                )
                .expression_attribute_values(
                    ":run",
                    AttributeValue::Ss(vec![reservation.run_id.clone()]),
                )
                .expression_attribute_values(":run_id", AttributeValue::S(reservation.run_id.clone()))
                .expression_attribute_values(":limit", AttributeValue::N(limit.count.to_string()))
                .expression_attribute_values(":expires", AttributeValue::N(expires.to_string()))
                .send()
                .await;
            let full = match result {
                Ok(_) => false,
                Err(SdkError::ServiceError(service_error))
                    if matches!(
                        service_error.err(),
                        UpdateItemError::ConditionalCheckFailedException(_)
                    ) =>
                {
                    true
                }
                Err(error) => {
                    if cooldown_until.is_some() {
                        self.release_cooldown(reservation).await?;
                    }
                    return Err(classify("UpdateItem", error));
                }
            };
            if full {
                if cooldown_until.is_some() {
                    self.release_cooldown(reservation).await?;
                }
                return Ok(Reserved::WindowFull {
                    limit,
                    window_start: start,
                });
            }
        }
        Ok(Reserved::Granted)
    }

    async fn first_suppression(
        &self,
        reservation: &Reservation,
        held_until: DateTime<Utc>,
    ) -> Result<bool> {
        self.first_suppression_item(reservation, held_until).await
    }

    async fn release(&self, reservation: &Reservation, now: DateTime<Utc>) -> Result<()> {
        if reservation.cooldown_seconds.is_some() {
            self.release_cooldown(reservation).await?;
        }
        if let Some(limit) = reservation.max_runs {
            // Only this run's place, and only once: a second release removes nothing.
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(window_key(
                    reservation,
                    window_start(now, limit.window_seconds),
                )))
                .update_expression("DELETE run_ids :run")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(
                    ":run",
                    AttributeValue::Ss(vec![reservation.run_id.clone()]),
                )
                .send()
                .await
                .map(|_| ())
                .or_else(|error| match &error {
                    SdkError::ServiceError(service_error)
                        if matches!(
                            service_error.err(),
                            UpdateItemError::ConditionalCheckFailedException(_)
                        ) =>
                    {
                        Ok(())
                    }
                    _ => Err(classify("UpdateItem", error)),
                })?;
        }
        Ok(())
    }
}

impl DynamoLedger {
    async fn first_suppression_item(
        &self,
        reservation: &Reservation,
        held_until: DateTime<Utc>,
    ) -> Result<bool> {
        let item = HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(format!(
                    "SUPPRESSED#{}#{}#{}",
                    reservation.runbook,
                    reservation.target,
                    held_until.timestamp()
                )),
            ),
            ("sk".to_owned(), AttributeValue::S("NOTED".to_owned())),
            (
                "expires_at_ttl".to_owned(),
                AttributeValue::N(after(held_until, DAY_SECONDS).timestamp().to_string()),
            ),
        ]);
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(false)
            }
            Err(error) => Err(classify("PutItem", error)),
        }
    }

    /// Give back the cooldown only if this run holds it: a late release by a run whose cooldown
    /// expired must not delete the cooldown a later run took since.
    async fn release_cooldown(&self, reservation: &Reservation) -> Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(cooldown_key(reservation)))
            .condition_expression("run_id = :run_id")
            .expression_attribute_values(":run_id", AttributeValue::S(reservation.run_id.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service_error))
                if matches!(
                    service_error.err(),
                    DeleteItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(classify("DeleteItem", error)),
        }
    }
}

const DAY_SECONDS: u64 = 24 * 60 * 60;

/// When a window's item may go: a day after the window ends.
fn window_expiry(start: DateTime<Utc>, window_seconds: u64) -> i64 {
    after(after(start, window_seconds), DAY_SECONDS).timestamp()
}

fn cooldown_key(reservation: &Reservation) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!(
                "COOLDOWN#{}#{}",
                reservation.runbook, reservation.target
            )),
        ),
        ("sk".to_owned(), AttributeValue::S("COOLDOWN".to_owned())),
    ])
}

fn window_key(reservation: &Reservation, start: DateTime<Utc>) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!(
                "WINDOW#{}#{}",
                reservation.runbook,
                start.timestamp()
            )),
        ),
        ("sk".to_owned(), AttributeValue::S("WINDOW".to_owned())),
    ])
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum MemoryClaim {
    InProgress {
        token: String,
        hold_until: DateTime<Utc>,
    },
    Completed(Report),
}

/// The same semantics in memory, for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryLedger {
    claims: Mutex<HashMap<String, MemoryClaim>>,
    records: Mutex<Vec<RunRecord>>,
    marks: Mutex<HashMap<String, String>>,
}

impl InMemoryLedger {
    pub fn records(&self) -> Vec<RunRecord> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn completed(&self, dedupe_id: &str) -> Option<Report> {
        match self
            .claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(dedupe_id)
        {
            Some(MemoryClaim::Completed(report)) => Some(report.clone()),
            _ => None,
        }
    }

    pub fn is_held(&self, dedupe_id: &str) -> bool {
        matches!(
            self.claims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(dedupe_id),
            Some(MemoryClaim::InProgress { .. })
        )
    }
}

#[async_trait]
impl Ledger for InMemoryLedger {
    async fn claim(
        &self,
        dedupe_id: &str,
        now: DateTime<Utc>,
        hold_for: Duration,
    ) -> Result<ClaimResult> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        match claims.get(dedupe_id) {
            Some(MemoryClaim::Completed(report)) => {
                return Ok(ClaimResult::Completed(report.clone()));
            }
            Some(MemoryClaim::InProgress { hold_until, .. }) if *hold_until >= now => {
                return Ok(ClaimResult::InProgress {
                    hold_until: *hold_until,
                });
            }
            _ => {}
        }
        let token = new_token();
        let taken_over = claims.contains_key(dedupe_id);
        claims.insert(
            dedupe_id.to_owned(),
            MemoryClaim::InProgress {
                token: token.clone(),
                hold_until: now + hold_for,
            },
        );
        Ok(ClaimResult::Claimed(Claim {
            dedupe_id: dedupe_id.to_owned(),
            token,
            taken_over,
        }))
    }

    async fn complete(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        match claims.get(&claim.dedupe_id) {
            Some(MemoryClaim::InProgress { token, .. }) if *token == claim.token => {
                claims.insert(
                    claim.dedupe_id.clone(),
                    MemoryClaim::Completed(report.clone()),
                );
                self.records
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(RunRecord::new(trigger, report, now));
                Ok(())
            }
            _ => Err(taken_over(claim)),
        }
    }

    async fn mark_once(&self, key: &str, owner: &str, _now: DateTime<Utc>) -> Result<bool> {
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        let holder = marks
            .entry(key.to_owned())
            .or_insert_with(|| owner.to_owned());
        Ok(holder == owner)
    }

    async fn release(&self, claim: &Claim) -> Result<()> {
        let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(claims.get(&claim.dedupe_id), Some(MemoryClaim::InProgress { token, .. }) if *token == claim.token)
        {
            claims.remove(&claim.dedupe_id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_claim_semantics() {
        let ledger = InMemoryLedger::default();
        let now = Utc::now();
        let hold = Duration::seconds(30);
        let ClaimResult::Claimed(claim) = ledger.claim("t1", now, hold).await.unwrap() else {
            panic!("first claim must win");
        };
        assert!(matches!(
            ledger.claim("t1", now, hold).await.unwrap(),
            ClaimResult::InProgress { .. }
        ));
        // After the hold expires, a redelivery takes over; the old holder can no longer complete.
        let later = now + Duration::seconds(31);
        let ClaimResult::Claimed(takeover) = ledger.claim("t1", later, hold).await.unwrap() else {
            panic!("expired claim must be taken over");
        };
        assert!(!claim.taken_over);
        assert!(takeover.taken_over);
        let report = Report::new(Outcome::Executed, None);
        let trigger = Trigger {
            source: crate::trigger::Source::PagerDutyV3,
            dedupe_id: "t1".into(),
            event_type: "incident.triggered".into(),
            action: None,
            occurred_at: now,
            incident: None,
            actor: None,
            alarm: None,
            event: None,
            workflow: None,
        };
        assert!(
            ledger
                .complete(&claim, &trigger, &report, later)
                .await
                .is_err()
        );
        ledger
            .complete(&takeover, &trigger, &report, later)
            .await
            .unwrap();
        let records = ledger.records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].run_state, "started");
        assert_eq!(records[0].trigger_id, "t1");
        assert_eq!(
            ledger.claim("t1", later, hold).await.unwrap(),
            ClaimResult::Completed(report)
        );
        // A released claim is free at once.
        let ClaimResult::Claimed(other) = ledger.claim("t2", now, hold).await.unwrap() else {
            panic!()
        };
        ledger.release(&other).await.unwrap();
        assert!(matches!(
            ledger.claim("t2", now, hold).await.unwrap(),
            ClaimResult::Claimed(_)
        ));
    }
}
