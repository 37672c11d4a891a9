//! The subcommands. Each returns its whole output and exit code, so tests read them directly.

use crate::{simulate_execution, simulate_sns};
use pagerduty_webhook::{self as webhook, Credentials, Inbound, Route, status_for};
use remediate_core::catalog::{Action, Catalog, Runbook};
use remediate_core::decision::{self, Decision, DecisionContext, Verdict};
use remediate_core::guards::NoHistory;
use remediate_core::notes;
use remediate_core::outcome::Outcome;
use remediate_core::plan::{ExecutionRequest, Plan};
use remediate_core::ports::executor::StartedCommand;
use remediate_core::secrets::Secret;
use remediate_core::trigger::Trigger;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct Output {
    pub text: String,
    pub code: u8,
}

#[allow(clippy::print_stdout, reason = "a command-line tool prints its output")]
pub fn emit(text: &str) {
    print!("{text}");
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn load(path: &Path) -> Result<Catalog, String> {
    let text = read(path)?;
    Catalog::parse(&text, &path.display().to_string()).map_err(|error| error.to_string())
}

pub fn check(paths: &[PathBuf]) -> Result<Output, String> {
    let mut text = String::new();
    let mut code = 0;
    for path in paths {
        let source = read(path)?;
        match Catalog::parse(&source, &path.display().to_string()) {
            Ok(catalog) => {
                let _ = writeln!(
                    text,
                    "{}: ok, {} runbook(s), version {}",
                    path.display(),
                    catalog.runbooks.len(),
                    catalog.version
                );
            }
            Err(remediate_core::Error::Catalog { problems, .. }) => {
                code = 1;
                for problem in problems {
                    let _ = writeln!(text, "{problem}");
                }
            }
            Err(other) => return Err(other.to_string()),
        }
    }
    Ok(Output { text, code })
}

fn describe_when(runbook: &Runbook) -> String {
    let when = &runbook.when;
    let mut parts = Vec::new();
    let list = |name: &str, values: &[String]| {
        (!values.is_empty()).then(|| format!("{name} {}", values.join("|")))
    };
    if !when.sources.is_empty() {
        parts.push(format!(
            "source {}",
            when.sources
                .iter()
                .map(|source| source.as_str())
                .collect::<Vec<_>>()
                .join("|")
        ));
    }
    parts.extend(list("event", &when.event_types));
    parts.extend(list("action", &when.actions));
    parts.extend(list("service", &when.services));
    if let Some(title) = &when.title {
        parts.push(format!("title /{}/", title.as_str()));
    }
    parts.extend(list("urgency", &when.urgency));
    parts.extend(list("priority", &when.priority));
    parts.extend(list("team", &when.teams));
    parts.extend(list("status", &when.status));
    if let Some(alarm) = &when.alarm {
        let mut alarm_parts = vec![format!("state {}", alarm.states.join("|"))];
        if let Some(name) = &alarm.name {
            alarm_parts.push(format!("name /{}/", name.as_str()));
        }
        alarm_parts.extend(list("namespace", &alarm.namespaces));
        alarm_parts.extend(list("metric", &alarm.metrics));
        parts.push(format!("alarm ({})", alarm_parts.join(", ")));
    }
    if let Some(event) = &when.event {
        let mut event_parts = vec![format!(
            "{} {}",
            event.sources.join("|"),
            event.detail_types.join("|")
        )];
        if !event.finding_types.is_empty() {
            let globs: Vec<&str> = event.finding_types.iter().map(|r| r.as_str()).collect();
            event_parts.push(format!("finding type /{}/", globs.join("|")));
        }
        if let Some(minimum) = event.min_severity {
            event_parts.push(format!("severity {minimum}+"));
        }
        if !event.resources.is_empty() {
            let globs: Vec<&str> = event.resources.iter().map(|r| r.as_str()).collect();
            event_parts.push(format!("resource /{}/", globs.join("|")));
        }
        parts.push(format!("aws event ({})", event_parts.join(", ")));
    }
    parts.join(", ")
}

fn describe_action(action: &Action) -> String {
    match action {
        Action::SsmCommand(command) => format!("ssm_command {}", command.document),
        Action::SsmAutomation(automation) => format!("ssm_automation {}", automation.document),
        Action::Rundeck(job) => format!("rundeck job {}", job.job_id),
    }
}

pub fn list(path: &Path) -> Result<Output, String> {
    let catalog = load(path)?;
    let mut text = format!(
        "{} (version {}): {} runbook(s), first match wins, in this order\n",
        catalog.source_name,
        catalog.version,
        catalog.runbooks.len()
    );
    for (position, runbook) in catalog.runbooks.iter().enumerate() {
        let _ = writeln!(
            text,
            "\n{}. {}{}",
            position + 1,
            runbook.name,
            if runbook.dry_run { "  [dry run]" } else { "" }
        );
        if let Some(description) = &runbook.description {
            let _ = writeln!(text, "   {description}");
        }
        let _ = writeln!(text, "   when:   {}", describe_when(runbook));
        let _ = writeln!(text, "   runs:   {}", describe_action(&runbook.action));
        if !runbook.params.is_empty() {
            let params: Vec<String> = runbook
                .params
                .iter()
                .map(|param| format!("{} ({})", param.name, param.rule.describe()))
                .collect();
            let _ = writeln!(text, "   params: {}", params.join(", "));
        }
        let guards = &runbook.guards;
        let mut guard_parts = Vec::new();
        if !guards.allowed_users.is_empty() {
            guard_parts.push(format!("users {}", guards.allowed_users.join("|")));
        }
        if !guards.allowed_teams.is_empty() {
            guard_parts.push(format!("teams {}", guards.allowed_teams.join("|")));
        }
        if let Some(max) = guards.max_targets {
            guard_parts.push(format!("at most {max} targets"));
        }
        if let Some(cooldown) = guards.cooldown_seconds {
            guard_parts.push(format!("cooldown {cooldown} s per target"));
        }
        if let Some(limit) = guards.max_runs {
            guard_parts.push(format!(
                "at most {} runs per {} s",
                limit.count, limit.window_seconds
            ));
        }
        if !guard_parts.is_empty() {
            let _ = writeln!(text, "   guards: {}", guard_parts.join(", "));
        }
    }
    Ok(Output { text, code: 0 })
}

pub struct SimulateOptions {
    pub catalog: Option<PathBuf>,
    pub event: PathBuf,
    pub secrets: Vec<String>,
    pub token: Option<String>,
    pub token_header: String,
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    pub max_age: u64,
    pub dry_run: bool,
    pub json: bool,
    /// SNS events: the certificate directory (SNS_CERTIFICATES_DIR); none: not checked.
    pub certificates: Option<PathBuf>,
    /// SNS events: the topic allowlist (SNS_TOPIC_ARNS); empty: not checked.
    pub topics: Vec<String>,
}

/// `remediate simulate --json`: one object. Documented in the README.
#[derive(Serialize)]
pub struct Simulation {
    /// execute | ignore | refuse | suppress | reject
    pub decision: &'static str,
    /// What the webhook function would answer before it executes (202 for execute); null for
    /// SNS records, which have no status of their own.
    pub status: Option<u16>,
    pub runbook: Option<String>,
    pub reason: Option<String>,
    pub trigger: Option<Trigger>,
    pub plan: Option<Plan>,
    pub verdicts: Vec<Verdict>,
    pub note: Option<String>,
    pub authentication: String,
    pub evaluated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub catalog: String,
    pub catalog_version: String,
    /// What the function does that a simulation cannot (calls to PagerDuty, the ledger).
    pub not_simulated: Vec<String>,
}

/// `remediate simulate EVENT`: a Function URL event (the pagerduty-webhook function) or an SNS
/// event (the sns-alarm function, see [`simulate_sns`]).
pub fn simulate(options: &SimulateOptions) -> Result<Output, String> {
    let catalog = match &options.catalog {
        Some(path) => load(path)?,
        None => {
            remediate_adapters::config::built_in_catalog().map_err(|error| error.to_string())?
        }
    };
    let event_text = read(&options.event)?;
    if simulate_sns::is_sns_event(&event_text) {
        return simulate_sns::simulate(options, &catalog, &event_text);
    }
    if simulate_execution::is_eventbridge_event(&event_text) {
        return simulate_execution::simulate(options, &event_text);
    }
    let request = lambda_http::request::from_str(&event_text).map_err(|error| {
        format!(
            "{} is not a Lambda Function URL event, an SNS event or an SSM status event ({error})",
            options.event.display()
        )
    })?;
    let secrets: Vec<Secret> = options.secrets.iter().map(Secret::new).collect();
    let tokens: Vec<Secret> = options.token.iter().map(Secret::new).collect();
    let mut simulation = Simulation::new(&catalog);
    let inbound = match webhook::precheck(&request) {
        Err(reply) => Inbound::Answer(reply),
        Ok((Route::V3, body)) => {
            simulation.authentication = if secrets.is_empty() {
                "v3 signature not checked (pass --secret to check it)".to_owned()
            } else {
                "v3 signature checked".to_owned()
            };
            let credentials = if secrets.is_empty() {
                Credentials::Skip
            } else {
                Credentials::Check(&secrets)
            };
            webhook::read_v3(&request, body, credentials)
        }
        Ok((Route::Action(action), body)) => {
            simulation.authentication = if tokens.is_empty() {
                "action token not checked (pass --token to check it)".to_owned()
            } else {
                "action token checked".to_owned()
            };
            simulation.not_simulated.push(
                "the function re-reads the incident from PagerDuty (a resolved incident runs nothing) and confirms the tap in its log entries".to_owned(),
            );
            let credentials = if tokens.is_empty() {
                Credentials::Skip
            } else {
                Credentials::Check(&tokens)
            };
            webhook::read_action(
                &request,
                body,
                action,
                &options.token_header.to_ascii_lowercase(),
                credentials,
            )
        }
    };
    let trigger = match inbound {
        Inbound::Answer(reply) => {
            simulation.status = Some(reply.status);
            simulation.decision = if reply.outcome == Some(Outcome::Ignored) {
                "ignore"
            } else {
                "reject"
            };
            simulation.reason = reply
                .body
                .get("reason")
                .or_else(|| reply.body.get("error"))
                .and_then(|value| value.as_str())
                .map(str::to_owned);
            return render(simulation, options.json);
        }
        Inbound::Trigger(trigger) => trigger,
    };
    let webhook_status = |outcome| Some(status_for(outcome));
    if let Some(workflow) = &trigger.workflow {
        simulation.not_simulated.push(format!(
            "workflow {:?} ({}) names only its incident: the function re-reads the incident from PagerDuty before matching, so team, urgency, priority and status conditions see only the event's reference here",
            workflow.name, workflow.id
        ));
    }
    explain(&mut simulation, *trigger, &catalog, options, webhook_status);
    render(simulation, options.json)
}

impl Simulation {
    pub fn new(catalog: &Catalog) -> Self {
        Simulation {
            decision: "reject",
            status: None,
            runbook: None,
            reason: None,
            trigger: None,
            plan: None,
            verdicts: Vec::new(),
            note: None,
            authentication: String::new(),
            evaluated_at: None,
            catalog: catalog.source_name.clone(),
            catalog_version: catalog.version.clone(),
            not_simulated: Vec::new(),
        }
    }
}

/// The decision the pipeline would take for a trigger, with every check explained, the plan
/// and the note people would read. `status` maps an outcome to the function's answer, where
/// the function has one (the webhook's HTTP status).
pub fn explain(
    simulation: &mut Simulation,
    trigger: Trigger,
    catalog: &Catalog,
    options: &SimulateOptions,
    status: impl Fn(Outcome) -> Option<u16>,
) {
    let now = options.now.unwrap_or(trigger.occurred_at);
    simulation.evaluated_at = Some(now);
    let context = DecisionContext {
        now,
        max_trigger_age: chrono::Duration::seconds(options.max_age as i64),
        global_dry_run: options
            .dry_run
            .then(|| "REMEDIATE_DRY_RUN is on (--dry-run)".to_owned()),
    };
    simulation.not_simulated.push(
        "the ledger: redeliveries, cooldowns and rate windows (this simulation assumes no earlier runs)".to_owned(),
    );
    let decision = decision::decide_explained(
        &trigger,
        catalog,
        &context,
        &NoHistory,
        Some(&mut simulation.verdicts),
    );
    match decision {
        Decision::Ignore { reason } => {
            simulation.decision = "ignore";
            simulation.status = status(Outcome::Ignored);
            simulation.reason = Some(reason);
        }
        Decision::Refuse { runbook, reason } => {
            simulation.decision = "refuse";
            simulation.status = status(Outcome::Refused);
            simulation.note = Some(notes::refused(&trigger, &runbook, &reason));
            simulation.runbook = Some(runbook);
            simulation.reason = Some(reason);
        }
        Decision::Suppress { runbook, reason } => {
            simulation.decision = "suppress";
            simulation.status = status(Outcome::Suppressed);
            simulation.runbook = Some(runbook);
            simulation.reason = Some(reason);
        }
        Decision::Execute(plan) => {
            simulation.decision = "execute";
            simulation.runbook = Some(plan.runbook.clone());
            if plan.dry_run.is_some() {
                simulation.status = status(Outcome::DryRun);
                simulation.note = Some(notes::dry_run(&trigger, &plan));
                simulation.reason = plan.dry_run.clone();
            } else {
                simulation.status = status(Outcome::Executed);
                let pending = StartedCommand {
                    command_id: "(command id)".into(),
                    target_count: plan
                        .request
                        .clone()
                        .ssm_targets()
                        .and_then(|targets| targets.known_count())
                        .map(|count| count as i32),
                };
                simulation.note = Some(notes::started(&trigger, &plan, &pending, "REGION"));
            }
            simulation.plan = Some(*plan);
        }
    }
    simulation.trigger = Some(trigger);
}

trait SsmTargets {
    fn ssm_targets(self) -> Option<remediate_core::catalog::Targets>;
}

impl SsmTargets for ExecutionRequest {
    fn ssm_targets(self) -> Option<remediate_core::catalog::Targets> {
        match self {
            ExecutionRequest::SsmCommand(command) => Some(command.targets),
            ExecutionRequest::SsmAutomation(automation) => automation.targets,
            ExecutionRequest::Rundeck(_) => None,
        }
    }
}

fn render(simulation: Simulation, json: bool) -> Result<Output, String> {
    if json {
        let mut text =
            serde_json::to_string_pretty(&simulation).map_err(|error| error.to_string())?;
        text.push('\n');
        return Ok(Output { text, code: 0 });
    }
    Ok(Output {
        text: render_text(&simulation)?,
        code: 0,
    })
}

/// A simulation as lines of `label  value`, for people.
pub fn render_text(simulation: &Simulation) -> Result<String, String> {
    let mut text = String::new();
    let line = |text: &mut String, label: &str, value: &str| {
        let mut lines = value.lines();
        let _ = writeln!(text, "{label:<10} {}", lines.next().unwrap_or(""));
        for rest in lines {
            let _ = writeln!(text, "{:<10} {rest}", "");
        }
    };
    line(
        &mut text,
        "catalog",
        &format!(
            "{} (version {})",
            simulation.catalog, simulation.catalog_version
        ),
    );
    if !simulation.authentication.is_empty() {
        line(&mut text, "auth", &simulation.authentication);
    }
    if let Some(trigger) = &simulation.trigger {
        line(&mut text, "trigger", &describe_trigger(trigger));
    }
    if let Some(at) = simulation.evaluated_at {
        line(&mut text, "as of", &at.to_rfc3339());
    }
    for verdict in &simulation.verdicts {
        let mark = if verdict.passed { "pass" } else { "FAIL" };
        line(
            &mut text,
            "check",
            &format!("{mark} {}: {}", verdict.check, verdict.detail),
        );
    }
    let mut headline = simulation.decision.to_uppercase();
    if let Some(runbook) = &simulation.runbook {
        let _ = write!(headline, " {runbook}");
    }
    if let Some(status) = simulation.status {
        let _ = write!(headline, " (HTTP {status})");
    }
    line(&mut text, "decision", &headline);
    if let Some(reason) = &simulation.reason {
        line(&mut text, "reason", reason);
    }
    if let Some(plan) = &simulation.plan {
        line(
            &mut text,
            "run",
            &format!("{} (catalog {})", plan.run_id, plan.catalog_version),
        );
        let request =
            serde_json::to_string_pretty(&plan.request).map_err(|error| error.to_string())?;
        line(&mut text, "request", &request);
        if let Some(reservation) = &plan.reservation {
            line(
                &mut text,
                "reserves",
                &serde_json::to_string(reservation).map_err(|error| error.to_string())?,
            );
        }
    }
    if let Some(note) = &simulation.note {
        line(&mut text, "note", note);
    }
    for missing in &simulation.not_simulated {
        line(&mut text, "not run", missing);
    }
    Ok(text)
}

fn describe_trigger(trigger: &Trigger) -> String {
    let mut text = format!(
        "{} {} ({})",
        trigger.source, trigger.event_type, trigger.dedupe_id
    );
    if let Some(action) = &trigger.action {
        let _ = write!(text, ", action {action}");
    }
    if let Some(workflow) = &trigger.workflow {
        let _ = write!(text, ", workflow {:?} ({})", workflow.name, workflow.id);
    }
    if let Some(incident) = &trigger.incident {
        let _ = write!(
            text,
            "\nincident {}{} {:?}, {}",
            incident
                .number
                .map(|n| format!("#{n} "))
                .unwrap_or_default(),
            incident.id,
            incident.title,
            incident.status
        );
        if let Some(service) = &incident.service {
            let _ = write!(text, ", service {} ({})", service.name, service.id);
        }
    }
    if let Some(actor) = &trigger.actor {
        let _ = write!(text, "\nby {} ({})", actor.name, actor.id);
    }
    if let Some(alarm) = &trigger.alarm {
        let _ = write!(text, "\nalarm {} {}", alarm.name, alarm.state);
        if let (Some(namespace), Some(metric)) = (&alarm.namespace, &alarm.metric) {
            let _ = write!(text, ", {namespace} {metric}");
        }
        for (name, value) in &alarm.dimensions {
            let _ = write!(text, ", {name}={value}");
        }
    }
    if let Some(event) = &trigger.event {
        let _ = write!(text, "\nevent {} {}", event.source, event.detail_type);
        if let Some(finding_type) = &event.finding_type {
            let _ = write!(text, " {finding_type}");
        }
        if let Some(severity) = &event.severity {
            let _ = write!(text, " ({severity})");
        }
        if !event.resources.is_empty() {
            let _ = write!(text, " on {}", event.resources.join(", "));
        }
    }
    text
}

pub struct HistoryQuery {
    pub table: String,
    pub incident: Option<String>,
    pub runbook: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    pub json: bool,
}

pub fn history(query: &HistoryQuery) -> Result<Output, String> {
    use remediate_adapters::aws::ledger::DynamoLedger;
    use remediate_core::ledger::RunHistory;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let until = query.until.unwrap_or_else(chrono::Utc::now);
    let since = query.since.unwrap_or(until - chrono::Duration::days(7));
    let (title, records) = runtime
        .block_on(async {
            let aws = remediate_adapters::aws::load_config().await?;
            let ledger =
                DynamoLedger::new(aws_sdk_dynamodb::Client::new(&aws), query.table.clone());
            match (&query.incident, &query.runbook) {
                (Some(incident), _) => ledger
                    .runs_for_incident(incident)
                    .await
                    .map(|records| (format!("Automated actions on incident {incident}"), records)),
                (None, Some(runbook)) => {
                    ledger
                        .runs_for_runbook(runbook, since, until)
                        .await
                        .map(|records| {
                            (
                                format!(
                                    "Runs of {runbook}, {} to {}",
                                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                                ),
                                records,
                            )
                        })
                }
                (None, None) => ledger.runs_between(since, until).await.map(|records| {
                    (
                        format!(
                            "Automated actions, {} to {}",
                            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ),
                        records,
                    )
                }),
            }
        })
        .map_err(|error| error.to_string())?;
    if query.json {
        let mut text = serde_json::to_string_pretty(&records).map_err(|error| error.to_string())?;
        text.push('\n');
        return Ok(Output { text, code: 0 });
    }
    Ok(Output {
        text: remediate_core::ledger::timeline_markdown(&title, &query.table, &records),
        code: 0,
    })
}
