//! The creator's outgoing webhook endpoints: where their tools listen, the
//! events each wants, and its signing secret — shown once when made or
//! rotated, kept sealed with the vault's key. A rotation keeps the previous
//! secret signing beside the new one for a while (`ROTATION_OVERLAP`), so
//! the receiver can switch without losing a delivery.

use crate::{
    clock,
    domain::{EndpointFormat, EndpointStatus, WebhookEventType},
    outgoing_address,
    outgoing_signature::SigningSecret,
    vault::Vault,
    Config, Db, Error, Result,
};

/// How long the previous secret signs too after a rotation.
pub const ROTATION_OVERLAP: i64 = 24 * 3600;

/// The longest description kept.
const MAX_DESCRIPTION: usize = 200;

/// An endpoint as the settings page and the REST API show it: never its
/// secret (see `Created`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub event_types: Vec<WebhookEventType>,
    pub format: EndpointFormat,
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    /// While a rotation overlaps: until when the previous secret signs too.
    pub previous_secret_until: Option<i64>,
    pub created_at: i64,
}

/// What the creator asks for.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    /// Words of `WebhookEventType`; empty: every event but `test` (a
    /// chat: sales and cancellations).
    pub event_types: Vec<String>,
    /// `standard`, `slack` or `discord`; empty: `standard`.
    pub format: String,
}

/// A secret to show once: on creation and on rotation.
pub struct Revealed {
    pub endpoint: Endpoint,
    pub secret: SigningSecret,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revealed").field("endpoint", &self.endpoint).field("secret", &self.secret).finish()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    url: String,
    description: String,
    event_types: String,
    format: EndpointFormat,
    status: EndpointStatus,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    previous_secret_until: Option<i64>,
    created_at: i64,
}

impl Row {
    fn endpoint(self) -> Endpoint {
        Endpoint {
            id: self.id,
            url: self.url,
            description: self.description,
            event_types: self.event_types.split_whitespace().filter_map(|w| w.parse().ok()).collect(),
            format: self.format,
            status: self.status,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since,
            previous_secret_until: self.previous_secret_until,
            created_at: self.created_at,
        }
    }
}

const COLUMNS: &str =
    "id, url, description, event_types, format, status, disabled_reason, failing_since, previous_secret_until, created_at";

/// What a chat channel hears when the creator chooses nothing.
const CHAT_DEFAULT: [WebhookEventType; 2] = [WebhookEventType::PurchasePaid, WebhookEventType::SubscriptionCancelled];

/// The event types a creator can subscribe to (all but the test event).
pub fn subscribable() -> impl Iterator<Item = WebhookEventType> {
    WebhookEventType::ALL.iter().copied().filter(|e| *e != WebhookEventType::Test)
}

/// What the creator typed, checked.
struct Checked {
    url: url::Url,
    event_types: String,
    description: String,
    format: EndpointFormat,
}

/// Checks what the creator typed: a URL RepoPass may send to, known event
/// types, a known format. Each problem named, with what to do.
fn checked(config: &Config, new: &NewEndpoint) -> Result<Checked> {
    let mut problems = Vec::new();
    let format = match new.format.trim() {
        "" => EndpointFormat::Standard,
        word => word.parse::<EndpointFormat>().unwrap_or_else(|_| {
            problems.push(("format", format!("'{word}' is not a format: choose standard, slack or discord")));
            EndpointFormat::Standard
        }),
    };
    let url = match url::Url::parse(new.url.trim()) {
        Ok(url) if !matches!(url.scheme(), "https" | "http") => {
            problems.push(("url", "use an http:// or https:// address".to_owned()));
            None
        }
        Ok(url) if url.host().is_none() => {
            problems.push(("url", "the address has no host".to_owned()));
            None
        }
        Ok(url) if !url.username().is_empty() || url.password().is_some() => {
            problems.push((
                "url",
                "leave user names and passwords out of the address; verify the signature instead".to_owned(),
            ));
            None
        }
        Ok(url) => {
            if reach(config) == outgoing_address::Reach::PublicOnly {
                if url.scheme() != "https" {
                    problems
                        .push(("url", "use an https:// address: deliveries carry your customers' details".to_owned()));
                }
                if let Err(refused) = outgoing_address::check_url(&url) {
                    problems.push(("url", format!("{refused}: use your endpoint's public address")));
                }
            }
            Some(url)
        }
        Err(e) => {
            problems
                .push(("url", format!("'{}' is not an address ({e}): paste the full https:// URL", new.url.trim())));
            None
        }
    };
    let mut types = Vec::new();
    for word in &new.event_types {
        match word.parse::<WebhookEventType>() {
            Ok(WebhookEventType::Test) | Err(_) => problems.push((
                "event_types",
                format!(
                    "'{word}' is not an event type: choose from {}",
                    subscribable().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            Ok(event) if !types.contains(&event) => types.push(event),
            Ok(_) => {}
        }
    }
    if new.event_types.is_empty() {
        types = match format {
            // Alerts are the operator's business: only ticked.
            EndpointFormat::Standard => subscribable().filter(|e| !e.is_alert()).collect(),
            EndpointFormat::Slack | EndpointFormat::Discord => CHAT_DEFAULT.to_vec(),
        };
    }
    let description = new.description.trim();
    if description.chars().count() > MAX_DESCRIPTION {
        problems.push(("description", format!("keep it to {MAX_DESCRIPTION} characters")));
    }
    match (url, problems.is_empty()) {
        (Some(url), true) => {
            let event_types = types.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ");
            Ok(Checked { url, event_types, description: description.to_owned(), format })
        }
        _ => Err(Error::InvalidFields(problems)),
    }
}

/// Whether deliveries may reach this machine and private networks: only
/// in the sandbox (its request bin lives here) and tests.
pub fn reach(config: &Config) -> outgoing_address::Reach {
    if config.sandbox {
        outgoing_address::Reach::Anywhere
    } else {
        outgoing_address::Reach::PublicOnly
    }
}

fn vault(config: &Config) -> Result<Vault> {
    Vault::open_or_create(config).map_err(|e| Error::Internal(format!("the vault: {e}")))
}

/// Adds an endpoint with a new secret, shown this once.
pub async fn create(db: &Db, config: &Config, new: &NewEndpoint) -> Result<Revealed> {
    let Checked { url, event_types, description, format } = checked(config, new)?;
    let vault = vault(config)?;
    let secret = SigningSecret::generate();
    let now = clock::now();
    let mut tx = db.pool().begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outgoing_endpoints (url, description, event_types, format, secret, status, created_at, updated_at)
         VALUES ($1, $2, $3, $6, '', $4, $5, $5) RETURNING id",
    )
    .bind(url.as_str())
    .bind(&description)
    .bind(&event_types)
    .bind(EndpointStatus::Enabled)
    .bind(now)
    .bind(format)
    .fetch_one(&mut *tx)
    .await?;
    // Sealed under a name with the id in it: a secret cannot be moved to
    // another endpoint's row.
    sqlx::query("UPDATE outgoing_endpoints SET secret = $2 WHERE id = $1")
        .bind(id)
        .bind(vault.seal_text(&crate::vault::endpoint_secret_name(id), secret.expose()))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(endpoint = id, "webhook endpoint added");
    Ok(Revealed { endpoint: get(db, id).await?, secret })
}

pub async fn get(db: &Db, id: i64) -> Result<Endpoint> {
    let row: Row = sqlx::query_as(&format!("SELECT {COLUMNS} FROM outgoing_endpoints WHERE id = $1"))
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok(row.endpoint())
}

pub async fn list(db: &Db) -> Result<Vec<Endpoint>> {
    let rows: Vec<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM outgoing_endpoints ORDER BY id")).fetch_all(db.pool()).await?;
    Ok(rows.into_iter().map(Row::endpoint).collect())
}

/// Changes the address, description or events; the secret stays.
pub async fn update(db: &Db, config: &Config, id: i64, new: &NewEndpoint) -> Result<Endpoint> {
    let Checked { url, event_types, description, format } = checked(config, new)?;
    let done = sqlx::query(
        "UPDATE outgoing_endpoints SET url = $2, description = $3, event_types = $4, updated_at = $5, format = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(url.as_str())
    .bind(&description)
    .bind(&event_types)
    .bind(clock::now())
    .bind(format)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    get(db, id).await
}

/// Turns sending on or off. Turned on again, it starts with a clean slate:
/// its failures so far no longer count towards disabling it.
pub async fn set_enabled(db: &Db, id: i64, enabled: bool) -> Result<Endpoint> {
    let status = if enabled { EndpointStatus::Enabled } else { EndpointStatus::Disabled };
    let reason = (!enabled).then_some("turned off by the creator");
    let done = sqlx::query(
        "UPDATE outgoing_endpoints SET status = $2, disabled_reason = $3, failing_since = NULL, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(clock::now())
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    get(db, id).await
}

/// Removes an endpoint, its deliveries and their attempts (the events stay,
/// for other endpoints).
pub async fn delete(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM outgoing_attempts WHERE delivery_id IN (SELECT id FROM outgoing_deliveries WHERE endpoint_id = $1)")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM outgoing_deliveries WHERE endpoint_id = $1").bind(id).execute(&mut *tx).await?;
    let done = sqlx::query("DELETE FROM outgoing_endpoints WHERE id = $1").bind(id).execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// A new secret, shown this once; the current one keeps signing beside it
/// for `ROTATION_OVERLAP`.
pub async fn rotate_secret(db: &Db, config: &Config, id: i64) -> Result<Revealed> {
    let vault = vault(config)?;
    let name = crate::vault::endpoint_secret_name(id);
    let secret = SigningSecret::generate();
    let now = clock::now();
    let done = sqlx::query(
        "UPDATE outgoing_endpoints SET previous_secret = secret, previous_secret_until = $3, secret = $2, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(vault.seal_text(&name, secret.expose()))
    .bind(now + ROTATION_OVERLAP)
    .bind(now)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    tracing::info!(endpoint = id, "webhook endpoint secret rotated");
    Ok(Revealed { endpoint: get(db, id).await?, secret })
}

/// The secrets that sign a delivery now: the current one, and the previous
/// one while its overlap lasts.
pub async fn signing_secrets(db: &Db, config: &Config, id: i64) -> Result<Vec<SigningSecret>> {
    let (secret, previous, until): (String, Option<String>, Option<i64>) =
        sqlx::query_as("SELECT secret, previous_secret, previous_secret_until FROM outgoing_endpoints WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
    let vault = vault(config)?;
    let name = crate::vault::endpoint_secret_name(id);
    let open = |sealed: &str| -> Result<SigningSecret> {
        let text =
            vault.open_text(&name, sealed).map_err(|e| Error::Internal(format!("webhook endpoint {id}: {e}")))?;
        SigningSecret::parse(&text).map_err(|e| Error::Internal(format!("webhook endpoint {id}: {e}")))
    };
    let mut secrets = vec![open(&secret)?];
    if let (Some(previous), Some(until)) = (previous, until) {
        if until > clock::now() {
            secrets.push(open(&previous)?);
        }
    }
    Ok(secrets)
}
