//! `remediate simulate` for an SNS event (the sns-alarm function): each record authenticated
//! as the function does it (topic allowlist, then the signature against a certificate
//! directory), read with the function's own reader, then the same decision explanation as a
//! Function URL event, once per record.

use crate::commands::{Output, SimulateOptions, Simulation, explain, render_text};
use aws_lambda_events::sns::{SnsEvent, SnsMessage};
use remediate_adapters::sns;
use remediate_core::catalog::Catalog;
use remediate_core::decision;
use remediate_core::trigger::{ALARM_STATE, Trigger};
use remediate_sns_signature::{DirectoryCertificates, Verifier};
use serde::Serialize;
use std::fmt::Write as _;

/// Whether a Lambda event is an SNS one: `Records[0].EventSource` is `aws:sns`, or the record
/// carries an `Sns` object (hand-written events sometimes lack the source).
pub fn is_sns_event(text: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let first = &value["Records"][0];
    first["EventSource"] == "aws:sns" || first["Sns"].is_object()
}

/// `remediate simulate --json` for an SNS event: one simulation per record.
#[derive(Serialize)]
struct Records {
    records: Vec<RecordSimulation>,
}

#[derive(Serialize)]
struct RecordSimulation {
    message_id: String,
    #[serde(flatten)]
    simulation: Simulation,
}

pub fn simulate(
    options: &SimulateOptions,
    catalog: &Catalog,
    event_text: &str,
) -> Result<Output, String> {
    let event: SnsEvent = serde_json::from_str(event_text).map_err(|error| {
        format!(
            "{} is not a Lambda SNS event ({error})",
            options.event.display()
        )
    })?;
    let verifier = options
        .certificates
        .as_ref()
        .map(|dir| Verifier::new(DirectoryCertificates::new(dir)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start a runtime: {error}"))?;
    let mut records = Vec::with_capacity(event.records.len());
    for record in &event.records {
        let simulation = runtime.block_on(simulate_record(
            options,
            catalog,
            verifier.as_ref(),
            &record.sns,
        ));
        records.push(RecordSimulation {
            message_id: record.sns.message_id.clone(),
            simulation,
        });
    }
    let answer = Records { records };
    if options.json {
        let mut text = serde_json::to_string_pretty(&answer).map_err(|error| error.to_string())?;
        text.push('\n');
        return Ok(Output { text, code: 0 });
    }
    let mut text = String::new();
    let count = answer.records.len();
    for (n, record) in answer.records.iter().enumerate() {
        if n > 0 {
            text.push('\n');
        }
        let _ = writeln!(
            text,
            "{:<10} {}/{count}: SNS message {}",
            "record",
            n + 1,
            record.message_id
        );
        text += &render_text(&record.simulation)?;
    }
    Ok(Output { text, code: 0 })
}

async fn simulate_record(
    options: &SimulateOptions,
    catalog: &Catalog,
    verifier: Option<&Verifier<DirectoryCertificates>>,
    message: &SnsMessage,
) -> Simulation {
    let mut simulation = Simulation::new(catalog);
    if !options.topics.is_empty() && !options.topics.contains(&message.topic_arn) {
        simulation.reason = Some(format!(
            "topic {} is not in SNS_TOPIC_ARNS",
            message.topic_arn
        ));
        return simulation;
    }
    let allowlist = if options.topics.is_empty() {
        "topic allowlist not checked (pass --topic or set SNS_TOPIC_ARNS)"
    } else {
        "topic allowed"
    };
    match verifier {
        None => {
            simulation.authentication = format!(
                "{allowlist}; SNS signature not checked (pass --certificates DIR or set SNS_CERTIFICATES_DIR)"
            );
        }
        Some(verifier) => match verifier.verify(&sns_alarm::signed_message(message)).await {
            Ok(_) => {
                simulation.authentication = format!(
                    "{allowlist}; SNS signature checked against {}",
                    certificates_shown(options)
                );
            }
            Err(error) => {
                simulation.authentication = format!("{allowlist}; SNS signature checked");
                // The function retries a transient failure; a directory has none but an
                // unreadable file, which is worth saying as it is.
                simulation.reason = Some(format!("SNS signature: {error}"));
                return simulation;
            }
        },
    }
    let trigger = match sns::read(&message.message_id, message.timestamp, &message.message) {
        Ok(trigger) => trigger,
        Err(unusable) => {
            simulation.decision = "ignore";
            simulation.reason = Some(unusable.to_string());
            return simulation;
        }
    };
    simulation.not_simulated.push(
        "the incident lookup: the function looks up the open PagerDuty incident whose incident_key is PAGERDUTY_INCIDENT_KEY_TEMPLATE rendered for this trigger (unset: none) and notes it there".to_owned(),
    );
    simulation.not_simulated.push(
        "the results topic (RESULTS_TOPIC_ARN), which hears of every outcome the pipeline records"
            .to_owned(),
    );
    if let Some(state) = recovery_state(&trigger) {
        explain_recovery(&mut simulation, trigger, catalog, &state);
        return simulation;
    }
    explain(&mut simulation, trigger, catalog, options, |_| None);
    simulation
}

fn certificates_shown(options: &SimulateOptions) -> String {
    options
        .certificates
        .as_ref()
        .map(|dir| dir.display().to_string())
        .unwrap_or_default()
}

/// The state of an alarm that left ALARM: the pipeline records it, never runs it
/// (shared/core/src/pipeline/recovery.rs).
fn recovery_state(trigger: &Trigger) -> Option<String> {
    trigger
        .alarm
        .as_ref()
        .filter(|alarm| alarm.state != ALARM_STATE)
        .map(|alarm| alarm.state.clone())
}

/// What `Pipeline::start` does with a recovery: the runbook that would watch the alarm in
/// ALARM is named, the recovery is recorded and noted; nothing runs.
fn explain_recovery(simulation: &mut Simulation, trigger: Trigger, catalog: &Catalog, state: &str) {
    let name = trigger
        .alarm
        .as_ref()
        .map(|alarm| alarm.name.clone())
        .unwrap_or_default();
    let mut in_alarm = trigger.clone();
    if let Some(alarm) = in_alarm.alarm.as_mut() {
        alarm.state = ALARM_STATE.to_owned();
    }
    simulation.decision = "ignore";
    simulation.evaluated_at = Some(trigger.occurred_at);
    match decision::select(&in_alarm, catalog) {
        Ok(runbook) => {
            simulation.runbook = Some(runbook.name.clone());
            simulation.reason = Some(format!(
                "alarm {name} went to {state}; only a transition into ALARM starts a runbook: the function records the recovery for {} in the ledger, notes the alarm's incident and publishes it, and runs nothing",
                runbook.name
            ));
        }
        Err(_) => {
            simulation.reason = Some(format!(
                "alarm {name} went to {state}; only a transition into ALARM starts a runbook, and none watches this alarm"
            ));
        }
    }
    simulation.trigger = Some(trigger);
}
