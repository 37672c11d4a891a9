//! How a run ended: the executor's final word on it, in the project's own terms.
//!
//! A status event (SSM's EventBridge notifications, a Rundeck notification) is only a hint that
//! a run may have ended: the executor is asked for the real outcome ([`RunResult`]) before
//! anything is recorded or said, so a forged, late or reordered event cannot write a wrong
//! ending onto an incident.

use crate::ids::{Handle, RunId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which executor started a run: how its handle is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutorKind {
    SsmCommand,
    SsmAutomation,
    Rundeck,
}

impl ExecutorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::SsmCommand => "ssm_command",
            ExecutorKind::SsmAutomation => "ssm_automation",
            ExecutorKind::Rundeck => "rundeck",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ExecutorKind::SsmCommand,
            ExecutorKind::SsmAutomation,
            ExecutorKind::Rundeck,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }

    /// How people know the handle: "SSM command 1234…".
    pub fn handle_label(self) -> &'static str {
        match self {
            ExecutorKind::SsmCommand => "SSM command",
            ExecutorKind::SsmAutomation => "SSM Automation execution",
            ExecutorKind::Rundeck => "Rundeck execution",
        }
    }
}

/// The end states of a run, the same words in the ledger, the notes and the results topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalState {
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
    /// The executor could not say (the run is gone, or nobody answered before the deadline).
    Unknown,
}

impl FinalState {
    pub fn as_str(self) -> &'static str {
        match self {
            FinalState::Succeeded => "succeeded",
            FinalState::Failed => "failed",
            FinalState::Cancelled => "cancelled",
            FinalState::TimedOut => "timed_out",
            FinalState::Unknown => "unknown",
        }
    }

    /// Every end state (the template's dashboard graphs each; a test holds it to this list).
    pub const ALL: [FinalState; 5] = [
        FinalState::Succeeded,
        FinalState::Failed,
        FinalState::Cancelled,
        FinalState::TimedOut,
        FinalState::Unknown,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "succeeded" => FinalState::Succeeded,
            "failed" => FinalState::Failed,
            "cancelled" => FinalState::Cancelled,
            "timed_out" => FinalState::TimedOut,
            "unknown" => FinalState::Unknown,
            _ => return None,
        })
    }

    /// As a sentence reads it: "restart-web timed out".
    pub fn verb(self) -> &'static str {
        match self {
            FinalState::Succeeded => "succeeded",
            FinalState::Failed => "failed",
            FinalState::Cancelled => "was cancelled",
            FinalState::TimedOut => "timed out",
            FinalState::Unknown => "ended in an unknown state",
        }
    }

    /// A run record's `run_state` that is one of these: the run has its ending.
    pub fn is_final_run_state(run_state: &str) -> bool {
        Self::parse(run_state).is_some()
    }
}

impl fmt::Display for FinalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status event's hint: this run may have ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub executor: ExecutorKind,
    pub handle: Handle,
    /// The executor's own word for the status, as the event gave it ("Success", "TimedOut").
    pub reported_status: String,
    /// The event's id, for logs and the answer.
    pub event_id: String,
    pub event_time: DateTime<Utc>,
}

/// One target's part of a run: an instance of a command, a step of an automation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TargetResult {
    pub target: String,
    /// The executor's word ("Success", "Failed", "DeliveryTimedOut").
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The start of what it printed, not yet redacted (the finish redacts before use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_output: Option<String>,
}

impl TargetResult {
    /// SSM says "Success" (a command's instance, an automation's step), Rundeck "succeeded" (a
    /// node).
    pub fn succeeded(&self) -> bool {
        self.status.eq_ignore_ascii_case("success") || self.status.eq_ignore_ascii_case("succeeded")
    }
}

/// How many targets a run had, and how they ended, when the executor counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetCounts {
    pub total: u32,
    pub succeeded: u32,
}

/// What the executor says about a run now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunResult {
    /// None: the executor says it is still running.
    pub state: Option<FinalState>,
    /// The executor's own word for the run's status.
    pub executor_status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The run id the executor carries for this run (a command's Comment, an execution's tag),
    /// when it carries one: proof that remediate started it, even before the ledger says so.
    pub run_id: Option<RunId>,
    pub counts: Option<TargetCounts>,
    /// The targets read in detail (at most a few: the note shows a handful).
    pub targets: Vec<TargetResult>,
    /// Outputs the executor returns for the run as a whole (an automation's outputs).
    pub outputs: Option<String>,
    /// Why it failed, when the executor says (an automation's FailureMessage).
    pub failure: Option<String>,
}

/// What is still to be done once a run has ended. Each is done once; the ones that fail stay
/// pending in the ledger for the next delivery (or the reconciler) to finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    /// The final note on the incident.
    Note,
    /// Resolve the incident (the runbook asks for it on success).
    Resolve,
    /// The results topic.
    Publish,
    /// Read the alarm again once the runbook's settle time has passed, and say whether it
    /// recovered (the reconciler does it when it is due).
    Verify,
}

impl FollowUp {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::Note => "note",
            FollowUp::Resolve => "resolve",
            FollowUp::Publish => "publish",
            FollowUp::Verify => "verify",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "note" => FollowUp::Note,
            "resolve" => FollowUp::Resolve,
            "publish" => FollowUp::Publish,
            "verify" => FollowUp::Verify,
            _ => return None,
        })
    }
}

/// What a runbook's `verify` asks of one run, fixed when the run starts (the alarm's name is
/// rendered from the trigger, which the ending no longer has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPlan {
    pub alarm: String,
    pub settle_seconds: u32,
    pub on_failure: crate::catalog::OnFailure,
}

impl VerifyPlan {
    /// When the alarm is to be read, for a run that ended at `ended_at`.
    pub fn due(&self, ended_at: DateTime<Utc>) -> DateTime<Utc> {
        crate::verify::due(
            ended_at,
            chrono::Duration::seconds(i64::from(self.settle_seconds)),
        )
    }
}

/// A run's ending as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnding {
    pub executor: ExecutorKind,
    pub state: FinalState,
    pub executor_status: String,
    pub finished_at: DateTime<Utc>,
    /// Seconds from the start to the end, when both are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// "3/3 instances succeeded", per target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The start of the output, redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}
