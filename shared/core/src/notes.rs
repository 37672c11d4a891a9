//! The text of the notes written onto incidents. Short, first line first: on a phone at 3 a.m.
//! the first line is what people read.

use crate::decision::human_duration;
use crate::finish::{ExecutorKind, RunEnding};
use crate::ledger::RunRecord;
use crate::plan::Plan;
use crate::ports::executor::{
    RUNDECK_HANDLE_PREFIX, StartedAutomation, StartedCommand, StartedJob,
};
use crate::trigger::Trigger;

/// The AWS console page of one Run Command invocation.
pub fn command_console_url(region: &str, command_id: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/systems-manager/run-command/{command_id}?region={region}"
    )
}

fn footer(plan: &Plan) -> String {
    format!("Run {}, catalog {}", plan.run_id, plan.catalog_version)
}

pub fn started(trigger: &Trigger, plan: &Plan, command: &StartedCommand, region: &str) -> String {
    let instances = match command.target_count {
        Some(1) => " (1 instance)".to_owned(),
        Some(count) if count > 1 => format!(" ({count} instances)"),
        _ => String::new(),
    };
    format!(
        "remediate: {runbook} started by {cause} on {targets}{instances}.\n\
         SSM command {id} ({document}).\n\
         Console: {url}\n\
         {footer}",
        runbook = plan.runbook,
        cause = trigger.cause(),
        targets = plan.targets(),
        id = command.command_id,
        document = plan.what(),
        url = command_console_url(region, &command.command_id),
        footer = footer(plan),
    )
}

/// The AWS console page of one Automation execution.
pub fn automation_console_url(region: &str, execution_id: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/systems-manager/automation/execution/{execution_id}?region={region}"
    )
}

pub fn automation_started(
    trigger: &Trigger,
    plan: &Plan,
    started: &StartedAutomation,
    region: &str,
) -> String {
    format!(
        "remediate: {runbook} started by {cause} on {targets}.\n\
         SSM Automation execution {id} ({document}).\n\
         Console: {url}\n\
         {footer}",
        runbook = plan.runbook,
        cause = trigger.cause(),
        targets = plan.targets(),
        id = started.execution_id,
        document = plan.what(),
        url = automation_console_url(region, &started.execution_id),
        footer = footer(plan),
    )
}

pub fn rundeck_started(trigger: &Trigger, plan: &Plan, job: &StartedJob) -> String {
    let link = job
        .permalink
        .as_deref()
        .map(|url| format!("Rundeck: {url}\n"))
        .unwrap_or_default();
    format!(
        "remediate: {runbook} started by {cause} on {targets}.\n\
         Rundeck execution {id} ({job}).\n\
         {link}\
         {footer}",
        runbook = plan.runbook,
        cause = trigger.cause(),
        targets = plan.targets(),
        id = job
            .execution_id
            .strip_prefix(RUNDECK_HANDLE_PREFIX)
            .unwrap_or(&job.execution_id),
        job = plan.what(),
        footer = footer(plan),
    )
}

pub fn dry_run(trigger: &Trigger, plan: &Plan) -> String {
    format!(
        "remediate: {runbook} dry run for {cause}: would run {document} on {targets}. Nothing was executed ({why}).\n\
         {footer}",
        runbook = plan.runbook,
        cause = trigger.cause(),
        document = plan.what(),
        targets = plan.targets(),
        why = plan.dry_run.as_deref().unwrap_or("dry run"),
        footer = footer(plan),
    )
}

/// An alarm that a runbook watches left ALARM: said on its incident, nothing run.
pub fn alarm_recovered(alarm: &str, state: &str, runbook: &str) -> String {
    format!(
        "remediate: CloudWatch alarm {alarm} is {state} again. Nothing was run for this transition ({runbook} runs only on ALARM)."
    )
}

pub fn refused(trigger: &Trigger, runbook: &str, reason: &str) -> String {
    format!(
        "remediate: {runbook} not run for {cause}: {reason}.",
        cause = trigger.cause()
    )
}

pub fn start_failed(trigger: &Trigger, plan: &Plan, error: &str) -> String {
    format!(
        "remediate: {runbook} failed to start for {cause}: {error}\n{footer}",
        runbook = plan.runbook,
        cause = trigger.cause(),
        footer = footer(plan),
    )
}

pub fn suppressed(trigger: &Trigger, runbook: &str, reason: &str) -> String {
    format!(
        "remediate: {runbook} held back for {cause}: {reason}.",
        cause = trigger.cause()
    )
}

/// The console page of a run's handle, for the executors that have one.
pub fn console_url(executor: ExecutorKind, region: &str, handle: &str) -> Option<String> {
    match executor {
        ExecutorKind::SsmCommand => Some(command_console_url(region, handle)),
        ExecutorKind::SsmAutomation => Some(automation_console_url(region, handle)),
        ExecutorKind::Rundeck => None,
    }
}

/// How a run ended: the first line says it all ("restart-web succeeded in 42 s: 3/3 instances
/// succeeded"); then the executor's word, each target, the output excerpt and the console.
pub fn finished(run: &RunRecord, ending: &RunEnding, region: &str) -> String {
    let runbook = run.runbook.as_deref().unwrap_or("the runbook");
    let took = ending
        .duration_seconds
        .map(|seconds| format!(" in {}", human_duration(chrono::Duration::seconds(seconds))))
        .unwrap_or_default();
    let mut summary_lines = ending.summary.as_deref().unwrap_or("").lines();
    let headline = summary_lines
        .next()
        .map(|line| format!(": {line}"))
        .unwrap_or_default();
    let mut text = format!(
        "remediate: {runbook} {verb}{took}{headline}.",
        verb = ending.state.verb()
    );
    let handle = run.command_id.as_deref().unwrap_or("?");
    text.push_str(&format!(
        "\n{label} {handle}: {status}.",
        label = ending.executor.handle_label(),
        status = ending.executor_status,
    ));
    for line in summary_lines {
        text.push('\n');
        text.push_str(line);
    }
    if let Some(excerpt) = &ending.excerpt {
        text.push_str("\nOutput (start, secrets hidden):\n");
        text.push_str(excerpt);
    }
    if let Some(url) = console_url(ending.executor, region, handle) {
        text.push_str(&format!("\nConsole: {url}"));
    }
    if let Some(run_id) = &run.run_id {
        text.push_str(&format!("\nRun {run_id}"));
    }
    text
}

/// The resolution PagerDuty writes on the incident's resolve log entry.
pub fn resolution(run: &RunRecord, ending: &RunEnding) -> String {
    format!(
        "Resolved by remediate: {runbook} {verb} ({executor} {handle}, run {run_id}).",
        runbook = run.runbook.as_deref().unwrap_or("the runbook"),
        verb = ending.state.verb(),
        executor = ending.executor.handle_label(),
        handle = run.command_id.as_deref().unwrap_or("?"),
        run_id = run.run_id.as_deref().unwrap_or("?"),
    )
}

/// `2 min 10 s`: [`human_duration`] with the seconds kept under an hour, where "back to OK after
/// 2 min" would hide that it took closer to 3.
fn duration_with_seconds(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    match seconds {
        60..3600 if seconds % 60 != 0 => {
            format!("{} {} s", human_duration(duration), seconds % 60)
        }
        _ => human_duration(duration),
    }
}

/// What the alarm said after the run succeeded (`verify:`): "restart-web succeeded; alarm HighCPU
/// back to OK after 2 min 10 s", or "... still in ALARM after 5 min: escalating" when the runbook
/// escalates on failure.
pub fn verified(
    runbook: &str,
    alarm: &str,
    verdict: &crate::verify::Verdict,
    on_failure: crate::catalog::OnFailure,
) -> String {
    use crate::verify::Verdict;
    let said = match verdict {
        Verdict::Recovered { after } if after.is_zero() => {
            "back to OK (already when the run ended)".to_owned()
        }
        Verdict::Recovered { after } => {
            format!("back to OK after {}", duration_with_seconds(*after))
        }
        Verdict::StillAlarm { for_ } => {
            format!("still in ALARM after {}", duration_with_seconds(*for_))
        }
        Verdict::NoData => "has no data (INSUFFICIENT_DATA), which is not a recovery".to_owned(),
        Verdict::AlarmGone => "no longer exists: not verified".to_owned(),
        Verdict::NotYet { due } => format!("to be checked at {}", due.format("%H:%M:%S UTC")),
    };
    let escalating = if verdict.is_failure() && on_failure == crate::catalog::OnFailure::Escalate {
        ": escalating"
    } else {
        ""
    };
    format!("{runbook} succeeded; alarm {alarm} {said}{escalating}")
}

#[cfg(test)]
mod verified_tests {
    use super::*;
    use crate::catalog::OnFailure;
    use crate::verify::Verdict;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn recovery_reads_as_the_issue_says() {
        let recovered = Verdict::Recovered {
            after: Duration::seconds(130),
        };
        for on_failure in [OnFailure::Note, OnFailure::Escalate] {
            assert_eq!(
                verified("restart-web", "HighCPU", &recovered, on_failure),
                "restart-web succeeded; alarm HighCPU back to OK after 2 min 10 s"
            );
        }
        let already = Verdict::Recovered {
            after: Duration::zero(),
        };
        assert_eq!(
            verified("restart-web", "HighCPU", &already, OnFailure::Note),
            "restart-web succeeded; alarm HighCPU back to OK (already when the run ended)"
        );
    }

    #[test]
    fn still_in_alarm_says_escalating_only_when_the_runbook_escalates() {
        let still = Verdict::StillAlarm {
            for_: Duration::minutes(5),
        };
        assert_eq!(
            verified("restart-web", "HighCPU", &still, OnFailure::Escalate),
            "restart-web succeeded; alarm HighCPU still in ALARM after 5 min: escalating"
        );
        assert_eq!(
            verified("restart-web", "HighCPU", &still, OnFailure::Note),
            "restart-web succeeded; alarm HighCPU still in ALARM after 5 min"
        );
    }

    #[test]
    fn no_data_is_a_failure_and_a_gone_alarm_is_not() {
        assert_eq!(
            verified(
                "restart-web",
                "HighCPU",
                &Verdict::NoData,
                OnFailure::Escalate
            ),
            "restart-web succeeded; alarm HighCPU has no data (INSUFFICIENT_DATA), which is not a recovery: escalating"
        );
        assert_eq!(
            verified(
                "restart-web",
                "HighCPU",
                &Verdict::AlarmGone,
                OnFailure::Escalate
            ),
            "restart-web succeeded; alarm HighCPU no longer exists: not verified"
        );
    }

    #[test]
    fn not_yet_names_the_time_of_the_check() {
        let due = Utc
            .with_ymd_and_hms(2026, 8, 1, 12, 15, 0)
            .single()
            .expect("a valid time");
        assert_eq!(
            verified(
                "restart-web",
                "HighCPU",
                &Verdict::NotYet { due },
                OnFailure::Note
            ),
            "restart-web succeeded; alarm HighCPU to be checked at 12:15:00 UTC"
        );
    }

    #[test]
    fn durations_keep_their_seconds_under_an_hour() {
        for (seconds, text) in [
            (0, "0 s"),
            (59, "59 s"),
            (60, "1 min"),
            (61, "1 min 1 s"),
            (3599, "59 min 59 s"),
            (3600, "1 h 0 min"),
            (3661, "1 h 1 min"),
        ] {
            assert_eq!(duration_with_seconds(Duration::seconds(seconds)), text);
        }
    }
}
