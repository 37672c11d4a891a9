//! Whether a runbook's `when` holds for a trigger, condition by condition.

use super::When;
use crate::trigger::Trigger;

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
