//! One module per subcommand; [`run`] dispatches.

mod attach;
mod generate;
mod keys;
mod manage;
pub mod notation;
pub mod pkcs11;
pub mod pki;
mod policy;
pub mod remote;
mod sign;
mod sigwrite;
mod verify;

use anyhow::Result;

use crate::cli::{AttachCommand, Cli, Command};

/// Runs the parsed command.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::GenerateKeyPair {
            output_key_prefix,
            key_type,
            force,
        } => keys::generate_key_pair(&output_key_prefix, key_type, force),
        Command::ImportKeyPair {
            key,
            output_key_prefix,
            yes,
        } => keys::import_key_pair(&key, &output_key_prefix, yes),
        Command::PublicKey { key, outfile } => keys::public_key(&key, outfile.as_deref()),
        Command::Generate {
            annotations,
            registry,
            image,
        } => generate::run(&image, &annotations, &registry).await,
        Command::Sign(args) => sign::run(args).await,
        Command::Attach {
            what:
                AttachCommand::Signature {
                    payload,
                    signature,
                    certificate,
                    certificate_chain,
                    registry,
                    image,
                },
        } => {
            attach::signature(attach::AttachSignature {
                payload,
                signature,
                certificate,
                certificate_chain,
                registry,
                image,
            })
            .await
        }
        Command::Verify(args) => verify::run(args).await,
        Command::Triangulate {
            kind,
            registry,
            image,
        } => manage::triangulate(&image, kind, &registry).await,
        Command::Tree { registry, image } => manage::tree(&image, &registry).await,
        Command::Pki { command } => pki::run(command).await,
        Command::Pkcs11Tool { command } => pkcs11::run(command),
        Command::Notation { command } => notation::run(command),
        Command::Remote(args) => remote::run(args).await,
        // main runs the service on its own runtime; never reached.
        Command::Server(_) => Err(anyhow::anyhow!("signet server runs from main")),
        Command::Clean {
            kind,
            force,
            registry,
            image,
        } => manage::clean(&image, kind, force, &registry).await,
    }
}
