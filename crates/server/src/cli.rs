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

/// Runs `signet server …`; returns the process exit code (0 ok, 1 error, 2 the audit chain
/// is broken).
pub async fn run(args: ServerArgs) -> u8 {
    let result = match args.command {
        None => crate::serve::serve(&args.run).await,
        Some(ServerCommand::Token(token)) => print_token(&token),
        Some(ServerCommand::Audit {
            command: AuditCommand::Verify { run },
        }) => return audit_verify(&run).await,
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

fn print_token(args: &TokenArgs) -> Result<(), crate::serve::StartError> {
    let config = crate::config::Config::load(&args.run, |k| std::env::var(k).ok())?;
    if !crate::app::valid_org(&args.org) {
        return Err(crate::serve::StartError::Usage(format!(
            "--org {:?}: organisation names are 1-64 letters, digits, '.', '_' or '-'",
            args.org
        )));
    }
    if args.user.trim().is_empty() {
        return Err(crate::serve::StartError::Usage(
            "--user must not be empty".to_owned(),
        ));
    }
    let ttl = signet_auth::parse_ttl(&args.ttl)
        .map_err(|e| crate::serve::StartError::Usage(format!("--ttl: {e}")))?;
    let groups: Vec<String> = args
        .groups
        .iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    let issuer = signet_auth::LocalIssuer::open_or_create(&config.data_dir())?;
    let token = issuer.issue(
        &args.org,
        &args.user,
        &groups,
        ttl,
        std::time::SystemTime::now(),
    )?;
    println!("{token}");
    Ok(())
}

async fn audit_verify(run: &RunArgs) -> u8 {
    let result = async {
        let config = crate::config::Config::load(run, |k| std::env::var(k).ok())?;
        let store = signet_store::Store::connect(&config.database_url()).await?;
        let mut broken = false;
        let orgs = store.audit_orgs().await?;
        if orgs.is_empty() {
            println!("no audit entries");
        }
        for org in orgs {
            let report = store.verify_audit(&org).await?;
            match &report.broken {
                None => println!(
                    "{org}: ok, {} entries, head {}",
                    report.entries, report.head
                ),
                Some(b) => {
                    broken = true;
                    println!("{org}: BROKEN: {b}");
                }
            }
        }
        Ok::<bool, crate::serve::StartError>(broken)
    }
    .await;
    match result {
        Ok(false) => 0,
        Ok(true) => 2,
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}
