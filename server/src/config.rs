//! Typed configuration, read once at start-up from the environment (and a
//! `.env` file). Every problem is reported as `VARIABLE: what is wrong`, and
//! secret values are never echoed: not in errors, not in `Debug`.

use std::{net::SocketAddr, path::PathBuf};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

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

/// How RepoPass talks to GitHub as the repository owner.
#[derive(Debug, Clone)]
pub enum GithubAuth {
    /// A fine-grained personal access token (`GITHUB_TOKEN`).
    Token(SecretString),
    /// A GitHub App (`GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY`).
    App { app_id: u64, private_key: SecretString },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub data_dir: PathBuf,
    pub public_url: Url,
    pub site_addr: SocketAddr,
    pub stripe_secret_key: Option<SecretString>,
    pub stripe_webhook_secret: Option<SecretString>,
    pub stripe_api_base: Option<Url>,
    pub github_auth: Option<GithubAuth>,
    pub github_client_id: Option<String>,
    pub github_client_secret: Option<SecretString>,
    pub github_webhook_secret: Option<SecretString>,
    pub github_api_url: Url,
    pub github_web_url: Url,
    pub smtp_url: Option<SecretString>,
    pub email_from: Option<String>,
    pub admins: Vec<String>,
    pub grace_days: u32,
    /// Requests a minute per address on limited public endpoints.
    pub rate_limit_per_minute: u32,
    /// Job workers inside `repopass serve` (0: none; run `repopass worker`).
    pub workers: u32,
    pub log_format: LogFormat,
    /// No Stripe and no GitHub credentials: RepoPass serves its own
    /// stand-ins for both (see `sandbox`) and points its clients at them.
    pub sandbox: bool,
    /// Bearer token that `/metrics` asks for. Without one, `/metrics` is
    /// open in sandbox mode (a machine of one's own) and off otherwise.
    pub metrics_token: Option<SecretString>,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` are believed
    /// (`REPOPASS_TRUSTED_PROXIES`); none by default: the peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// GitHub username lookups a process may make in an hour (the rest of
    /// the creator's quota stays for invitations and removals).
    pub github_lookups_per_hour: u32,
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
        // Empty values count as unset: `FOO=` in a .env file means "not configured".
        let var = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let secret = |name: &str| var(name).map(SecretString::from);

        let data_dir = PathBuf::from(var("REPOPASS_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = match var("DATABASE_URL") {
            Some(url) => {
                check_database_url(&url)?;
                url
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("repopass.db").display()),
        };

        let site_addr_raw = var("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.into());
        let site_addr: SocketAddr = site_addr_raw
            .parse()
            .map_err(|_| bad("LEPTOS_SITE_ADDR", format!("'{site_addr_raw}' is not an address like 127.0.0.1:3000")))?;
        let public_url = match var("PUBLIC_URL") {
            Some(raw) => parse_http_url("PUBLIC_URL", &raw)?,
            None => {
                let host =
                    if site_addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { site_addr.ip().to_string() };
                let host =
                    if site_addr.is_ipv6() && !site_addr.ip().is_unspecified() { format!("[{host}]") } else { host };
                Url::parse(&format!("http://{host}:{}/", site_addr.port())).expect("a socket address forms a valid URL")
            }
        };

        let stripe_secret_key = secret("STRIPE_SECRET_KEY");
        if let Some(key) = &stripe_secret_key {
            let key = key.expose_secret();
            if !(key.starts_with("sk_") || key.starts_with("rk_")) {
                return Err(bad("STRIPE_SECRET_KEY", "must be a secret or restricted key starting with sk_ or rk_ (find it under Developers → API keys in Stripe)"));
            }
        }
        let stripe_webhook_secret = secret("STRIPE_WEBHOOK_SECRET");
        if let Some(s) = &stripe_webhook_secret {
            if !s.expose_secret().starts_with("whsec_") {
                return Err(bad(
                    "STRIPE_WEBHOOK_SECRET",
                    "must start with whsec_ (the signing secret of your Stripe webhook endpoint)",
                ));
            }
        }
        let stripe_api_base = var("STRIPE_API_BASE").map(|raw| parse_http_url("STRIPE_API_BASE", &raw)).transpose()?;

        let github_auth = match (secret("GITHUB_TOKEN"), var("GITHUB_APP_ID"), secret("GITHUB_APP_PRIVATE_KEY")) {
            (Some(_), Some(_), _) => {
                return Err(bad(
                    "GITHUB_TOKEN",
                    "set either GITHUB_TOKEN or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY, not both",
                ))
            }
            (Some(token), None, _) => Some(GithubAuth::Token(token)),
            (None, Some(id), key) => {
                let app_id = id.parse::<u64>().map_err(|_| {
                    bad(
                        "GITHUB_APP_ID",
                        format!("'{id}' is not a number (the App ID on your GitHub App's settings page)"),
                    )
                })?;
                let private_key = key.ok_or_else(|| {
                    bad(
                        "GITHUB_APP_PRIVATE_KEY",
                        "is required with GITHUB_APP_ID (the PEM private key of your GitHub App)",
                    )
                })?;
                if !private_key.expose_secret().contains("PRIVATE KEY") {
                    return Err(bad(
                        "GITHUB_APP_PRIVATE_KEY",
                        "is not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)",
                    ));
                }
                Some(GithubAuth::App { app_id, private_key })
            }
            (None, None, Some(_)) => return Err(bad("GITHUB_APP_ID", "is required with GITHUB_APP_PRIVATE_KEY")),
            (None, None, None) => None,
        };

        // Sandbox mode is all or nothing: half-real credentials would take real
        // money for access that is never granted (or the other way round).
        let sandbox = match (&stripe_secret_key, &github_auth) {
            (None, None) => {
                // Anyone who reaches the sandbox can sign in as anyone and
                // drive its control API: only on this machine, unless asked.
                let local = site_addr.ip().is_loopback() && public_url.scheme() == "http";
                let asked = var("REPOPASS_SANDBOX").as_deref() == Some("1");
                if !local && !asked {
                    return Err(bad(
                        "STRIPE_SECRET_KEY",
                        format!(
                            "no Stripe or GitHub credentials, so this would be the sandbox — which lets anyone sign in as anyone — on {} ({}): set STRIPE_SECRET_KEY and GITHUB_TOKEN for real use, listen on 127.0.0.1 to try RepoPass, or set REPOPASS_SANDBOX=1 if an open sandbox is what you want",
                            site_addr, public_url
                        ),
                    ));
                }
                true
            }
            (Some(_), Some(_)) => false,
            (Some(_), None) => {
                return Err(bad("GITHUB_TOKEN", "STRIPE_SECRET_KEY is set, so GitHub credentials are needed too: set GITHUB_TOKEN (or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY), or unset STRIPE_SECRET_KEY to use the sandbox"))
            }
            (None, Some(_)) => {
                return Err(bad("STRIPE_SECRET_KEY", "GitHub credentials are set, so a Stripe key is needed too: set STRIPE_SECRET_KEY, or unset the GitHub credentials to use the sandbox"))
            }
        };

        let github_client_id = var("GITHUB_CLIENT_ID");
        let github_client_secret = secret("GITHUB_CLIENT_SECRET");
        match (&github_client_id, &github_client_secret) {
            (Some(_), None) => {
                return Err(bad(
                    "GITHUB_CLIENT_SECRET",
                    "is required with GITHUB_CLIENT_ID (both come from your GitHub OAuth or GitHub App settings)",
                ))
            }
            (None, Some(_)) => return Err(bad("GITHUB_CLIENT_ID", "is required with GITHUB_CLIENT_SECRET")),
            _ => {}
        }

        let github_api_url = parse_http_url(
            "GITHUB_API_URL",
            &var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
        )?;
        let github_web_url =
            parse_http_url("GITHUB_WEB_URL", &var("GITHUB_WEB_URL").unwrap_or_else(|| "https://github.com".into()))?;

        let smtp_url = secret("SMTP_URL");
        if let Some(url) = &smtp_url {
            let scheme_ok =
                Url::parse(url.expose_secret()).map(|u| matches!(u.scheme(), "smtp" | "smtps")).unwrap_or(false);
            if !scheme_ok {
                return Err(bad("SMTP_URL", "must look like smtps://user:password@host:465 or smtp://host:25"));
            }
        }
        let email_from = var("EMAIL_FROM");
        if let Some(from) = &email_from {
            if !looks_like_mailbox(from) {
                return Err(bad(
                    "EMAIL_FROM",
                    format!("'{from}' is not an address like RepoPass <billing@example.com>"),
                ));
            }
        }
        if smtp_url.is_some() && email_from.is_none() {
            return Err(bad("EMAIL_FROM", "is required with SMTP_URL (the sender address of RepoPass emails)"));
        }

        let admins = match var("REPOPASS_ADMINS") {
            None => Vec::new(),
            Some(list) => comma_list(&list)
                .map(|login| {
                    if is_github_login(login) {
                        Ok(login.to_ascii_lowercase())
                    } else {
                        Err(bad(
                            "REPOPASS_ADMINS",
                            format!("'{login}' is not a GitHub login (comma-separated logins, e.g. alice,bob)"),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        // Without a list the first person to sign in would own the place, and
        // on a public address a bot watching new certificates can be first.
        if !sandbox && admins.is_empty() {
            return Err(bad(
                "REPOPASS_ADMINS",
                "is required outside the sandbox: the GitHub logins that may use /admin, comma-separated (e.g. REPOPASS_ADMINS=alice); the first of them to sign in becomes the owner",
            ));
        }

        let grace_days = match var("REPOPASS_GRACE_DAYS") {
            None => 3,
            Some(raw) => raw.parse::<u32>().ok().filter(|d| *d <= 60).ok_or_else(|| {
                bad("REPOPASS_GRACE_DAYS", format!("'{raw}' is not a number of days between 0 and 60"))
            })?,
        };

        let rate_limit_per_minute = match var("REPOPASS_RATE_LIMIT") {
            None => 100,
            Some(raw) => raw.parse::<u32>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
                bad("REPOPASS_RATE_LIMIT", format!("'{raw}' is not a number of requests a minute between 1 and 100000"))
            })?,
        };

        let workers = match var("REPOPASS_WORKERS") {
            None => 1,
            Some(raw) => raw.parse::<u32>().ok().filter(|n| *n <= 16).ok_or_else(|| {
                bad("REPOPASS_WORKERS", format!("'{raw}' is not a number of workers between 0 and 16"))
            })?,
        };

        let metrics_token = secret("REPOPASS_METRICS_TOKEN");
        if metrics_token.as_ref().is_some_and(|t| t.expose_secret().trim().chars().count() < 16) {
            return Err(bad("REPOPASS_METRICS_TOKEN", "use at least 16 random characters (e.g. openssl rand -hex 16)"));
        }

        let trusted_proxies = match var("REPOPASS_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => comma_list(&list)
                .map(|item| {
                    item.parse::<ipnet::IpNet>().or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(|_| {
                        bad("REPOPASS_TRUSTED_PROXIES", format!("'{item}' is not an address or network (comma-separated, e.g. 127.0.0.1,10.0.0.0/8,fd00::/8)"))
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let github_lookups_per_hour = match var("REPOPASS_GITHUB_LOOKUPS_PER_HOUR") {
            None => 1000,
            Some(raw) => raw.parse::<u32>().ok().filter(|n| (1..=1_000_000).contains(n)).ok_or_else(|| {
                bad(
                    "REPOPASS_GITHUB_LOOKUPS_PER_HOUR",
                    format!("'{raw}' is not a number of lookups an hour between 1 and 1000000"),
                )
            })?,
        };

        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(bad("LOG_FORMAT", format!("'{other}' is not one of: text, json"))),
        };

        Ok(Config {
            database_url: SecretString::from(database_url),
            data_dir,
            public_url,
            site_addr,
            stripe_secret_key,
            stripe_webhook_secret,
            stripe_api_base,
            github_auth,
            github_client_id,
            github_client_secret,
            github_webhook_secret: secret("GITHUB_WEBHOOK_SECRET"),
            github_api_url,
            github_web_url,
            smtp_url,
            email_from,
            admins,
            grace_days,
            rate_limit_per_minute,
            workers,
            log_format,
            sandbox,
            metrics_token,
            trusted_proxies,
            github_lookups_per_hour,
        })
    }

    /// Points every client at the built-in sandbox under `public_url` and
    /// fills in its stand-in credentials. Called once the listening port is
    /// known; does nothing outside sandbox mode.
    pub fn point_at_sandbox(&mut self) {
        if !self.sandbox {
            return;
        }
        let base = |path: &str| self.public_url.join(path).expect("a path joins onto an http URL");
        // async-stripe appends "v1/…" to its base: keep the trailing slash.
        self.stripe_api_base = Some(base("sandbox/stripe/"));
        self.github_api_url = base("sandbox/github/api");
        self.github_web_url = base("sandbox/github");
        self.stripe_secret_key = Some(SecretString::from(sandbox::STRIPE_SECRET_KEY));
        self.github_auth = Some(GithubAuth::Token(SecretString::from(sandbox::GITHUB_TOKEN)));
        self.stripe_webhook_secret.get_or_insert_with(|| SecretString::from(sandbox::STRIPE_WEBHOOK_SECRET));
        self.github_webhook_secret.get_or_insert_with(|| SecretString::from(sandbox::GITHUB_WEBHOOK_SECRET));
        if self.github_client_id.is_none() {
            self.github_client_id = Some(sandbox::GITHUB_CLIENT_ID.to_owned());
            self.github_client_secret = Some(SecretString::from(sandbox::GITHUB_CLIENT_SECRET));
        }
    }

    /// The database URL with any password masked, fit for logs.
    pub fn database_url_for_logs(&self) -> String {
        redact_url(self.database_url.expose_secret())
    }
}

/// The stand-in credentials of sandbox mode. They open nothing real: the
/// sandbox accepts them and nothing else does.
pub mod sandbox {
    pub const STRIPE_SECRET_KEY: &str = "sk_test_repopass_sandbox";
    pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_repopass_sandbox";
    pub const GITHUB_TOKEN: &str = "ghp_repopass_sandbox_creator";
    pub const GITHUB_CLIENT_ID: &str = "Iv1.repopass-sandbox";
    pub const GITHUB_CLIENT_SECRET: &str = "repopass-sandbox-client-secret";
    pub const GITHUB_WEBHOOK_SECRET: &str = "repopass-sandbox-github-webhook";
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let ok = url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !ok {
        let scheme = url.split(':').next().unwrap_or_default();
        return Err(bad(
            "DATABASE_URL",
            format!("unsupported scheme '{scheme}': use sqlite://path/to/file.db or postgres://user@host/db"),
        ));
    }
    if url.starts_with("postgres") && Url::parse(url).map(|u| u.host_str().is_none()).unwrap_or(true) {
        return Err(bad(
            "DATABASE_URL",
            "is not a valid PostgreSQL URL (expected postgres://user:password@host:5432/database)",
        ));
    }
    Ok(())
}

fn parse_http_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    match Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        _ => Err(bad(var, format!("'{}' is not an http(s) URL", redact_url(raw)))),
    }
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

/// GitHub logins: 1–39 characters, alphanumeric or single hyphens, not at
/// either end.
pub fn is_github_login(login: &str) -> bool {
    (1..=39).contains(&login.len())
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !login.starts_with('-')
        && !login.ends_with('-')
        && !login.contains("--")
}

fn looks_like_mailbox(from: &str) -> bool {
    let addr = match (from.find('<'), from.rfind('>')) {
        (Some(start), Some(end)) if start < end => &from[start + 1..end],
        _ => from,
    };
    let mut parts = addr.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(local), Some(domain), None) if !local.is_empty() && domain.contains('.'))
}

/// The items of a comma-separated setting, trimmed, empty ones skipped.
fn comma_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
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
        assert_eq!(cfg.database_url.expose_secret(), "sqlite://data/repopass.db?mode=rwc");
        assert_eq!(cfg.public_url.as_str(), "http://127.0.0.1:3000/");
        assert!(cfg.sandbox);
        assert_eq!(cfg.grace_days, 3);
        assert_eq!(cfg.github_api_url.as_str(), "https://api.github.com/");
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
        assert_eq!(load(&[("STRIPE_SECRET_KEY", "sk_test_1")]).unwrap_err().var, "GITHUB_TOKEN");
        assert_eq!(load(&[("GITHUB_TOKEN", "ghp_1")]).unwrap_err().var, "STRIPE_SECRET_KEY");
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
        assert!(matches!(app.github_auth, Some(GithubAuth::App { app_id: 42, .. })));
    }

    #[test]
    fn the_sandbox_stays_on_this_machine_unless_asked_for() {
        // Anyone who reaches the sandbox can sign in as anyone.
        for (addr, public) in [
            ("0.0.0.0:3000", "http://127.0.0.1:3000"),
            ("127.0.0.1:3000", "https://repopass.example.com"),
            ("[::]:3000", "http://[::1]:3000"),
        ] {
            let err = load(&[("LEPTOS_SITE_ADDR", addr), ("PUBLIC_URL", public)]).unwrap_err();
            assert_eq!(err.var, "STRIPE_SECRET_KEY", "{addr} {public}");
            assert!(
                err.to_string().contains("REPOPASS_SANDBOX=1") && err.to_string().contains("STRIPE_SECRET_KEY"),
                "{err}"
            );
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
        assert_eq!(cfg.trusted_proxies.len(), 3);
        assert!(cfg.trusted_proxies[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        let err = load(&[("REPOPASS_TRUSTED_PROXIES", "my-proxy")]).unwrap_err();
        assert_eq!(err.var, "REPOPASS_TRUSTED_PROXIES");
        assert!(load(&[]).unwrap().trusted_proxies.is_empty());
    }

    #[test]
    fn a_metrics_token_is_long_enough() {
        assert_eq!(load(&[("REPOPASS_METRICS_TOKEN", "short")]).unwrap_err().var, "REPOPASS_METRICS_TOKEN");
        assert!(load(&[("REPOPASS_METRICS_TOKEN", "0123456789abcdef0123")]).unwrap().metrics_token.is_some());
    }

    #[test]
    fn sandbox_mode_points_every_client_at_the_sandbox() {
        let mut cfg = load(&[("PUBLIC_URL", "http://127.0.0.1:4000")]).unwrap();
        cfg.point_at_sandbox();
        assert_eq!(cfg.stripe_api_base.unwrap().as_str(), "http://127.0.0.1:4000/sandbox/stripe/");
        assert_eq!(cfg.github_api_url.as_str(), "http://127.0.0.1:4000/sandbox/github/api");
        assert_eq!(cfg.github_web_url.as_str(), "http://127.0.0.1:4000/sandbox/github");
        assert_eq!(cfg.github_client_id.as_deref(), Some(sandbox::GITHUB_CLIENT_ID));
        assert!(matches!(cfg.github_auth, Some(GithubAuth::Token(_))));

        let mut real =
            load(&[("STRIPE_SECRET_KEY", "sk_live_1"), ("GITHUB_TOKEN", "ghp_real"), ("REPOPASS_ADMINS", "alice")])
                .unwrap();
        real.point_at_sandbox();
        assert!(real.stripe_api_base.is_none());
        assert_eq!(real.github_api_url.as_str(), "https://api.github.com/");
    }

    #[test]
    fn outside_the_sandbox_admins_must_be_listed() {
        let real = [("STRIPE_SECRET_KEY", "sk_test_1"), ("GITHUB_TOKEN", "ghp_1")];
        let err = load(&real).unwrap_err();
        assert_eq!(err.var, "REPOPASS_ADMINS");
        assert!(err.to_string().contains("REPOPASS_ADMINS=alice"), "{err}");
        assert!(load(&[real[0], real[1], ("REPOPASS_ADMINS", "alice")]).is_ok());
        // The sandbox keeps "the first to sign in owns it": it is one person's machine.
        assert!(load(&[]).unwrap().admins.is_empty());
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

    #[test]
    fn github_logins() {
        for ok in ["a", "octocat", "my-org-1", &"a".repeat(39)] {
            assert!(is_github_login(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "a b", "a_b", &"a".repeat(40)] {
            assert!(!is_github_login(bad), "{bad}");
        }
    }
}
