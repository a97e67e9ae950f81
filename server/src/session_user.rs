//! Who is signed in, as kept in the session (tower-sessions, stored in the
//! database). Shared by the HTTP sign-in routes and the server functions.

use serde::{Deserialize, Serialize};
use tower_sessions::{cookie::time::Duration, Expiry, Session};

/// A signed-in session lasts a week of inactivity.
pub const SIGNED_IN: Duration = Duration::days(7);
/// A session that only carries a sign-in under way (the OAuth state) lasts
/// 15 minutes: anyone can make one without a cookie, and expired ones are
/// deleted every hour, so they cannot pile up.
pub const SIGNING_IN: Duration = Duration::minutes(15);

/// Shortens an anonymous session to `SIGNING_IN`; a signed-in one keeps its week.
pub async fn keep_briefly_unless_signed_in(session: &Session) {
    if current(session).await.is_none() && customer(session).await.is_none() {
        session.set_expiry(Some(Expiry::OnInactivity(SIGNING_IN)));
    }
}

/// Back to a week, once someone signed in.
pub fn keep_signed_in(session: &Session) {
    session.set_expiry(Some(Expiry::OnInactivity(SIGNED_IN)));
}

pub const USER_KEY: &str = "user";
/// A GitHub sign-in under way (`OAuthUnderWay`), until its callback.
pub const OAUTH_KEY: &str = "oauth";

/// The buy form as last sent: a refused or cancelled checkout brings the
/// buyer back to a form still filled in, with JavaScript or without.
pub const BUY_FORM_KEY: &str = "buy_form";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyForm {
    pub price_id: i64,
    pub github_username: String,
    pub email: String,
}

/// Keeps what the buyer typed (briefly, unless they are signed in).
pub async fn remember_buy_form(session: &Session, form: &BuyForm) {
    if let Err(e) = session.insert(BUY_FORM_KEY, form).await {
        tracing::warn!(error = %e, "could not keep the buy form in the session");
    }
    keep_briefly_unless_signed_in(session).await;
}

pub async fn buy_form(session: &Session) -> Option<BuyForm> {
    session.get(BUY_FORM_KEY).await.ok().flatten()
}

/// Whom a GitHub sign-in is for: the creator's panel (then back to `next`)
/// or a customer's `/account`, which never touches admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInFor {
    Admin { next: String },
    Customer,
}

impl SignInFor {
    /// Where a failed sign-in sends people back to.
    pub fn back(&self) -> &'static str {
        match self {
            SignInFor::Admin { .. } => "/admin",
            SignInFor::Customer => "/account",
        }
    }
}

/// What the callback checks: the state sent to GitHub, and whom it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthUnderWay {
    pub state: String,
    pub sign_in_for: SignInFor,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionUser {
    pub github_user_id: i64,
    pub login: String,
    pub avatar_url: String,
    /// Set when this person may use `/admin`.
    pub admin_id: Option<i64>,
}

/// The signed-in user, if any. A session that cannot be read counts as
/// signed out (and is logged), never as an error page.
pub async fn current(session: &Session) -> Option<SessionUser> {
    match session.get::<SessionUser>(USER_KEY).await {
        Ok(user) => user,
        Err(err) => {
            tracing::warn!(error = %err, "unreadable session");
            None
        }
    }
}

/// The customer signed in at `/account` — a role of its own: signing in
/// here never makes anyone an admin, and an admin's sign-in is not this.
pub const CUSTOMER_KEY: &str = "customer";

/// Signs `user` in (the creator's side): a new session id, so a session
/// fixed before is worth nothing after, kept for a week.
pub async fn sign_in_user(session: &Session, user: &SessionUser) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    keep_signed_in(session);
    session.insert(USER_KEY, user).await
}

/// Signs a customer in at `/account`, as `sign_in_user` does.
pub async fn sign_in_customer(session: &Session, customer: &Customer) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    keep_signed_in(session);
    session.insert(CUSTOMER_KEY, customer).await
}

/// Who a customer proved to be: a GitHub account (OAuth) and/or an email
/// address (a one-time link). They see the purchases matching either.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Customer {
    pub github_user_id: Option<i64>,
    pub github_login: Option<String>,
    pub avatar_url: Option<String>,
    pub email: Option<String>,
    /// Purchases this session moved to another GitHub account: still shown
    /// here until sign-out, though this account no longer holds them.
    #[serde(default)]
    pub moved_away: Vec<String>,
    /// The GitHub account's verified email addresses (lowercase), read at
    /// sign-in: proof of paying with one of them, as an email link is.
    #[serde(default)]
    pub verified_emails: Vec<String>,
}

impl Customer {
    /// Whether this customer proved they own `email` (an email link sent
    /// there, or a verified address of their GitHub account).
    pub fn proved_email(&self, email: &str) -> bool {
        let email = email.to_lowercase();
        self.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)) || self.verified_emails.contains(&email)
    }
}

impl Customer {
    /// How the access log names them.
    pub fn describe(&self) -> String {
        match (&self.github_login, self.github_user_id, &self.email) {
            (Some(login), Some(id), _) => format!("@{login} (GitHub id {id})"),
            (_, _, Some(email)) => format!("{email} (email link)"),
            _ => "customer".to_owned(),
        }
    }
}

pub async fn customer(session: &Session) -> Option<Customer> {
    match session.get::<Customer>(CUSTOMER_KEY).await {
        Ok(customer) => customer,
        Err(err) => {
            tracing::warn!(error = %err, "unreadable session");
            None
        }
    }
}

/// Who a request's session is, as far as `/admin` is concerned.
#[derive(Debug)]
pub enum AdminCheck {
    SignedOut,
    /// Signed in, not (or no longer) an admin.
    NotAdmin(SessionUser),
    Admin(SessionUser, crate::admins::Admin),
}

/// Why a request may not use `/admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAdmin {
    SignedOut,
    /// Signed in, but not (or no longer) an admin.
    Refused,
}

/// The one admin gate: the signed-in admin, or why not. Every boundary
/// (server functions, the plain HTTP routes) asks this and says it its way.
pub async fn require_admin(
    session: &Session,
    db: &crate::Db,
    config: &crate::Config,
) -> crate::Result<Result<(SessionUser, crate::admins::Admin), NotAdmin>> {
    Ok(match admin(session, db, config).await? {
        AdminCheck::Admin(user, admin) => Ok((user, admin)),
        AdminCheck::NotAdmin(_) => Err(NotAdmin::Refused),
        AdminCheck::SignedOut => Err(NotAdmin::SignedOut),
    })
}

/// The session's admin, re-checked against the database and the
/// allow-list on every request. A session whose admin was removed is
/// ended here (deleted from the store) and logged.
pub async fn admin(session: &Session, db: &crate::Db, config: &crate::Config) -> crate::Result<AdminCheck> {
    let Some(user) = current(session).await else { return Ok(AdminCheck::SignedOut) };
    let Some(admin_id) = user.admin_id else { return Ok(AdminCheck::NotAdmin(user)) };
    match crate::admins::current(db, config, admin_id).await? {
        Some(admin) => Ok(AdminCheck::Admin(user, admin)),
        None => {
            tracing::warn!(admin_id, login = %user.login, "admin session ended: this admin was removed (or left REPOPASS_ADMINS)");
            if let Err(err) = session.flush().await {
                tracing::warn!(error = %err, "could not delete the ended admin session");
            }
            Ok(AdminCheck::SignedOut)
        }
    }
}
