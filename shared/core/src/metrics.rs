//! One CloudWatch metric per outcome, as embedded metric format (EMF) log lines: CloudWatch
//! turns these stdout lines into metrics, so there is no client to build and nothing to call.

use crate::finish::FinalState;
use crate::outcome::Outcome;

pub const NAMESPACE: &str = "Remediate";
/// One trigger's outcome: a count per function and outcome.
pub const TRIGGERS: &str = "Triggers";
/// One run's ending: a count per function and end state.
pub const RUNS_ENDED: &str = "RunsEnded";
pub const FUNCTION: &str = "Function";
pub const OUTCOME: &str = "Outcome";
pub const RUN_STATE: &str = "RunState";
/// The runbook an outcome is about, on the `Triggers` line as a plain field, not a dimension:
/// CloudWatch bills every combination of dimension values as a metric of its own, so a catalog
/// of many runbooks would cost per runbook and outcome. Logs Insights reads the field from the
/// same log line (the template's dashboard has a table of outcomes per runbook).
pub const RUNBOOK: &str = "Runbook";

/// The EMF line counting one trigger with this outcome (and the runbook it is about, if any).
pub fn outcome_line(
    function: &str,
    outcome: Outcome,
    runbook: Option<&str>,
    timestamp_ms: i64,
) -> String {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[FUNCTION, OUTCOME]],
                "Metrics": [{ "Name": TRIGGERS, "Unit": "Count" }]
            }]
        },
        FUNCTION: function,
        OUTCOME: outcome.as_str(),
        TRIGGERS: 1
    });
    if let Some(runbook) = runbook {
        line[RUNBOOK] = serde_json::Value::from(runbook);
    }
    line.to_string()
}

#[allow(
    clippy::print_stdout,
    reason = "EMF lines must reach stdout as they are, outside the JSON log format"
)]
pub fn emit_outcome(function: &str, outcome: Outcome, runbook: Option<&str>) {
    let line = outcome_line(
        function,
        outcome,
        runbook,
        chrono::Utc::now().timestamp_millis(),
    );
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
                "Dimensions": [[FUNCTION, RUN_STATE]],
                "Metrics": [{ "Name": RUNS_ENDED, "Unit": "Count" }]
            }]
        },
        FUNCTION: function,
        RUN_STATE: state.as_str(),
        RUNS_ENDED: 1
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
            Some("restart-web"),
            1_700_000_000_000,
        ))
        .unwrap();
        assert_eq!(line["Outcome"], "dry_run");
        assert_eq!(line["Triggers"], 1);
        assert_eq!(line["Runbook"], "restart-web");
        // A field, not a dimension: no metric per runbook.
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Function", "Outcome"]])
        );
        let without: serde_json::Value = serde_json::from_str(&outcome_line(
            "sns-alarm",
            Outcome::Ignored,
            None,
            1_700_000_000_000,
        ))
        .unwrap();
        assert!(without.get("Runbook").is_none(), "{without}");
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
