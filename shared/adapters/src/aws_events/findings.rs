//! The `detail` of the sources whose events carry a finding: what kind it is, how severe, which
//! resources it names. Field names are AWS's: GuardDuty's finding format (camelCase, as
//! EventBridge delivers it), the AWS Security Finding Format (PascalCase), AWS Health's
//! EventBridge schema (camelCase).

use super::{NotAnEvent, non_blank, truncated};
use remediate_core::trigger::SEVERITIES;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub(super) const GUARDDUTY: (&str, &str) = ("aws.guardduty", "GuardDuty Finding");
pub(super) const SECURITY_HUB: (&str, &str) =
    ("aws.securityhub", "Security Hub Findings - Imported");
pub(super) const HEALTH: (&str, &str) = ("aws.health", "AWS Health Event");

/// What the detail says, for the envelope to combine with its own fields.
#[derive(Default)]
pub(super) struct Read {
    pub finding_type: Option<String>,
    pub severity: Option<&'static str>,
    /// The finding's own resources, before the envelope's.
    pub resources: Vec<String>,
    pub title: Option<String>,
    pub category: Option<String>,
}

/// Read `detail` for a source and detail type we know; any other event has no finding. An
/// absent or null `detail` is an event without a finding, not an error: the envelope still
/// matches on its source and detail type.
pub(super) fn read(
    source: &str,
    detail_type: &str,
    detail: Option<&serde_json::Value>,
) -> Result<Read, NotAnEvent> {
    let Some(detail) = detail.filter(|detail| !detail.is_null()) else {
        return Ok(Read::default());
    };
    match (source, detail_type) {
        GUARDDUTY => guardduty(typed(detail, "GuardDuty finding")?),
        SECURITY_HUB => security_hub(typed(detail, "Security Hub detail")?),
        HEALTH => Ok(health(typed(detail, "AWS Health detail")?)),
        _ => Ok(Read::default()),
    }
}

fn typed<T: DeserializeOwned>(value: &serde_json::Value, what: &str) -> Result<T, NotAnEvent> {
    T::deserialize(value).map_err(|error| NotAnEvent::Invalid(format!("{what}: {error}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyFinding {
    #[serde(rename = "type")]
    finding_type: Option<String>,
    /// A JSON number: `5`, `5.0` and `8.9` all occur.
    severity: Option<f64>,
    title: Option<String>,
    resource: Option<GuardDutyResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyResource {
    instance_details: Option<GuardDutyInstance>,
    access_key_details: Option<GuardDutyAccessKey>,
    s3_bucket_details: Option<Vec<GuardDutyBucket>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyInstance {
    instance_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyAccessKey {
    access_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardDutyBucket {
    name: Option<String>,
    arn: Option<String>,
}

fn guardduty(finding: GuardDutyFinding) -> Result<Read, NotAnEvent> {
    let severity = finding.severity.map(guardduty_severity).transpose()?;
    let mut resources = Vec::new();
    if let Some(resource) = finding.resource {
        resources.extend(resource.instance_details.and_then(|i| i.instance_id));
        resources.extend(resource.access_key_details.and_then(|k| k.access_key_id));
        for bucket in resource.s3_bucket_details.into_iter().flatten() {
            resources.extend(bucket.name);
            resources.extend(bucket.arn);
        }
    }
    Ok(Read {
        finding_type: non_blank(finding.finding_type.as_deref()),
        severity,
        resources,
        title: non_blank(finding.title.as_deref()),
        category: None,
    })
}

/// GuardDuty's bands ("Severity levels of GuardDuty findings"): Low 1.0–3.9, Medium 4.0–6.9,
/// High 7.0–8.9, Critical 9.0–10.0. 0 is reserved, and values below 1.0 are read as Low.
pub(super) fn guardduty_severity(value: f64) -> Result<&'static str, NotAnEvent> {
    match value {
        v if !(0.0..=10.0).contains(&v) => Err(NotAnEvent::Invalid(format!(
            "GuardDuty severity {value} is outside 0 to 10"
        ))),
        v if v < 4.0 => Ok("LOW"),
        v if v < 7.0 => Ok("MEDIUM"),
        v if v < 9.0 => Ok("HIGH"),
        _ => Ok("CRITICAL"),
    }
}

#[derive(Deserialize)]
struct SecurityHubDetail {
    /// Values first: the count decides before any finding's fields are read.
    findings: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AsffFinding {
    types: Option<Vec<String>>,
    severity: Option<AsffSeverity>,
    resources: Option<Vec<AsffResource>>,
    title: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AsffSeverity {
    label: Option<String>,
    /// Deprecated in ASFF but still present on older findings; an integer 0–100.
    normalized: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AsffResource {
    id: Option<String>,
}

fn security_hub(detail: SecurityHubDetail) -> Result<Read, NotAnEvent> {
    let findings = detail.findings.unwrap_or_default();
    let finding = match findings.as_slice() {
        [] => return Ok(Read::default()),
        [only] => typed::<AsffFinding>(only, "Security Hub finding")?,
        several => return Err(NotAnEvent::SeveralFindings(several.len())),
    };
    let severity = match finding.severity {
        Some(severity) => asff_severity(&severity)?,
        None => None,
    };
    let finding_type = finding
        .types
        .as_deref()
        .and_then(<[String]>::first)
        .and_then(|first| non_blank(Some(first)));
    Ok(Read {
        finding_type,
        severity,
        resources: finding
            .resources
            .into_iter()
            .flatten()
            .filter_map(|resource| resource.id)
            .collect(),
        title: non_blank(finding.title.as_deref()),
        category: None,
    })
}

/// `Label` when present (case as written is forgiven, any other word is not); else
/// `Normalized` mapped as ASFF says: 0 INFORMATIONAL, 1–39 LOW, 40–69 MEDIUM, 70–89 HIGH,
/// 90–100 CRITICAL.
fn asff_severity(severity: &AsffSeverity) -> Result<Option<&'static str>, NotAnEvent> {
    if let Some(label) = non_blank(severity.label.as_deref()) {
        let upper = label.to_ascii_uppercase();
        return SEVERITIES
            .iter()
            .find(|known| **known == upper)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                NotAnEvent::Invalid(format!(
                    "Severity.Label {:?} is not one of {}",
                    truncated(&label),
                    SEVERITIES.join(", ")
                ))
            });
    }
    severity.normalized.map(normalized_severity).transpose()
}

pub(super) fn normalized_severity(value: f64) -> Result<&'static str, NotAnEvent> {
    match value {
        v if !(0.0..=100.0).contains(&v) => Err(NotAnEvent::Invalid(format!(
            "Severity.Normalized {value} is outside 0 to 100"
        ))),
        v if v < 1.0 => Ok("INFORMATIONAL"),
        v if v < 40.0 => Ok("LOW"),
        v if v < 70.0 => Ok("MEDIUM"),
        v if v < 90.0 => Ok("HIGH"),
        _ => Ok("CRITICAL"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HealthDetail {
    event_type_code: Option<String>,
    event_type_category: Option<String>,
    affected_entities: Option<Vec<HealthEntity>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HealthEntity {
    entity_value: Option<String>,
}

fn health(detail: HealthDetail) -> Read {
    Read {
        finding_type: non_blank(detail.event_type_code.as_deref()),
        severity: None,
        resources: detail
            .affected_entities
            .into_iter()
            .flatten()
            .filter_map(|entity| entity.entity_value)
            .collect(),
        title: None,
        category: non_blank(detail.event_type_category.as_deref()),
    }
}
