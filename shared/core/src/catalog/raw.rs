//! The catalog as users write it. Unknown fields are errors everywhere; positions are kept
//! (`Spanned`) wherever a later check may need to point at a line.
//!
//! The same types, written as JSON, are the prebuilt form of a catalog compiled into a binary
//! ([`Prebuilt`]): `Spanned` writes its value only and reads a plain value back with an unknown
//! position, which is all a catalog that passed every check at build time needs.

use crate::template::Quoting;
use crate::trigger::Source;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// A catalog that passed every check when the binary was built, as JSON: no YAML to parse at
/// run time, and the content version of the YAML it was made from.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prebuilt {
    /// [`PREBUILT_FORMAT`]: a prebuilt form is read only by the build that wrote it, but a
    /// number costs nothing and turns a mix-up into a clear error.
    pub format: u32,
    pub version: String,
    pub catalog: RawCatalog,
}

pub const PREBUILT_FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    pub version: Spanned<u32>,
    /// The Custom Incident Actions (PagerDuty buttons) this catalog answers, by route name.
    #[serde(default)]
    pub custom_actions: BTreeMap<String, Spanned<RawCustomAction>>,
    #[serde(default)]
    pub runbooks: Vec<Spanned<RawRunbook>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRunbook {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub when: Spanned<RawWhen>,
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<RawParam>>,
    #[serde(default)]
    pub guards: Option<Spanned<RawGuards>>,
    pub action: Spanned<RawAction>,
    #[serde(default)]
    pub report: Option<RawReport>,
    #[serde(default)]
    pub dry_run: bool,
    /// Check the alarm again after an alarm-triggered run succeeded.
    #[serde(default)]
    pub verify: Option<Spanned<RawVerify>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVerify {
    pub settle_seconds: Spanned<u32>,
    /// A template over the trigger's fields; default `{{ alarm.name }}`.
    #[serde(default)]
    pub alarm: Option<Spanned<String>>,
    #[serde(default)]
    pub on_failure: Option<crate::catalog::OnFailure>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomAction {
    /// The action's name in PagerDuty (its button label): PagerDuty's log entry of a tap reads
    /// `<person> ran the <label> action`, which is how a tap is bound to this route.
    pub label: Spanned<String>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub event_types: Vec<String>,
    #[serde(default)]
    pub actions: Vec<Spanned<String>>,
    /// Incident Workflow ids or names (manual workflow starts).
    #[serde(default)]
    pub workflows: Vec<Spanned<String>>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub title: Option<Spanned<String>>,
    #[serde(default)]
    pub urgency: Vec<String>,
    #[serde(default)]
    pub priority: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub status: Vec<String>,
    #[serde(default)]
    pub alarm: Option<Spanned<RawAlarmMatch>>,
    #[serde(default)]
    pub event: Option<RawEventMatch>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawAlarmMatch {
    /// A glob: `*` any run of characters, `?` one character.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub name_regex: Option<Spanned<String>>,
    /// Default: ALARM only.
    #[serde(default)]
    pub state: Option<Vec<String>>,
    #[serde(default)]
    pub namespace: Vec<String>,
    #[serde(default)]
    pub metric: Vec<String>,
    /// Dimension name to a glob its value must match.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawEventMatch {
    #[serde(default)]
    pub source: Vec<String>,
    #[serde(default)]
    pub detail_type: Vec<String>,
    /// Globs on the finding type (GuardDuty `type`, Security Hub `Types[0]`, Health
    /// `eventTypeCode`).
    #[serde(default)]
    pub finding_type: Vec<Spanned<String>>,
    /// The least severe label that matches: one of `trigger::SEVERITIES`.
    #[serde(default)]
    pub min_severity: Option<Spanned<String>>,
    /// Globs on the affected resources: any resource matching any glob holds.
    #[serde(default)]
    pub resource: Vec<Spanned<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    pub from: Spanned<String>,
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    #[serde(default, rename = "enum")]
    pub allowed: Option<Vec<String>>,
    /// Accept non-ASCII values (patterns only).
    #[serde(default)]
    pub unicode: Option<Spanned<bool>>,
    #[serde(default)]
    pub default: Option<String>,
    /// Hide the value wherever the run's output shows it (notes, the ledger, the results topic).
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawGuards {
    #[serde(default)]
    pub allowed_users: Vec<String>,
    #[serde(default)]
    pub allowed_teams: Vec<String>,
    #[serde(default)]
    pub incident_status: Vec<String>,
    #[serde(default)]
    pub urgency: Vec<String>,
    #[serde(default)]
    pub max_targets: Option<Spanned<u32>>,
    #[serde(default)]
    pub cooldown_seconds: Option<Spanned<u64>>,
    #[serde(default)]
    pub max_runs: Option<Spanned<RawRateLimit>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub count: u32,
    pub window_seconds: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RawAction {
    SsmCommand(RawSsmCommand),
    SsmAutomation(RawSsmAutomation),
    Rundeck(RawRundeck),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSsmCommand {
    pub document: Spanned<String>,
    #[serde(default)]
    pub shell: Option<Spanned<Quoting>>,
    pub targets: Spanned<RawTargets>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Spanned<OneOrMany>>,
    #[serde(default)]
    pub delivery_timeout_seconds: Option<Spanned<u32>>,
    #[serde(default)]
    pub execution_timeout_seconds: Option<Spanned<u32>>,
    #[serde(default)]
    pub max_concurrency: Option<Spanned<String>>,
    #[serde(default)]
    pub max_errors: Option<Spanned<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSsmAutomation {
    pub document: Spanned<String>,
    #[serde(default)]
    pub document_version: Option<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Spanned<OneOrMany>>,
    #[serde(default)]
    pub target_parameter: Option<String>,
    #[serde(default)]
    pub targets: Option<Spanned<RawTargets>>,
    #[serde(default)]
    pub max_concurrency: Option<Spanned<String>>,
    #[serde(default)]
    pub max_errors: Option<Spanned<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRundeck {
    pub job_id: Spanned<String>,
    #[serde(default)]
    pub options: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub loglevel: Option<Spanned<String>>,
    #[serde(default)]
    pub filter: Option<Spanned<String>>,
    #[serde(default)]
    pub as_user: Option<Spanned<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    #[serde(default)]
    pub instance_ids: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    #[serde(default)]
    pub note_on_start: Option<bool>,
    #[serde(default)]
    pub note_on_finish: Option<bool>,
    #[serde(default)]
    pub resolve_on_success: Option<bool>,
    #[serde(default)]
    pub publish: Option<bool>,
}

/// A document parameter value: YAML may give one string or a list of strings. Nothing else: a
/// number, a boolean or a null (`5`, `true`, `~`) is refused rather than turned into text, so
/// that what runs is what was written, quoted.
#[derive(Debug)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(value) => vec![value],
            OneOrMany::Many(values) => values,
        }
    }
}

// By hand rather than `#[serde(untagged)]`: an untagged enum buffers every value before trying
// each variant, which cost about a tenth of reading a runbook.
impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(value.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, value: String) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(value))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut items: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut values = Vec::with_capacity(items.size_hint().unwrap_or(0).min(64));
                while let Some(StrictString(value)) = items.next_element()? {
                    values.push(value);
                }
                Ok(OneOrMany::Many(values))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Serialize for OneOrMany {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(value) => serializer.serialize_str(value),
            OneOrMany::Many(values) => values.serialize(serializer),
        }
    }
}

/// A string as YAML typed it: a plain `5` or `true` is not one.
struct StrictString(String);

impl<'de> Deserialize<'de> for StrictString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = StrictString;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<StrictString, E> {
                Ok(StrictString(value.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, value: String) -> Result<StrictString, E> {
                Ok(StrictString(value))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
