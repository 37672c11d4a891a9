//! The runbook catalog: what users write (YAML, [`raw`]), validated once at load ([`compile`])
//! into the form the decision engine uses without further checks: regexes and globs compiled,
//! templates parsed and their fields checked, names and limits checked, an index built.
//!
//! Matching semantics: runbooks are tried in file order and the first whose `when` matches wins,
//! so one trigger starts at most one run. Within `when`, every condition given must hold; a list
//! holds when any of its entries matches; an empty or absent condition does not constrain.

mod compile;
pub mod index;
mod load;
mod matching;
pub mod pattern;
mod raw;
mod shell;

use crate::template::{Quoting, Template};
use crate::trigger::{Source, Trigger};
pub use load::content_version;
pub use pattern::Pattern;
use regex::Regex;
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

impl Catalog {
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

#[cfg(test)]
mod tests;

/// Checks the decision engine repeats after rendering.
pub mod compile_support {
    pub fn is_instance_id(value: &str) -> bool {
        super::compile::INSTANCE_ID_PATTERN.is_match(value)
    }
}
