//! `signet pki` (being written).

use anyhow::Result;
use clap::Subcommand;

/// `signet pki` subcommands.
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create a self-signed root CA.
    Root,
}

/// Runs a `pki` subcommand.
pub async fn run(cmd: PkiCommand) -> Result<()> {
    match cmd {
        PkiCommand::Root => anyhow::bail!("not yet"),
    }
}
