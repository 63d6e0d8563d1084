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
        let workers = match service_workers() {
            Ok(n) => n,
            Err(e) => {
                eprintln!("Error: {e}");
                return ExitCode::from(1);
            }
        };
        return match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
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
    // The client commands need two workers.
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

/// The service's async workers: one per two cores (at least one), or `TOKIO_WORKER_THREADS`.
///
/// A request's async part (HTTP, JSON, a point read, the token cache) is small beside its
/// signature and its durable write, which run on their own threads (the signing pool, the
/// SQLite writer); fewer workers are woken and parked less often between requests. On two
/// cores, in paired runs of the benchmark, one worker instead of two took about a quarter
/// less async-worker CPU per request and served more requests per second for both key types
/// (RSA-4096 at 64 clients: ~0.87x to ~0.90x the raw rate), within this VM's run-to-run drift.
fn service_workers() -> Result<usize, String> {
    match std::env::var("TOKIO_WORKER_THREADS") {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "TOKIO_WORKER_THREADS: {v:?} is not a number of threads (1 or more)"
            )),
        },
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))),
    }
}
