//! Who may use `/admin`. With `REPOPASS_ADMINS` set, exactly those logins,
//! each pinned to its GitHub account on first sign-in; without the list, the
//! owner is the first to sign in — in the sandbox anyone, in a real
//! deployment only the holder of the setup link — and everyone else is
//! refused.

use crate::{clock, Config, Db, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
}

impl Role {
    fn from_db(role: &str) -> Role {
        if role == "owner" {
            Role::Owner
        } else {
            Role::Admin
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Admin {
    pub id: i64,
    pub login: String,
    pub role: Role,
}

/// The admin this GitHub account is, if any; records the sign-in.
///
/// With `REPOPASS_ADMINS` set (always, outside the sandbox) only listed
/// logins get in, and a login is pinned to the numeric GitHub id that first
/// signed in with it: GitHub lets people give up a login and others take it,
/// and the newcomer must not inherit the admin.
///
/// Without a list, the first person to sign in becomes the owner only when
/// `may_own`: in the sandbox, or holding the setup link (see `setup`).
pub async fn sign_in(
    db: &Db,
    config: &Config,
    github_user_id: i64,
    login: &str,
    may_own: bool,
) -> Result<Option<Admin>> {
    let now = clock::now();
    let listed = is_listed(config, login);
    if !config.admins.is_empty() && !listed {
        return Ok(None);
    }
    if listed {
        let pinned_to: Option<i64> = sqlx::query_scalar(
            "SELECT github_user_id FROM admins WHERE LOWER(github_login) = LOWER($1) AND github_user_id <> $2 LIMIT 1",
        )
        .bind(login)
        .bind(github_user_id)
        .fetch_optional(db.pool())
        .await?;
        if let Some(pinned_to) = pinned_to {
            tracing::warn!(%login, github_user_id, pinned_to, "admin sign-in refused: this login is pinned to another GitHub account (renamed or taken over); remove the old admin or list the new login to let them in");
            return Ok(None);
        }
    }
    let existing: Option<(i64, String)> = sqlx::query_as("SELECT id, role FROM admins WHERE github_user_id = $1")
        .bind(github_user_id)
        .fetch_optional(db.pool())
        .await?;
    if let Some((id, role)) = existing {
        sqlx::query("UPDATE admins SET github_login = $2, last_sign_in_at = $3 WHERE id = $1")
            .bind(id)
            .bind(login)
            .bind(now)
            .execute(db.pool())
            .await?;
        return Ok(Some(Admin { id, login: login.to_owned(), role: Role::from_db(&role) }));
    }
    let any_admin: Option<i64> = sqlx::query_scalar("SELECT id FROM admins LIMIT 1").fetch_optional(db.pool()).await?;
    let role = match (listed, any_admin) {
        // Listed logins are admins; the first of them to arrive owns the place.
        (true, None) => Role::Owner,
        (true, Some(_)) => Role::Admin,
        (false, None) if may_own => Role::Owner,
        (false, _) => return Ok(None),
    };
    let inserted: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO admins (github_user_id, github_login, role, created_at, last_sign_in_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(github_user_id)
    .bind(login)
    .bind(role.as_str())
    .bind(now)
    .fetch_one(db.pool())
    .await;
    match inserted {
        Ok(id) => {
            tracing::info!(admin_id = id, %login, github_user_id, role = role.as_str(), "admin registered and pinned to this GitHub account");
            Ok(Some(Admin { id, login: login.to_owned(), role }))
        }
        // Someone else became the owner a moment earlier (admins_one_owner).
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() && !listed => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The admin behind a session's `admin_id`, if they still are one: the row
/// exists and, when `REPOPASS_ADMINS` is set, its login is still listed.
/// Checked on every admin request, so taking a login off the list (and
/// restarting) takes effect at that admin's next click.
pub async fn current(db: &Db, config: &Config, id: i64) -> Result<Option<Admin>> {
    let admin = by_id(db, id).await?;
    Ok(admin.filter(|a| config.admins.is_empty() || is_listed(config, &a.login)))
}

/// Every admin's login, lower-cased.
pub async fn logins(db: &Db) -> Result<std::collections::HashSet<String>> {
    let logins: Vec<String> = sqlx::query_scalar("SELECT LOWER(github_login) FROM admins").fetch_all(db.pool()).await?;
    Ok(logins.into_iter().collect())
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Admin>> {
    let row: Option<(i64, String, String)> = sqlx::query_as("SELECT id, github_login, role FROM admins WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|(id, login, role)| Admin { id, login, role: Role::from_db(&role) }))
}

/// Logs every registered admin whose login is no longer listed: their
/// sessions end at their next request (see `current`).
pub async fn log_unlisted(db: &Db, config: &Config) -> Result<()> {
    if config.admins.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, github_login FROM admins ORDER BY id").fetch_all(db.pool()).await?;
    for (id, login) in rows.into_iter().filter(|(_, login)| !is_listed(config, login)) {
        tracing::warn!(admin_id = id, %login, "admin no longer in REPOPASS_ADMINS: their sessions end and they cannot sign in");
    }
    Ok(())
}

fn is_listed(config: &Config, login: &str) -> bool {
    config.admins.iter().any(|a| a.eq_ignore_ascii_case(login))
}
