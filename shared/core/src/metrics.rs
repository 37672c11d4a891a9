//! One CloudWatch metric per outcome, as embedded metric format (EMF) log lines: CloudWatch
//! turns these stdout lines into metrics, so there is no client to build and nothing to call.

use crate::finish::FinalState;
use crate::outcome::Outcome;

pub const NAMESPACE: &str = "Remediate";

/// The EMF line counting one trigger with this outcome.
pub fn outcome_line(function: &str, outcome: Outcome, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function", "Outcome"]],
                "Metrics": [{ "Name": "Triggers", "Unit": "Count" }]
            }]
        },
        "Function": function,
        "Outcome": outcome.as_str(),
        "Triggers": 1
    })
    .to_string()
}

#[allow(
    clippy::print_stdout,
    reason = "EMF lines must reach stdout as they are, outside the JSON log format"
)]
pub fn emit_outcome(function: &str, outcome: Outcome) {
    let line = outcome_line(function, outcome, chrono::Utc::now().timestamp_millis());
    // println! (not a raw stdout handle) so that test harnesses capture it like any output.
    println!("{line}");
}

/// One run's ending: a count per function and end state (`RunsEnded`), so that failed and
/// timed-out remediations can be graphed and alarmed on like outcomes.
pub fn run_ended_line(function: &str, state: FinalState, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function", "RunState"]],
                "Metrics": [{ "Name": "RunsEnded", "Unit": "Count" }]
            }]
        },
        "Function": function,
        "RunState": state.as_str(),
        "RunsEnded": 1
    })
    .to_string()
}

#[allow(
    clippy::print_stdout,
    reason = "EMF lines must reach stdout as they are, outside the JSON log format"
)]
pub fn emit_run_ended(function: &str, state: FinalState) {
    let line = run_ended_line(function, state, chrono::Utc::now().timestamp_millis());
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_is_valid_emf() {
        let line: serde_json::Value = serde_json::from_str(&outcome_line(
            "pagerduty-webhook",
            Outcome::DryRun,
            1_700_000_000_000,
        ))
        .unwrap();
        assert_eq!(line["Outcome"], "dry_run");
        assert_eq!(line["Triggers"], 1);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][1],
            "Outcome"
        );
    }

    #[test]
    fn a_run_ending_is_counted_by_its_state() {
        let line: serde_json::Value = serde_json::from_str(&run_ended_line(
            "execution-events",
            FinalState::TimedOut,
            1_700_000_000_000,
        ))
        .unwrap_or_default();
        assert_eq!(line["RunState"], "timed_out");
        assert_eq!(line["RunsEnded"], 1);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "RunsEnded"
        );
    }
}
