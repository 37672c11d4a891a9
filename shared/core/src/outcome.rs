//! The outcome of one trigger, in the same words everywhere: responses, the ledger, logs, metrics.

use crate::finish::ExecutorKind;
use crate::ids::{DedupeId, Handle, RunId};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A run was started.
    Executed,
    /// A runbook matched and passed its checks, but a dry-run switch kept it from executing.
    DryRun,
    /// Nothing wanted this event, or it is a shape we do not act on.
    Ignored,
    /// A runbook wanted it, but a check said no (stale, resolved incident, unconfirmed tap...).
    Refused,
    /// Authentication failed (signature, token).
    Rejected,
    /// A cooldown or rate window held it back.
    Suppressed,
    /// Already handled: a redelivery of a trigger that has an outcome.
    Duplicate,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Executed => "executed",
            Outcome::DryRun => "dry_run",
            Outcome::Ignored => "ignored",
            Outcome::Refused => "refused",
            Outcome::Rejected => "rejected",
            Outcome::Suppressed => "suppressed",
            Outcome::Duplicate => "duplicate",
        }
    }

    /// Every outcome (the template's dashboard graphs each; a test holds it to this list).
    pub const ALL: [Outcome; 7] = [
        Outcome::Executed,
        Outcome::DryRun,
        Outcome::Ignored,
        Outcome::Refused,
        Outcome::Rejected,
        Outcome::Suppressed,
        Outcome::Duplicate,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the note about a run reached the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteDelivery {
    Posted,
    /// Not posted within the response budget: recorded for a later retry.
    Pending,
    /// Nothing to note on (no incident), or notes are off.
    NotApplicable,
}

/// What a function answers and logs for one trigger. The JSON body of webhook responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub outcome: Outcome,
    /// Why, in words for people: always present for anything but `executed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_id: Option<DedupeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    /// The executor's handle: the SSM command or automation execution id, or
    /// `rundeck:<execution id>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_id: Option<Handle>,
    /// Which executor the handle belongs to: kept in the ledger (so that a run's ending can be
    /// asked for), not part of the answer.
    #[serde(skip)]
    pub executor: Option<ExecutorKind>,
    /// The runbook's `verify` for this run, kept in the ledger for after its end.
    #[serde(skip)]
    pub verify: Option<crate::finish::VerifyPlan>,
    /// Which catalog decided (its content hash).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_version: Option<String>,
    /// The run's targets, described (`tag:Role=web`, `i-0abc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<String>,
    /// Set when the executor refused the request (the run failed to start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<NoteDelivery>,
}

/// One constructor per outcome, each taking what that outcome must say: a report cannot leave
/// out the trigger, the runbook or the reason its outcome needs.
impl Report {
    /// Nothing wanted the trigger (or it is a shape we do not act on).
    pub fn ignored(trigger_id: &DedupeId, reason: String) -> Self {
        Self::about(trigger_id, Outcome::Ignored, None, reason)
    }

    /// A runbook (if one was selected) wanted it, but a check said no.
    pub fn refused(trigger_id: &DedupeId, runbook: Option<&str>, reason: String) -> Self {
        Self::about(trigger_id, Outcome::Refused, runbook, reason)
    }

    /// A cooldown or rate window held the runbook back.
    pub fn suppressed(trigger_id: &DedupeId, runbook: &str, reason: String) -> Self {
        Self::about(trigger_id, Outcome::Suppressed, Some(runbook), reason)
    }

    /// A redelivery: what the first delivery recorded, said again.
    pub fn duplicate(trigger_id: &DedupeId, original: Report) -> Self {
        Self {
            run_id: original.run_id,
            command_id: original.command_id,
            ..Self::about(
                trigger_id,
                Outcome::Duplicate,
                original.runbook.as_deref(),
                format!("already handled: {}", original.outcome),
            )
        }
    }

    /// A run of `runbook` is under way: it becomes executed, a dry run, suppressed or refused
    /// as the executor answers.
    pub fn run(
        trigger_id: &DedupeId,
        runbook: &str,
        run_id: &RunId,
        catalog_version: &str,
        targets: String,
    ) -> Self {
        Self {
            trigger_id: Some(trigger_id.clone()),
            runbook: Some(runbook.to_owned()),
            run_id: Some(run_id.clone()),
            catalog_version: Some(catalog_version.to_owned()),
            targets: Some(targets),
            ..Self::new(Outcome::Executed, None)
        }
    }

    /// Authentication failed: there is no trigger to name.
    pub fn rejected(reason: String) -> Self {
        Self::new(Outcome::Rejected, Some(reason))
    }

    fn about(
        trigger_id: &DedupeId,
        outcome: Outcome,
        runbook: Option<&str>,
        reason: String,
    ) -> Self {
        Self {
            trigger_id: Some(trigger_id.clone()),
            runbook: runbook.map(str::to_owned),
            ..Self::new(outcome, Some(reason))
        }
    }

    /// A report from its parts, as a record read back from the ledger holds them.
    pub fn new(outcome: Outcome, reason: impl Into<Option<String>>) -> Self {
        Self {
            outcome,
            reason: reason.into(),
            trigger_id: None,
            runbook: None,
            run_id: None,
            command_id: None,
            executor: None,
            verify: None,
            catalog_version: None,
            targets: None,
            start_error: None,
            note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for outcome in [
            Outcome::Executed,
            Outcome::DryRun,
            Outcome::Duplicate,
            Outcome::Rejected,
        ] {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
        assert_eq!(Outcome::parse("exploded"), None);
    }
}
