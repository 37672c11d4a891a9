//! The runbook catalog: what users write (YAML, [`raw`]), validated once at load ([`compile`])
//! into the form the decision engine uses without further checks: regexes and globs compiled,
//! templates parsed and their fields checked, names and limits checked, an index built.
//!
//! Matching semantics: runbooks are tried in file order and the first whose `when` matches wins,
//! so one trigger starts at most one run. Within `when`, every condition given must hold; a list
//! holds when any of its entries matches; an empty or absent condition does not constrain.

mod compile;
pub mod index;
pub mod pattern;
mod raw;
mod shell;

use crate::template::{Quoting, Template};
use crate::trigger::{Source, Trigger};
use crate::{Error, Result};
pub use pattern::Pattern;
use regex::Regex;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The catalog compiled into every binary: `infra/runbooks.yaml` at build time. SAM packages only
/// the binary, so this is what a function uses unless configured otherwise.
pub const BUILT_IN_CATALOG: &str = include_str!("../../../infra/runbooks.yaml");
pub const BUILT_IN_CATALOG_NAME: &str = "infra/runbooks.yaml (built in)";

/// The only catalog format version this build understands.
pub const CATALOG_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub struct Catalog {
    /// Where it was loaded from (a path, a parameter name, an S3 URI, or the built-in copy).
    pub source_name: String,
    /// A content hash: every decision records which catalog made it.
    pub version: String,
    pub runbooks: Vec<Runbook>,
    /// The Custom Incident Actions (buttons) by route name: `/actions/<name>`.
    pub custom_actions: BTreeMap<String, CustomAction>,
    pub index: index::Index,
}

/// A PagerDuty Custom Incident Action this catalog answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAction {
    /// Its name in PagerDuty, as its log entries quote it: `<person> ran the <label> action`.
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct Runbook {
    pub name: String,
    pub description: Option<String>,
    pub when: When,
    pub params: Vec<Param>,
    pub guards: Guards,
    pub action: Action,
    pub report: ReportOptions,
    pub dry_run: bool,
    /// After a successful alarm-triggered run, check the alarm again ("did it work?").
    pub verify: Option<Verify>,
}

/// `verify:`: after an alarm-triggered run succeeds, read the alarm's state again once it had
/// time to settle, and say on the incident whether it recovered.
#[derive(Debug, Clone)]
pub struct Verify {
    /// How long after the run ended the alarm is read: metrics need a period or more to show a
    /// fix, so reading at once would see the ALARM the run was started for.
    pub settle_seconds: u32,
    /// The alarm to read, a template over the trigger's fields (default `{{ alarm.name }}`).
    pub alarm: Template,
    pub on_failure: OnFailure,
}

/// What to do when the alarm did not recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Say so on the incident.
    #[default]
    Note,
    /// Say so, and ask PagerDuty to escalate the incident to the next level.
    Escalate,
}

/// The longest alarm name CloudWatch accepts (`AlarmName`, 1 to 255 characters).
pub const MAX_ALARM_NAME_CHARS: usize = 255;

/// Why a `verify` alarm name could not be had from a trigger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlarmNameError {
    /// The trigger lacks a field the template reads (a trigger without an alarm, a dimension
    /// the alarm does not have).
    #[error("the trigger has no {field}")]
    MissingField { field: String },
    /// The rendered text cannot be a CloudWatch alarm name.
    #[error("{name:?} is not a CloudWatch alarm name (1 to 255 characters, no control characters)")]
    NotAnAlarmName { name: String },
}

/// Whether `name` can be a CloudWatch alarm name. The value goes to `DescribeAlarms` only, never
/// to a shell, so CloudWatch's own rule is the whole check.
pub fn is_alarm_name(name: &str) -> bool {
    (1..=MAX_ALARM_NAME_CHARS).contains(&name.chars().count())
        && !name.chars().any(char::is_control)
}

impl Verify {
    /// The name of the alarm to read for this trigger.
    pub fn alarm_name(&self, trigger: &Trigger) -> std::result::Result<String, AlarmNameError> {
        if let Some(field) = self
            .alarm
            .placeholders()
            .find(|field| trigger.field(field).is_none())
        {
            return Err(AlarmNameError::MissingField {
                field: field.to_owned(),
            });
        }
        match self
            .alarm
            .render(Quoting::None, |field| trigger.field(field))
        {
            Ok(name) if is_alarm_name(&name) => Ok(name),
            Ok(name) => Err(AlarmNameError::NotAnAlarmName { name }),
            // Every placeholder had a value a moment ago: only a missing one fails a render.
            Err(error) => Err(AlarmNameError::MissingField { field: error.0 }),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct When {
    pub sources: Vec<Source>,
    pub event_types: Vec<String>,
    pub actions: Vec<String>,
    /// Incident Workflow ids or names. A manual workflow start matches only runbooks that name
    /// its workflow: starting a workflow is a request for that workflow, nothing else.
    pub workflows: Vec<String>,
    /// Service ids or names.
    pub services: Vec<String>,
    pub title: Option<Pattern>,
    pub urgency: Vec<String>,
    pub priority: Vec<String>,
    /// Team ids or names; any of the incident's teams.
    pub teams: Vec<String>,
    pub status: Vec<String>,
    pub alarm: Option<AlarmMatch>,
    pub event: Option<EventMatch>,
}

#[derive(Debug, Clone, Default)]
pub struct AlarmMatch {
    /// A glob (`web-*-disk`, as a regex) or a regex.
    pub name: Option<Pattern>,
    pub states: Vec<String>,
    pub namespaces: Vec<String>,
    pub metrics: Vec<String>,
    /// Every dimension named must be present with a value matching its glob.
    pub dimensions: Vec<(String, Pattern)>,
}

#[derive(Debug, Clone, Default)]
pub struct EventMatch {
    pub sources: Vec<String>,
    pub detail_types: Vec<String>,
    /// Globs (as regexes); any one matching the event's finding type holds. An event without a
    /// finding type fails a non-empty list.
    pub finding_types: Vec<Pattern>,
    /// The least severe label that holds (one of [`crate::trigger::SEVERITIES`]). An event
    /// without a severity (AWS Health, most other sources) fails it: "at least HIGH" cannot
    /// be known of an event that has no grade.
    pub min_severity: Option<&'static str>,
    /// Globs (as regexes); holds when any of the event's resources matches any of them.
    pub resources: Vec<Pattern>,
}

impl EventMatch {
    fn severity_holds(&self, severity: Option<&str>) -> bool {
        let Some(minimum) = self.min_severity.and_then(crate::trigger::severity_rank) else {
            return true;
        };
        severity
            .and_then(crate::trigger::severity_rank)
            .is_some_and(|rank| rank >= minimum)
    }
}

/// A typed parameter: a value taken from the trigger, accepted only if it matches.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub from: Template,
    pub rule: ParamRule,
    pub default: Option<String>,
    /// Its value is hidden in output excerpts ([`Runbook::secret_values`]).
    pub secret: bool,
}

#[derive(Debug, Clone)]
pub enum ParamRule {
    /// Anchored: the whole value must match. The user's pattern checked on its own first, so
    /// anchoring cannot change what it means.
    Pattern {
        regex: Pattern,
        source: String,
        /// Without it, a value must be ASCII before the pattern sees it: `\d`, `\w` and `\s`
        /// are Unicode classes in the regex crate (`\d` matches `١٢٣`), and look-alike letters
        /// would pass a class written for ASCII.
        unicode: bool,
    },
    Enum(Vec<String>),
}

/// Why a value does not pass its parameter's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A pattern that did not ask for Unicode got a non-ASCII value.
    NotAscii,
    /// Outside the pattern or the enum.
    NoMatch,
    /// `{{`: SSM resolves `{{ssm:...}}` and similar references in parameters when it runs
    /// them, so no value may hold it, whatever its rule says.
    Reference,
}

/// SSM (Run Command and Automation) resolves references written `{{ ... }}` inside parameter
/// values when a command is sent: no rendered value may contain this.
pub const SSM_REFERENCE_OPENER: &str = "{{";

impl ParamRule {
    pub fn accepts(&self, value: &str) -> bool {
        self.rejection(value).is_none()
    }

    pub fn rejection(&self, value: &str) -> Option<Rejection> {
        if value.contains(SSM_REFERENCE_OPENER) {
            return Some(Rejection::Reference);
        }
        match self {
            ParamRule::Pattern { unicode, .. } if !unicode && !value.is_ascii() => {
                Some(Rejection::NotAscii)
            }
            ParamRule::Pattern { regex, .. } => {
                (!regex.is_match(value)).then_some(Rejection::NoMatch)
            }
            ParamRule::Enum(values) => {
                (!values.iter().any(|allowed| allowed == value)).then_some(Rejection::NoMatch)
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ParamRule::Pattern { source, .. } => format!("pattern {source}"),
            ParamRule::Enum(values) => format!("one of {}", values.join(", ")),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Guards {
    /// For button actions: PagerDuty user ids or names allowed to run this runbook.
    pub allowed_users: Vec<String>,
    /// Team ids or names of the incident that the runbook may act on.
    pub allowed_teams: Vec<String>,
    pub incident_status: Vec<String>,
    pub urgency: Vec<String>,
    /// The most targets (instances) one run may touch.
    pub max_targets: Option<u32>,
    /// No second run of this runbook on the same target within this many seconds.
    pub cooldown_seconds: Option<u64>,
    /// At most `count` runs of this runbook in any window of `window_seconds`.
    pub max_runs: Option<RateLimit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateLimit {
    pub count: u32,
    pub window_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ReportOptions {
    pub note_on_start: bool,
    pub note_on_finish: bool,
    pub resolve_on_success: bool,
    pub publish: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            note_on_start: true,
            note_on_finish: true,
            resolve_on_success: false,
            publish: true,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    SsmCommand(SsmCommand),
    SsmAutomation(SsmAutomation),
    Rundeck(RundeckJob),
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::SsmCommand(_) => "ssm_command",
            Action::SsmAutomation(_) => "ssm_automation",
            Action::Rundeck(_) => "rundeck",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SsmCommand {
    pub document: String,
    /// How rendered values are quoted inside the `commands` parameter.
    pub shell: Quoting,
    pub targets: TargetSpec,
    /// Document parameters; every value a template over `params.*`.
    pub parameters: BTreeMap<String, Vec<Template>>,
    pub delivery_timeout_seconds: Option<u32>,
    pub execution_timeout_seconds: Option<u32>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SsmAutomation {
    pub document: String,
    pub document_version: Option<String>,
    pub parameters: BTreeMap<String, Vec<Template>>,
    /// For rate-controlled automations: the document parameter that receives each target.
    pub target_parameter: Option<String>,
    pub targets: Option<TargetSpec>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RundeckJob {
    pub job_id: String,
    /// Job options; every value a template over `params.*`.
    pub options: BTreeMap<String, Template>,
    /// The execution's log level; unset, the job's own.
    pub loglevel: Option<LogLevel>,
    /// A node filter that replaces the job's own; a template over `params.*`, so that what an
    /// incident says reaches it only after matching a parameter's pattern.
    pub filter: Option<Template>,
    /// The Rundeck user the execution runs as (the token's user needs `runAs`).
    pub as_user: Option<String>,
}

/// The log levels Rundeck's run-job API accepts (`loglevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Debug,
    Verbose,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Debug,
        LogLevel::Verbose,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ];

    /// The word Rundeck's API takes.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Verbose => "VERBOSE",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }
}

/// Targets as written: instance ids or tag values may be templates over `params.*`.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    InstanceIds(Vec<Template>),
    Tags(BTreeMap<String, Vec<Template>>),
}

/// Targets after rendering.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    InstanceIds(Vec<String>),
    /// Tag key to accepted values; an instance must carry every key (SSM's semantics).
    Tags(BTreeMap<String, Vec<String>>),
}

impl Targets {
    /// `i-1, i-2` or `tag:Role=web`, for notes, logs and cooldown keys.
    pub fn describe(&self) -> String {
        match self {
            Targets::InstanceIds(ids) => ids.join(", "),
            Targets::Tags(tags) => tags
                .iter()
                .map(|(key, values)| format!("tag:{key}={}", values.join(",")))
                .collect::<Vec<_>>()
                .join(" and "),
        }
    }

    /// How many targets are known before SSM resolves them (instance ids only).
    pub fn known_count(&self) -> Option<usize> {
        match self {
            Targets::InstanceIds(ids) => Some(ids.len()),
            Targets::Tags(_) => None,
        }
    }
}

fn any_equal(wanted: &[String], value: Option<&str>) -> bool {
    wanted.is_empty() || value.is_some_and(|value| wanted.iter().any(|w| w == value))
}

impl When {
    /// The first condition the trigger fails, or None when every condition given holds. The
    /// decision uses the name to explain itself.
    pub fn first_mismatch(&self, trigger: &Trigger) -> Option<&'static str> {
        if !self.sources.is_empty() && !self.sources.contains(&trigger.source) {
            return Some("sources");
        }
        if !any_equal(&self.event_types, Some(&trigger.event_type)) {
            return Some("event_types");
        }
        if !any_equal(&self.actions, trigger.action.as_deref()) {
            return Some("actions");
        }
        match &trigger.workflow {
            None if !self.workflows.is_empty() => return Some("workflows"),
            Some(_) if self.workflows.is_empty() => return Some("workflows"),
            Some(workflow)
                if !self
                    .workflows
                    .iter()
                    .any(|wanted| *wanted == workflow.id || *wanted == workflow.name) =>
            {
                return Some("workflows");
            }
            _ => {}
        }
        let incident = trigger.incident.as_ref();
        if !self.services.is_empty() {
            let matched = incident
                .and_then(|incident| incident.service.as_ref())
                .is_some_and(|service| {
                    self.services
                        .iter()
                        .any(|wanted| *wanted == service.id || *wanted == service.name)
                });
            if !matched {
                return Some("services");
            }
        }
        if let Some(title) = &self.title
            && !incident.is_some_and(|incident| title.is_match(&incident.title))
        {
            return Some("title");
        }
        if !any_equal(&self.urgency, incident.and_then(|i| i.urgency.as_deref())) {
            return Some("urgency");
        }
        if !any_equal(&self.priority, incident.and_then(|i| i.priority.as_deref())) {
            return Some("priority");
        }
        if !any_equal(&self.status, incident.map(|i| i.status.as_str())) {
            return Some("status");
        }
        if !self.teams.is_empty() {
            let matched = incident.is_some_and(|incident| {
                incident
                    .teams
                    .iter()
                    .any(|team| self.teams.iter().any(|w| *w == team.id || *w == team.name))
            });
            if !matched {
                return Some("teams");
            }
        }
        if let Some(alarm_match) = &self.alarm {
            let Some(alarm) = trigger.alarm.as_ref() else {
                return Some("alarm");
            };
            if let Some(name) = &alarm_match.name
                && !name.is_match(&alarm.name)
            {
                return Some("alarm.name");
            }
            if !any_equal(&alarm_match.states, Some(&alarm.state)) {
                return Some("alarm.state");
            }
            if !any_equal(&alarm_match.namespaces, alarm.namespace.as_deref()) {
                return Some("alarm.namespace");
            }
            if !any_equal(&alarm_match.metrics, alarm.metric.as_deref()) {
                return Some("alarm.metric");
            }
            for (name, pattern) in &alarm_match.dimensions {
                if !alarm
                    .dimensions
                    .get(name)
                    .is_some_and(|value| pattern.is_match(value))
                {
                    return Some("alarm.dimensions");
                }
            }
        }
        if let Some(event_match) = &self.event {
            let Some(event) = trigger.event.as_ref() else {
                return Some("event");
            };
            if !any_equal(&event_match.sources, Some(&event.source)) {
                return Some("event.source");
            }
            if !any_equal(&event_match.detail_types, Some(&event.detail_type)) {
                return Some("event.detail_type");
            }
            if !event_match.finding_types.is_empty()
                && !event.finding_type.as_deref().is_some_and(|finding_type| {
                    event_match
                        .finding_types
                        .iter()
                        .any(|glob| glob.is_match(finding_type))
                })
            {
                return Some("event.finding_type");
            }
            if !event_match.severity_holds(event.severity.as_deref()) {
                return Some("event.min_severity");
            }
            if !event_match.resources.is_empty()
                && !event.resources.iter().any(|resource| {
                    event_match
                        .resources
                        .iter()
                        .any(|glob| glob.is_match(resource))
                })
            {
                return Some("event.resource");
            }
        }
        None
    }
}

impl Catalog {
    /// The compiled-in catalog. A unit test validates it, so this cannot fail in a build that
    /// passed its tests; still, a failure is an error, not a panic.
    pub fn built_in() -> Result<Self> {
        Self::parse(BUILT_IN_CATALOG, BUILT_IN_CATALOG_NAME)
    }

    /// Parse and validate. Every problem found is reported, each as `source:line:column: message`.
    pub fn parse(text: &str, source_name: &str) -> Result<Self> {
        let compile::Compiled {
            runbooks,
            custom_actions,
        } = compile::compile(text, source_name).map_err(|problems| Error::Catalog {
            source_name: source_name.to_owned(),
            problems,
        })?;
        let index = index::Index::build(&runbooks);
        Ok(Catalog {
            source_name: source_name.to_owned(),
            version: content_version(text),
            runbooks,
            custom_actions,
            index,
        })
    }

    /// The prebuilt form of a catalog, for a build script to compile into a binary: the catalog
    /// is checked here exactly as [`Catalog::parse`] checks it (a bad catalog fails the build,
    /// with its lines and columns), then written as JSON, so that the binary never parses YAML
    /// or checks patterns for it at start-up ([`Catalog::from_prebuilt`]).
    pub fn prebuild(text: &str, source_name: &str) -> Result<String> {
        let problems = |problems| Error::Catalog {
            source_name: source_name.to_owned(),
            problems,
        };
        let prebuilt = raw::Prebuilt {
            format: raw::PREBUILT_FORMAT,
            version: content_version(text),
            catalog: compile::parse(text, source_name).map_err(problems)?,
        };
        // Written before it is checked: checking consumes the parsed catalog.
        let json = serde_json::to_string(&prebuilt).map_err(|error| {
            problems(vec![format!("{source_name}: cannot be prebuilt: {error}")])
        })?;
        compile::compile_raw(prebuilt.catalog, source_name, pattern::Patterns::checked())
            .map_err(problems)?;
        Ok(json)
    }

    /// A catalog from [`Catalog::prebuild`]'s output, made by this same build: the text
    /// compiled into the binary, never one read at run time. The patterns of `when` (titles,
    /// names, globs) are not checked again: they were, at build time, with this same `regex`,
    /// and one that does not compile matches nothing. Every other check runs, parameters'
    /// patterns included, and anything amiss is an error, never a panic.
    pub fn from_prebuilt(prebuilt: &str, source_name: &str) -> Result<Self> {
        let problems = |problems| Error::Catalog {
            source_name: source_name.to_owned(),
            problems,
        };
        let unusable = |why: String| {
            problems(vec![format!(
                "{source_name}: the prebuilt catalog compiled into this binary {why}; rebuild it"
            )])
        };
        let prebuilt: raw::Prebuilt = serde_json::from_str(prebuilt)
            .map_err(|error| unusable(format!("does not read: {error}")))?;
        if prebuilt.format != raw::PREBUILT_FORMAT {
            return Err(unusable(format!(
                "has format {} (this build reads {})",
                prebuilt.format,
                raw::PREBUILT_FORMAT
            )));
        }
        let compile::Compiled {
            runbooks,
            custom_actions,
        } = compile::compile_raw(
            prebuilt.catalog,
            source_name,
            pattern::Patterns::checked_at_build(),
        )
        .map_err(|found| {
            unusable(format!(
                "fails checks it passed at build time: {}",
                found.join("; ")
            ))
        })?;
        let index = index::Index::build(&runbooks);
        Ok(Catalog {
            source_name: source_name.to_owned(),
            version: prebuilt.version,
            runbooks,
            custom_actions,
            index,
        })
    }

    /// The first runbook (in file order) whose `when` matches, found through the index.
    pub fn first_match(&self, trigger: &Trigger) -> Option<&Runbook> {
        self.index
            .first_match(trigger, &self.runbooks)
            .map(|position| &self.runbooks[position])
    }

    /// Every runbook with the first condition it fails (None: it matches). For explanations; the
    /// hot path uses [`Catalog::first_match`].
    pub fn evaluate_all<'c>(
        &'c self,
        trigger: &Trigger,
    ) -> Vec<(&'c Runbook, Option<&'static str>)> {
        self.runbooks
            .iter()
            .map(|runbook| (runbook, runbook.when.first_mismatch(trigger)))
            .collect()
    }

    /// Whether any runbook names this workflow: a workflow start that none names is ignored
    /// before anything is read from PagerDuty.
    pub fn names_workflow(&self, workflow: &crate::trigger::Workflow) -> bool {
        self.runbooks.iter().any(|runbook| {
            runbook
                .when
                .workflows
                .iter()
                .any(|wanted| *wanted == workflow.id || *wanted == workflow.name)
        })
    }

    pub fn get(&self, name: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|runbook| runbook.name == name)
    }
}

/// `source` without the anchors a pattern may be written with (`^...$`, `\A...\z`): a secret
/// is searched for inside a longer output.
fn unanchored(source: &str) -> &str {
    let source = source
        .strip_prefix('^')
        .or_else(|| source.strip_prefix("\\A"))
        .unwrap_or(source);
    source
        .strip_suffix("\\z")
        .or_else(|| {
            source
                .strip_suffix('$')
                .filter(|rest| !rest.ends_with('\\'))
        })
        .unwrap_or(source)
}

impl Runbook {
    /// What to hide in this runbook's output: the values its secret parameters can take. The
    /// values themselves are never kept after the run starts, so a pattern parameter hides
    /// everything its pattern matches (over-hiding is the safe side).
    pub fn secret_values(&self) -> Vec<crate::redact::SecretValues> {
        use crate::redact::SecretValues;
        self.params
            .iter()
            .filter(|param| param.secret)
            .flat_map(|param| match &param.rule {
                // Unicode classes match a superset of the ASCII ones: the safe side again. The
                // pattern was checked when the catalog loaded, so it compiles here too.
                // Anchors written into the pattern would make it match only a whole output.
                ParamRule::Pattern { source, .. } => Regex::new(unanchored(source))
                    .ok()
                    .map(SecretValues::Pattern)
                    .into_iter()
                    .collect::<Vec<_>>(),
                ParamRule::Enum(values) => {
                    values.iter().cloned().map(SecretValues::Literal).collect()
                }
            })
            .collect()
    }
}

/// The first 12 hex digits of the SHA-256 of the catalog text.
pub fn content_version(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..6])
}

#[cfg(test)]
mod tests;

/// Checks the decision engine repeats after rendering.
pub mod compile_support {
    pub fn is_instance_id(value: &str) -> bool {
        super::compile::INSTANCE_ID_PATTERN.is_match(value)
    }
}
