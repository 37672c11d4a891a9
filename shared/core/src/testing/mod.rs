//! In-memory ports for tests (behind the `testing` feature): the same semantics as the real
//! adapters, with scripted failures, so the pipeline is tested without AWS or PagerDuty.

mod alarms;
mod clock;
mod executor;
mod finisher;
mod guards;
pub mod hostile;
mod incidents;
mod ledger;
mod results;
mod run_results;
mod rundeck;
mod runs;

pub use alarms::InMemoryAlarms;
pub use clock::ManualClock;
pub use executor::RecordingExecutor;
pub use finisher::{FinisherWorld, finisher_world};
pub use guards::InMemoryGuards;
pub use incidents::InMemoryPagerDuty;
pub use ledger::InMemoryLedger;
pub use results::RecordingPublisher;
pub use run_results::ScriptedRunResults;
pub use rundeck::RecordingRundeck;
pub use runs::started_run;
