//! The `signet` binary: a drop-in for cosign's key-based commands, the notation commands and
//! the signing service with its client. Everything lives in the `signet_cli` library.

/// mimalloc instead of glibc's malloc: the service allocates and frees many small buffers per
/// request (HTTP, JSON, SQL) on several threads, where glibc's arenas cost about a tenth of
/// its CPU (see BENCHMARKS.md, "The signing service").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    signet_cli::main()
}
