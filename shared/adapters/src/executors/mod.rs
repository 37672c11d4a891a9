//! The executors, each behind the core's executor port.

pub mod run_results;
pub mod rundeck;
pub mod rundeck_results;
pub mod ssm_automation;
pub mod ssm_command;
pub mod ssm_results;

pub use run_results::ExecutorResults;
pub use rundeck::HttpRundeck;
pub use ssm_automation::SsmAutomationExecutor;
pub use ssm_command::SsmCommandExecutor;
pub use ssm_results::SsmRunResults;
