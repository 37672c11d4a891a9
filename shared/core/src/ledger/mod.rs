//! The ledger: one trigger, one run, under at-least-once delivery.
//!
//! A trigger is *claimed* before anything runs. The claim holds for a while (`hold_for`); a
//! holder that dies leaves a claim that another delivery can take over after it expires. A
//! completed claim answers every later delivery with the original outcome (the same idea as
//! Powertools' idempotency utility). The claim is also the run record that history reads back.
//! The DynamoDB adapter (conditional writes) is in `remediate-adapters`; an in-memory one with
//! the same semantics is behind the `testing` feature.

mod timeline;

pub use timeline::timeline_markdown;

use crate::Result;
use crate::finish::{ExecutorKind, FollowUp, RunEnding, VerifyPlan};
use crate::ids::{DedupeId, Handle, RunId};
use crate::outcome::{NoteDelivery, Outcome, Report};
use crate::trigger::{Actor, Trigger};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// How long a completed claim is kept: longer than PagerDuty's 48 hours of retries and SNS's
/// redelivery, so every late redelivery still finds it.
pub const COMPLETED_RETENTION: Duration = Duration::days(7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub dedupe_id: DedupeId,
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
        dedupe_id: &DedupeId,
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
    async fn mark_once(&self, key: &str, owner: &DedupeId, now: DateTime<Utc>) -> Result<bool>;
}

/// A fresh claim token: proves to the ledger that the holder still holds its claim.
pub fn new_claim_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// One completed trigger as the ledger keeps it: what happened, to what, why, by whom, when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    pub trigger_id: DedupeId,
    pub source: String,
    pub event_type: String,
    pub incident_id: Option<String>,
    pub incident_number: Option<u64>,
    /// `Name (id)` of the person or agent behind the trigger.
    pub actor: Option<String>,
    pub runbook: Option<String>,
    pub run_id: Option<RunId>,
    pub catalog_version: Option<String>,
    pub targets: Option<String>,
    pub outcome: Outcome,
    /// The run's state: started, refused, suppressed, dry_run, then one of the end states
    /// (succeeded, failed, cancelled, timed_out, unknown) once its executor says it ended.
    pub run_state: String,
    pub reason: Option<String>,
    /// The executor's handle (SSM command or automation execution id, `rundeck:<execution id>`).
    pub command_id: Option<Handle>,
    /// The executor the handle belongs to (absent in records written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<ExecutorKind>,
    /// What to check once the run succeeded (the runbook's `verify`, for alarm runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyPlan>,
    pub start_error: Option<String>,
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub decided_at: DateTime<Utc>,
    /// How the run ended, once its executor said (see [`crate::finish`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<RunEnding>,
    /// What is still to be done about its ending (a note that could not be posted...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<FollowUp>,
}

pub fn run_state(outcome: Outcome) -> &'static str {
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
            executor: report.executor,
            verify: report.verify.clone(),
            start_error: report.start_error.clone(),
            note: report.note.map(|note| match note {
                NoteDelivery::Posted => "posted".to_owned(),
                NoteDelivery::Pending => "pending".to_owned(),
                NoteDelivery::NotApplicable => "not_applicable".to_owned(),
            }),
            occurred_at: trigger.occurred_at,
            decided_at: now,
            ending: None,
            pending: Vec::new(),
        }
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
