//! Guarantees the database itself keeps, whatever the code above it does.

use server::clock;

use crate::{
    helpers::TestApp,
    pages::{insert_price, insert_repository},
    scenarios,
};

scenarios!(
    one_granted_purchase_per_account_and_repository,
    access_log_is_append_only,
    money_must_be_valid,
    a_move_the_table_forbids_is_refused_and_writes_nothing
);

async fn insert_purchase(
    app: &TestApp,
    repository_id: i64,
    price_id: i64,
    public_id: &str,
    status: &str,
) -> Result<i64, sqlx::Error> {
    let now = clock::now();
    sqlx::query_scalar(
        "INSERT INTO purchases (public_id, product_id, price_id, github_user_id, github_login, email, status, amount, currency, created_at, updated_at)
         VALUES ($1, $2, $3, 583231, 'octocat', 'octo@example.com', $4, 900, 'usd', $5, $5) RETURNING id",
    )
    .bind(public_id)
    .bind(repository_id)
    .bind(price_id)
    .bind(status)
    .bind(now)
    .fetch_one(app.pool())
    .await
}

async fn one_granted_purchase_per_account_and_repository(app: TestApp) {
    let repo = insert_repository(&app, 10, "kit", "Kit", "published").await;
    let price = insert_price(&app, repo, "monthly", 900, "usd").await;
    insert_purchase(&app, repo, price, "p1", "active").await.unwrap();
    // Pending and revoked purchases may pile up; a second grant may not.
    insert_purchase(&app, repo, price, "p2", "pending").await.unwrap();
    insert_purchase(&app, repo, price, "p3", "revoked").await.unwrap();
    let second_grant = insert_purchase(&app, repo, price, "p4", "invited").await;
    assert!(second_grant.is_err(), "a second invited purchase for the same account and repository was accepted");
}

async fn access_log_is_append_only(app: TestApp) {
    let repo = insert_repository(&app, 11, "kit", "Kit", "published").await;
    let price = insert_price(&app, repo, "one_time", 4900, "usd").await;
    let purchase = insert_purchase(&app, repo, price, "p1", "paid").await.unwrap();
    sqlx::query("INSERT INTO access_log (purchase_id, from_status, to_status, action, cause_kind, cause_ref, created_at) VALUES ($1, 'pending', 'paid', 'payment_confirmed', 'stripe_event', 'evt_1', $2)")
        .bind(purchase)
        .bind(clock::now())
        .execute(app.pool())
        .await
        .unwrap();
    let update = sqlx::query("UPDATE access_log SET to_status = 'active'").execute(app.pool()).await;
    assert!(update.is_err(), "access_log accepted an UPDATE");
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM access_log").execute(app.pool()).await;
    assert!(delete.is_err(), "access_log accepted a DELETE");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_log").fetch_one(app.pool()).await.unwrap();
    assert_eq!(rows, 1);
}

async fn money_must_be_valid(app: TestApp) {
    let repo = insert_repository(&app, 12, "kit", "Kit", "published").await;
    let negative = sqlx::query("INSERT INTO prices (product_id, kind, amount, currency, created_at, updated_at) VALUES ($1, 'monthly', -1, 'usd', 0, 0)")
        .bind(repo)
        .execute(app.pool())
        .await;
    assert!(negative.is_err(), "negative amount accepted");
    let bad_currency = sqlx::query("INSERT INTO prices (product_id, kind, amount, currency, created_at, updated_at) VALUES ($1, 'monthly', 100, 'dollars', 0, 0)")
        .bind(repo)
        .execute(app.pool())
        .await;
    assert!(bad_currency.is_err(), "a currency that is not an ISO code was accepted");
    let orphan = sqlx::query("INSERT INTO prices (product_id, kind, amount, currency, created_at, updated_at) VALUES (999999, 'monthly', 100, 'usd', 0, 0)")
        .execute(app.pool())
        .await;
    assert!(orphan.is_err(), "a price for a repository that does not exist was accepted (foreign keys off?)");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    crate::helpers::guarded(concat!(module_path!(), "::sqlite_runs_in_wal_mode_with_foreign_keys"), async {
        let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(app.pool()).await.unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(app.pool()).await.unwrap();
        assert_eq!(fk, 1);
    })
    .await;
}

/// `purchase_state::transition` is the only way a status changes: a move
/// its table does not allow (an unpaid checkout straight to access) is an
/// error, and neither the purchase nor its history changes.
async fn a_move_the_table_forbids_is_refused_and_writes_nothing(app: TestApp) {
    use server::{
        domain::{Action, PurchaseId, PurchaseStatus, Reason},
        purchase_state::{transition, Cause, Change},
    };
    let repo = insert_repository(&app, 13, "kit", "Kit", "published").await;
    let price = insert_price(&app, repo, "one_time", 4900, "usd").await;
    let id = PurchaseId(insert_purchase(&app, repo, price, "p1", "pending").await.unwrap());
    let illegal = Change::new(PurchaseStatus::Pending, PurchaseStatus::Active, Action::AccessActive);
    let refused = transition(&app.state.db, id, illegal, &Cause::System).await;
    assert!(refused.unwrap_err().to_string().contains("cannot go from pending to active"));
    let expired = Change::new(PurchaseStatus::Expired, PurchaseStatus::Paid, Action::Paid);
    assert!(transition(&app.state.db, id, expired, &Cause::System).await.is_err(), "an expired checkout was paid");
    let (status, logged): (String, i64) = sqlx::query_as(
        "SELECT status, (SELECT COUNT(*) FROM access_log WHERE purchase_id = purchases.id) FROM purchases WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!((status.as_str(), logged), ("pending", 0));

    // An allowed move applies once, with its reason code beside the words.
    let closed = Change::new(PurchaseStatus::Pending, PurchaseStatus::Expired, Action::PaymentFailed)
        .reason(Reason::CheckoutPaymentFailed, "the payment failed");
    assert!(transition(&app.state.db, id, closed.clone(), &Cause::System).await.unwrap());
    assert!(!transition(&app.state.db, id, closed, &Cause::System).await.unwrap(), "applied twice");
    let (status, code): (String, Option<String>) =
        sqlx::query_as("SELECT status, status_reason_code FROM purchases WHERE id = $1")
            .bind(id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((status.as_str(), code.as_deref()), ("expired", Some("checkout_payment_failed")));
}
