//! `repopass doctor`: looks at a deployment the way its first buyer will
//! reach it, and says for each part either that it works, or what is wrong
//! and the one thing to do.

use std::time::Duration;

use lettre::{AsyncSmtpTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::{
    clock,
    domain::Provider,
    github::{Access, GithubError},
    lifecycle::STRIPE_EVENTS,
    settings::StripeMode,
    stripe::{
        connect::{restricted_key_link, NEEDED},
        StripeError,
    },
    stripe_connection::EndpointHealth,
    AppState,
};

/// What each check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Configuration,
    Database,
    PublicUrl,
    Stripe,
    StripeWebhook,
    Github,
    Webhooks,
    Email,
    Backups,
}

impl Area {
    pub fn name(self) -> &'static str {
        match self {
            Area::Configuration => "configuration",
            Area::Database => "database",
            Area::PublicUrl => "public address",
            Area::Stripe => "stripe",
            Area::StripeWebhook => "stripe webhook",
            Area::Github => "github",
            Area::Webhooks => "webhooks",
            Area::Email => "email",
            Area::Backups => "backups",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok(String),
    /// Works, but not as a creator selling for real would want.
    Warning {
        what: String,
        fix: String,
    },
    /// Buyers will be let down until it is fixed.
    Problem {
        what: String,
        fix: String,
    },
}

impl Verdict {
    fn problem(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Verdict::Problem { what: what.into(), fix: fix.into() }
    }
    fn warning(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Verdict::Warning { what: what.into(), fix: fix.into() }
    }
    pub fn is_problem(&self) -> bool {
        matches!(self, Verdict::Problem { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub area: Area,
    pub verdict: Verdict,
}

/// Nothing a check waits for may hold the report up longer than this.
const PATIENCE: Duration = Duration::from_secs(10);

/// Every check, in the order a creator fixes things. With `test_email`,
/// the email check also sends a message there.
pub async fn examine(state: &AppState, test_email: Option<&str>) -> Vec<Finding> {
    let (public_url, stripe, stripe_webhook, github, email) =
        tokio::join!(public_url(state), stripe(state), stripe_webhook(state), github(state), email(state, test_email));
    vec![
        Finding { area: Area::Configuration, verdict: configuration(state) },
        Finding { area: Area::Database, verdict: database(state).await },
        Finding { area: Area::PublicUrl, verdict: public_url },
        Finding { area: Area::Stripe, verdict: stripe },
        Finding { area: Area::StripeWebhook, verdict: stripe_webhook },
        Finding { area: Area::Github, verdict: github },
        Finding { area: Area::Webhooks, verdict: webhooks(state).await },
        Finding { area: Area::Email, verdict: email },
        Finding { area: Area::Backups, verdict: backups(state).await },
    ]
}

fn configuration(state: &AppState) -> Verdict {
    let url = &state.config.public_url;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if state.config.sandbox {
        Verdict::warning(
            "the built-in sandbox is on: no real payments, no real GitHub access",
            "set STRIPE_SECRET_KEY and GitHub's credentials (README \"Configuration\") to sell for real",
        )
    } else if url.scheme() != "https" && !local {
        Verdict::problem(
            format!("PUBLIC_URL is {url}, not HTTPS: Stripe and GitHub will not deliver webhooks to it"),
            "put RepoPass behind HTTPS (the example Caddyfile does it) and set PUBLIC_URL=https://…",
        )
    } else {
        Verdict::Ok(format!("production mode at {url}"))
    }
}

/// The last verified backup and its age (SQLite); PostgreSQL's are the
/// operator's own tools, not checked.
async fn backups(state: &AppState) -> Verdict {
    if state.db.backend() != crate::db::Backend::Sqlite {
        return Verdict::Ok(
            "PostgreSQL: not checked here; back it up with pg_dump or your host's snapshots (README \"Backups\")"
                .into(),
        );
    }
    let dir = state.config.backups.dir.display();
    if !state.config.backups.enabled() {
        return Verdict::warning(
            "scheduled backups are off (REPOPASS_BACKUP_KEEP=0)",
            format!("set REPOPASS_BACKUP_KEEP=7 for a daily backup into {dir}, or back up the data directory yourself"),
        );
    }
    let (last, now) = match (crate::backups::last_verified(&state.db).await, crate::dated_clock::now(state).await) {
        (Ok(last), Ok(now)) => (last, now),
        (Err(e), _) | (_, Err(e)) => {
            return Verdict::problem(format!("cannot read the backups: {e}"), "check the database")
        }
    };
    match last {
        None => Verdict::warning(
            format!("no backup yet: the first is taken within a day of `repopass serve` running, into {dir}"),
            "or take one now: Settings → Alerts & backups → Back up now",
        ),
        Some(b) if now - b.taken_at > crate::alert_checks::BACKUP_STALE_AFTER => Verdict::problem(
            format!("the last verified backup is {} old ({})", crate::alerts::lasted(now - b.taken_at), b.path),
            "Settings → Alerts & backups shows the last attempt's error; fix it (space, permissions) and press Back up now",
        ),
        Some(b) => Verdict::Ok(format!(
            "last verified backup {} ago: {} ({} KB), keeping {}",
            crate::alerts::lasted(now - b.taken_at),
            b.path,
            b.bytes / 1024,
            state.config.backups.keep
        )),
    }
}

async fn database(state: &AppState) -> Verdict {
    if let Err(e) = state.db.ping().await {
        return Verdict::problem(
            format!("cannot reach the database: {e}"),
            "check DATABASE_URL and that the server runs",
        );
    }
    match state.db.pending_migrations().await {
        Ok(pending) if pending.is_empty() => Verdict::Ok("reachable, every migration applied".to_owned()),
        Ok(pending) => Verdict::problem(
            format!("{} migration(s) not applied: {pending:?}", pending.len()),
            "run `repopass migrate` (or restart `repopass serve`, which applies them)",
        ),
        Err(e) => Verdict::problem(format!("cannot read the migrations: {e}"), "check DATABASE_URL's permissions"),
    }
}

/// PUBLIC_URL must reach a RepoPass that answers `/healthz`: buyers,
/// Stripe's redirects and both webhooks go there.
async fn public_url(state: &AppState) -> Verdict {
    let Ok(url) = state.config.public_url.join("healthz") else {
        return Verdict::problem("PUBLIC_URL cannot be joined with a path", "set PUBLIC_URL to a plain https://host/");
    };
    let client = reqwest::Client::builder().timeout(PATIENCE).redirect(reqwest::redirect::Policy::none()).build();
    let answer = match client {
        Ok(client) => client.get(url.clone()).send().await,
        Err(e) => return Verdict::problem(format!("no HTTP client: {e}"), "report this as a bug"),
    };
    match answer {
        Ok(r) if r.status().is_success() => Verdict::Ok(format!("{url} answers")),
        Ok(r) => Verdict::problem(
            format!("{url} answered {}", r.status()),
            "make PUBLIC_URL point at this RepoPass (DNS, the proxy in front), or correct PUBLIC_URL",
        ),
        Err(e) => Verdict::problem(
            format!("{url} does not answer: {}", without_secrets(&e.to_string())),
            "start `repopass serve`, and make PUBLIC_URL reach it (DNS, firewall, the proxy in front)",
        ),
    }
}

/// The key opens an account, in which mode, with every permission RepoPass needs.
async fn stripe(state: &AppState) -> Verdict {
    let account = match tokio::time::timeout(PATIENCE, state.stripe.account()).await {
        Err(_) => return not_reached(state, "Stripe", "did not answer within 10 s"),
        Ok(Err(StripeError::Transport(e))) => return not_reached(state, "Stripe", &e),
        Ok(Err(StripeError::NotConfigured)) => {
            return Verdict::problem(
                "no Stripe key",
                "paste one in the setup wizard or Settings → Stripe (or set STRIPE_SECRET_KEY)",
            )
        }
        Ok(Err(e)) => {
            return Verdict::problem(
                format!("Stripe refused the key: {}", without_secrets(&e.to_string())),
                "paste a valid secret or restricted key in Settings → Stripe (or STRIPE_SECRET_KEY)",
            )
        }
        Ok(Ok(account)) => account,
    };
    let restricted = state.config.stripe.secret_key.as_ref().is_some_and(|k| k.expose_secret().starts_with("rk_"));
    if restricted {
        match tokio::time::timeout(PATIENCE, state.stripe.missing_permissions()).await {
            Ok(Ok(missing)) if !missing.is_empty() => {
                let named: Vec<String> = missing.iter().map(|p| format!("{} ({})", p.label, p.used_for)).collect();
                let live = StripeMode::of(&state.config) == StripeMode::Live;
                return Verdict::problem(
                    format!("the restricted key lacks {}", named.join(", ")),
                    format!(
                        "create a key with every permission RepoPass needs ({}) and paste it in Settings → Stripe",
                        restricted_key_link(&NEEDED, live)
                    ),
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return not_reached(state, "Stripe", &e.to_string()),
            Err(_) => return not_reached(state, "Stripe", "did not answer within 10 s"),
        }
    }
    let mode = match StripeMode::of(&state.config) {
        StripeMode::Sandbox => "the sandbox's Stripe",
        StripeMode::Live => "live mode: real payments",
        StripeMode::Test => "test mode: Stripe's test cards only",
    };
    let name = account.name.map(|n| format!("{n}, ")).unwrap_or_default();
    Verdict::Ok(format!("the key works: {name}{} ({mode})", account.id))
}

/// The endpoint Stripe sends events through: there, pointed at
/// PUBLIC_URL, enabled, with every event RepoPass acts on.
async fn stripe_webhook(state: &AppState) -> Verdict {
    let repair = "open Settings → Stripe and choose “Repair the webhook endpoint” (RepoPass creates it again)";
    match tokio::time::timeout(PATIENCE, crate::stripe_connection::endpoint_health(state)).await {
        Err(_) => not_reached(state, "Stripe", "did not answer within 10 s"),
        Ok(Err(StripeError::Transport(e))) => not_reached(state, "Stripe", &e),
        Ok(Err(StripeError::NotConfigured)) => Verdict::problem("no Stripe key", "connect Stripe first (see above)"),
        Ok(Err(e)) => Verdict::problem(
            format!("cannot read the webhook endpoints: {}", without_secrets(&e.to_string())),
            "give the key the Webhook Endpoints permission (see above)",
        ),
        Ok(Ok(EndpointHealth::Fine(e))) => {
            Verdict::Ok(format!("endpoint {} sends the {} events RepoPass acts on to {}", e.id, STRIPE_EVENTS.len(), e.url))
        }
        Ok(Ok(EndpointHealth::Deleted { id })) => Verdict::problem(
            format!("the webhook endpoint {id} that RepoPass created is gone from Stripe: payments will not reach RepoPass"),
            repair,
        ),
        Ok(Ok(EndpointHealth::Wrong { endpoint, problems })) => {
            Verdict::problem(format!("the webhook endpoint {}: {}", endpoint.id, problems.join("; ")), repair)
        }
        Ok(Ok(EndpointHealth::NoneFound)) => Verdict::problem(
            format!("no webhook endpoint of this Stripe account sends to {}", crate::stripe_connection::webhook_url(state)),
            "paste the key in Settings → Stripe (RepoPass creates the endpoint), or add it in Stripe and set STRIPE_WEBHOOK_SECRET",
        ),
    }
}

async fn github(state: &AppState) -> Verdict {
    match tokio::time::timeout(PATIENCE, state.github.administrable_repositories()).await {
        Err(_) => not_reached(state, "GitHub", "did not answer within 10 s"),
        Ok(Err(GithubError::Transport(e))) => not_reached(state, "GitHub", &e),
        Ok(Err(e)) => Verdict::problem(
            format!("GitHub refused: {e}"),
            "check GITHUB_TOKEN (or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY) and its repository administration permission",
        ),
        Ok(Ok(repos)) if repos.is_empty() => Verdict::warning(
            "connected, but it administers no repository",
            "give the token or App administration access to the repositories you will sell",
        ),
        Ok(Ok(repos)) => match on_sale_without_access(state).await {
            Ok(missing) if missing.is_empty() => Verdict::Ok(format!(
                "connected ({}), {} repositories it can sell",
                state.github.mode_name(),
                repos.len()
            )),
            Ok(missing) => {
                let fix = match crate::github_app::install_url(&state.config) {
                    Some(url) if state.github.mode_name() == "app" => {
                        format!("install the GitHub App on them (or change its repositories): {url}")
                    }
                    _ => "give the GitHub connection administration access to them".to_owned(),
                };
                Verdict::problem(format!("RepoPass cannot manage repositories on sale: {}", missing.join("; ")), fix)
            }
            Err(e) => not_reached(state, "GitHub", &e.to_string()),
        },
    }
}

/// Each repository of a published product RepoPass cannot manage, with why.
async fn on_sale_without_access(state: &AppState) -> Result<Vec<String>, GithubError> {
    let mut on_sale: Vec<crate::repositories::Repository> = crate::products::list(&state.db)
        .await
        .map_err(|e| GithubError::Transport(format!("the database: {e}")))?
        .into_iter()
        .filter(|p| p.status == crate::domain::ProductStatus::Published)
        .flat_map(|p| p.repositories.into_iter().map(|i| i.repository))
        .collect();
    // A repository sold in several products is checked once.
    on_sale.sort_by_key(|r| r.id);
    on_sale.dedup_by_key(|r| r.id);
    let mut missing = Vec::new();
    for repo in on_sale {
        match tokio::time::timeout(PATIENCE, state.github.access_to(&repo.owner, &repo.name)).await {
            Err(_) => return Err(GithubError::Transport("did not answer within 10 s".into())),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Access::Manages)) => {}
            Ok(Ok(Access::NotInstalled)) => {
                missing.push(format!("{}/{}: the GitHub App is not installed on it", repo.owner, repo.name))
            }
            Ok(Ok(Access::Lacks(why))) => missing.push(format!("{}/{}: {why}", repo.owner, repo.name)),
        }
    }
    Ok(missing)
}

/// Stripe or GitHub could not be reached (`why`): in the sandbox they are
/// served by `repopass serve` itself, otherwise it is the network.
fn not_reached(state: &AppState, service: &str, why: &str) -> Verdict {
    let fix = if state.config.sandbox {
        format!("the sandbox's {service} is served by `repopass serve` at PUBLIC_URL: start it")
    } else {
        format!("check the network path to api.{}.com (firewall, proxy)", service.to_lowercase())
    };
    Verdict::problem(format!("cannot reach {service}: {}", without_secrets(why)), fix)
}

/// When each provider last reached us: silence after sales means a webhook
/// endpoint that is missing, wrong or failing its signature check.
async fn webhooks(state: &AppState) -> Verdict {
    let last = |provider: Provider| async move {
        sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(received_at) FROM webhook_events WHERE provider = $1")
            .bind(provider)
            .fetch_one(state.db.pool())
            .await
    };
    let (Ok(stripe), Ok(github)) = (last(Provider::Stripe).await, last(Provider::Github).await) else {
        return Verdict::problem("cannot read the webhook log", "check the database (see above)");
    };
    let ago = |at: Option<i64>| match at {
        None => "never".to_owned(),
        Some(t) => format!("{} min ago", (clock::now() - t).max(0) / 60),
    };
    let words = format!("last from Stripe: {}; from GitHub: {}", ago(stripe), ago(github));
    if stripe.is_none() {
        Verdict::warning(
            format!("{words}. Nothing from Stripe yet"),
            format!(
                "add a webhook endpoint in Stripe for {}api/webhooks/stripe and put its signing secret in STRIPE_WEBHOOK_SECRET",
                state.config.public_url
            ),
        )
    } else {
        Verdict::Ok(words)
    }
}

/// SMTP reachable and accepting the credentials, and, when asked, a test
/// email accepted for delivery.
async fn email(state: &AppState, test_email: Option<&str>) -> Verdict {
    let Some(url) = &state.config.email.smtp_url else {
        return Verdict::warning(
            "no SMTP_URL: emails (sign-in links, \"your access is on its way\") only reach the log",
            "set SMTP_URL (e.g. smtps://user:password@smtp.example.com) and EMAIL_FROM",
        );
    };
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret()) {
        Ok(builder) => builder.timeout(Some(PATIENCE)).build::<Tokio1Executor>(),
        Err(e) => {
            return Verdict::problem(
                format!("SMTP_URL is not a valid SMTP address: {e}"),
                "fix SMTP_URL's form: smtp[s]://user:password@host[:port]",
            )
        }
    };
    match tokio::time::timeout(PATIENCE + Duration::from_secs(1), transport.test_connection()).await {
        Ok(Ok(true)) => match test_email {
            None => Verdict::Ok("the SMTP server accepts us".to_owned()),
            Some(to) => {
                let body =
                    "RepoPass can send email: sign-in links and \"your access is on its way\" will reach buyers.\n";
                match crate::emails::deliver(&state.config, url, to, "RepoPass: a test email", body).await {
                    Ok(()) => Verdict::Ok(format!("the SMTP server accepted a test email to {to}")),
                    Err(e) => Verdict::problem(
                        format!("the test email to {to} was refused: {}", without_secrets(&e.to_string())),
                        "check EMAIL_FROM (a sender your SMTP server allows) and the address",
                    ),
                }
            }
        },
        Ok(Ok(false)) => {
            Verdict::problem("the SMTP server refused the connection", "check SMTP_URL's host, port, user and password")
        }
        Ok(Err(e)) => Verdict::problem(
            format!("cannot reach the SMTP server: {}", without_secrets(&e.to_string())),
            "check SMTP_URL's host, port, user and password",
        ),
        Err(_) => Verdict::problem(
            "the SMTP server did not answer within 10 s",
            "check SMTP_URL's host and port, and the firewall",
        ),
    }
}

/// Error texts may quote a URL with its credentials: never print those.
fn without_secrets(text: &str) -> String {
    text.split(' ')
        .map(|word| match (word.find("://"), word.find('@')) {
            (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &word[..scheme], &word[at + 1..]),
            _ => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_in_error_texts_are_left_out() {
        assert_eq!(
            super::without_secrets("connection to smtps://me:hunter2@mail.example.com:465 refused"),
            "connection to smtps://…@mail.example.com:465 refused"
        );
        assert_eq!(super::without_secrets("plain words stay"), "plain words stay");
    }
}
