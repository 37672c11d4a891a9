//! `remediate simulate` for an SSM status-change event (the execution-events function): the
//! event read with the function's own reader, and what the function would do with it. Offline:
//! the run's record and SSM's answer are not read, so the ending itself is not shown.

use crate::commands::{Output, SimulateOptions};
use remediate_adapters::ssm_events::read_status_event;
use serde::Serialize;
use std::fmt::Write as _;

/// Whether a Lambda event is an EventBridge one: an object with `source` and `detail-type`.
pub fn is_eventbridge_event(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|value| {
        value
            .get("source")
            .is_some_and(serde_json::Value::is_string)
            && value
                .get("detail-type")
                .is_some_and(serde_json::Value::is_string)
    })
}

/// What `--json` prints.
#[derive(Serialize)]
struct EventSimulation {
    /// `finish` (the run's ending is recorded and followed up) or `ignore`.
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    executor: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    /// The end state the status means, when it is final.
    #[serde(skip_serializing_if = "Option::is_none")]
    run_state: Option<&'static str>,
}

pub fn simulate(options: &SimulateOptions, event_text: &str) -> Result<Output, String> {
    let value: serde_json::Value = serde_json::from_str(event_text)
        .map_err(|error| format!("{} is not JSON ({error})", options.event.display()))?;
    let simulation = match read_status_event(&value) {
        Err(unusable) => EventSimulation {
            decision: "ignore",
            reason: Some(unusable.to_string()),
            event_id: value
                .get("id")
                .and_then(|id| id.as_str())
                .map(str::to_owned),
            executor: None,
            handle: None,
            status: None,
            run_state: None,
        },
        Ok(event) => {
            let completion = &event.completion;
            EventSimulation {
                decision: if event.final_state.is_some() {
                    "finish"
                } else {
                    "ignore"
                },
                reason: event
                    .final_state
                    .is_none()
                    .then(|| format!("status {} is not final", completion.reported_status)),
                event_id: Some(completion.event_id.clone()),
                executor: Some(completion.executor.as_str()),
                handle: Some(completion.handle.to_string()),
                status: Some(completion.reported_status.clone()),
                run_state: event.final_state.map(|state| state.as_str()),
            }
        }
    };
    if options.json {
        let mut text =
            serde_json::to_string_pretty(&simulation).map_err(|error| error.to_string())?;
        text.push('\n');
        return Ok(Output { text, code: 0 });
    }
    let mut text = String::new();
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(text, "{label:<10} {value}");
    };
    if let Some(event_id) = &simulation.event_id {
        line("event", event_id);
    }
    if let (Some(executor), Some(handle)) = (simulation.executor, &simulation.handle) {
        line("run", &format!("{executor} {handle}"));
    }
    if let Some(status) = &simulation.status {
        let meaning = simulation
            .run_state
            .map_or_else(|| "not final".to_owned(), |state| format!("final: {state}"));
        line("status", &format!("{status} ({meaning})"));
    }
    match simulation.reason.as_deref() {
        Some(reason) => line("decision", &format!("ignore: {reason}")),
        None => line(
            "decision",
            "finish: find the run by this handle in the ledger (runs remediate did not start are \
             ignored), ask SSM how it ended, record the ending once, then note the incident, \
             resolve it if the runbook sets report.resolve_on_success and the run succeeded, and \
             publish the ending to the results topic",
        ),
    }
    Ok(Output { text, code: 0 })
}
