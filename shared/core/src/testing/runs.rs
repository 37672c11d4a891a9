//! Run records as the pipeline leaves a started run, for tests of endings.

use crate::finish::ExecutorKind;
use crate::ids::Handle;
use crate::ledger::RunRecord;
use crate::outcome::Outcome;
use chrono::{DateTime, Utc};

/// A run started by `executor` under `handle` for `runbook`, on incident PINC001 (number 42),
/// decided at `decided_at`, its start note posted and no ending yet. Tests change what they
/// need with struct update syntax.
pub fn started_run(
    trigger_id: &str,
    runbook: &str,
    run_id: &str,
    executor: ExecutorKind,
    handle: Handle,
    decided_at: DateTime<Utc>,
) -> RunRecord {
    RunRecord {
        trigger_id: trigger_id.into(),
        source: "pagerduty-v3".to_owned(),
        event_type: "incident.triggered".to_owned(),
        incident_id: Some("PINC001".to_owned()),
        incident_number: Some(42),
        actor: None,
        runbook: Some(runbook.to_owned()),
        run_id: Some(run_id.into()),
        catalog_version: Some("c0ffee".to_owned()),
        targets: Some("tag Role=web".to_owned()),
        outcome: Outcome::Executed,
        run_state: "started".to_owned(),
        reason: None,
        command_id: Some(handle),
        executor: Some(executor),
        verify: None,
        start_error: None,
        note: Some("posted".to_owned()),
        occurred_at: decided_at - chrono::Duration::seconds(2),
        decided_at,
        ending: None,
        pending: Vec::new(),
    }
}
