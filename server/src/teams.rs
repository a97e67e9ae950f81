//! Team purchases as stored: a company purchase (`seats` set) with its
//! seats — each its holder's own purchase row, `seat_of` pointing at the
//! company purchase — and its managers (`purchase_managers`). What changes
//! them is in `seats` (the managers' use cases) and `access` (a team's
//! start, end and restore).

use rand::{distr::Alphanumeric, Rng};

use crate::{
    clock,
    domain::{Action, GithubUserId, PurchaseId, PurchaseStatus as Status, Reason},
    github_accounts::Account,
    grants::{self, RepoGrant},
    products::{self, Product},
    purchase_state::{self, Cause, Change},
    purchases::{self, Purchase},
    Db, Error, Result,
};

/// A company purchase with its seats and managers.
#[derive(Debug, Clone)]
pub struct Team {
    pub company: Purchase,
    pub product: Product,
    /// Seats paid for now.
    pub seats: i64,
    /// Seats from the next renewal on, when the managers chose fewer.
    pub seats_next: Option<i64>,
    /// The seats given and not taken back, oldest first.
    pub holders: Vec<Seat>,
    pub managers: Vec<Manager>,
    /// The seats its price allows.
    pub range: std::ops::RangeInclusive<i64>,
}

/// One holder's seat: their purchase row and their access per repository.
#[derive(Debug, Clone)]
pub struct Seat {
    pub purchase: Purchase,
    pub repositories: Vec<RepoGrant>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Manager {
    pub github_user_id: GithubUserId,
    pub github_login: String,
    pub appointed_at: i64,
}

impl Team {
    pub fn in_use(&self) -> i64 {
        self.holders.len() as i64
    }

    pub fn free(&self) -> i64 {
        (self.seats - self.in_use()).max(0)
    }

    /// How many holders the managers must remove: more hold seats than are
    /// paid for (after fewer seats took effect). Nobody is removed for them.
    pub fn over(&self) -> i64 {
        (self.in_use() - self.seats).max(0)
    }
}

/// Where a holder's seat stands, in words for the managers.
pub fn holder_words(seat: &Seat) -> String {
    let p = &seat.purchase;
    match p.status {
        Status::Paid => match &p.status_reason {
            Some(why) => format!("not invited yet: {why}"),
            None => "invitation on its way".to_owned(),
        },
        Status::Invited if p.status_reason_code == Some(Reason::InvitationExpired) => {
            "the invitation expired: resend it".to_owned()
        }
        Status::Invited => format!("invited: waiting for @{} to accept on GitHub", p.github_login),
        Status::Active => "access active".to_owned(),
        other => other.to_string(),
    }
}

/// Statuses of a seat that holds (or is getting) access.
fn live_sql() -> String {
    purchases::statuses_sql(Status::is_granted)
}

/// The live seats of a company purchase, oldest first.
pub(crate) async fn holders(db: &Db, company: PurchaseId) -> Result<Vec<Purchase>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {} FROM purchases WHERE seat_of = $1 AND status IN ({}) ORDER BY id",
        purchases::COLUMNS,
        live_sql()
    ))
    .bind(company)
    .fetch_all(db.pool())
    .await?)
}

async fn managers(db: &Db, company: PurchaseId) -> Result<Vec<Manager>> {
    Ok(sqlx::query_as(
        "SELECT github_user_id, github_login, appointed_at FROM purchase_managers WHERE purchase_id = $1
         ORDER BY appointed_at, github_user_id",
    )
    .bind(company)
    .fetch_all(db.pool())
    .await?)
}

/// The company purchase `id` with its seats and managers.
pub async fn team(db: &Db, id: PurchaseId) -> Result<Team> {
    let company = purchases::get(db, id).await?;
    let Some(seats) = company.seats else { return Err(Error::NotFound) };
    let product = products::get(db, company.product_id).await?;
    let range = crate::prices::get(db, company.price_id).await?.seats().unwrap_or(1..=crate::prices::MAX_SEATS);
    let held = holders(db, id).await?;
    let ids: Vec<PurchaseId> = held.iter().map(|p| p.id).collect();
    let grants = grants::of_purchases(db, &ids).await?;
    let holders = held
        .into_iter()
        .map(|p| {
            let g = grants.get(&p.id).map(Vec::as_slice).unwrap_or_default();
            Seat { repositories: RepoGrant::list(&product, g), purchase: p }
        })
        .collect();
    Ok(Team {
        seats_next: company.seats_next,
        managers: managers(db, id).await?,
        company,
        product,
        seats,
        holders,
        range,
    })
}

/// Records `account` as a manager of `company` (the buyer, or appointed by
/// `by`); a manager already is one.
pub async fn add_manager(db: &Db, company: PurchaseId, account: &Account, by: Option<GithubUserId>) -> Result<bool> {
    let added = sqlx::query(
        "INSERT INTO purchase_managers (purchase_id, github_user_id, github_login, appointed_by, appointed_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (purchase_id, github_user_id) DO NOTHING",
    )
    .bind(company)
    .bind(account.id)
    .bind(&account.login)
    .bind(by)
    .bind(clock::now())
    .execute(db.pool())
    .await?;
    Ok(added.rows_affected() == 1)
}

/// Records a seat for `account`, in `status` (`Pending` with an unpaid
/// checkout, `Paid` when given now).
pub(crate) async fn new_seat(
    db: &Db,
    company: &Purchase,
    account: &Account,
    status: Status,
    cause: &Cause,
) -> Result<PurchaseId> {
    let now = clock::now();
    let public_id: String = rand::rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
    let mut tx = db.pool().begin().await?;
    let id: PurchaseId = sqlx::query_scalar(
        "INSERT INTO purchases (public_id, product_id, price_id, github_user_id, github_login, email, status, amount, currency, seat_of, paid_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(&public_id)
    .bind(company.product_id)
    .bind(company.price_id)
    .bind(account.id)
    .bind(&account.login)
    // Emails about the seat (its invitation, its expiry) go to whoever paid.
    .bind(&company.email)
    .bind(status)
    .bind(&company.currency)
    .bind(company.id)
    .bind((status == Status::Paid).then_some(now))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let detail = format!("a seat of @{}'s team purchase, given to @{}", company.github_login, account.login);
    let entry = purchase_state::Entry {
        purchase_id: id,
        repository: None,
        from: None,
        to: status,
        action: Action::SeatGiven,
        detail: Some(&detail),
        cause,
    };
    entry.write(&mut tx, &[]).await?;
    if status == Status::Paid {
        let detail = format!("seat given to @{} (GitHub id {})", account.login, account.id);
        let change = Change::record(company.status, Action::SeatGiven).detail(&detail);
        if !purchase_state::transition_in(&mut tx, company.id, change, cause).await? {
            return Err(Error::Unavailable("the team purchase changed meanwhile; try again".into()));
        }
    }
    tx.commit().await?;
    Ok(id)
}
