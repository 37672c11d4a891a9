//! remediate's core: the domain and the pipeline, with no AWS SDK, no Lambda runtime and no
//! HTTP client (the compiler keeps it that way: none is a dependency).
//!
//! - [`trigger`]: one normalised inbound event; [`catalog`]: the runbooks (raw -> compiled ->
//!   indexed); [`decision`]: whether and how a trigger runs; [`plan`]: the executor requests.
//! - [`pipeline`]: from a trigger to its outcome ([`pipeline::Pipeline::start`]), through the
//!   [`ports`] (small traits). The real adapters live in `remediate-adapters`; in-memory ones in
//!   [`testing`] (feature `testing`).
//! - [`outcome`]: the words every function answers in; [`ledger`]: claims and run records.

pub mod catalog;
pub mod catalog_store;
pub mod clock;
pub mod decision;
pub mod error;
pub mod finish;
pub mod guards;
pub mod ids;
pub mod kill_switch;
pub mod ledger;
pub mod metrics;
pub mod notes;
pub mod outcome;
pub mod pipeline;
pub mod plan;
pub mod ports;
pub mod redact;
pub mod secrets;
pub mod template;
pub mod trigger;
pub mod verify;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, Kind, Result};
pub use ids::{DedupeId, Handle, RunId};
