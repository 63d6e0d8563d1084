//! The `signet` client as a library, so that its two executables share one implementation:
//! `signet` (see [`main`]) and the notation plugin `notation-signet` (see [`plugin`]).
//! `main` parses arguments, runs one command on a Tokio runtime, prints any error once as
//! `Error: …` on stderr and exits with cosign's codes (see `exit`).

mod cli;
mod commands;
mod exit;
mod image;
mod keyref;
mod notation;
mod password;
pub mod plugin;
mod remote;
mod verifiers;

use std::process::ExitCode;

use clap::Parser;

/// The `signet` executable: parses the arguments, runs the command, and returns its exit code.
pub fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                // cobra (cosign) exits 1 on flag errors; keep scripts' expectations.
                _ => 1,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let cli::Command::Server(server) = args.command {
        // The service gets a worker per core; the client commands need two.
        return match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => ExitCode::from(rt.block_on(signet_server::cli::run(server))),
            Err(e) => {
                eprintln!("Error: cannot start the async runtime: {e}");
                ExitCode::from(1)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", exit::render(&e));
            ExitCode::from(exit::code(&e))
        }
    }
}
