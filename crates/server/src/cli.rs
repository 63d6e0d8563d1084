//! The `signet server` command line: run the service, print local tokens, verify the audit
//! chain.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `signet server` flags and subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServerArgs {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
    /// Serve.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Where the service's configuration and data are.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// The TOML configuration file (every key can be overridden by a SIGNET_* variable).
    #[arg(long, env = "SIGNET_CONFIG")]
    pub config: Option<PathBuf>,
    /// The data directory (SQLite database, software key store, local token issuer).
    #[arg(long, env = "SIGNET_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, env = "SIGNET_LISTEN")]
    pub listen: Option<String>,
}

/// `signet server` subcommands.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Print a bearer token from the local issuer of the data directory.
    Token(TokenArgs),
    /// The audit log.
    Audit {
        /// What to do with it.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `signet server token` flags.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Configuration and data directory.
    #[command(flatten)]
    pub run: RunArgs,
    /// The organisation the token is for.
    #[arg(long)]
    pub org: String,
    /// The user id.
    #[arg(long)]
    pub user: String,
    /// The user's groups, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
    /// How long the token is valid (e.g. 30m, 1h, 7d).
    #[arg(long, default_value = "1h")]
    pub ttl: String,
}

/// `signet server audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of every organisation's audit log; report the first broken entry.
    Verify {
        /// Configuration and data directory.
        #[command(flatten)]
        run: RunArgs,
    },
}

/// Runs `signet server …`; returns the process exit code.
pub async fn run(args: ServerArgs) -> u8 {
    let _ = args;
    eprintln!("Error: signet server is not built yet");
    1
}
