//! From what users write to what the decision engine trusts. Every problem is collected (not
//! just the first), each with its line and column.

use super::pattern::{Invalid, Pattern, Patterns};
use super::raw::*;
use super::shell;
use super::*;
use crate::plan::RUNDECK_RUN_ID_OPTION;
use crate::trigger::{ALARM_STATE, is_known_field};
use serde_saphyr::{Location, Spanned};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

mod actions;
mod event_match;
mod verify;

use actions::{compile_rundeck, compile_ssm_automation, compile_ssm_command};
use event_match::compile_event_match;
use verify::compile_verify;

static NAME_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-z0-9][a-z0-9-]{0,62}$").expect("static regex"));
static PARAM_NAME_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-z][a-z0-9_]{0,62}$").expect("static regex"));
// SSM's own rules for document names, instance ids, tag keys and concurrency values.
static DOCUMENT_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_\-.:/]{3,128}$").expect("static regex"));
pub(crate) static INSTANCE_ID_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^(i|mi)-[0-9a-f]{8,17}$").expect("static regex"));
/// The characters of a tag key; its length (1 to 128) is counted apart: `{1,128}` of Unicode
/// classes would compile into 128 copies of them, over 200 M instructions at each cold start.
static TAG_KEY_CHARS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{N} _.:/=+\-@]+$").expect("static regex"));
const MAX_TAG_KEY_CHARS: usize = 128;
static MAX_CONCURRENCY_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$").expect("static regex"));
static MAX_ERRORS_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^([0-9]{1,7}|[0-9]{1,2}%|100%)$").expect("static regex"));
static RUNDECK_JOB_ID_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[0-9a-fA-F-]{8,64}$").expect("static regex"));
/// What Rundeck accepts as an option name.
static RUNDECK_OPTION_NAME_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-zA-Z0-9_.-]{1,128}$").expect("static regex"));
/// Longer than any user name a directory hands Rundeck.
const MAX_RUNDECK_USER_CHARS: usize = 128;

/// SSM accepts at most five targets (tag conditions) and 50 instance ids per command.
const MAX_TAG_TARGETS: usize = 5;
const MAX_INSTANCE_IDS: usize = 50;
/// SendCommand's TimeoutSeconds bounds delivery only; its documented range.
const DELIVERY_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 30..=2_592_000;
/// The executionTimeout range of AWS-RunShellScript and AWS-RunPowerShellScript.
const EXECUTION_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=172_800;
/// Cooldowns and rate windows: at least a second, at most a year (time arithmetic on them then
/// never overflows, and nothing longer is a guard anyone means).
const GUARD_SECONDS_RANGE: std::ops::RangeInclusive<u64> = 1..=31_536_000;
/// The prefix through which action templates read parameters.
const PARAMS_PREFIX: &str = "params.";

struct Problems<'a> {
    source_name: &'a str,
    found: Vec<String>,
}

impl Problems<'_> {
    fn add(&mut self, at: &Location, message: impl AsRef<str>) {
        self.found.push(format!(
            "{}:{}:{}: {}",
            self.source_name,
            at.line(),
            at.column(),
            message.as_ref()
        ));
    }
}

/// Whether `key` can be an EC2 tag key.
pub(crate) fn is_tag_key(key: &str) -> bool {
    (1..=MAX_TAG_KEY_CHARS).contains(&key.chars().count()) && TAG_KEY_CHARS.is_match(key)
}

/// A parameter's pattern, anchored so that the whole value must match. The pattern is checked
/// on its own first: only a pattern that is a complete expression by itself is wrapped, so text
/// like `x)|(.*` (which would close the wrapping group and escape the anchors) is a syntax error,
/// not a pattern that matches anything. `\A` and `\z` anchor to the whole text whatever flags
/// (`(?m)`) the pattern sets inside its group. Checked even in a catalog checked at build time
/// ([`Patterns::get_checked`]).
pub(crate) fn compile_param_pattern(
    pattern: &str,
    patterns: &mut Patterns,
) -> std::result::Result<Pattern, String> {
    patterns
        .get_checked(pattern)
        .map_err(|error| error.to_string())?;
    patterns
        .get_checked(&format!(r"\A(?:{pattern})\z"))
        .map_err(|error| match error {
            Invalid::TooBig(message) => message,
            // Only a `(?x)` comment running to the end of the pattern can get here.
            Invalid::Syntax(message) => format!(
                "compiles alone but not anchored (does a (?x) comment run to its end?): {message}"
            ),
        })
}

/// `*` any run of characters, `?` one character, everything else literal; anchored.
pub(crate) fn glob_to_regex(
    glob: &str,
    patterns: &mut Patterns,
) -> std::result::Result<Pattern, String> {
    let mut pattern = String::from("^");
    for c in glob.chars() {
        match c {
            '*' => pattern.push_str(".*"),
            '?' => pattern.push('.'),
            other => pattern.push_str(&regex::escape(&other.to_string())),
        }
    }
    pattern.push('$');
    patterns.get(&pattern).map_err(|error| error.to_string())
}

/// A catalog that passed every check.
pub(super) struct Compiled {
    pub runbooks: Vec<Runbook>,
    pub custom_actions: BTreeMap<String, CustomAction>,
}

/// Parse and check YAML text.
pub(super) fn compile(text: &str, source_name: &str) -> std::result::Result<Compiled, Vec<String>> {
    compile_raw(parse(text, source_name)?, source_name, Patterns::checked())
}

/// The YAML text as written, every position kept; a syntax or type error as one problem.
pub(super) fn parse(text: &str, source_name: &str) -> std::result::Result<RawCatalog, Vec<String>> {
    serde_saphyr::from_str(text).map_err(|error| {
        let position = error
            .location()
            .map(|at| format!("{}:{}", at.line(), at.column()))
            .unwrap_or_else(|| "1:1".to_owned());
        let message = error.to_string();
        vec![format!(
            "{source_name}:{position}: {}",
            message.lines().next().unwrap_or(&message)
        )]
    })
}

/// Check a parsed catalog and build what the decision engine uses. `patterns` says whether
/// patterns are checked here or were checked when the binary was built ([`Patterns`]).
pub(super) fn compile_raw(
    raw: RawCatalog,
    source_name: &str,
    mut patterns: Patterns,
) -> std::result::Result<Compiled, Vec<String>> {
    let mut problems = Problems {
        source_name,
        found: Vec::new(),
    };
    if raw.version.value != CATALOG_VERSION {
        problems.add(
            &raw.version.referenced,
            format!(
                "unsupported catalog version {} (this build reads version {CATALOG_VERSION})",
                raw.version.value
            ),
        );
    }
    let custom_actions = compile_custom_actions(raw.custom_actions, &mut problems);
    let mut names = HashSet::new();
    let mut runbooks = Vec::with_capacity(raw.runbooks.len());
    for raw_runbook in raw.runbooks {
        if let Some(runbook) = compile_runbook(
            raw_runbook.value,
            &custom_actions,
            &mut names,
            &mut patterns,
            &mut problems,
        ) {
            runbooks.push(runbook);
        }
    }
    if problems.found.is_empty() {
        Ok(Compiled {
            runbooks,
            custom_actions,
        })
    } else {
        Err(problems.found)
    }
}

/// Labels are what binds a tap to its route: PagerDuty's log entry names the button by its label,
/// never by our route name, so every route needs one, and no two routes may share one.
fn compile_custom_actions(
    raw: BTreeMap<String, Spanned<RawCustomAction>>,
    problems: &mut Problems<'_>,
) -> BTreeMap<String, CustomAction> {
    let mut labels: HashMap<String, String> = HashMap::new();
    let mut actions = BTreeMap::new();
    for (name, action) in raw {
        let at = action.referenced;
        let label = action.value.label;
        if !NAME_PATTERN.is_match(&name) {
            problems.add(
                &at,
                format!(
                    "custom action name {name:?} must be lowercase letters, digits and dashes (it is the last segment of the action URL)"
                ),
            );
        }
        let text = label.value.trim();
        if text.is_empty() || text.chars().count() > 100 || text.chars().any(char::is_control) {
            problems.add(
                &label.referenced,
                format!(
                    "label of custom action {name:?} must be its name in PagerDuty: 1 to 100 characters, no control characters"
                ),
            );
        }
        if let Some(other) = labels.insert(text.to_lowercase(), name.clone()) {
            problems.add(
                &label.referenced,
                format!(
                    "custom actions {other:?} and {name:?} share the label {text:?}: a tap could not be told apart"
                ),
            );
        }
        actions.insert(
            name,
            CustomAction {
                label: text.to_owned(),
            },
        );
    }
    actions
}

/// `allowed_users` names people; alarms and AWS events name no one, so on a runbook only they can
/// start, the guard could never hold: every trigger would be refused with a note.
fn check_allowed_users_can_hold(
    when: &When,
    guards: &Guards,
    at: &Location,
    problems: &mut Problems<'_>,
) {
    let personless = |source: &Source| matches!(source, Source::CloudwatchAlarm | Source::AwsEvent);
    if !guards.allowed_users.is_empty()
        && !when.sources.is_empty()
        && when.sources.iter().all(personless)
    {
        problems.add(
            at,
            "allowed_users can never hold here: alarms and AWS events name no person",
        );
    }
}

/// A workflow start is a signed v3 `incident.workflow.started`: other sources or event types
/// beside `workflows` would make a runbook that can never match.
fn check_workflows_can_match(when: &When, at: &Location, problems: &mut Problems<'_>) {
    if when.workflows.is_empty() {
        return;
    }
    let source_ok = when.sources.is_empty() || when.sources.contains(&Source::PagerDutyV3);
    let event_ok = when.event_types.is_empty()
        || when
            .event_types
            .iter()
            .any(|event| event == crate::trigger::WORKFLOW_STARTED);
    if !source_ok || !event_ok {
        problems.add(
            at,
            "a runbook with workflows matches only pagerduty-v3 incident.workflow.started events: its sources or event_types exclude them",
        );
    }
}

fn compile_runbook(
    raw: RawRunbook,
    custom_actions: &BTreeMap<String, CustomAction>,
    names: &mut HashSet<String>,
    patterns: &mut Patterns,
    problems: &mut Problems<'_>,
) -> Option<Runbook> {
    let before = problems.found.len();
    let name = raw.name.value.clone();
    if !NAME_PATTERN.is_match(&name) {
        problems.add(
            &raw.name.referenced,
            format!(
                "runbook name {name:?} must be lowercase letters, digits and dashes (at most 63)"
            ),
        );
    } else if !names.insert(name.clone()) {
        problems.add(
            &raw.name.referenced,
            format!("runbook name {name:?} is used twice"),
        );
    }
    let when_at = raw.when.referenced;
    let when = compile_when(raw.when, custom_actions, patterns, problems);
    // Every name written counts as declared, so that a parameter with a bad rule is reported
    // once, not again at each use.
    let written: Vec<String> = raw.params.keys().cloned().collect();
    let params = compile_params(raw.params, patterns, problems);
    let declared: HashSet<&str> = written.iter().map(String::as_str).collect();
    let guards_at = raw.guards.as_ref().map(|guards| guards.referenced);
    let guards = raw
        .guards
        .map(|guards| compile_guards(guards, problems))
        .unwrap_or_default();
    if let (Some(when), Some(guards_at)) = (&when, &guards_at) {
        check_allowed_users_can_hold(when, &guards, guards_at, problems);
    }
    if let Some(when) = &when {
        check_workflows_can_match(when, &when_at, problems);
    }
    let action_at = raw.action.referenced;
    let action = match raw.action.value {
        RawAction::SsmCommand(command) => {
            compile_ssm_command(command, &action_at, &declared, problems).map(Action::SsmCommand)
        }
        RawAction::SsmAutomation(automation) => {
            compile_ssm_automation(automation, &action_at, &declared, problems)
                .map(Action::SsmAutomation)
        }
        RawAction::Rundeck(job) => compile_rundeck(job, &declared, problems).map(Action::Rundeck),
    };
    let raw_report = raw.report.unwrap_or_default();
    let defaults = ReportOptions::default();
    let report = ReportOptions {
        note_on_start: raw_report.note_on_start.unwrap_or(defaults.note_on_start),
        note_on_finish: raw_report.note_on_finish.unwrap_or(defaults.note_on_finish),
        resolve_on_success: raw_report
            .resolve_on_success
            .unwrap_or(defaults.resolve_on_success),
        publish: raw_report.publish.unwrap_or(defaults.publish),
    };
    let verify = raw
        .verify
        .map(|verify| compile_verify(verify, when.as_ref(), problems));
    if problems.found.len() > before {
        return None;
    }
    Some(Runbook {
        name,
        description: raw.description,
        when: when?,
        params,
        guards,
        action: action?,
        report,
        dry_run: raw.dry_run,
        verify: verify.flatten(),
    })
}

fn compile_when(
    raw: Spanned<RawWhen>,
    custom_actions: &BTreeMap<String, CustomAction>,
    patterns: &mut Patterns,
    problems: &mut Problems<'_>,
) -> Option<When> {
    let at = raw.referenced;
    let raw = raw.value;
    if raw.sources.is_empty()
        && raw.event_types.is_empty()
        && raw.actions.is_empty()
        && raw.workflows.is_empty()
    {
        // A runbook that any event at all could start is never what someone meant.
        problems.add(
            &at,
            "`when` must name at least one of sources, event_types, actions or workflows",
        );
    }
    for action in &raw.actions {
        if !NAME_PATTERN.is_match(&action.value) {
            problems.add(
                &action.referenced,
                format!(
                    "action name {:?} must be lowercase letters, digits and dashes (it is the last segment of the action URL)",
                    action.value
                ),
            );
        } else if !custom_actions.contains_key(&action.value) {
            problems.add(
                &action.referenced,
                format!(
                    "action {:?} is not declared under custom_actions with its PagerDuty label (the label binds a tap to its button)",
                    action.value
                ),
            );
        }
    }
    for workflow in &raw.workflows {
        let name = workflow.value.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            problems.add(
                &workflow.referenced,
                "a workflow is named by its PagerDuty id or its name (1 to 200 characters)",
            );
        }
    }
    if !raw.workflows.is_empty() && !raw.actions.is_empty() {
        problems.add(
            &at,
            "`when` names both actions and workflows: a trigger is a button tap or a workflow start, never both",
        );
    }
    let title = raw
        .title
        .and_then(|pattern| match patterns.get(&pattern.value) {
            Ok(pattern) => Some(pattern),
            Err(error) => {
                problems.add(
                    &pattern.referenced,
                    format!("title is not a valid regular expression: {error}"),
                );
                None
            }
        });
    let alarm = raw
        .alarm
        .map(|alarm| compile_alarm_match(alarm, patterns, problems));
    let event = raw
        .event
        .map(|event| compile_event_match(event, patterns, problems));
    Some(When {
        sources: raw.sources,
        event_types: raw.event_types,
        actions: raw.actions.into_iter().map(|action| action.value).collect(),
        workflows: raw
            .workflows
            .into_iter()
            .map(|workflow| workflow.value.trim().to_owned())
            .collect(),
        services: raw.services,
        title,
        urgency: raw.urgency,
        priority: raw.priority,
        teams: raw.teams,
        status: raw.status,
        alarm,
        event,
    })
}

fn compile_alarm_match(
    raw: Spanned<RawAlarmMatch>,
    patterns: &mut Patterns,
    problems: &mut Problems<'_>,
) -> AlarmMatch {
    let at = raw.referenced;
    let raw = raw.value;
    let name = match (raw.name, raw.name_regex) {
        (Some(_), Some(regex)) => {
            problems.add(
                &regex.referenced,
                "alarm: give name (a glob) or name_regex, not both",
            );
            None
        }
        (Some(glob), None) => glob_to_regex(&glob.value, patterns)
            .map_err(|error| problems.add(&glob.referenced, format!("alarm name glob: {error}")))
            .ok(),
        (None, Some(pattern)) => patterns
            .get(&pattern.value)
            .map_err(|error| {
                problems.add(&pattern.referenced, format!("alarm name_regex: {error}"))
            })
            .ok(),
        (None, None) => None,
    };
    let mut dimensions = Vec::new();
    for (dimension, glob) in raw.dimensions {
        match glob_to_regex(&glob, patterns) {
            Ok(regex) => dimensions.push((dimension, regex)),
            Err(error) => problems.add(&at, format!("alarm dimension {dimension}: {error}")),
        }
    }
    // Only a transition into ALARM starts a runbook; recoveries are recorded, never run (the
    // pipeline enforces it too): a runbook listening for OK would silently never fire.
    if let Some(state) = raw
        .state
        .iter()
        .flatten()
        .find(|state| *state != ALARM_STATE)
    {
        problems.add(
            &at,
            format!("alarm state {state:?}: only ALARM starts a runbook (OK and INSUFFICIENT_DATA are recorded, never run)"),
        );
    }
    AlarmMatch {
        name,
        states: raw.state.unwrap_or_else(|| vec![ALARM_STATE.to_owned()]),
        namespaces: raw.namespace,
        metrics: raw.metric,
        dimensions,
    }
}

fn compile_params(
    raw: BTreeMap<String, Spanned<RawParam>>,
    patterns: &mut Patterns,
    problems: &mut Problems<'_>,
) -> Vec<Param> {
    let mut params = Vec::new();
    for (name, spanned) in raw {
        let at = spanned.referenced;
        let raw = spanned.value;
        if !PARAM_NAME_PATTERN.is_match(&name) {
            problems.add(
                &at,
                format!(
                    "parameter name {name:?} must be lowercase letters, digits and underscores"
                ),
            );
        }
        let from = match Template::parse(&raw.from.value) {
            Ok(template) => {
                for field in template.placeholders() {
                    if !is_known_field(field) {
                        problems.add(
                            &raw.from.referenced,
                            format!("parameter {name}: {field:?} is not a trigger field (see the README's field list)"),
                        );
                    }
                }
                Some(template)
            }
            Err(error) => {
                problems.add(&raw.from.referenced, format!("parameter {name}: {error}"));
                None
            }
        };
        let unicode = raw.unicode.as_ref().is_some_and(|flag| flag.value);
        let rule = match (raw.pattern, raw.allowed) {
            (Some(pattern), None) => match compile_param_pattern(&pattern.value, patterns) {
                Ok(regex) => Some(ParamRule::Pattern {
                    regex,
                    source: pattern.value,
                    unicode,
                }),
                Err(error) => {
                    problems.add(
                        &pattern.referenced,
                        format!("parameter {name}: pattern: {error}"),
                    );
                    None
                }
            },
            (None, Some(values)) if !values.is_empty() => {
                if let Some(flag) = &raw.unicode {
                    problems.add(
                        &flag.referenced,
                        format!("parameter {name}: unicode applies to patterns; an enum compares values exactly"),
                    );
                }
                Some(ParamRule::Enum(values))
            }
            (None, Some(_)) => {
                problems.add(
                    &at,
                    format!("parameter {name}: enum needs at least one value"),
                );
                None
            }
            _ => {
                // No value reaches a command unchecked: a rule is required, exactly one.
                problems.add(
                    &at,
                    format!("parameter {name} needs exactly one of pattern or enum"),
                );
                None
            }
        };
        if let (Some(rule), Some(default)) = (&rule, &raw.default)
            && let Some(rejection) = rule.rejection(default)
        {
            let why = match rejection {
                Rejection::NoMatch => format!("does not match its {}", rule.describe()),
                Rejection::NotAscii => {
                    "is not ASCII and the parameter does not set unicode: true".to_owned()
                }
                Rejection::Reference => {
                    "contains {{, which SSM would resolve as a reference".to_owned()
                }
            };
            problems.add(&at, format!("parameter {name}: default {default:?} {why}"));
        }
        if let (Some(from), Some(rule)) = (from, rule) {
            params.push(Param {
                name,
                from,
                rule,
                default: raw.default,
                secret: raw.secret,
            });
        }
    }
    params
}

fn compile_guards(raw: Spanned<RawGuards>, problems: &mut Problems<'_>) -> Guards {
    let raw = raw.value;
    if let Some(max) = &raw.max_targets
        && max.value == 0
    {
        problems.add(&max.referenced, "max_targets must be at least 1");
    }
    if let Some(max) = &raw.max_targets
        && max.value as usize > MAX_INSTANCE_IDS
    {
        problems.add(
            &max.referenced,
            format!(
                "max_targets must be at most {MAX_INSTANCE_IDS}: tag targets are resolved to instance ids and sent as such, at most {MAX_INSTANCE_IDS} per command"
            ),
        );
    }
    if let Some(cooldown) = &raw.cooldown_seconds
        && !GUARD_SECONDS_RANGE.contains(&cooldown.value)
    {
        problems.add(
            &cooldown.referenced,
            "cooldown_seconds must be between 1 and 31536000 (a year)",
        );
    }
    if let Some(limit) = &raw.max_runs
        && (limit.value.count == 0 || !GUARD_SECONDS_RANGE.contains(&limit.value.window_seconds))
    {
        problems.add(
            &limit.referenced,
            "max_runs needs a count of at least 1 and a window_seconds between 1 and 31536000 (a year)",
        );
    }
    if let Some(limit) = &raw.max_runs
        && limit.value.count > crate::guards::MAX_RUNS_PER_WINDOW
    {
        problems.add(
            &limit.referenced,
            format!(
                "max_runs count must be at most {} (the window item lists every run it counted)",
                crate::guards::MAX_RUNS_PER_WINDOW
            ),
        );
    }
    Guards {
        allowed_users: raw.allowed_users,
        allowed_teams: raw.allowed_teams,
        incident_status: raw.incident_status,
        urgency: raw.urgency,
        max_targets: raw.max_targets.map(|value| value.value),
        cooldown_seconds: raw.cooldown_seconds.map(|value| value.value),
        max_runs: raw.max_runs.map(|limit| RateLimit {
            count: limit.value.count,
            window_seconds: limit.value.window_seconds,
        }),
    }
}
