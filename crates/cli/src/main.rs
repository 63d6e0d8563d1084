//! The `signet` binary: a drop-in for cosign's key-based commands, the notation commands and
//! the signing service with its client. Everything lives in the `signet_cli` library.

fn main() -> std::process::ExitCode {
    signet_cli::main()
}
