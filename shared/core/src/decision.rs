//! The decision: given a trigger, the catalog and what is known of past runs, what should happen?
//! Pure: no I/O, no clock (the time comes in the context), so it is cheap to test, to simulate,
//! and to run on every event. It explains itself: which runbook, which condition failed, which
//! guard said no.

use crate::catalog::{
    Action, Catalog, Param, RateLimit, Rejection, Runbook, SSM_REFERENCE_OPENER, TargetSpec,
    Targets,
};
use crate::guards::{GuardView, Reservation, window_start};
use crate::ids::{DedupeId, RunId};
use crate::plan::{
    AutomationRequest, CommandRequest, ExecutionRequest, MAX_COMMENT_CHARS, Plan, RundeckRequest,
};
use crate::template::{Quoting, Template};
use crate::trigger::{Actor, Source, Trigger};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Fixed namespace for run ids: `run id = UUIDv5(namespace, dedupe id + runbook)`, so every
/// redelivery of one trigger computes the same run id.
const RUN_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f1b_0c6e_9a47_4d2c_8f0e_3b1d_5a7c_2e91);
/// A trigger value longer than this is refused before any pattern sees it.
pub const MAX_PARAM_VALUE_BYTES: usize = 1024;

#[derive(Debug, Clone)]
pub struct DecisionContext {
    pub now: DateTime<Utc>,
    /// Older triggers are not executed (PagerDuty retries for up to 48 hours).
    pub max_trigger_age: Duration,
    /// Why every run is dry right now, if a global switch says so (kill switch, `REMEDIATE_DRY_RUN`).
    pub global_dry_run: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Execute(Box<Plan>),
    Ignore { reason: String },
    Refuse { runbook: String, reason: String },
    Suppress { runbook: String, reason: String },
}

/// One check the decision made, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub check: String,
    pub passed: bool,
    pub detail: String,
}

pub fn run_id(dedupe_id: &DedupeId, runbook: &str) -> RunId {
    RunId::new(
        uuid::Uuid::new_v5(
            &RUN_ID_NAMESPACE,
            format!("{dedupe_id}\n{runbook}").as_bytes(),
        )
        .to_string(),
    )
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

/// Why no runbook matched, listing each runbook and the condition it failed (linear: only on
/// the path that ignores, where the explanation is the product).
pub fn no_match_reason(trigger: &Trigger, catalog: &Catalog) -> String {
    let subject = match (&trigger.action, trigger.source) {
        (Some(action), Source::PagerDutyAction) => format!("action {action:?}"),
        _ => format!("{} event {}", trigger.source, trigger.event_type),
    };
    if catalog.runbooks.is_empty() {
        return format!("no runbook matches {subject}: the catalog is empty");
    }
    const LISTED: usize = 10;
    let misses: Vec<String> = catalog
        .evaluate_all(trigger)
        .into_iter()
        .filter_map(|(runbook, mismatch)| {
            mismatch.map(|condition| format!("{} ({condition})", runbook.name))
        })
        .collect();
    let more = misses.len().saturating_sub(LISTED);
    let mut listed = misses
        .into_iter()
        .take(LISTED)
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        listed.push_str(&format!(" and {more} more"));
    }
    format!("no runbook matches {subject}; not matched: {listed}")
}

/// The first runbook whose `when` matches (through the index), or why none did.
pub fn select<'c>(trigger: &Trigger, catalog: &'c Catalog) -> Result<&'c Runbook, String> {
    catalog
        .first_match(trigger)
        .ok_or_else(|| no_match_reason(trigger, catalog))
}

pub fn decide(
    trigger: &Trigger,
    catalog: &Catalog,
    context: &DecisionContext,
    guards: &dyn GuardView,
) -> Decision {
    decide_explained(trigger, catalog, context, guards, None)
}

/// [`decide`], recording every check it made into `verdicts` when given.
pub fn decide_explained(
    trigger: &Trigger,
    catalog: &Catalog,
    context: &DecisionContext,
    guards: &dyn GuardView,
    mut verdicts: Option<&mut Vec<Verdict>>,
) -> Decision {
    let runbook = match select(trigger, catalog) {
        Ok(runbook) => runbook,
        Err(reason) => return Decision::Ignore { reason },
    };
    let mut note = |check: &str, passed: bool, detail: String| {
        if let Some(verdicts) = verdicts.as_deref_mut() {
            verdicts.push(Verdict {
                check: check.to_owned(),
                passed,
                detail,
            });
        }
    };
    let refuse = |reason: String| Decision::Refuse {
        runbook: runbook.name.clone(),
        reason,
    };

    let age = context.now.signed_duration_since(trigger.occurred_at);
    let fresh = age <= context.max_trigger_age;
    note(
        "age",
        fresh,
        format!(
            "{} old, limit {}",
            human_duration(age),
            human_duration(context.max_trigger_age)
        ),
    );
    if !fresh {
        return refuse(format!(
            "the event is {} old, older than the {} limit (a late redelivery is not acted on)",
            human_duration(age),
            human_duration(context.max_trigger_age)
        ));
    }
    if let Some(incident) = &trigger.incident {
        let open = incident.status != "resolved";
        note("incident open", open, format!("status {}", incident.status));
        if !open {
            let label = incident
                .number
                .map_or_else(|| incident.id.clone(), |number| format!("#{number}"));
            return refuse(format!("incident {label} is resolved"));
        }
    }
    if let Err(reason) = check_guards(trigger, runbook, &mut note) {
        return refuse(reason);
    }
    let params = match render_params(trigger, &runbook.params) {
        Ok(params) => params,
        Err(reason) => {
            note("parameters", false, reason.clone());
            return refuse(reason);
        }
    };
    note(
        "parameters",
        true,
        format!("{} rendered, each matched its rule", params.len()),
    );
    let run_id = run_id(&trigger.dedupe_id, &runbook.name);
    let request = match render_action(&runbook.action, &params, &run_id, &runbook.name) {
        Ok(request) => request,
        Err(reason) => {
            note("action", false, reason.clone());
            return refuse(reason);
        }
    };
    let targets = match &request {
        ExecutionRequest::SsmCommand(command) => Some(&command.targets),
        ExecutionRequest::SsmAutomation(automation) => automation.targets.as_ref(),
        ExecutionRequest::Rundeck(_) => None,
    };
    if let (Some(max), Some(count)) = (
        runbook.guards.max_targets,
        targets.and_then(Targets::known_count),
    ) {
        let within = count <= max as usize;
        note(
            "max_targets",
            within,
            format!("{count} target(s), at most {max}"),
        );
        if !within {
            return refuse(format!(
                "{count} targets exceed the runbook's limit of {max} (max_targets)"
            ));
        }
    }
    // A Rundeck job's node filter is its target: a runbook cools down per filter, as an SSM one
    // does per instance.
    let target_key = match &request {
        ExecutionRequest::Rundeck(job) => job.filter.clone(),
        _ => targets.map(Targets::describe),
    }
    .unwrap_or_else(|| runbook.name.clone());
    let reservation = (runbook.guards.cooldown_seconds.is_some()
        || runbook.guards.max_runs.is_some())
    .then(|| Reservation {
        runbook: runbook.name.clone(),
        run_id: run_id.to_string(),
        target: target_key.clone(),
        cooldown_seconds: runbook.guards.cooldown_seconds,
        max_runs: runbook.guards.max_runs,
    });
    if let Some(reason) = suppressed_by_history(
        &runbook.name,
        &target_key,
        runbook.guards.max_runs,
        runbook.guards.cooldown_seconds,
        context.now,
        guards,
    ) {
        note("cooldown and rate", false, reason.clone());
        return Decision::Suppress {
            runbook: runbook.name.clone(),
            reason,
        };
    }
    let dry_run = context.global_dry_run.clone().or_else(|| {
        runbook
            .dry_run
            .then(|| format!("runbook {} is marked dry_run", runbook.name))
    });
    note(
        "dry run",
        dry_run.is_none(),
        dry_run
            .clone()
            .unwrap_or_else(|| "no switch set".to_owned()),
    );
    Decision::Execute(Box::new(Plan {
        run_id,
        runbook: runbook.name.clone(),
        catalog_version: catalog.version.clone(),
        dry_run,
        params,
        request,
        reservation,
        max_targets: runbook.guards.max_targets,
        report: runbook.report,
    }))
}

fn check_guards(
    trigger: &Trigger,
    runbook: &Runbook,
    note: &mut impl FnMut(&str, bool, String),
) -> Result<(), String> {
    let guards = &runbook.guards;
    let incident = trigger.incident.as_ref();
    if !guards.allowed_users.is_empty() {
        // Whatever the source: a trigger that names no person allowed to run this runbook (an
        // alarm, an event PagerDuty's integration caused) fails the guard, never skips it.
        let actor = trigger.actor.as_ref();
        // Ids only: PagerDuty confirms the id of the person who tapped (or the signature vouches
        // for a workflow's agent), not a display name.
        let allowed = actor.is_some_and(|actor| guards.allowed_users.contains(&actor.id));
        let who = actor.map_or_else(|| "nobody".to_owned(), Actor::display);
        note("allowed_users", allowed, who.clone());
        if !allowed {
            return Err(format!(
                "{who} is not among the users allowed to run {}",
                runbook.name
            ));
        }
    }
    if !guards.allowed_teams.is_empty() {
        let allowed = incident.is_some_and(|incident| {
            incident.teams.iter().any(|team| {
                guards
                    .allowed_teams
                    .iter()
                    .any(|t| *t == team.id || *t == team.name)
            })
        });
        note(
            "allowed_teams",
            allowed,
            format!("allowed: {}", guards.allowed_teams.join(", ")),
        );
        if !allowed {
            return Err(format!(
                "the incident belongs to none of the teams allowed for {}",
                runbook.name
            ));
        }
    }
    if !guards.incident_status.is_empty() {
        let status = incident
            .map(|incident| incident.status.as_str())
            .unwrap_or("none");
        let allowed = guards.incident_status.iter().any(|wanted| wanted == status);
        note("incident_status", allowed, format!("status {status}"));
        if !allowed {
            return Err(format!(
                "incident status is {status}; {} needs {}",
                runbook.name,
                guards.incident_status.join(" or ")
            ));
        }
    }
    if !guards.urgency.is_empty() {
        let urgency = incident
            .and_then(|incident| incident.urgency.as_deref())
            .unwrap_or("none");
        let allowed = guards.urgency.iter().any(|wanted| wanted == urgency);
        note("urgency", allowed, format!("urgency {urgency}"));
        if !allowed {
            return Err(format!(
                "incident urgency is {urgency}; {} needs {}",
                runbook.name,
                guards.urgency.join(" or ")
            ));
        }
    }
    Ok(())
}

fn suppressed_by_history(
    runbook: &str,
    target: &str,
    max_runs: Option<RateLimit>,
    cooldown: Option<u64>,
    now: DateTime<Utc>,
    guards: &dyn GuardView,
) -> Option<String> {
    if cooldown.is_some()
        && let Some(until) = guards.cooldown_until(runbook, target)
        && until > now
    {
        return Some(format!(
            "{runbook} ran on {target} recently; cooling down for {} more",
            human_duration(until - now)
        ));
    }
    if let Some(limit) = max_runs {
        let start = window_start(now, limit.window_seconds);
        let runs = guards.runs_in_window(runbook, start);
        if runs >= limit.count {
            return Some(format!(
                "{runbook} already ran {runs} time(s) in this {} window (max_runs {})",
                human_duration(Duration::seconds(limit.window_seconds as i64)),
                limit.count
            ));
        }
    }
    None
}

/// A value for a refusal message: escaped, and short, since it may be hostile.
fn excerpt(value: &str) -> String {
    let escaped = format!("{value:?}");
    if escaped.chars().count() > 60 {
        format!("{}…\"", escaped.chars().take(58).collect::<String>())
    } else {
        escaped
    }
}

/// Every parameter's value from the trigger, checked. Fails closed: a missing value without a
/// default, or a value its rule does not accept, refuses the run.
pub fn render_params(
    trigger: &Trigger,
    params: &[Param],
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for param in params {
        let value = match param
            .from
            .render(Quoting::None, |field| trigger.field(field))
        {
            Ok(value) => value,
            Err(error) => match &param.default {
                Some(default) => default.clone(),
                None => {
                    return Err(format!(
                        "parameter {}: {error}, and it has no default",
                        param.name
                    ));
                }
            },
        };
        if value.len() > MAX_PARAM_VALUE_BYTES {
            return Err(format!(
                "parameter {}: the value is longer than {MAX_PARAM_VALUE_BYTES} bytes",
                param.name
            ));
        }
        if let Some(rejection) = param.rule.rejection(&value) {
            let why = match rejection {
                Rejection::NoMatch => format!("does not match its {}", param.rule.describe()),
                Rejection::NotAscii => format!(
                    "is not ASCII (its {} accepts ASCII only; a parameter may set unicode: true)",
                    param.rule.describe()
                ),
                Rejection::Reference => {
                    "contains {{, which SSM would resolve as a parameter reference".to_owned()
                }
            };
            return Err(format!(
                "parameter {}: {} {why}",
                param.name,
                excerpt(&value)
            ));
        }
        values.insert(param.name.clone(), value);
    }
    Ok(values)
}

/// Render one action value. Values never hold `{{` (their rules refuse it), but two values, or a
/// value and the text around it, can still meet as `{{` (`x{` then `{ssm:...}}`): SSM would
/// resolve that as a reference when it runs the command, so the rendered text is checked too.
fn render(
    template: &Template,
    quoting: Quoting,
    params: &BTreeMap<String, String>,
    what: &str,
) -> Result<String, String> {
    if quoting == Quoting::Powershell {
        powershell_native_safe(template, params)?;
    }
    let rendered = template
        .render(quoting, |name| {
            name.strip_prefix("params.")
                .and_then(|name| params.get(name).cloned())
        })
        .map_err(|error| error.to_string())?;
    if rendered.contains(SSM_REFERENCE_OPENER) {
        return Err(format!(
            "{what}: the rendered value {} contains {{{{, which SSM would resolve as a parameter reference",
            excerpt(&rendered)
        ));
    }
    Ok(rendered)
}

/// Windows PowerShell 5.1 passes an argument to a native program (`cmd`, `icacls`, any
/// `.exe`) by wrapping it in double quotes without escaping what is inside: a `"` in the value
/// ends that quoting, and a trailing `\` escapes the closing quote, so the program would see
/// other arguments than the one value. PowerShell's own quoting cannot prevent that, so such
/// values are refused for PowerShell scripts.
fn powershell_native_safe(
    template: &Template,
    params: &BTreeMap<String, String>,
) -> Result<(), String> {
    for name in template.placeholders() {
        let Some(param) = name.strip_prefix("params.") else {
            continue;
        };
        let Some(value) = params.get(param) else {
            continue;
        };
        if value.contains('"') || value.ends_with('\\') {
            return Err(format!(
                "parameter {param}: {} contains a double quote or ends with a backslash, which Windows PowerShell would pass to a native program as other arguments",
                excerpt(value)
            ));
        }
    }
    Ok(())
}

fn render_targets(spec: &TargetSpec, params: &BTreeMap<String, String>) -> Result<Targets, String> {
    match spec {
        TargetSpec::InstanceIds(templates) => {
            let mut ids = Vec::with_capacity(templates.len());
            for template in templates {
                let id = render(template, Quoting::None, params, "target")?;
                // Checked again after rendering: a parameter's own pattern may be looser.
                if !crate::catalog::compile_support::is_instance_id(&id) {
                    return Err(format!("target {} is not an instance id", excerpt(&id)));
                }
                ids.push(id);
            }
            Ok(Targets::InstanceIds(ids))
        }
        TargetSpec::Tags(tags) => {
            let mut rendered = BTreeMap::new();
            for (key, templates) in tags {
                let values = templates
                    .iter()
                    .map(|template| render(template, Quoting::None, params, &format!("tag {key}")))
                    .collect::<Result<Vec<_>, _>>()?;
                rendered.insert(key.clone(), values);
            }
            Ok(Targets::Tags(rendered))
        }
    }
}

fn render_parameters(
    parameters: &BTreeMap<String, Vec<Template>>,
    params: &BTreeMap<String, String>,
    shell: Quoting,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    parameters
        .iter()
        .map(|(name, templates)| {
            // Only the `commands` parameter of a shell document is shell text.
            let quoting = if name == "commands" {
                shell
            } else {
                Quoting::None
            };
            let values = templates
                .iter()
                .map(|template| {
                    render(
                        template,
                        quoting,
                        params,
                        &format!("document parameter {name}"),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((name.clone(), values))
        })
        .collect()
}

fn render_action(
    action: &Action,
    params: &BTreeMap<String, String>,
    run_id: &str,
    runbook: &str,
) -> Result<ExecutionRequest, String> {
    match action {
        Action::SsmCommand(command) => {
            let mut parameters = render_parameters(&command.parameters, params, command.shell)?;
            if let Some(seconds) = command.execution_timeout_seconds {
                parameters.insert("executionTimeout".to_owned(), vec![seconds.to_string()]);
            }
            Ok(ExecutionRequest::SsmCommand(CommandRequest {
                document: command.document.clone(),
                targets: render_targets(&command.targets, params)?,
                parameters,
                delivery_timeout_seconds: command.delivery_timeout_seconds,
                max_concurrency: command.max_concurrency.clone(),
                max_errors: command.max_errors.clone(),
                comment: correlation_comment(run_id, runbook),
            }))
        }
        Action::SsmAutomation(automation) => {
            Ok(ExecutionRequest::SsmAutomation(AutomationRequest {
                document: automation.document.clone(),
                document_version: automation.document_version.clone(),
                parameters: render_parameters(&automation.parameters, params, Quoting::None)?,
                target_parameter: automation.target_parameter.clone(),
                targets: automation
                    .targets
                    .as_ref()
                    .map(|spec| render_targets(spec, params))
                    .transpose()?,
                max_concurrency: automation.max_concurrency.clone(),
                max_errors: automation.max_errors.clone(),
                // The run id is already a UUIDv5 of the trigger and runbook: deterministic per trigger.
                client_token: run_id.to_owned(),
            }))
        }
        Action::Rundeck(job) => {
            let options = job
                .options
                .iter()
                .map(|(name, template)| {
                    Ok((
                        name.clone(),
                        render(template, Quoting::None, params, &format!("option {name}"))?,
                    ))
                })
                .collect::<Result<BTreeMap<_, _>, String>>()?;
            let filter = job
                .filter
                .as_ref()
                .map(|template| render(template, Quoting::None, params, "filter"))
                .transpose()?;
            Ok(ExecutionRequest::Rundeck(RundeckRequest {
                job_id: job.job_id.clone(),
                options,
                run_id: run_id.into(),
                loglevel: job.loglevel,
                filter,
                as_user: job.as_user.clone(),
            }))
        }
    }
}

#[cfg(test)]
mod tests;
