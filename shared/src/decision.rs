//! The decision: given a trigger and the catalog, what should happen? Pure: no I/O, no clock
//! (the time comes in the context), so it is cheap to test and to simulate.

use crate::catalog::{Action, Catalog, Runbook};
use crate::ssm::{CommandRequest, MAX_COMMENT_CHARS};
use crate::trigger::{Source, Trigger};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Fixed namespace for run ids: `run id = UUIDv5(namespace, dedupe id + runbook)`, so every
/// redelivery of one trigger computes the same run id.
const RUN_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f1b_0c6e_9a47_4d2c_8f0e_3b1d_5a7c_2e91);

#[derive(Debug, Clone)]
pub struct DecisionContext {
    pub now: DateTime<Utc>,
    /// Older triggers are not executed (PagerDuty retries for up to 48 hours).
    pub max_trigger_age: Duration,
    /// Why every run is dry right now, if a global switch says so (e.g. `REMEDIATE_DRY_RUN`).
    pub global_dry_run: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Execute(Box<Plan>),
    Ignore { reason: String },
    Refuse { runbook: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub run_id: String,
    pub runbook: String,
    pub catalog_version: String,
    /// Set when the run must only be reported, never executed, with the reason.
    pub dry_run: Option<String>,
    pub command: CommandRequest,
}

pub fn run_id(dedupe_id: &str, runbook: &str) -> String {
    uuid::Uuid::new_v5(
        &RUN_ID_NAMESPACE,
        format!("{dedupe_id}\n{runbook}").as_bytes(),
    )
    .to_string()
}

/// The first runbook whose `when` matches, or why none did.
pub fn select<'c>(trigger: &Trigger, catalog: &'c Catalog) -> Result<&'c Runbook, String> {
    let mut misses = Vec::new();
    for runbook in &catalog.runbooks {
        match runbook.when.first_mismatch(trigger) {
            None => return Ok(runbook),
            Some(condition) => misses.push(format!("{} ({condition})", runbook.name)),
        }
    }
    let subject = match (&trigger.action, trigger.source) {
        (Some(action), Source::PagerDutyAction) => format!("action {action:?}"),
        _ => format!("{} event {}", trigger.source, trigger.event_type),
    };
    Err(if misses.is_empty() {
        format!("no runbook matches {subject}: the catalog is empty")
    } else {
        format!(
            "no runbook matches {subject}; not matched: {}",
            misses.join(", ")
        )
    })
}

pub fn decide(trigger: &Trigger, catalog: &Catalog, context: &DecisionContext) -> Decision {
    let runbook = match select(trigger, catalog) {
        Ok(runbook) => runbook,
        Err(reason) => return Decision::Ignore { reason },
    };
    let refuse = |reason: String| Decision::Refuse {
        runbook: runbook.name.clone(),
        reason,
    };
    let age = context.now.signed_duration_since(trigger.occurred_at);
    if age > context.max_trigger_age {
        return refuse(format!(
            "the event is {} old, older than the {} limit (a late redelivery is not acted on)",
            human_duration(age),
            human_duration(context.max_trigger_age)
        ));
    }
    if let Some(incident) = &trigger.incident
        && incident.status == "resolved"
    {
        return refuse(format!(
            "incident {} is resolved",
            incident
                .number
                .map_or_else(|| incident.id.clone(), |n| format!("#{n}"))
        ));
    }
    let run_id = run_id(&trigger.dedupe_id, &runbook.name);
    let dry_run = context.global_dry_run.clone().or_else(|| {
        runbook
            .dry_run
            .then(|| format!("runbook {} is marked dry_run", runbook.name))
    });
    let Action::SsmCommand(command) = &runbook.action;
    let mut parameters = command.parameters.clone();
    if let Some(seconds) = command.execution_timeout_seconds {
        parameters.insert("executionTimeout".to_owned(), vec![seconds.to_string()]);
    }
    Decision::Execute(Box::new(Plan {
        run_id: run_id.clone(),
        runbook: runbook.name.clone(),
        catalog_version: catalog.version.clone(),
        dry_run,
        command: CommandRequest {
            document: command.document.clone(),
            targets: command.targets.clone(),
            parameters,
            delivery_timeout_seconds: command.delivery_timeout_seconds,
            max_concurrency: command.max_concurrency.clone(),
            max_errors: command.max_errors.clone(),
            comment: correlation_comment(&run_id, &runbook.name),
        },
    }))
}

/// `remediate <run id> <runbook>`, cut to SendCommand's 100 characters. The run id comes first
/// so that the cut never loses it.
pub fn correlation_comment(run_id: &str, runbook: &str) -> String {
    format!("remediate {run_id} {runbook}")
        .chars()
        .take(MAX_COMMENT_CHARS)
        .collect()
}

pub fn human_duration(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests;
