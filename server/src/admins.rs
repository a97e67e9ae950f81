//! Who may use `/admin`. With `REPOPASS_ADMINS` set, exactly those logins;
//! otherwise the first person to sign in becomes the owner and everyone
//! else is refused (until the owner adds them; a later issue).

use crate::{clock, Config, Db, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
}

impl Role {
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
pub async fn sign_in(db: &Db, config: &Config, github_user_id: i64, login: &str) -> Result<Option<Admin>> {
    let now = clock::now();
    let existing: Option<(i64, String)> = sqlx::query_as("SELECT id, role FROM admins WHERE github_user_id = $1")
        .bind(github_user_id)
        .fetch_optional(db.pool())
        .await?;
    let listed = config.admins.iter().any(|a| a.eq_ignore_ascii_case(login));
    if !config.admins.is_empty() && !listed {
        return Ok(None);
    }
    if let Some((id, role)) = existing {
        sqlx::query("UPDATE admins SET github_login = $2, last_sign_in_at = $3 WHERE id = $1").bind(id).bind(login).bind(now).execute(db.pool()).await?;
        return Ok(Some(Admin { id, login: login.to_owned(), role: if role == "owner" { Role::Owner } else { Role::Admin } }));
    }
    let any_admin: Option<i64> = sqlx::query_scalar("SELECT id FROM admins LIMIT 1").fetch_optional(db.pool()).await?;
    let role = match (listed, any_admin) {
        // Listed logins are admins; the first of them to arrive owns the place.
        (true, None) => Role::Owner,
        (true, Some(_)) => Role::Admin,
        (false, None) => Role::Owner,
        (false, Some(_)) => return Ok(None),
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
            tracing::info!(admin_id = id, %login, role = role.as_str(), "admin registered");
            Ok(Some(Admin { id, login: login.to_owned(), role }))
        }
        // Someone else became the owner a moment earlier (admins_one_owner).
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() && !listed => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Admin>> {
    let row: Option<(i64, String, String)> = sqlx::query_as("SELECT id, github_login, role FROM admins WHERE id = $1").bind(id).fetch_optional(db.pool()).await?;
    Ok(row.map(|(id, login, role)| Admin { id, login, role: if role == "owner" { Role::Owner } else { Role::Admin } }))
}
