//! The one pipeline every function runs a trigger through, from an authenticated, parsed
//! trigger to its outcome:
//!
//! select a runbook -> claim the trigger in the ledger (one run per trigger) -> confirm (taps,
//! workflow starts: re-read from PagerDuty) -> decide (parameters, guards, dry-run switches) ->
//! reserve (cooldown, rate window) -> execute -> note on the incident -> record on the claim.
//!
//! It knows nothing of HTTP, SNS or Lambda: a function verifies and parses what it receives,
//! calls [`Pipeline::start`] within the sender's time budget, and turns the [`Started`] it gets
//! back into its own answer. Every port is a small trait (see [`crate::ports`]).

mod automation;
mod confirm;
mod execute;
mod finish;
mod incident_key;
mod reconcile;
mod recovery;
mod retry;
mod rundeck;
mod targets;

pub use finish::{FINISH_HOLD, FinishReport, Finished, Finisher, NOTE_TARGETS};
pub use reconcile::{ReconcileReport, ReconcileSettings, ReconciledRun, RunCheck};
pub use targets::{Pinned, pin, pin_tag_targets};

use crate::Error;
use crate::catalog::Catalog;
use crate::catalog_store::CatalogStore;
use crate::clock::Clock;
use crate::decision::{self, Decision, DecisionContext};
use crate::guards::{GuardStore, NoHistory};
use crate::kill_switch::{KillSwitch, SwitchReading};
use crate::ledger::{Claim, ClaimResult, Ledger};
use crate::notes;
use crate::outcome::{NoteDelivery, Outcome, Report};
use crate::ports::executor::{AutomationExecutor, CommandExecutor, RundeckExecutor};
use crate::ports::incidents::PagerDutyApi;
use crate::ports::results::{ResultMessage, ResultsPublisher};
use crate::template::Template;
use crate::trigger::Trigger;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// What is kept back from the budget for answering after the last call.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(300);
/// A claim holder that dies is taken over after this long (the sender's retry then runs it).
pub const CLAIM_HOLD: chrono::Duration = chrono::Duration::seconds(120);

/// The settings the pipeline itself reads (the functions read theirs around it).
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Older triggers are not executed.
    pub max_trigger_age: Duration,
    /// Why every run is dry, when `REMEDIATE_DRY_RUN` says so.
    pub global_dry_run: Option<String>,
    /// Confirm each tap in the incident's log entries before acting. Off only for local runs
    /// against emulators: the template offers no way to turn it off.
    pub confirm_taps: bool,
    /// The PagerDuty user remediate writes as: events it caused (its own notes) are ignored.
    pub bot_user_id: Option<String>,
    /// For console links in notes.
    pub region: String,
    /// How an alarm or AWS event names the PagerDuty incident it opened (its `incident_key`),
    /// from `PAGERDUTY_INCIDENT_KEY_TEMPLATE`. Unset, such triggers look up no incident.
    pub incident_key: Option<Template>,
}

/// The ports and settings a run needs, built once per container.
pub struct Pipeline {
    pub settings: PipelineSettings,
    pub catalogs: Arc<CatalogStore>,
    pub kill_switch: Arc<KillSwitch>,
    pub pagerduty: Arc<dyn PagerDutyApi>,
    pub executor: Arc<dyn CommandExecutor>,
    pub automation: Arc<dyn AutomationExecutor>,
    /// Rundeck, when `RUNDECK_URL` is set; without it a Rundeck runbook is refused with a note.
    pub rundeck: Option<Arc<dyn RundeckExecutor>>,
    pub ledger: Arc<dyn Ledger>,
    pub guards: Arc<dyn GuardStore>,
    pub clock: Arc<dyn Clock>,
    /// The results topic, when `RESULTS_TOPIC_ARN` is set.
    pub results: Option<Arc<dyn ResultsPublisher>>,
}

/// What became of a trigger: an outcome to answer with, or a request to send it again.
#[derive(Debug)]
pub enum Started {
    /// The trigger has its outcome (executed, refused, ignored...), recorded where it applies.
    Report(Report),
    /// Nothing was done that a retry would repeat: the sender should deliver it again.
    Retry(Retry),
    /// The trigger can never be acted on as it was sent (found only once it was looked up).
    Invalid(String),
}

/// Why the sender should retry.
#[derive(Debug)]
pub enum Retry {
    /// A failure that passes (throttling, a timeout) or that fixing the deployment ends.
    Transient(Error),
    /// Another delivery of the same trigger holds its claim and may still be working.
    Busy,
}

/// How far a trigger's body can be believed, which decides what is re-read before acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Signed by its sender and complete: a v3 incident event, a verified alarm.
    Signed,
    /// Signed, but the incident is only a reference (a manual workflow start): re-read it first.
    SignedReference,
    /// Unsigned (a button tap behind a shared token): re-read the incident, confirm the tap.
    Unsigned,
}

impl Pipeline {
    /// Run a verified, parsed trigger through the pipeline, answering by `deadline`.
    pub async fn start(
        &self,
        trigger: Trigger,
        provenance: Provenance,
        deadline: Instant,
    ) -> Started {
        let span = trigger_span(&trigger);
        // The function never reacts to itself: its own notes come back as signed events. A tap
        // is a person's, never the bot's, and its body is not to be believed anyway.
        if provenance != Provenance::Unsigned
            && let Some(report) = self.caused_by_bot(&trigger)
        {
            return Started::Report(report);
        }
        let started = if Self::is_recovery(&trigger) {
            self.record_recovery(trigger, deadline)
                .instrument(span.clone())
                .await
        } else {
            self.process(trigger, deadline, provenance)
                .instrument(span.clone())
                .await
        };
        if let Started::Retry(Retry::Transient(error)) = &started {
            // The detail goes to the log, with the trigger's fields; the sender learns only that
            // a retry may help.
            span.in_scope(|| {
                tracing::error!(%error, kind = ?error.kind(), "transient failure; asking the sender to retry")
            });
        }
        started
    }

    /// From a verified, parsed trigger to an answer: select, claim, (re-check), decide, act, note.
    async fn process(
        &self,
        mut trigger: Trigger,
        deadline: Instant,
        provenance: Provenance,
    ) -> Started {
        let catalog = self.catalogs.current().await;
        if provenance == Provenance::SignedReference
            && let Err(answered) = self
                .read_workflow_incident(&mut trigger, &catalog, deadline)
                .await
        {
            return answered;
        }
        // Only triggers that some runbook wants cost a ledger write; the rest are answered at once.
        let runbook = match decision::select(&trigger, &catalog) {
            Ok(runbook) => runbook.name.clone(),
            Err(reason) => {
                tracing::info!(reason, "ignored");
                return Started::Report(Report::ignored(&trigger.dedupe_id, reason));
            }
        };
        let now = self.clock.now();
        let claim = match self.ledger.claim(&trigger.dedupe_id, now, CLAIM_HOLD).await {
            Ok(ClaimResult::Claimed(claim)) => claim,
            Ok(ClaimResult::Completed(original)) => {
                tracing::info!("duplicate delivery");
                return Started::Report(Report::duplicate(&trigger.dedupe_id, original));
            }
            Ok(ClaimResult::InProgress { hold_until }) => {
                // Even past the age limit: the holder may have sent the command. A hold lasts
                // CLAIM_HOLD at most, and the delivery that takes it over looks in SSM first.
                tracing::info!(%hold_until, "another delivery is handling this trigger");
                return Started::Retry(Retry::Busy);
            }
            Err(error) => {
                return self
                    .retry_unclaimed(&trigger, Some(&runbook), &error, deadline)
                    .await;
            }
        };
        // After the claim, so that a redelivery is answered from the ledger without asking
        // PagerDuty; and never a reason not to run (see `find_alarm_incident`).
        self.find_alarm_incident(&mut trigger, deadline).await;
        if provenance == Provenance::Unsigned {
            // The body of a tap is not signed: what it says about the incident and the person is
            // re-read from PagerDuty before acting on it.
            if let Err(failure) = self
                .confirm_tap(&mut trigger, &catalog, &runbook, deadline)
                .await
            {
                return self
                    .finish_without_run(&claim, &trigger, &runbook, failure, deadline)
                    .await;
            }
        }
        // The kill switch is the strongest of the three dry-run switches. Unreadable for a
        // transient reason, it neither lets the run go nor turns it into a dry run recorded as
        // done (PagerDuty's retry would then be a duplicate): the claim is given back and the
        // sender retries, while the trigger is young enough to run.
        let global_dry_run = match self.kill_switch.read().await {
            SwitchReading::Off => self.settings.global_dry_run.clone(),
            SwitchReading::On(reason) => Some(reason),
            SwitchReading::Unreadable {
                reason,
                transient: true,
            } => {
                let error = Error::Aws {
                    service: "ssm",
                    operation: "GetParameter",
                    message: reason,
                    transient: true,
                };
                return self
                    .retry_claimed(&claim, &trigger, &runbook, &error, deadline)
                    .await;
            }
            SwitchReading::Unreadable { reason, .. } => Some(reason),
        };
        let context = DecisionContext {
            now,
            // A takeover's predecessor may have sent the command before it died: the age limit is
            // checked after SSM has been searched for it (in `execute`), so that a run that
            // happened is recorded as such and never refused as "too old".
            max_trigger_age: if claim.taken_over {
                chrono::Duration::MAX
            } else {
                self.max_trigger_age()
            },
            global_dry_run,
        };
        // No reads of guard state here: the reservation below takes cooldowns atomically.
        let decision = decision::decide(&trigger, &catalog, &context, &NoHistory);
        let mut report = match decision {
            Decision::Ignore { reason } => Report::ignored(&trigger.dedupe_id, reason),
            Decision::Refuse { runbook, reason } => {
                let mut report =
                    Report::refused(&trigger.dedupe_id, Some(&runbook), reason.clone());
                tracing::warn!(runbook, reason, "refused");
                report.note = Some(
                    self.note(
                        &trigger,
                        &notes::refused(&trigger, &runbook, &reason),
                        deadline,
                    )
                    .await,
                );
                report
            }
            Decision::Suppress { runbook, reason } => {
                Report::suppressed(&trigger.dedupe_id, &runbook, reason)
            }
            Decision::Execute(plan) => {
                match self.execute(&trigger, &plan, &claim, now, deadline).await {
                    Ok(report) => report,
                    Err(NotStarted::Release(error)) => {
                        // Nothing was sent: give the claim back so the sender's retry can run it.
                        return self
                            .retry_claimed(&claim, &trigger, &plan.runbook, &error, deadline)
                            .await;
                    }
                    Err(NotStarted::Hold(error)) => {
                        // The command may have reached SSM and we cannot tell: keep the claim. A
                        // retry after it expires takes it over and looks for the command first,
                        // even past the age limit: never a refusal of something that may have run.
                        tracing::error!(%error, run_id = %plan.run_id, "cannot tell whether the command was sent; holding the claim");
                        return Started::Retry(Retry::Transient(error));
                    }
                }
            }
        };
        if report.catalog_version.is_none() {
            report.catalog_version = Some(catalog.version.clone());
        }
        self.complete(&claim, &trigger, &report, deadline).await;
        Started::Report(report)
    }

    /// Post a note within what is left of the budget. A failure never undoes or repeats the run:
    /// it is logged with everything needed to post the note later.
    pub(super) async fn note(
        &self,
        trigger: &Trigger,
        content: &str,
        deadline: Instant,
    ) -> NoteDelivery {
        let Some(incident_id) = trigger.incident_id() else {
            return NoteDelivery::NotApplicable;
        };
        match self
            .pagerduty
            .create_note(incident_id, content, deadline - ANSWER_MARGIN)
            .await
        {
            Ok(()) => {
                tracing::info!(incident_id, note = content, "note posted");
                NoteDelivery::Posted
            }
            Err(error) => {
                tracing::error!(
                    incident_id,
                    trigger_id = %trigger.dedupe_id,
                    note = content,
                    %error,
                    "note not posted; pending for a later retry"
                );
                NoteDelivery::Pending
            }
        }
    }

    /// Record the outcome on the claim, then publish it to the results topic.
    pub(super) async fn complete(
        &self,
        claim: &Claim,
        trigger: &Trigger,
        report: &Report,
        deadline: Instant,
    ) {
        if let Err(error) = self
            .ledger
            .complete(claim, trigger, report, self.clock.now())
            .await
        {
            // The action is done and cannot be undone; the claim stays in progress until it
            // expires. Log everything the reconciler or a person needs.
            tracing::error!(
                %error,
                trigger_id = %claim.dedupe_id,
                outcome = %report.outcome,
                run_id = report.run_id.as_deref().unwrap_or(""),
                command_id = report.command_id.as_deref().unwrap_or(""),
                "could not record the outcome in the ledger"
            );
        }
        self.publish(trigger, report, deadline).await;
    }
}

impl Pipeline {
    /// Publish the outcome on the results topic, if there is one and the outcome is published
    /// there. A failure is logged, never retried: the ledger holds the same outcome.
    pub(super) async fn publish(&self, trigger: &Trigger, report: &Report, deadline: Instant) {
        let Some(results) = &self.results else {
            return;
        };
        if !ResultMessage::is_published(report) {
            return;
        }
        let message = ResultMessage::new(trigger, report);
        match results.publish(&message, deadline - ANSWER_MARGIN).await {
            Ok(()) => tracing::info!(outcome = %report.outcome, "published to the results topic"),
            Err(error) => tracing::error!(
                %error,
                outcome = %report.outcome,
                run_id = report.run_id.as_deref().unwrap_or(""),
                "could not publish to the results topic"
            ),
        }
    }
}

/// Why a run did not start, and whether the claim may be given back.
pub(super) enum NotStarted {
    /// Nothing was sent: a retry may run it.
    Release(Error),
    /// It may have been sent: keep the claim so that only a takeover (which looks first) retries.
    Hold(Error),
}

fn trigger_span(trigger: &Trigger) -> tracing::Span {
    tracing::info_span!(
        "trigger",
        trigger_id = %trigger.dedupe_id,
        source = %trigger.source,
        event_type = trigger.event_type,
        incident_id = trigger.incident_id().unwrap_or(""),
        action = trigger.action.as_deref().unwrap_or(""),
    )
}
