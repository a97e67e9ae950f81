//! The `repopass` binary as an operator uses it.

use std::process::{Command, Output};

use crate::helpers::{Backend, TestDatabase};

fn repopass(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_repopass"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .current_dir(std::env::temp_dir()) // no .env file to pick up
        .output()
        .expect("run repopass")
}

#[test]
fn help_explains_each_command() {
    let out = repopass(&["--help"], "sqlite::memory:");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for expected in ["serve", "migrate", "api-key", "DATABASE_URL", "Run the web server"] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
    let sub = String::from_utf8(repopass(&["api-key", "create", "--help"], "sqlite::memory:").stdout).unwrap();
    assert!(sub.contains("--name") && sub.contains("Only its hash is stored"), "{sub}");
}

#[test]
fn a_bad_database_url_fails_fast_with_one_clear_line() {
    let started = std::time::Instant::now();
    let out = repopass(&["serve"], "mysql://root@localhost/repopass");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL") && stderr.contains("unsupported scheme 'mysql'"), "{stderr}");
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn an_unreachable_postgres_fails_with_the_url_but_not_the_password() {
    let out = repopass(&["migrate"], "postgres://app:hunter2@127.0.0.1:1/repopass");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
}

async fn migrate_and_create_api_key(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await else {
        eprintln!("skipped: set TEST_DATABASE_URL to run the PostgreSQL variant");
        return;
    };
    let migrated = repopass(&["migrate"], &db.url);
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("is current"));

    let out = repopass(&["api-key", "create", "--name", "ci"], &db.url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the key on stdout, for scripts: {stdout}");
    let key = stdout.lines().find(|l| l.starts_with("rp_")).expect("the key is printed").trim().to_owned();
    assert_eq!(key.len(), 43);

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let (name, prefix, hash): (String, String, String) =
        sqlx::query_as("SELECT name, prefix, key_hash FROM api_keys").fetch_one(&pool).await.unwrap();
    assert_eq!(name, "ci");
    assert!(key.starts_with(&prefix));
    assert_eq!(hash, server::api_keys::hash_key(&key));
    assert_ne!(hash, key);
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE key_hash = $1 OR prefix = $1 OR name = $1")
            .bind(&key)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, 0, "the key itself was stored");
    pool.close().await;

    let empty = repopass(&["api-key", "create", "--name", "  "], &db.url);
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("name"));
}

#[tokio::test]
async fn migrate_and_create_api_key_sqlite() {
    crate::helpers::guarded(
        concat!(module_path!(), "::migrate_and_create_api_key_sqlite"),
        migrate_and_create_api_key(Backend::Sqlite),
    )
    .await;
}

#[tokio::test]
async fn migrate_and_create_api_key_postgres() {
    crate::helpers::guarded(
        concat!(module_path!(), "::migrate_and_create_api_key_postgres"),
        migrate_and_create_api_key(Backend::Postgres),
    )
    .await;
}

#[test]
fn configuration_is_read_from_a_dot_env_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "# RepoPass settings\nREPOPASS_GRACE_DAYS=not-a-number\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_repopass"))
        .arg("migrate")
        .env_clear()
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("REPOPASS_GRACE_DAYS: 'not-a-number'"), "{stderr}");
}

/// `repopass serve` with nothing configured: creates its SQLite file in the
/// data directory, logs JSON when asked, and serves.
#[test]
fn serve_with_zero_configuration() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_repopass"))
        .arg("serve")
        .env_clear()
        .env("REPOPASS_LEPTOS_CONFIG", crate::helpers::manifest_dir().join("Cargo-leptos.toml"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();

    let log: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    assert_eq!(log["message"], "RepoPass is listening", "{line}");
    assert_eq!(log["sandbox"], true);
    assert!(log["database"].as_str().unwrap().starts_with("sqlite://data/repopass.db"), "{line}");
    assert!(dir.path().join("data/repopass.db").is_file(), "the SQLite file was not created");
}
