//! The text of the notes written onto incidents. Short, first line first: on a phone at 3 a.m.
//! the first line is what people read.

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
