//! `when.event`: AWS events (EventBridge through SNS), matched on their source and detail type,
//! and on the finding they carry: its type, its severity, the resources it names.

use super::super::EventMatch;
use super::super::raw::RawEventMatch;
use super::{Problems, glob_to_regex};
use crate::catalog::pattern::{Pattern, Patterns};
use crate::trigger::SEVERITIES;
use serde_saphyr::Spanned;

pub(super) fn compile_event_match(
    raw: RawEventMatch,
    patterns: &mut Patterns,
    problems: &mut Problems<'_>,
) -> EventMatch {
    let min_severity = raw.min_severity.and_then(|label| {
        let known = SEVERITIES
            .iter()
            .find(|known| **known == label.value)
            .copied();
        if known.is_none() {
            // Exact labels only: `high` is refused rather than read as HIGH, so that a catalog
            // says what the events say, and a typo (`CRITCAL`) cannot quietly match nothing.
            problems.add(
                &label.referenced,
                format!(
                    "event min_severity {:?} is not one of {}",
                    label.value,
                    SEVERITIES.join(", ")
                ),
            );
        }
        known
    });
    EventMatch {
        sources: raw.source,
        detail_types: raw.detail_type,
        finding_types: globs(raw.finding_type, "event finding_type", patterns, problems),
        min_severity,
        resources: globs(raw.resource, "event resource", patterns, problems),
    }
}

fn globs(
    raw: Vec<Spanned<String>>,
    what: &str,
    patterns: &mut Patterns,
    problems: &mut Problems<'_>,
) -> Vec<Pattern> {
    raw.into_iter()
        .filter_map(|glob| {
            glob_to_regex(&glob.value, patterns)
                .map_err(|error| problems.add(&glob.referenced, format!("{what} glob: {error}")))
                .ok()
        })
        .collect()
}
