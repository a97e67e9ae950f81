//! Logs: human-readable by default, JSON lines with `LOG_FORMAT=json`.
//! `RUST_LOG` refines the levels. The server logs to stdout; one-off
//! commands log to stderr, leaving stdout for their output.

use server::config::LogFormat;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(format: LogFormat, to_stderr: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn,hyper=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: tests start many apps in one process; the first one wins.
    let writer = fmt::writer::BoxMakeWriter::new(move || -> Box<dyn std::io::Write> {
        if to_stderr {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        }
    });
    let _ = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false).with_writer(writer)).try_init(),
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true).with_current_span(true).with_writer(writer))
            .try_init(),
    };
}
