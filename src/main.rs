//! `repopass`: the server binary. See `repopass --help`.

use std::process::ExitCode;

// glibc's malloc and free took a quarter of the server's time rendering a
// page (BENCHMARKS.md, "Buyer pages under wrk": the profile and the
// comparison).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    repopass::cli::run().await
}
