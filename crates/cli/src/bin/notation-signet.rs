//! `notation-signet`: the Notary Project plugin that signs with keys held by a signet signing
//! service (see `signet_cli::plugin`). Install it as
//! `$XDG_CONFIG_HOME/notation/plugins/signet/notation-signet`.

fn main() -> std::process::ExitCode {
    signet_cli::plugin::main()
}
