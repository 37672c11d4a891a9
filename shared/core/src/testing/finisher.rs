//! A [`Finisher`] on in-memory ports, for the tests of everything that receives run endings.

use super::{
    InMemoryLedger, InMemoryPagerDuty, ManualClock, RecordingPublisher, ScriptedRunResults,
};
use crate::catalog::Catalog;
use crate::catalog_store::CatalogStore;
use crate::pipeline::Finisher;
use crate::trigger::Incident;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The finisher and the ports behind it, each kept to script and inspect.
pub struct FinisherWorld {
    pub finisher: Finisher,
    pub clock: Arc<ManualClock>,
    pub ledger: Arc<InMemoryLedger>,
    pub pagerduty: Arc<InMemoryPagerDuty>,
    pub executors: Arc<ScriptedRunResults>,
    pub published: Arc<RecordingPublisher>,
}

/// A finisher over `catalog` (YAML) at `now`, in region eu-west-1, with the incident PINC001
/// open (triggered), a results topic and no alarm reader.
///
/// # Panics
/// When `catalog` does not load: a test's own fixture is wrong.
pub fn finisher_world(catalog: &str, now: DateTime<Utc>) -> FinisherWorld {
    let catalog = Catalog::parse(catalog, "test").expect("the test catalog loads");
    let clock = Arc::new(ManualClock::new(now));
    let ledger = Arc::new(InMemoryLedger::default());
    let pagerduty = Arc::new(InMemoryPagerDuty::default());
    pagerduty
        .incidents
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            "PINC001".to_owned(),
            Incident {
                id: "PINC001".to_owned(),
                status: "triggered".to_owned(),
                ..Incident::default()
            },
        );
    let executors = Arc::new(ScriptedRunResults::default());
    let published = Arc::new(RecordingPublisher::default());
    FinisherWorld {
        finisher: Finisher {
            region: "eu-west-1".to_owned(),
            catalogs: Arc::new(CatalogStore::fixed(catalog, clock.clone())),
            pagerduty: pagerduty.clone(),
            executors: executors.clone(),
            runs: ledger.clone(),
            clock: clock.clone(),
            results: Some(published.clone()),
            alarms: None,
        },
        clock,
        ledger,
        pagerduty,
        executors,
        published,
    }
}
