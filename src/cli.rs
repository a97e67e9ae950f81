//! The command line. Configuration comes from the environment (see README);
//! the commands only choose what to do.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use server::{Config, Db};

use crate::{
    leptos_settings,
    startup::{Application, Ended, Foundation},
    telemetry,
};

#[derive(Debug, Parser)]
#[command(
    name = "repopass",
    version,
    about = "Sell access to private GitHub repositories.",
    long_about = "\
Sell access to private GitHub repositories.

Configuration is read from environment variables and a .env file in the working
directory (DATABASE_URL, PUBLIC_URL, STRIPE_SECRET_KEY, GITHUB_TOKEN, ...; see
README.md). With none set, RepoPass uses a SQLite file under ./data and its
built-in Stripe and GitHub sandbox."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (the default): applies pending migrations, then
    /// serves the store, the admin panel and the webhooks on LEPTOS_SITE_ADDR.
    Serve,
    /// Apply pending database migrations to DATABASE_URL and exit.
    Migrate,
    /// Copy the SQLite database to a new file, consistently, while RepoPass
    /// keeps serving. Restore by stopping RepoPass and putting the copy in
    /// place of the database file (see README "Backups").
    Backup {
        /// Where the copy goes (must not exist yet).
        path: std::path::PathBuf,
    },
    /// Process webhooks and scheduled jobs without serving pages (`serve`
    /// runs a worker too; run more of these beside it on PostgreSQL).
    Worker,
    /// Check this deployment as its buyers will reach it: configuration,
    /// database, PUBLIC_URL, Stripe, GitHub, webhooks received, SMTP. Each
    /// line says ok, or what is wrong and the one thing to do; the exit
    /// status is 1 when anything needs fixing.
    Doctor {
        /// Also send a test email to this address through SMTP_URL.
        #[arg(long, value_name = "ADDRESS")]
        test_email: Option<String>,
    },
    /// Re-seal the saved settings (Stripe key, GitHub App) under a new
    /// secret key. With a key file (data/secret.key) the new key replaces
    /// it; with REPOPASS_SECRET_KEY, give the new key as
    /// REPOPASS_NEW_SECRET_KEY and set it in place of the old one before the
    /// next start. Running servers keep working until they restart.
    RotateKey,
    /// Manage API keys for the REST API (/api/v1).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Tools for development and benchmarks.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Fill the database with generated purchases (ten access-log entries
    /// each) in five "Seed Kit" repositories, to try the admin pages at scale.
    Seed {
        #[arg(long, default_value_t = 100_000)]
        purchases: i64,
    },
    /// Write the brotli and gzip copies of the browser files in PKG_DIR
    /// (`./dev release` does, so that a read-only install serves them).
    Precompress { pkg_dir: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it once. Only its hash is stored: copy it now.
    Create {
        /// What the key is for, e.g. "zapier" or "ci".
        #[arg(long)]
        name: String,
    },
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("repopass: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    telemetry::init(config.log_format, !matches!(command, Command::Serve));
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Backup { path } => backup(config, &path).await,
        Command::Doctor { test_email } => doctor(config, test_email.as_deref()).await,
        Command::Worker => worker(config).await,
        Command::RotateKey => rotate_key(config).await,
        Command::ApiKey(ApiKeyCommand::Create { name }) => create_api_key(config, &name).await,
        Command::Dev(DevCommand::Seed { purchases }) => seed(config, purchases).await,
        Command::Dev(DevCommand::Precompress { pkg_dir }) => {
            crate::static_files::precompress(&pkg_dir);
            ExitCode::SUCCESS
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    let leptos = match leptos_settings::load() {
        Ok(options) => options,
        Err(err) => return fail(format!("Leptos settings: {err}")),
    };
    let sandbox = config.sandbox;
    let database = config.database_url_for_logs();
    let addr = config.site_addr;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(source) => return fail(crate::startup::StartupError::Listen { addr, source }),
    };
    let mut foundation = match Foundation::connect(listener, &config).await {
        Ok(foundation) => foundation,
        Err(err) => return fail(err),
    };
    // The setup link is made once per process: a reload keeps it valid.
    let mut link = None;
    loop {
        let app = match Application::on(foundation, config.clone(), leptos.clone(), link.clone()).await {
            Ok(app) => app,
            Err(err) => return fail(err),
        };
        link = app.state().setup.clone();
        let url = app.state().config.public_url.clone();
        let setup = link.is_some();
        tracing::info!(%url, port = app.port(), %database, sandbox, setup, "RepoPass is listening");
        match app.run_until_stopped().await {
            Ok(Ended::Stopped) => return ExitCode::SUCCESS,
            Ok(Ended::Reload(next)) => {
                tracing::info!("settings saved: starting again with them");
                foundation = next;
            }
            Err(err) => return fail(format!("server stopped: {err}")),
        }
    }
}

async fn connect(config: &Config) -> Result<Db, ExitCode> {
    Db::connect(&config.database.url)
        .await
        .map_err(|err| fail(format!("database {}: {err}", config.database_url_for_logs())))
}

async fn worker(mut config: Config) -> ExitCode {
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    match db.pending_migrations().await {
        Ok(pending) if pending.is_empty() => {}
        Ok(pending) => {
            return fail(format!(
                "the database has pending migrations {pending:?}: run `repopass migrate` (or `repopass serve`) first"
            ))
        }
        Err(e) => return fail(format!("database: {e}")),
    }
    if !config.sandbox {
        if let Err(e) = server::vault::complete(&mut config, &db, false).await {
            return fail(e);
        }
        match server::setup::progress(&config, &db).await {
            Ok(p) if p.next().is_some() => {
                return fail(
                    "setup is not finished: open the setup link that `repopass serve` printed, then start the worker",
                )
            }
            Ok(_) => {}
            Err(e) => return fail(format!("database: {e}")),
        }
    }
    sandbox::configure(&mut config);
    let state = match server::AppState::new(config, db, None) {
        Ok(state) => state,
        Err(e) => return fail(e.to_string()),
    };
    tokio::select! {
        _ = server::worker::run(state.clone(), state.wake.clone()) => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("worker stopping"),
    }
    ExitCode::SUCCESS
}

async fn migrate(config: Config) -> ExitCode {
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let pending = db.pending_migrations().await.unwrap_or_default();
    match db.migrate().await {
        Ok(()) => {
            println!("migrations: {} applied, database {} is current", pending.len(), config.database_url_for_logs());
            ExitCode::SUCCESS
        }
        Err(err) => fail(format!("migrate {}: {err}", config.database_url_for_logs())),
    }
}

async fn doctor(mut config: Config, test_email: Option<&str>) -> ExitCode {
    use server::doctor::{Area, Verdict};
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    // Saved settings count as the server counts them; an unmigrated
    // database has none (the database line says what to do).
    let migrated = db.pending_migrations().await.is_ok_and(|p| p.is_empty());
    let saved =
        if !config.sandbox && migrated { server::vault::complete(&mut config, &db, false).await.err() } else { None };
    sandbox::configure(&mut config);
    let state = match server::AppState::new(config, db, None) {
        Ok(state) => state,
        Err(e) => return fail(e.to_string()),
    };
    let mut findings = server::doctor::examine(&state, test_email).await;
    if let (Some(err), Some(f)) = (saved, findings.iter_mut().find(|f| f.area == Area::Configuration)) {
        f.verdict = Verdict::Problem {
            what: err.to_string(),
            fix: "give this command the REPOPASS_SECRET_KEY (or data directory) that `repopass serve` uses".into(),
        };
    }
    for f in &findings {
        let (word, what, fix) = match &f.verdict {
            Verdict::Ok(what) => ("ok", what, None),
            Verdict::Warning { what, fix } => ("warning", what, Some(fix)),
            Verdict::Problem { what, fix } => ("PROBLEM", what, Some(fix)),
        };
        println!("{word:<8} {:<15} {what}", f.area.name());
        if let Some(fix) = fix {
            println!("{:<24} → {fix}", "");
        }
    }
    if findings.iter().any(|f| f.verdict.is_problem()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn backup(config: Config, path: &std::path::Path) -> ExitCode {
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let started = std::time::Instant::now();
    match db.backup_into(path).await {
        Ok(()) => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            println!(
                "backup of {} written to {} ({size} bytes, {:.1} s)",
                config.database_url_for_logs(),
                path.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(err) => fail(format!("backup: {err}")),
    }
}

async fn rotate_key(config: Config) -> ExitCode {
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    if let Err(err) = db.migrate().await {
        return fail(format!("migrate: {err}"));
    }
    let new_key = std::env::var("REPOPASS_NEW_SECRET_KEY").ok();
    match server::vault::rotate(&db, &config, new_key.as_deref()).await {
        Ok(r) => {
            println!("{} saved setting(s) re-sealed: key {} replaced by key {}", r.values, r.old_key_id, r.new_key_id);
            if config.secret_key.is_some() {
                println!("now set REPOPASS_SECRET_KEY to the new key (REPOPASS_NEW_SECRET_KEY) wherever RepoPass runs");
            }
            ExitCode::SUCCESS
        }
        Err(err) => fail(format!("rotate-key: {err}")),
    }
}

async fn create_api_key(config: Config, name: &str) -> ExitCode {
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    if let Err(err) = db.migrate().await {
        return fail(format!("migrate: {err}"));
    }
    match server::api_keys::create(&db, name, None).await {
        Ok(key) => {
            // The key alone on stdout (for `KEY=$(repopass api-key create ...)`);
            // the words around it on stderr.
            eprintln!("Created API key '{}' (id {}):", key.name, key.id);
            println!("{}", key.secret.expose_secret());
            eprintln!("Copy it now: it is not stored and will not be shown again.");
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}

async fn seed(config: Config, purchases: i64) -> ExitCode {
    let db = match connect(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    if let Err(err) = db.migrate().await {
        return fail(format!("migrate: {err}"));
    }
    let started = std::time::Instant::now();
    match server::seed::seed(&db, purchases).await {
        Ok(s) => {
            eprintln!(
                "seeded {} purchases and {} access-log entries in {} repositories ({:.1} s)",
                s.purchases,
                s.log_entries,
                s.repositories,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
    }
}

/// Start-up failures go to stderr as one line (logs may not be set up yet).
fn fail(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("repopass: error: {err}");
    ExitCode::FAILURE
}
