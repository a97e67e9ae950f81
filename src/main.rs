//! `repopass`: the server binary. See `repopass --help`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    repopass::cli::run().await
}
