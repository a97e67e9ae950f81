//! One-time sign-in links for customers: sent to an address a purchase was
//! made with, valid 15 minutes, good once. Only the token's SHA-256 is
//! stored; the token itself exists in the email and nowhere else.

use rand::{distr::Alphanumeric, Rng};
use secrecy::{ExposeSecret, SecretString};

use crate::{api_keys::hash_key, checkout::check_email, clock, emails, AppState, Error, Result};

pub const TTL_SECS: i64 = 15 * 60;
/// Links one address may be sent within `TTL_SECS`: enough for a lost
/// email, too few to flood someone's inbox.
pub const PER_ADDRESS: i64 = 3;
const TOKEN_LEN: usize = 43;

/// Sends a sign-in link to `email` if any paid purchase was made with it.
/// The answer is the same either way, so nobody learns who bought what:
/// the cap counts every request for the address, bought or not.
pub async fn request(state: &AppState, email: &str) -> Result<()> {
    let email = check_email(email)?.to_lowercase();
    let now = clock::now();
    let email_hash = hash_key(&email);
    sqlx::query("DELETE FROM sign_in_requests WHERE created_at <= $1")
        .bind(now - TTL_SECS)
        .execute(state.db.pool())
        .await?;
    let recent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_requests WHERE email_hash = $1 AND created_at > $2")
            .bind(&email_hash)
            .bind(now - TTL_SECS)
            .fetch_one(state.db.pool())
            .await?;
    if recent >= PER_ADDRESS {
        return Err(Error::Later {
            message: format!("sign-in links were asked for this address {PER_ADDRESS} times in the last 15 minutes: if it made a purchase, use the newest link in its inbox, or ask again in a few minutes"),
            after_secs: 300,
        });
    }
    sqlx::query("INSERT INTO sign_in_requests (email_hash, created_at) VALUES ($1, $2)")
        .bind(&email_hash)
        .bind(now)
        .execute(state.db.pool())
        .await?;
    let bought: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM purchases WHERE LOWER(email) = $1 AND status IN ({}) LIMIT 1",
        crate::purchases::paid_statuses_sql()
    ))
    .bind(&email)
    .fetch_optional(state.db.pool())
    .await?;
    if bought.is_none() {
        tracing::info!("sign-in link asked for an address without purchases; nothing sent");
        return Ok(());
    }
    let token =
        SecretString::from(rand::rng().sample_iter(&Alphanumeric).take(TOKEN_LEN).map(char::from).collect::<String>());
    sqlx::query("INSERT INTO sign_in_links (token_hash, email, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash_key(token.expose_secret()))
        .bind(&email)
        .bind(now)
        .bind(now + TTL_SECS)
        .execute(state.db.pool())
        .await?;
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let body = format!(
        "Hello,\n\nSomeone (we hope you) asked to sign in to RepoPass to see the purchases made with this address.\n\
         Open this link within 15 minutes to sign in (it works once):\n\n{base}/account/sign-in/email?token={}\n\n\
         If you did not ask for it, ignore this email: nobody can sign in without the link.\n\n— RepoPass",
        token.expose_secret()
    );
    emails::enqueue(state, &email, "Your RepoPass sign-in link", &body, crate::domain::EmailKind::SignInLink, None)
        .await?;
    Ok(())
}

/// Whether `token` looks like one of ours (checked before it is echoed into
/// a page or looked up).
pub fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Uses the link: the address it signs in, if it is known, unused and not
/// expired. One UPDATE decides, so two clicks cannot both succeed.
pub async fn redeem(state: &AppState, token: &str) -> Result<String> {
    if !well_formed(token) {
        return Err(Error::NotFound);
    }
    let now = clock::now();
    let email: Option<String> =
        sqlx::query_scalar("UPDATE sign_in_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING email")
            .bind(hash_key(token))
            .bind(now)
            .fetch_optional(state.db.pool())
            .await?;
    email.ok_or(Error::NotFound)
}
