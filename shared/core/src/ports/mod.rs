//! The ports: small traits the pipeline calls and the adapters implement. Each has a real
//! adapter in `remediate-adapters` and an in-memory one in [`crate::testing`].

pub mod alarms;
pub mod executor;
pub mod incidents;
pub mod results;
pub mod runs;

pub use crate::catalog_store::CatalogFetcher;
pub use crate::clock::Clock;
pub use crate::guards::{GuardStore, GuardView};
pub use crate::kill_switch::SwitchSource;
pub use crate::ledger::{Ledger, RunHistory};
pub use crate::secrets::SecretStore;
pub use alarms::AlarmStates;
pub use executor::CommandExecutor;
pub use incidents::PagerDutyApi;
pub use results::ResultsPublisher;
pub use runs::{RunFinishes, RunResults};
