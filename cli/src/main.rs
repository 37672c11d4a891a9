//! `remediate`: the catalog and the decision engine at a terminal. Check a catalog, list what
//! triggers each runbook, and simulate any event file exactly as the function would see it,
//! with no side effects.

mod commands;
mod simulate_execution;
mod simulate_sns;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "remediate",
    version,
    about = "Check runbook catalogs and simulate events against them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate catalogs; errors print as FILE:LINE:COLUMN: MESSAGE. Exit 1 if any is invalid.
    Check {
        #[arg(required = true)]
        catalogs: Vec<PathBuf>,
    },
    /// List the runbooks of a catalog and what triggers each.
    List { catalog: PathBuf },
    /// The ledger's record of automated actions, as a Markdown timeline (or JSON): by incident,
    /// by runbook, or by time range. Reads the table named by --table or LEDGER_TABLE.
    History {
        #[arg(long, env = "LEDGER_TABLE")]
        table: String,
        /// Every automated action on one PagerDuty incident.
        #[arg(long, conflicts_with = "runbook")]
        incident: Option<String>,
        /// Every run of one runbook (within --since/--until).
        #[arg(long)]
        runbook: Option<String>,
        /// Start of the time range (RFC 3339). Default: 7 days ago.
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// End of the time range (RFC 3339). Default: now.
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long)]
        json: bool,
    },
    /// Show what the functions would decide for a Lambda event file. No side effects.
    Simulate {
        /// The catalog (default: the one compiled in, from infra/runbooks.yaml).
        #[arg(long)]
        catalog: Option<PathBuf>,
        /// The Lambda event: a Function URL request (events/webhook/), an SNS event (events/sns/)
        /// or an SSM status-change event (events/execution/).
        event: PathBuf,
        /// Check the v3 signature with this secret (repeat for several).
        #[arg(long = "secret")]
        secrets: Vec<String>,
        /// Check the Custom Incident Action header token against this value.
        #[arg(long)]
        token: Option<String>,
        /// The header carrying that token.
        #[arg(long, default_value = remediate_adapters::config::DEFAULT_ACTION_TOKEN_HEADER)]
        token_header: String,
        /// Decide as of this time (RFC 3339). Default: the event's own time, as if just delivered.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// Trigger age limit in seconds, as MAX_TRIGGER_AGE_SECONDS.
        #[arg(long, default_value_t = 900)]
        max_age: u64,
        /// Decide as if REMEDIATE_DRY_RUN were on.
        #[arg(long)]
        dry_run: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// SNS events: verify signatures with the certificates in this directory (PEM files
        /// named like the certificate URL's last segment). Without one, not checked.
        #[arg(long, env = "SNS_CERTIFICATES_DIR")]
        certificates: Option<PathBuf>,
        /// SNS events: the topic allowlist (repeat, or SNS_TOPIC_ARNS separated by commas).
        #[arg(long = "topic", env = "SNS_TOPIC_ARNS", value_delimiter = ',')]
        topics: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { catalogs } => commands::check(&catalogs),
        Command::List { catalog } => commands::list(&catalog),
        Command::History {
            table,
            incident,
            runbook,
            since,
            until,
            json,
        } => commands::history(&commands::HistoryQuery {
            table,
            incident,
            runbook,
            since,
            until,
            json,
        }),
        Command::Simulate {
            catalog,
            event,
            secrets,
            token,
            token_header,
            now,
            max_age,
            dry_run,
            json,
            certificates,
            topics,
        } => commands::simulate(&commands::SimulateOptions {
            catalog,
            event,
            secrets,
            token,
            token_header,
            now,
            max_age,
            dry_run,
            json,
            certificates,
            topics,
        }),
    };
    match result {
        Ok(output) => {
            commands::emit(&output.text);
            ExitCode::from(output.code)
        }
        Err(message) => {
            eprintln!("remediate: {message}");
            ExitCode::from(2)
        }
    }
}
