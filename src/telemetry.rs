//! Logs: human-readable by default, JSON lines with `LOG_FORMAT=json`.
//! `RUST_LOG` refines the levels.

use server::config::LogFormat;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn,hyper=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: tests start many apps in one process; the first one wins.
    let _ = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry.with(fmt::layer().json().flatten_event(true).with_current_span(true)).try_init(),
    };
}
