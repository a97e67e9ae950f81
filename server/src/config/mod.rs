//! Typed configuration, read once at start-up from the environment (and a
//! `.env` file). Every problem is reported as `VARIABLE: what is wrong`, and
//! secret values are never echoed: not in errors, not in `Debug`.

mod services;
mod stored;
mod vars;

use std::{net::SocketAddr, path::PathBuf};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub use services::{DatabaseConfig, EmailConfig, GithubAuth, GithubConfig, Limits, StripeConfig};
pub use stored::{Setting, StoredValues};
use vars::Vars;

/// One bad variable: which one, and what to do about it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn bad(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { var, problem: problem.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub public_url: Url,
    pub site_addr: SocketAddr,
    pub log_format: LogFormat,
    /// No Stripe and no GitHub credentials: RepoPass serves its own
    /// stand-ins for both (the `sandbox` crate) and points its clients at them.
    pub sandbox: bool,
    /// GitHub logins that may use /admin (lowercased).
    pub admins: Vec<String>,
    /// Job workers inside `repopass serve` (0: none; run `repopass worker`).
    pub workers: u32,
    /// Bearer token that `/metrics` asks for. Without one, `/metrics` is
    /// open in sandbox mode (a machine of one's own) and off otherwise.
    pub metrics_token: Option<SecretString>,
    pub database: DatabaseConfig,
    pub stripe: StripeConfig,
    pub github: GithubConfig,
    pub email: EmailConfig,
    pub limits: Limits,
    pub backups: BackupConfig,
    /// The key that seals saved settings (`REPOPASS_SECRET_KEY`); without
    /// one, a key file in the data directory (see `vault`).
    pub secret_key: Option<SecretString>,
    /// Which saveable settings the environment sets (those win).
    pub env_set: Vec<Setting>,
}

pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";

impl Config {
    /// Reads `.env` (if present) and then the process environment, which wins.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth saying.
        if let Err(err) = dotenvy::dotenv() {
            if !err.not_found() {
                return Err(bad(".env", format!("could not be read: {err}")));
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars::new(&get);
        let data_dir = PathBuf::from(vars.text("REPOPASS_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database = DatabaseConfig::read(&vars, &data_dir)?;

        let site_addr_raw = vars.text("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.into());
        let site_addr: SocketAddr = site_addr_raw
            .parse()
            .map_err(|_| bad("LEPTOS_SITE_ADDR", format!("'{site_addr_raw}' is not an address like 127.0.0.1:3000")))?;
        let public_url = match vars.url("PUBLIC_URL", None)? {
            Some(url) => url,
            None => {
                let host =
                    if site_addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { site_addr.ip().to_string() };
                let host =
                    if site_addr.is_ipv6() && !site_addr.ip().is_unspecified() { format!("[{host}]") } else { host };
                Url::parse(&format!("http://{host}:{}/", site_addr.port())).expect("a socket address forms a valid URL")
            }
        };

        let stripe = StripeConfig::read(&vars)?;
        let github = GithubConfig::read(&vars)?;

        let email = EmailConfig::read(&vars)?;
        let admins = services::admins(&vars)?;
        let env_set: Vec<Setting> = Setting::ALL.into_iter().filter(|s| vars.text(s.var()).is_some()).collect();

        // No credentials at all is the sandbox — on this machine only, since
        // anyone who reaches the sandbox can sign in as anyone — unless the
        // operator points RepoPass at a Stripe or GitHub of their own (base
        // URLs) or gives it a public address: then it is a real deployment
        // whose credentials the setup wizard obtains (see `setup`).
        let no_credentials = stripe.secret_key.is_none() && github.auth.is_none();
        let asked = vars.text("REPOPASS_SANDBOX").as_deref() == Some("1");
        let elsewhere = ["STRIPE_API_BASE", "GITHUB_API_URL", "GITHUB_WEB_URL"].iter().any(|v| vars.text(v).is_some());
        let local = site_addr.ip().is_loopback() && public_url.scheme() == "http";
        let sandbox = no_credentials && (asked || (local && !elsewhere));
        let metrics_token = vars.secret("REPOPASS_METRICS_TOKEN");
        if metrics_token.as_ref().is_some_and(|t| t.expose_secret().trim().chars().count() < 16) {
            return Err(bad("REPOPASS_METRICS_TOKEN", "use at least 16 random characters (e.g. openssl rand -hex 16)"));
        }

        let log_format = match vars.text("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(bad("LOG_FORMAT", format!("'{other}' is not one of: text, json"))),
        };

        let backups = BackupConfig {
            dir: vars.text("REPOPASS_BACKUP_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("backups")),
            keep: vars.number("REPOPASS_BACKUP_KEEP", 7, 0..=365, "backups to keep")?,
        };
        Ok(Config {
            data_dir,
            public_url,
            site_addr,
            log_format,
            sandbox,
            admins,
            workers: vars.number("REPOPASS_WORKERS", 1, 0..=16, "workers")?,
            metrics_token,
            database,
            stripe,
            github,
            email,
            limits: Limits::read(&vars)?,
            backups,
            secret_key: vault_key(&vars)?,
            env_set,
        })
    }

    /// The database URL with any password masked, fit for logs.
    pub fn database_url_for_logs(&self) -> String {
        redact_url(self.database.url.expose_secret())
    }
}

/// Daily backups of a SQLite database (`backups`); PostgreSQL has its own
/// tools (README "Backups").
#[derive(Debug, Clone)]
pub struct BackupConfig {
    /// Where they go (`REPOPASS_BACKUP_DIR`; default `<data dir>/backups`).
    pub dir: PathBuf,
    /// How many are kept (`REPOPASS_BACKUP_KEEP`, default 7); 0 turns the
    /// schedule off.
    pub keep: u32,
}

impl BackupConfig {
    pub fn enabled(&self) -> bool {
        self.keep > 0
    }
}

/// `REPOPASS_SECRET_KEY`: 32 random bytes as 64 hex characters.
fn vault_key(vars: &Vars) -> Result<Option<SecretString>, ConfigError> {
    let key = vars.secret("REPOPASS_SECRET_KEY");
    if let Some(key) = &key {
        let raw = key.expose_secret();
        if raw.len() != 64 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(
                "REPOPASS_SECRET_KEY",
                "must be 64 hex characters (32 random bytes: openssl rand -hex 32)",
            ));
        }
    }
    Ok(key)
}

/// Masks the password of a URL (database and SMTP URLs carry one).
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "<unparseable>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn zero_config_is_sqlite_in_the_data_dir_with_the_sandbox_on() {
        let cfg = load(&[]).unwrap();
        assert_eq!(cfg.database.url.expose_secret(), "sqlite://data/repopass.db?mode=rwc");
        assert_eq!(cfg.public_url.as_str(), "http://127.0.0.1:3000/");
        assert!(cfg.sandbox);
        assert_eq!(cfg.stripe.grace_days, 3);
        assert_eq!(cfg.github.api_url.as_str(), "https://api.github.com/");
    }

    #[test]
    fn bad_database_url_names_the_variable_and_the_fix() {
        let err = load(&[("DATABASE_URL", "mysql://root@localhost/db")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        assert!(err.to_string().contains("unsupported scheme 'mysql'"), "{err}");
    }

    #[test]
    fn secrets_are_neither_in_debug_nor_in_errors() {
        let cfg = load(&[
            ("STRIPE_SECRET_KEY", "sk_test_supersecret123"),
            ("GITHUB_TOKEN", "github_pat_supersecret456"),
            ("DATABASE_URL", "postgres://app:dbpassword789@db.example/repopass"),
            ("SMTP_URL", "smtps://mailer:smtppassword@mail.example:465"),
            ("EMAIL_FROM", "RepoPass <billing@example.com>"),
            ("REPOPASS_ADMINS", "alice"),
        ])
        .unwrap();
        let debug = format!("{cfg:?}");
        for secret in ["supersecret123", "supersecret456", "dbpassword789", "smtppassword"] {
            assert!(!debug.contains(secret), "{secret} leaked into Debug: {debug}");
        }
        assert!(!cfg.database_url_for_logs().contains("dbpassword789"));
        assert!(!cfg.sandbox);

        let err = load(&[("STRIPE_SECRET_KEY", "pk_live_notsecretbutwrong")]).unwrap_err();
        assert_eq!(err.var, "STRIPE_SECRET_KEY");
        assert!(!err.to_string().contains("notsecretbutwrong"));
    }

    #[test]
    fn paired_variables_must_come_together() {
        assert_eq!(load(&[("GITHUB_APP_ID", "123")]).unwrap_err().var, "GITHUB_APP_PRIVATE_KEY");
        assert_eq!(load(&[("GITHUB_APP_ID", "abc")]).unwrap_err().var, "GITHUB_APP_ID");
        assert_eq!(load(&[("GITHUB_CLIENT_ID", "Iv1.abc")]).unwrap_err().var, "GITHUB_CLIENT_SECRET");
        assert_eq!(load(&[("SMTP_URL", "smtp://localhost:25")]).unwrap_err().var, "EMAIL_FROM");
        let app = load(&[
            ("REPOPASS_ADMINS", "alice"),
            ("STRIPE_SECRET_KEY", "sk_test_1"),
            ("GITHUB_APP_ID", "42"),
            ("GITHUB_APP_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----"),
        ])
        .unwrap();
        assert!(matches!(app.github.auth, Some(GithubAuth::App { app_id: 42, .. })));
        // Half the credentials is a real deployment whose setup supplies the rest.
        let half = load(&[("STRIPE_SECRET_KEY", "sk_test_1")]).unwrap();
        assert!(!half.sandbox && half.github.auth.is_none());
        assert_eq!(half.env_set, vec![Setting::StripeSecretKey]);
    }

    #[test]
    fn the_sandbox_stays_on_this_machine_unless_asked_for() {
        // Anyone who reaches the sandbox can sign in as anyone: on a public
        // address, no credentials means setup (the wizard), not the sandbox.
        for (addr, public) in [
            ("0.0.0.0:3000", "http://127.0.0.1:3000"),
            ("127.0.0.1:3000", "https://repopass.example.com"),
            ("[::]:3000", "http://[::1]:3000"),
        ] {
            let cfg = load(&[("LEPTOS_SITE_ADDR", addr), ("PUBLIC_URL", public)]).unwrap();
            assert!(!cfg.sandbox, "{addr} {public}");
        }
        assert!(
            load(&[
                ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
                ("PUBLIC_URL", "https://try.example.com"),
                ("REPOPASS_SANDBOX", "1")
            ])
            .unwrap()
            .sandbox
        );
        assert!(load(&[("LEPTOS_SITE_ADDR", "[::1]:3000"), ("PUBLIC_URL", "http://[::1]:3000")]).unwrap().sandbox);
        // Pointed at a Stripe or GitHub of one's own: a real deployment, even on this machine.
        for var in ["STRIPE_API_BASE", "GITHUB_API_URL", "GITHUB_WEB_URL"] {
            assert!(!load(&[(var, "http://127.0.0.1:9000/x/")]).unwrap().sandbox, "{var}");
        }
        // With credentials the address is the operator's business.
        assert!(
            !load(&[
                ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
                ("STRIPE_SECRET_KEY", "sk_test_1"),
                ("GITHUB_TOKEN", "ghp_1"),
                ("REPOPASS_ADMINS", "alice")
            ])
            .unwrap()
            .sandbox
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let cfg = load(&[("REPOPASS_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,fd00::/8")]).unwrap();
        assert_eq!(cfg.limits.trusted_proxies.len(), 3);
        assert!(cfg.limits.trusted_proxies[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        let err = load(&[("REPOPASS_TRUSTED_PROXIES", "my-proxy")]).unwrap_err();
        assert_eq!(err.var, "REPOPASS_TRUSTED_PROXIES");
        assert!(load(&[]).unwrap().limits.trusted_proxies.is_empty());
    }

    #[test]
    fn a_metrics_token_is_long_enough() {
        assert_eq!(load(&[("REPOPASS_METRICS_TOKEN", "short")]).unwrap_err().var, "REPOPASS_METRICS_TOKEN");
        assert!(load(&[("REPOPASS_METRICS_TOKEN", "0123456789abcdef0123")]).unwrap().metrics_token.is_some());
    }

    #[test]
    fn saved_settings_fill_in_what_the_environment_leaves_unset() {
        let mut cfg =
            load(&[("PUBLIC_URL", "https://shop.example.com"), ("STRIPE_SECRET_KEY", "sk_test_env")]).unwrap();
        let saved = |v: &str| SecretString::from(v.to_owned());
        let stored = StoredValues(
            [
                (Setting::StripeSecretKey, saved("sk_test_saved")),
                (Setting::StripeWebhookSecret, saved("whsec_saved")),
                (Setting::GithubAppId, saved("77")),
                (Setting::GithubAppPrivateKey, saved("-----BEGIN RSA PRIVATE KEY-----")),
                (Setting::GithubAppSlug, saved("repopass-shop")),
                (Setting::GithubClientId, saved("Iv1.saved")),
                (Setting::GithubClientSecret, saved("client-secret")),
            ]
            .into_iter()
            .collect(),
        );
        cfg.merge_stored(&stored).unwrap();
        // The environment wins.
        assert_eq!(cfg.stripe.secret_key.as_ref().unwrap().expose_secret(), "sk_test_env");
        assert_eq!(cfg.stripe.webhook_secret.as_ref().unwrap().expose_secret(), "whsec_saved");
        assert!(matches!(cfg.github.auth, Some(GithubAuth::App { app_id: 77, .. })));
        assert_eq!(cfg.github.app_slug.as_deref(), Some("repopass-shop"));
        assert_eq!(cfg.github.client_id.as_deref(), Some("Iv1.saved"));
        assert!(cfg.env_has(Setting::StripeSecretKey) && !cfg.env_has(Setting::GithubAppId));
        assert!(!format!("{stored:?}").contains("client-secret"));

        let mut bad = load(&[]).unwrap();
        let stored = StoredValues(
            [(Setting::GithubAppId, saved("x")), (Setting::GithubAppPrivateKey, saved("k"))].into_iter().collect(),
        );
        assert_eq!(bad.merge_stored(&stored).unwrap_err().var, "GITHUB_APP_ID");
    }

    #[test]
    fn the_secret_key_is_64_hex_characters() {
        assert_eq!(load(&[("REPOPASS_SECRET_KEY", "short")]).unwrap_err().var, "REPOPASS_SECRET_KEY");
        let key = "ab".repeat(32);
        assert!(load(&[("REPOPASS_SECRET_KEY", key.as_str())]).unwrap().secret_key.is_some());
        assert!(!format!("{:?}", load(&[("REPOPASS_SECRET_KEY", key.as_str())]).unwrap()).contains(&key));
    }

    #[test]
    fn admins_are_validated_logins() {
        let cfg = load(&[("REPOPASS_ADMINS", "Alice, bob-smith ,")]).unwrap();
        assert_eq!(cfg.admins, vec!["alice", "bob-smith"]);
        let err = load(&[("REPOPASS_ADMINS", "alice,not a login")]).unwrap_err();
        assert!(err.to_string().starts_with("REPOPASS_ADMINS: 'not a login'"), "{err}");
    }

    #[test]
    fn addresses_and_urls_are_checked() {
        assert_eq!(load(&[("LEPTOS_SITE_ADDR", "localhost")]).unwrap_err().var, "LEPTOS_SITE_ADDR");
        assert_eq!(load(&[("PUBLIC_URL", "ftp://x")]).unwrap_err().var, "PUBLIC_URL");
        assert_eq!(load(&[("REPOPASS_GRACE_DAYS", "-1")]).unwrap_err().var, "REPOPASS_GRACE_DAYS");
        assert_eq!(load(&[("LOG_FORMAT", "xml")]).unwrap_err().var, "LOG_FORMAT");
        let cfg = load(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8080"), ("REPOPASS_SANDBOX", "1")]).unwrap();
        assert_eq!(cfg.public_url.as_str(), "http://127.0.0.1:8080/");
    }
}
