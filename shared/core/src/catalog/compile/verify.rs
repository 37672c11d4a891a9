//! `verify:`: check the alarm again after an alarm-triggered run succeeded.

use super::super::raw::RawVerify;
use super::super::{MAX_ALARM_NAME_CHARS, Verify, When, is_alarm_name};
use super::Problems;
use crate::template::{Segment, Template};
use crate::trigger::{Source, is_known_field};
use serde_saphyr::{Location, Spanned};

/// Metrics need at least a period (commonly a minute) or two to show a fix; more than an hour
/// after a run, a state says little about that run.
pub(super) const SETTLE_SECONDS_RANGE: std::ops::RangeInclusive<u32> = 30..=3600;
/// What names the alarm when `alarm` is not given: the alarm that started the run.
pub(super) const DEFAULT_ALARM_TEMPLATE: &str = "{{ alarm.name }}";

pub(super) fn compile_verify(
    raw: Spanned<RawVerify>,
    when: Option<&When>,
    problems: &mut Problems<'_>,
) -> Option<Verify> {
    let at = raw.referenced;
    let raw = raw.value;
    let before = problems.found.len();
    if let Some(when) = when
        && let Some(why) = alarms_cannot_match(when)
    {
        problems.add(
            &at,
            format!("verify checks the alarm that started the run, but this runbook never runs for an alarm: {why}"),
        );
    }
    let settle = raw.settle_seconds;
    if !SETTLE_SECONDS_RANGE.contains(&settle.value) {
        problems.add(
            &settle.referenced,
            format!(
                "verify settle_seconds must be between {} and {} (an alarm needs a period or two to show a fix; an hour later its state says little about the run)",
                SETTLE_SECONDS_RANGE.start(),
                SETTLE_SECONDS_RANGE.end()
            ),
        );
    }
    let alarm = match &raw.alarm {
        Some(text) => compile_alarm_template(&text.value, &text.referenced, problems),
        None => Template::parse(DEFAULT_ALARM_TEMPLATE).ok(),
    };
    if problems.found.len() > before {
        return None;
    }
    Some(Verify {
        settle_seconds: settle.value,
        alarm: alarm?,
        on_failure: raw.on_failure.unwrap_or_default(),
    })
}

/// Why no alarm trigger can reach a runbook with this `when`, if none can: its sources leave
/// alarms out, or it asks for what only PagerDuty or other AWS events carry.
fn alarms_cannot_match(when: &When) -> Option<&'static str> {
    if !when.sources.is_empty() && !when.sources.contains(&Source::CloudwatchAlarm) {
        return Some("its sources exclude cloudwatch-alarm");
    }
    if !when.actions.is_empty() {
        return Some("it names actions (button taps)");
    }
    if !when.workflows.is_empty() {
        return Some("it names workflows");
    }
    if when.event.is_some() {
        return Some("it matches other AWS events (event)");
    }
    None
}

/// The template must read only trigger fields, and what it renders must be able to be an alarm
/// name: a literal is checked whole, the text around placeholders for control characters and
/// length.
fn compile_alarm_template(
    text: &str,
    at: &Location,
    problems: &mut Problems<'_>,
) -> Option<Template> {
    let template = match Template::parse(text) {
        Ok(template) => template,
        Err(error) => {
            problems.add(at, format!("verify alarm: {error}"));
            return None;
        }
    };
    let before = problems.found.len();
    for field in template.placeholders() {
        if !is_known_field(field) {
            problems.add(
                at,
                format!(
                    "verify alarm: {field:?} is not a trigger field (see the README's field list)"
                ),
            );
        }
    }
    let literal: String = template
        .segments()
        .filter_map(|segment| match segment {
            Segment::Text(text) => Some(text),
            Segment::Placeholder(_) => None,
        })
        .collect();
    let fits = if template.is_literal() {
        is_alarm_name(&literal)
    } else {
        literal.chars().count() < MAX_ALARM_NAME_CHARS && !literal.chars().any(char::is_control)
    };
    if !fits {
        problems.add(
            at,
            format!("verify alarm {text:?} cannot be a CloudWatch alarm name (1 to {MAX_ALARM_NAME_CHARS} characters, no control characters)"),
        );
    }
    (problems.found.len() == before).then_some(template)
}
