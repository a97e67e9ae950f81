//! `repopass dev seed --purchases N`: a store at scale, for trying the admin
//! pages and for the scale benchmark — five published repositories, N
//! purchases over the last year in every status, ten access-log entries per
//! purchase and the payments that go with them. The values are generated
//! here (digits and fixed words only), so they are written as literals in
//! large multi-row INSERTs: a million rows take seconds, not minutes.

use crate::{
    clock,
    domain::{Action, CauseKind, ProductStatus, PurchaseStatus, Reason},
    Db, Error, Result,
};

const REPOSITORIES: i64 = 5;
const LOG_PER_PURCHASE: i64 = 10;
const BATCH: i64 = 1000;
const DAY: i64 = 86_400;
/// Seeded GitHub ids start here, far from the sandbox's and real small ids.
const FIRST_USER_ID: i64 = 900_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub repositories: i64,
    pub purchases: i64,
    pub log_entries: i64,
}

/// A small deterministic generator (SplitMix64): the same data on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n.max(1) as u64) as i64
    }
}

async fn insert_rows(db: &Db, head: &str, rows: &[String]) -> Result<()> {
    for chunk in rows.chunks(BATCH as usize) {
        sqlx::query(&format!("{head} VALUES {}", chunk.join(","))).execute(db.pool()).await?;
    }
    Ok(())
}

/// Adds `purchases` purchases (and their history) to the database.
pub async fn seed(db: &Db, purchases: i64) -> Result<Seeded> {
    if !(1..=2_000_000).contains(&purchases) {
        return Err(Error::invalid("purchases", "seed between 1 and 2000000 purchases"));
    }
    let now = clock::now();
    let start: i64 =
        sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM purchases").fetch_one(db.pool()).await?.unwrap_or(0);
    // Repositories and prices: reused when seeding again.
    let mut repos = Vec::new();
    for r in 0..REPOSITORIES {
        let slug = format!("seed-kit-{r}");
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM products WHERE slug = $1").bind(&slug).fetch_optional(db.pool()).await?;
        let id = match existing {
            Some(id) => id,
            None => {
                let mut tx = db.pool().begin().await?;
                let repository: i64 = sqlx::query_scalar(
                    "INSERT INTO repositories (github_repo_id, owner, name, owner_is_org, created_at, updated_at)
                     VALUES ($1, 'seed-org', $2, 1, $3, $3) RETURNING id",
                )
                .bind(FIRST_USER_ID + r)
                .bind(&slug)
                .bind(now - 400 * DAY)
                .fetch_one(&mut *tx)
                .await?;
                let product: i64 = sqlx::query_scalar(
                    "INSERT INTO products (slug, title, summary, status, created_at, updated_at)
                     VALUES ($1, $2, 'Seeded for trying things at scale', $4, $3, $3) RETURNING id",
                )
                .bind(&slug)
                .bind(format!("Seed Kit {r}"))
                .bind(now - 400 * DAY)
                .bind(ProductStatus::Published)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO product_repositories (product_id, repository_id, added_at) VALUES ($1, $2, $3)",
                )
                .bind(product)
                .bind(repository)
                .bind(now - 400 * DAY)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                product
            }
        };
        let mut prices = Vec::new();
        for (kind, amount) in [("monthly", 900 + r * 100), ("one_time", 4900 + r * 1000)] {
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM prices WHERE product_id = $1 AND kind = $2")
                .bind(id)
                .bind(kind)
                .fetch_optional(db.pool())
                .await?;
            let price = match existing {
                Some(p) => p,
                None => {
                    sqlx::query_scalar("INSERT INTO prices (product_id, kind, amount, currency, permission, created_at, updated_at) VALUES ($1, $2, $3, 'usd', 'pull', $4, $4) RETURNING id")
                        .bind(id)
                        .bind(kind)
                        .bind(amount)
                        .bind(now - 400 * DAY)
                        .fetch_one(db.pool())
                        .await?
                }
            };
            prices.push((price, kind, amount));
        }
        repos.push((id, prices));
    }

    let mut rng = Rng(0x5EED ^ start as u64);
    let mut purchase_rows = Vec::with_capacity(BATCH as usize);
    let mut log_rows = Vec::with_capacity((BATCH * LOG_PER_PURCHASE) as usize);
    let mut payment_rows = Vec::with_capacity(BATCH as usize);
    let mut log_entries = 0;
    use PurchaseStatus::{Active, Expired, Invited, Paid, Pending, Revoked};
    let statuses = [Active, Active, Active, Active, Invited, Revoked, Revoked, Pending, Expired, Paid];
    let mut n = 0;
    while n < purchases {
        let batch = BATCH.min(purchases - n);
        for k in 0..batch {
            let i = start + n + k + 1;
            let (repo, prices) = &repos[(i % REPOSITORIES) as usize];
            let (price, kind, amount) = prices[(rng.below(2)) as usize];
            let status = statuses[rng.below(statuses.len() as i64) as usize];
            let created = now - rng.below(365 * DAY);
            let paid = status.was_paid();
            let paid_at = if paid { (created + 60).to_string() } else { "NULL".into() };
            let revoked_at = if status == Revoked {
                (created + rng.below(60 * DAY) + 120).min(now).to_string()
            } else {
                "NULL".into()
            };
            let reason = if status == Revoked {
                if rng.below(3) == 0 {
                    format!("'refunded', '{}'", Reason::Refunded)
                } else {
                    format!("'subscription ended', '{}'", Reason::SubscriptionEnded)
                }
            } else {
                "NULL, NULL".to_owned()
            };
            let sub = if kind == "monthly" && paid { format!("'sub_seed{i}'") } else { "NULL".into() };
            let period_end = if kind == "monthly" && status.gives_access() {
                (now + rng.below(30 * DAY)).to_string()
            } else {
                "NULL".into()
            };
            let user = FIRST_USER_ID + i;
            purchase_rows.push(format!(
                "({i}, 'seed{i:020}', {repo}, {price}, {user}, 'customer-{i}', 'customer-{i}@example.com', '{status}', {reason}, {amount}, 'usd', {sub}, {period_end}, {paid_at}, {revoked_at}, {created}, {created})"
            ));
            if paid {
                payment_rows.push(format!("({i}, 'seed_pay_{i}', 'payment', {amount}, 'usd', {})", created + 60));
            }
            // A plausible history, ten entries long.
            use {Action as A, CauseKind as C};
            let steps = [
                (None, Pending, A::CheckoutStarted, C::Customer),
                (Some(Pending), Paid, A::Paid, C::StripeEvent),
                (Some(Paid), Invited, A::InvitationSent, C::StripeEvent),
                (Some(Invited), Active, A::AccessActive, C::GithubEvent),
                (Some(Active), Active, A::SubscriptionUpdated, C::StripeEvent),
                (Some(Active), Active, A::SubscriptionUpdated, C::StripeEvent),
                (Some(Active), Active, A::PaymentFailed, C::StripeEvent),
                (Some(Active), Active, A::PaymentRecovered, C::Schedule),
                (Some(Active), Active, A::SubscriptionUpdated, C::StripeEvent),
                (Some(Active), status, A::Synced, C::System),
            ];
            for (step, (from, to, action, cause)) in steps.iter().enumerate() {
                let from = from.map(|f| format!("'{f}'")).unwrap_or_else(|| "NULL".to_owned());
                log_rows.push(format!(
                    "({i}, {from}, '{to}', '{action}', '{cause}', 'seed', {})",
                    created + step as i64 * 3600
                ));
            }
            log_entries += LOG_PER_PURCHASE;
        }
        insert_rows(
            db,
            "INSERT INTO purchases (id, public_id, product_id, price_id, github_user_id, github_login, email, status, status_reason, status_reason_code, amount, currency, stripe_subscription_id, current_period_end, paid_at, revoked_at, created_at, updated_at)",
            &purchase_rows,
        )
        .await?;
        insert_rows(
            db,
            "INSERT INTO access_log (purchase_id, from_status, to_status, action, cause_kind, cause_ref, created_at)",
            &log_rows,
        )
        .await?;
        insert_rows(
            db,
            "INSERT INTO payments (purchase_id, stripe_ref, kind, amount, currency, created_at)",
            &payment_rows,
        )
        .await?;
        purchase_rows.clear();
        log_rows.clear();
        payment_rows.clear();
        n += batch;
    }
    // Each purchase's access to its product's repository, as the grant pass leaves it.
    sqlx::query(
        "INSERT INTO grants (purchase_id, repository_id, github_user_id, status, invited_at, activated_at, removed_at, created_at, updated_at)
         SELECT p.id, pr.repository_id, p.github_user_id,
                CASE p.status WHEN 'invited' THEN 'invited' WHEN 'active' THEN 'active' ELSE 'removed' END,
                p.paid_at, CASE WHEN p.status = 'active' THEN p.paid_at END, p.revoked_at, p.created_at, p.updated_at
         FROM purchases p JOIN product_repositories pr ON pr.product_id = p.product_id
         WHERE p.status IN ('invited', 'active', 'revoked') AND p.paid_at IS NOT NULL",
    )
    .execute(db.pool())
    .await?;
    if db.backend() == crate::db::Backend::Postgres {
        // Explicit ids bypass the identity sequence: move it past them.
        sqlx::query("SELECT setval(pg_get_serial_sequence('purchases', 'id'), (SELECT MAX(id) FROM purchases))")
            .execute(db.pool())
            .await?;
    }
    // Fresh statistics, so the planner picks the indexes the pages rely on.
    sqlx::query("ANALYZE").execute(db.pool()).await?;
    Ok(Seeded { repositories: REPOSITORIES, purchases, log_entries })
}
