//! The settings of each outside service and of the limits, each read by
//! its own function.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{bad, vars::Vars, ConfigError};
use crate::domain::GithubLogin;

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite://…` (default: a file in the data directory) or `postgres://…`.
    pub url: SecretString,
}

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub secret_key: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    /// The webhook endpoint RepoPass created in Stripe (`we_…`), when it did.
    pub webhook_endpoint: Option<String>,
    /// Where the API is (the sandbox's in sandbox mode; Stripe's otherwise).
    pub api_base: Option<Url>,
    /// Days access outlives a failed renewal (`REPOPASS_GRACE_DAYS`).
    pub grace_days: u32,
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
pub struct GithubConfig {
    pub auth: Option<GithubAuth>,
    /// The GitHub App's URL name (`GITHUB_APP_SLUG`), for its install page.
    pub app_slug: Option<String>,
    /// The OAuth app (or GitHub App) people sign in with.
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    pub api_url: Url,
    pub web_url: Url,
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// Without one, emails are kept in the outbox and written to the log.
    pub smtp_url: Option<SecretString>,
    pub from: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests a minute per address on limited public endpoints.
    pub rate_limit_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` are believed
    /// (`REPOPASS_TRUSTED_PROXIES`); none by default: the peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// GitHub username lookups a process may make in an hour (the rest of
    /// the creator's quota stays for invitations and removals).
    pub github_lookups_per_hour: u32,
}

impl DatabaseConfig {
    pub fn read(vars: &Vars, data_dir: &std::path::Path) -> Result<Self, ConfigError> {
        let url = match vars.text("DATABASE_URL") {
            Some(url) => {
                check_database_url(&url)?;
                url
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("repopass.db").display()),
        };
        Ok(DatabaseConfig { url: SecretString::from(url) })
    }
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

impl StripeConfig {
    pub fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let secret_key = vars.secret("STRIPE_SECRET_KEY");
        if let Some(key) = &secret_key {
            let key = key.expose_secret();
            if !(key.starts_with("sk_") || key.starts_with("rk_")) {
                return Err(bad("STRIPE_SECRET_KEY", "must be a secret or restricted key starting with sk_ or rk_ (find it under Developers → API keys in Stripe)"));
            }
        }
        let webhook_secret = vars.secret("STRIPE_WEBHOOK_SECRET");
        if webhook_secret.as_ref().is_some_and(|s| !s.expose_secret().starts_with("whsec_")) {
            return Err(bad(
                "STRIPE_WEBHOOK_SECRET",
                "must start with whsec_ (the signing secret of your Stripe webhook endpoint)",
            ));
        }
        Ok(StripeConfig {
            secret_key,
            webhook_secret,
            webhook_endpoint: vars.text("STRIPE_WEBHOOK_ENDPOINT"),
            api_base: vars.url("STRIPE_API_BASE", None)?,
            grace_days: vars.number("REPOPASS_GRACE_DAYS", 3, 0..=60, "days")?,
        })
    }
}

impl GithubConfig {
    pub fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let auth =
            match (vars.secret("GITHUB_TOKEN"), vars.text("GITHUB_APP_ID"), vars.secret("GITHUB_APP_PRIVATE_KEY")) {
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
        let client_id = vars.text("GITHUB_CLIENT_ID");
        let client_secret = vars.secret("GITHUB_CLIENT_SECRET");
        match (&client_id, &client_secret) {
            (Some(_), None) => {
                return Err(bad(
                    "GITHUB_CLIENT_SECRET",
                    "is required with GITHUB_CLIENT_ID (both come from your GitHub OAuth or GitHub App settings)",
                ))
            }
            (None, Some(_)) => return Err(bad("GITHUB_CLIENT_ID", "is required with GITHUB_CLIENT_SECRET")),
            _ => {}
        }
        Ok(GithubConfig {
            auth,
            app_slug: vars.text("GITHUB_APP_SLUG"),
            client_id,
            client_secret,
            webhook_secret: vars.secret("GITHUB_WEBHOOK_SECRET"),
            api_url: vars.url("GITHUB_API_URL", Some("https://api.github.com"))?.expect("a default is given"),
            web_url: vars.url("GITHUB_WEB_URL", Some("https://github.com"))?.expect("a default is given"),
        })
    }
}

impl EmailConfig {
    pub fn read(vars: &Vars) -> Result<Self, ConfigError> {
        let smtp_url = vars.secret("SMTP_URL");
        if let Some(url) = &smtp_url {
            let scheme_ok =
                Url::parse(url.expose_secret()).map(|u| matches!(u.scheme(), "smtp" | "smtps")).unwrap_or(false);
            if !scheme_ok {
                return Err(bad("SMTP_URL", "must look like smtps://user:password@host:465 or smtp://host:25"));
            }
        }
        let from = vars.text("EMAIL_FROM");
        if let Some(from) = &from {
            if !looks_like_mailbox(from) {
                return Err(bad(
                    "EMAIL_FROM",
                    format!("'{from}' is not an address like RepoPass <billing@example.com>"),
                ));
            }
        }
        if smtp_url.is_some() && from.is_none() {
            return Err(bad("EMAIL_FROM", "is required with SMTP_URL (the sender address of RepoPass emails)"));
        }
        Ok(EmailConfig { smtp_url, from })
    }
}

/// `billing@example.com` or `RepoPass <billing@example.com>`.
fn looks_like_mailbox(from: &str) -> bool {
    let addr = match (from.find('<'), from.rfind('>')) {
        (Some(start), Some(end)) if start < end => &from[start + 1..end],
        _ => from,
    };
    let mut parts = addr.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(local), Some(domain), None) if !local.is_empty() && domain.contains('.'))
}

impl Limits {
    pub fn read(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Limits {
            rate_limit_per_minute: vars.number("REPOPASS_RATE_LIMIT", 100, 1..=100_000, "requests a minute")?,
            trusted_proxies: vars.list("REPOPASS_TRUSTED_PROXIES", |item| {
                item.parse::<ipnet::IpNet>()
                    .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("'{item}' is not an address or network (comma-separated, e.g. 127.0.0.1,10.0.0.0/8,fd00::/8)"))
            })?,
            github_lookups_per_hour: vars.number("REPOPASS_GITHUB_LOOKUPS_PER_HOUR", 1000, 1..=1_000_000, "lookups an hour")?,
        })
    }
}

/// `REPOPASS_ADMINS`: GitHub logins, lowercased.
pub fn admins(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    vars.list("REPOPASS_ADMINS", |login| match GithubLogin::parse(login) {
        Some(login) => Ok(login.as_str().to_ascii_lowercase()),
        None => Err(format!("'{login}' is not a GitHub login (comma-separated logins, e.g. alice,bob)")),
    })
}
