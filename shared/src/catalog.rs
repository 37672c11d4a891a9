//! The runbook catalog: what users write (YAML), validated once at load into a form that the
//! decision engine uses without further checks (regexes compiled, names and limits checked).
//!
//! Matching semantics: runbooks are tried in file order and the first whose `when` matches wins,
//! so one trigger starts at most one run. Within `when`, every condition given must hold; a list
//! holds when any of its entries matches; an empty or absent condition does not constrain.

use crate::trigger::{Source, Trigger};
use crate::{Error, Result};
use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

/// The catalog compiled into every binary: `infra/runbooks.yaml` at build time. SAM packages only
/// the binary, so this is what a function uses unless `RUNBOOKS_FILE` says otherwise.
pub const BUILT_IN_CATALOG: &str = include_str!("../../infra/runbooks.yaml");
pub const BUILT_IN_CATALOG_NAME: &str = "infra/runbooks.yaml (built in)";

/// The only catalog format version this build understands.
pub const CATALOG_VERSION: u32 = 1;

static NAME_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-z0-9][a-z0-9-]{0,62}$").expect("static regex"));
// SSM's own rules for document names, instance ids, tag keys and concurrency values.
static DOCUMENT_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_\-.:/]{3,128}$").expect("static regex"));
static INSTANCE_ID_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^(i|mi)-[0-9a-f]{8,17}$").expect("static regex"));
static TAG_KEY_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{N} _.:/=+\-@]{1,128}$").expect("static regex"));
static MAX_CONCURRENCY_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$").expect("static regex"));
static MAX_ERRORS_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^([0-9]{1,7}|[0-9]{1,2}%|100%)$").expect("static regex"));

/// SSM accepts at most five targets (tag conditions) and 50 instance ids per command.
const MAX_TAG_TARGETS: usize = 5;
const MAX_INSTANCE_IDS: usize = 50;
/// SendCommand's TimeoutSeconds bounds delivery only; its documented range.
const DELIVERY_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 30..=2_592_000;
/// The executionTimeout range of AWS-RunShellScript and AWS-RunPowerShellScript.
const EXECUTION_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=172_800;

// ---------------------------------------------------------------------------------------------
// What users write.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    version: Spanned<u32>,
    #[serde(default)]
    runbooks: Vec<Spanned<RawRunbook>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    when: Spanned<RawWhen>,
    action: RawAction,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    #[serde(default)]
    sources: Vec<Source>,
    #[serde(default)]
    event_types: Vec<String>,
    #[serde(default)]
    actions: Vec<Spanned<String>>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    title: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RawAction {
    SsmCommand(Spanned<RawSsmCommand>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsmCommand {
    document: Spanned<String>,
    targets: Spanned<RawTargets>,
    #[serde(default)]
    parameters: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    delivery_timeout_seconds: Option<Spanned<u32>>,
    #[serde(default)]
    execution_timeout_seconds: Option<Spanned<u32>>,
    #[serde(default)]
    max_concurrency: Option<Spanned<String>>,
    #[serde(default)]
    max_errors: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    #[serde(default)]
    instance_ids: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, OneOrMany>,
}

/// A document parameter value: YAML may give one string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(value) => vec![value],
            OneOrMany::Many(values) => values,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the decision engine uses.

#[derive(Debug, Clone)]
pub struct Catalog {
    /// Where it was loaded from (a path, a parameter name, or the built-in copy).
    pub source_name: String,
    /// A content hash: every decision records which catalog made it.
    pub version: String,
    pub runbooks: Vec<Runbook>,
}

#[derive(Debug, Clone)]
pub struct Runbook {
    pub name: String,
    pub description: Option<String>,
    pub when: When,
    pub action: Action,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default)]
pub struct When {
    pub sources: Vec<Source>,
    pub event_types: Vec<String>,
    pub actions: Vec<String>,
    pub services: Vec<String>,
    pub title: Option<Regex>,
}

#[derive(Debug, Clone)]
pub enum Action {
    SsmCommand(SsmCommand),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SsmCommand {
    pub document: String,
    pub targets: Targets,
    /// Static document parameters, as SSM takes them (every value a list of strings).
    pub parameters: BTreeMap<String, Vec<String>>,
    pub delivery_timeout_seconds: Option<u32>,
    pub execution_timeout_seconds: Option<u32>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    InstanceIds(Vec<String>),
    /// Tag key to accepted values; an instance must carry every key (SSM's semantics).
    Tags(BTreeMap<String, Vec<String>>),
}

impl Targets {
    /// `i-1, i-2` or `tag:Role=web`, for notes and logs.
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
}

impl When {
    /// Whether the trigger satisfies every condition given. Returns the first condition that
    /// failed, so the decision can explain itself.
    pub fn first_mismatch(&self, trigger: &Trigger) -> Option<&'static str> {
        if !self.sources.is_empty() && !self.sources.contains(&trigger.source) {
            return Some("source");
        }
        if !self.event_types.is_empty() && !self.event_types.contains(&trigger.event_type) {
            return Some("event_types");
        }
        if !self.actions.is_empty() {
            let matched = trigger
                .action
                .as_ref()
                .is_some_and(|action| self.actions.contains(action));
            if !matched {
                return Some("actions");
            }
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
        if let Some(title) = &self.title {
            let matched = incident.is_some_and(|incident| title.is_match(&incident.title));
            if !matched {
                return Some("title");
            }
        }
        None
    }
}

impl Catalog {
    /// The compiled-in catalog. It is validated by a unit test, so this cannot fail in a build
    /// that passed its tests; still, a failure is an error, not a panic.
    pub fn built_in() -> Result<Self> {
        Self::parse(BUILT_IN_CATALOG, BUILT_IN_CATALOG_NAME)
    }

    /// Parse and validate. Every problem found is reported, each as `source:line:column: message`.
    pub fn parse(text: &str, source_name: &str) -> Result<Self> {
        let raw: RawCatalog = serde_saphyr::from_str(text).map_err(|error| {
            let position = error
                .location()
                .map(|at| format!("{}:{}", at.line(), at.column()))
                .unwrap_or_else(|| "1:1".to_owned());
            Error::Catalog {
                source_name: source_name.to_owned(),
                problems: vec![format!(
                    "{source_name}:{position}: {}",
                    first_line(&error.to_string())
                )],
            }
        })?;
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
        let mut names = HashSet::new();
        let mut runbooks = Vec::with_capacity(raw.runbooks.len());
        for raw_runbook in raw.runbooks {
            if let Some(runbook) = compile_runbook(raw_runbook.value, &mut names, &mut problems) {
                runbooks.push(runbook);
            }
        }
        if !problems.found.is_empty() {
            return Err(Error::Catalog {
                source_name: source_name.to_owned(),
                problems: problems.found,
            });
        }
        Ok(Catalog {
            source_name: source_name.to_owned(),
            version: content_version(text),
            runbooks,
        })
    }
}

/// The first 12 hex digits of the SHA-256 of the catalog text.
pub fn content_version(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..6])
}

struct Problems<'a> {
    source_name: &'a str,
    found: Vec<String>,
}

impl Problems<'_> {
    fn add(&mut self, at: &serde_saphyr::Location, message: impl AsRef<str>) {
        self.found.push(format!(
            "{}:{}:{}: {}",
            self.source_name,
            at.line(),
            at.column(),
            message.as_ref()
        ));
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

fn compile_runbook(
    raw: RawRunbook,
    names: &mut HashSet<String>,
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
    let when = compile_when(raw.when, problems);
    let action = match raw.action {
        RawAction::SsmCommand(command) => {
            compile_ssm_command(command, problems).map(Action::SsmCommand)
        }
    };
    if problems.found.len() > before {
        return None;
    }
    Some(Runbook {
        name,
        description: raw.description,
        when: when?,
        action: action?,
        dry_run: raw.dry_run,
    })
}

fn compile_when(raw: Spanned<RawWhen>, problems: &mut Problems<'_>) -> Option<When> {
    let at = raw.referenced;
    let raw = raw.value;
    if raw.sources.is_empty() && raw.event_types.is_empty() && raw.actions.is_empty() {
        // A runbook that any event at all could start is never what someone meant.
        problems.add(
            &at,
            "`when` must name at least one of sources, event_types or actions",
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
        }
    }
    let title = match raw.title {
        None => None,
        Some(pattern) => match Regex::new(&pattern.value) {
            Ok(regex) => Some(regex),
            Err(error) => {
                problems.add(
                    &pattern.referenced,
                    format!(
                        "title is not a valid regular expression: {}",
                        one_line(&error.to_string())
                    ),
                );
                None
            }
        },
    };
    Some(When {
        sources: raw.sources,
        event_types: raw.event_types,
        actions: raw.actions.into_iter().map(|action| action.value).collect(),
        services: raw.services,
        title,
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn compile_ssm_command(
    raw: Spanned<RawSsmCommand>,
    problems: &mut Problems<'_>,
) -> Option<SsmCommand> {
    let raw = raw.value;
    if !DOCUMENT_PATTERN.is_match(&raw.document.value) {
        problems.add(
            &raw.document.referenced,
            format!("{:?} is not a valid SSM document name", raw.document.value),
        );
    }
    let targets = compile_targets(raw.targets, problems);
    if let Some(timeout) = &raw.delivery_timeout_seconds
        && !DELIVERY_TIMEOUT_RANGE.contains(&timeout.value)
    {
        problems.add(
            &timeout.referenced,
            format!(
                "delivery_timeout_seconds must be between {} and {}",
                DELIVERY_TIMEOUT_RANGE.start(),
                DELIVERY_TIMEOUT_RANGE.end()
            ),
        );
    }
    if let Some(timeout) = &raw.execution_timeout_seconds
        && !EXECUTION_TIMEOUT_RANGE.contains(&timeout.value)
    {
        problems.add(
            &timeout.referenced,
            format!(
                "execution_timeout_seconds must be between {} and {}",
                EXECUTION_TIMEOUT_RANGE.start(),
                EXECUTION_TIMEOUT_RANGE.end()
            ),
        );
    }
    if let Some(value) = &raw.max_concurrency
        && !MAX_CONCURRENCY_PATTERN.is_match(&value.value)
    {
        problems.add(
            &value.referenced,
            format!(
                "max_concurrency {:?} must be a count (1 or more) or a percentage (1% to 100%)",
                value.value
            ),
        );
    }
    if let Some(value) = &raw.max_errors
        && !MAX_ERRORS_PATTERN.is_match(&value.value)
    {
        problems.add(
            &value.referenced,
            format!(
                "max_errors {:?} must be a count or a percentage (0% to 100%)",
                value.value
            ),
        );
    }
    let parameters: BTreeMap<String, Vec<String>> = raw
        .parameters
        .into_iter()
        .map(|(name, value)| (name, value.into_vec()))
        .collect();
    if raw.execution_timeout_seconds.is_some() && parameters.contains_key("executionTimeout") {
        problems.add(
            &raw.document.referenced,
            "set execution_timeout_seconds or parameters.executionTimeout, not both",
        );
    }
    Some(SsmCommand {
        document: raw.document.value,
        targets: targets?,
        parameters,
        delivery_timeout_seconds: raw.delivery_timeout_seconds.map(|value| value.value),
        execution_timeout_seconds: raw.execution_timeout_seconds.map(|value| value.value),
        max_concurrency: raw.max_concurrency.map(|value| value.value),
        max_errors: raw.max_errors.map(|value| value.value),
    })
}

fn compile_targets(raw: Spanned<RawTargets>, problems: &mut Problems<'_>) -> Option<Targets> {
    let at = raw.referenced;
    let raw = raw.value;
    match (raw.instance_ids.is_empty(), raw.tags.is_empty()) {
        (false, true) => {
            if raw.instance_ids.len() > MAX_INSTANCE_IDS {
                problems.add(
                    &at,
                    format!("at most {MAX_INSTANCE_IDS} instance_ids per command"),
                );
            }
            for id in &raw.instance_ids {
                if !INSTANCE_ID_PATTERN.is_match(id) {
                    problems.add(&at, format!("{id:?} is not an EC2 or managed instance id"));
                }
            }
            Some(Targets::InstanceIds(raw.instance_ids))
        }
        (true, false) => {
            if raw.tags.len() > MAX_TAG_TARGETS {
                problems.add(
                    &at,
                    format!("at most {MAX_TAG_TARGETS} tag conditions per command"),
                );
            }
            let mut tags = BTreeMap::new();
            for (key, values) in raw.tags {
                let values = values.into_vec();
                if !TAG_KEY_PATTERN.is_match(&key) {
                    problems.add(&at, format!("{key:?} is not a valid tag key"));
                }
                if values.is_empty()
                    || values
                        .iter()
                        .any(|value| value.is_empty() || value.len() > 256)
                {
                    problems.add(
                        &at,
                        format!("tag {key:?} needs one or more values of 1 to 256 characters"),
                    );
                }
                tags.insert(key, values);
            }
            Some(Targets::Tags(tags))
        }
        _ => {
            problems.add(&at, "targets needs exactly one of instance_ids or tags");
            None
        }
    }
}

#[cfg(test)]
mod tests;
