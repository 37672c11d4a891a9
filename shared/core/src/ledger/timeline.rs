//! The ledger's run records as a Markdown timeline, for postmortems (`remediate history`).

use super::RunRecord;
use std::fmt::Write as _;

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
        if let Some(ending) = &record.ending {
            let took = ending
                .duration_seconds
                .map(|seconds| format!(" after {seconds} s"))
                .unwrap_or_default();
            let headline = ending
                .summary
                .as_deref()
                .and_then(|summary| summary.lines().next())
                .map(|line| format!(": {line}"))
                .unwrap_or_default();
            details.push(format!(
                "ended {}{took} ({}){headline}",
                ending.finished_at.format("%H:%M:%S"),
                ending.executor_status
            ));
        }
        if !record.pending.is_empty() {
            let pending: Vec<&str> = record.pending.iter().map(|step| step.as_str()).collect();
            details.push(format!("pending: {}", pending.join(", ")));
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
