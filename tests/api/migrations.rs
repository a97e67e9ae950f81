//! The two migration folders describe one schema: the same tables, columns
//! and indexes on SQLite and PostgreSQL; and the reason-code backfill reads
//! every message the code ever wrote the same way on both.

use std::collections::BTreeSet;

use secrecy::SecretString;
use sqlx::Row;

use crate::helpers::{Backend, TestDatabase};

/// (table, column) pairs and (table, index, unique) triples.
type Schema = (BTreeSet<(String, String)>, BTreeSet<(String, String, bool)>);

async fn migrated(backend: Backend) -> Option<(TestDatabase, server::Db)> {
    let database = TestDatabase::create(backend).await?;
    let db = server::Db::connect(&SecretString::from(database.url.clone())).await.expect("connect");
    db.migrate().await.expect("migrate");
    Some((database, db))
}

/// The `(t, c)` text pairs a query returns.
async fn pairs(db: &server::Db, sql: &str) -> BTreeSet<(String, String)> {
    let rows = sqlx::query(sql).fetch_all(db.pool()).await.unwrap();
    rows.iter().map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c"))).collect()
}

async fn sqlite_schema(db: &server::Db) -> Schema {
    let columns = pairs(
        db,
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'
           -- SQLite's way of telling instances that pages changed; PostgreSQL notifies instead.
           AND m.name <> 'page_version'",
    )
    .await;
    // Indexes a migration created (SQLite's own for UNIQUE and PRIMARY KEY have no SQL).
    let indexes = pairs(
        db,
        "SELECT name AS t, tbl_name || ' ' || sql AS c FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .await
    .into_iter()
    .map(|(index, table_sql)| {
        let (table, sql) = table_sql.split_once(' ').unwrap_or_default();
        (table.to_owned(), index, sql.to_uppercase().starts_with("CREATE UNIQUE"))
    })
    .collect();
    (columns, indexes)
}

async fn postgres_schema(db: &server::Db) -> Schema {
    let columns = pairs(
        db,
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .await;
    // Indexes a migration created (not those behind PRIMARY KEY or UNIQUE constraints).
    let indexes = pairs(
        db,
        "SELECT i.relname::text AS t, t.relname::text || ' ' || CASE WHEN ix.indisunique THEN 'unique' ELSE '' END AS c
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public' AND t.relname <> '_sqlx_migrations'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)",
    )
    .await
    .into_iter()
    .map(|(index, table_unique)| {
        let (table, unique) = table_unique.split_once(' ').unwrap_or_default();
        (table.to_owned(), index, unique == "unique")
    })
    .collect();
    (columns, indexes)
}

#[tokio::test]
async fn sqlite_and_postgres_define_the_same_schema() {
    let (_sqlite_dir, sqlite) = migrated(Backend::Sqlite).await.expect("SQLite is always available");
    let Some((_pg_dir, postgres)) = migrated(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let (lite_columns, lite_indexes) = sqlite_schema(&sqlite).await;
    let (pg_columns, pg_indexes) = postgres_schema(&postgres).await;
    assert!(lite_columns.len() > 50, "the schema was read: {lite_columns:?}");
    assert!(lite_columns.contains(&("purchases".into(), "status_reason_code".into())));
    assert_eq!(
        lite_columns.symmetric_difference(&pg_columns).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "columns in one database and not the other"
    );
    assert!(!lite_indexes.is_empty());
    assert_eq!(
        lite_indexes.symmetric_difference(&pg_indexes).collect::<Vec<_>>(),
        Vec::<&(String, String, bool)>::new(),
        "indexes in one database and not the other (or unique in one only)"
    );
}

/// Applies the migration files numbered `first..=last`, as plain SQL.
async fn apply(db: &server::Db, folder: &str, first: u32, last: u32) {
    let mut files: Vec<_> = std::fs::read_dir(format!("{}/migrations/{folder}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let number: u32 = path.file_name().unwrap().to_str().unwrap()[..4].parse().unwrap();
        if (first..=last).contains(&number) {
            let sql = std::fs::read_to_string(&path).unwrap();
            sqlx::raw_sql(&sql).execute(db.pool()).await.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

#[tokio::test]
async fn reason_codes_are_backfilled_from_the_messages_on_both_databases() {
    // (status, message as an earlier version wrote it, the code it must get)
    let rows = [
        ("revoked", Some("payment failed: not paid within the grace period"), Some("payment_failed")),
        ("expired", Some("the payment failed"), Some("checkout_payment_failed")),
        ("revoked", Some("subscription ended"), Some("subscription_ended")),
        ("revoked", Some("refunded"), Some("refunded")),
        (
            "revoked",
            Some("refunded (GitHub left as it was: @octocat had access before this purchase)"),
            Some("refunded"),
        ),
        ("revoked", Some("disputed: fraudulent"), Some("disputed")),
        ("invited", Some("invitation expired: resend it from your account"), Some("invitation_expired")),
        (
            "paid",
            Some("queued: GitHub's daily invitation limit for this repository is reached; the invitation goes out when it resets"),
            Some("queued_invite_limit"),
        ),
        ("paid", Some("queued: GitHub's rate limit is reached; trying again when it resets"), Some("queued_rate_limit")),
        ("paid", Some("not invited: GitHub says the repository or the user no longer exists"), Some("github_user_gone")),
        (
            "paid",
            Some("not invited: the GitHub App is not installed on acme; install it from the App's settings page"),
            Some("github_not_connected"),
        ),
        (
            "revoked",
            Some("@octocat already had access through an earlier purchase; this payment is refunded in full"),
            Some("duplicate_purchase"),
        ),
        ("revoked", Some("revoked by the creator"), Some("revoked_by_creator")),
        ("revoked", Some("Chargeback threatened on Twitter"), Some("revoked_by_creator")),
        ("active", None, None),
    ];
    for (backend, folder) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
        let Some(database) = TestDatabase::create(backend).await else {
            eprintln!("skipped on {folder}: TEST_DATABASE_URL is not set");
            continue;
        };
        let db = server::Db::connect(&SecretString::from(database.url.clone())).await.unwrap();
        apply(&db, folder, 1, 9).await;
        let now = server::clock::now();
        sqlx::query("INSERT INTO repositories (id, github_repo_id, owner, name, slug, title, status, created_at, updated_at) VALUES (1, 1, 'o', 'n', 'kit', 'Kit', 'published', $1, $1)")
            .bind(now)
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO prices (id, repository_id, kind, amount, currency, created_at, updated_at) VALUES (1, 1, 'monthly', 900, 'usd', $1, $1)")
            .bind(now)
            .execute(db.pool())
            .await
            .unwrap();
        for (i, (status, message, _)) in rows.iter().enumerate() {
            sqlx::query(
                "INSERT INTO purchases (public_id, repository_id, price_id, github_user_id, github_login, email, status, status_reason, amount, currency, created_at, updated_at)
                 VALUES ($1, 1, 1, $2, 'octocat', 'o@example.com', $3, $4, 900, 'usd', $5, $5)",
            )
            .bind(format!("p{i}"))
            .bind(1000 + i as i64)
            .bind(*status)
            .bind(*message)
            .bind(now)
            .execute(db.pool())
            .await
            .unwrap();
        }
        apply(&db, folder, 10, 10).await;
        for (i, (_, message, code)) in rows.iter().enumerate() {
            let found: Option<String> =
                sqlx::query_scalar("SELECT status_reason_code FROM purchases WHERE public_id = $1")
                    .bind(format!("p{i}"))
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            assert_eq!(found.as_deref(), *code, "{folder}: {message:?}");
            // And every code the backfill writes is one RepoPass reads.
            if let Some(found) = found {
                assert!(found.parse::<server::domain::Reason>().is_ok(), "{found}");
            }
        }
    }
}

/// A table's rows as text (NULL stays None), in id order: compared before
/// and after a migration, column by column.
async fn rows(db: &server::Db, table: &str, columns: &[&str], order: &str) -> Vec<Vec<Option<String>>> {
    let select: Vec<String> = columns.iter().map(|c| format!("CAST({c} AS TEXT)")).collect();
    let sql = format!("SELECT {} FROM {table} ORDER BY {order}", select.join(", "));
    let found = sqlx::query(&sql).fetch_all(db.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    found.iter().map(|r| (0..columns.len()).map(|i| r.get::<Option<String>, _>(i)).collect()).collect()
}

/// A table, its columns as (before, after) names, and the order to read it in.
type Kept = (&'static str, &'static [(&'static str, &'static str)], &'static str);

/// The columns compared: a rename keeps the values.
const KEPT: &[Kept] = &[
    (
        "purchases",
        &[
            ("id", "id"),
            ("public_id", "public_id"),
            ("repository_id", "product_id"),
            ("price_id", "price_id"),
            ("github_user_id", "github_user_id"),
            ("github_login", "github_login"),
            ("email", "email"),
            ("status", "status"),
            ("status_reason", "status_reason"),
            ("status_reason_code", "status_reason_code"),
            ("amount", "amount"),
            ("currency", "currency"),
            ("stripe_subscription_id", "stripe_subscription_id"),
            ("current_period_end", "current_period_end"),
            ("paid_at", "paid_at"),
            ("revoked_at", "revoked_at"),
        ],
        "id",
    ),
    (
        "prices",
        &[
            ("id", "id"),
            ("repository_id", "product_id"),
            ("kind", "kind"),
            ("amount", "amount"),
            ("currency", "currency"),
            ("trial_days", "trial_days"),
            ("permission", "permission"),
            ("stripe_price_id", "stripe_price_id"),
            ("active", "active"),
            ("replaced_by", "replaced_by"),
        ],
        "id",
    ),
    (
        "access_log",
        &[
            ("id", "id"),
            ("purchase_id", "purchase_id"),
            ("from_status", "from_status"),
            ("to_status", "to_status"),
            ("action", "action"),
            ("cause_kind", "cause_kind"),
            ("cause_ref", "cause_ref"),
            ("detail", "detail"),
            ("github_login", "github_login"),
            ("created_at", "created_at"),
        ],
        "id",
    ),
    ("payments", &[("id", "id"), ("purchase_id", "purchase_id"), ("kind", "kind"), ("amount", "amount")], "id"),
    ("page_views", &[("repository_id", "product_id"), ("day", "day"), ("views", "views")], "day, views"),
    (
        "drift",
        &[("id", "id"), ("repository_id", "repository_id"), ("kind", "kind"), ("github_login", "github_login")],
        "id",
    ),
];

/// What the last release's `repositories` held, as products and GitHub
/// repositories hold it now.
const SPLIT: &[(&str, &str, &str)] = &[
    ("id", "products", "id"),
    ("slug", "products", "slug"),
    ("title", "products", "title"),
    ("summary", "products", "summary"),
    ("description_md", "products", "description_md"),
    ("cover_image", "products", "cover_image"),
    ("status", "products", "status"),
    ("stripe_product_id", "products", "stripe_product_id"),
    ("github_repo_id", "repositories", "github_repo_id"),
    ("owner", "repositories", "owner"),
    ("name", "repositories", "name"),
    ("owner_is_org", "repositories", "owner_is_org"),
    ("github_state", "repositories", "github_state"),
];

/// Writes what the last release (migrations 1 to 12) could hold: two
/// repositories on sale, prices, purchases in every state with their log,
/// payments, page views and a drift finding.
async fn seed_last_release(db: &server::Db) {
    let statements = [
        "INSERT INTO repositories (id, github_repo_id, owner, name, owner_is_org, slug, title, summary, description_md, cover_image, status, github_state, stripe_product_id, created_at, updated_at)
         VALUES (1, 501, 'acme', 'sdk', 1, 'sdk', 'SDK', 'The SDK', '# SDK', 'ab.png', 'published', 'ok', 'prod_1', 100, 100),
                (2, 502, 'mona', 'course', 0, 'course', 'Course', '', '', NULL, 'archived', 'renamed', NULL, 200, 200)",
        "INSERT INTO prices (id, repository_id, kind, amount, currency, trial_days, permission, stripe_price_id, active, replaced_by, created_at, updated_at)
         VALUES (1, 1, 'monthly', 900, 'usd', 14, 'push', 'price_1', 0, NULL, 100, 100),
                (2, 1, 'monthly', 1200, 'usd', 14, 'push', 'price_2', 1, NULL, 110, 110),
                (3, 2, 'one_time', 4900, 'eur', 0, 'pull', 'price_3', 1, NULL, 200, 200)",
        "UPDATE prices SET replaced_by = 2 WHERE id = 1",
        "INSERT INTO purchases (id, public_id, repository_id, price_id, github_user_id, github_login, email, status, status_reason, status_reason_code, amount, currency, stripe_subscription_id, github_invitation_id, invitation_url, current_period_end, github_access, paid_at, revoked_at, created_at, updated_at)
         VALUES (1, 'pa', 1, 1, 11, 'ann', 'ann@example.com', 'active', NULL, NULL, 900, 'usd', 'sub_1', NULL, NULL, 999, 'repopass', 300, NULL, 300, 300),
                (2, 'pb', 1, 2, 12, 'bob', 'bob@example.com', 'invited', NULL, NULL, 1200, 'usd', 'sub_2', 77, 'https://github.com/acme/sdk/invitations', 999, 'repopass', 310, NULL, 310, 310),
                (3, 'pc', 2, 3, 11, 'ann', 'ann@example.com', 'revoked', 'refunded', 'refunded', 4900, 'eur', NULL, NULL, NULL, NULL, 'preexisting', 320, 330, 320, 330),
                (4, 'pd', 1, 2, 13, 'cy', 'cy@example.com', 'pending', NULL, NULL, 1200, 'usd', NULL, NULL, NULL, NULL, 'repopass', NULL, NULL, 340, 340)",
        "INSERT INTO access_log (id, purchase_id, from_status, to_status, action, cause_kind, cause_ref, detail, github_login, created_at)
         VALUES (1, 1, NULL, 'pending', 'checkout_started', 'customer', '@ann', 'monthly for @ann', 'ann', 300),
                (2, 1, 'pending', 'paid', 'paid', 'stripe_event', 'evt_1', NULL, 'ann', 301),
                (3, 1, 'paid', 'active', 'access_active', 'github_event', 'd-1', NULL, 'ann', 302),
                (4, 3, 'active', 'revoked', 'refund', 'stripe_event', 'evt_9', 'refunded', 'ann', 330)",
        "INSERT INTO payments (id, purchase_id, stripe_ref, kind, amount, currency, created_at)
         VALUES (1, 1, 'in_1', 'payment', 900, 'usd', 300), (2, 3, 'ch_3', 'payment', 4900, 'eur', 320), (3, 3, 're_3', 'refund', -4900, 'eur', 330)",
        "INSERT INTO page_views (repository_id, day, views) VALUES (1, 20000, 5), (2, 20000, 7)",
        "INSERT INTO drift (id, repository_id, kind, github_user_id, github_login, purchase_id, detail, detected_at)
         VALUES (1, 1, 'access_without_purchase', 99, 'eve', NULL, 'a collaborator with no purchase', 400)",
    ];
    for sql in statements {
        sqlx::query(sql).execute(db.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[tokio::test]
async fn a_database_of_the_last_release_keeps_every_row_and_its_meaning() {
    for (backend, folder) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
        let Some(database) = TestDatabase::create(backend).await else {
            eprintln!("skipped on {folder}: TEST_DATABASE_URL is not set");
            continue;
        };
        // The last release's migrations (1 to 12), run by sqlx as that release ran them.
        let release = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(format!("{}/migrations/{folder}", env!("CARGO_MANIFEST_DIR"))).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if name[..4].parse::<u32>().unwrap() <= 12 {
                std::fs::copy(&path, release.path().join(name)).unwrap();
            }
        }
        let db = server::Db::connect(&SecretString::from(database.url.clone())).await.unwrap();
        sqlx::migrate::Migrator::new(release.path()).await.unwrap().run(db.pool()).await.unwrap();
        seed_last_release(&db).await;
        let before: Vec<_> = {
            let mut all = Vec::new();
            for (table, columns, order) in KEPT {
                let names: Vec<&str> = columns.iter().map(|(b, _)| *b).collect();
                all.push(rows(&db, table, &names, order).await);
            }
            all
        };
        let split_before = rows(&db, "repositories", &SPLIT.iter().map(|(c, _, _)| *c).collect::<Vec<_>>(), "id").await;

        // This release: every migration since, as RepoPass runs them on start.
        db.migrate().await.unwrap_or_else(|e| panic!("{folder}: {e}"));

        for ((table, columns, order), was) in KEPT.iter().zip(&before) {
            let names: Vec<&str> = columns.iter().map(|(_, a)| *a).collect();
            assert_eq!(&rows(&db, table, &names, order).await, was, "{folder}: {table} changed");
        }
        let split_after: Vec<Vec<Option<String>>> = {
            let columns: Vec<String> = SPLIT.iter().map(|(_, t, c)| format!("{}.{c}", &t[..1])).collect();
            let select: Vec<String> = columns.iter().map(|c| format!("CAST({c} AS TEXT)")).collect();
            let sql = format!(
                "SELECT {} FROM products p JOIN product_repositories x ON x.product_id = p.id
                 JOIN repositories r ON r.id = x.repository_id ORDER BY p.id",
                select.join(", ")
            );
            let found = sqlx::query(&sql).fetch_all(db.pool()).await.unwrap();
            found.iter().map(|row| (0..columns.len()).map(|i| row.get::<Option<String>, _>(i)).collect()).collect()
        };
        assert_eq!(split_after, split_before, "{folder}: each repository became a product of one");

        // And it means what it meant: the page sells the repository, the
        // purchases grant it with the price's permission, the log reads back.
        let page = server::storefront::product(&db, "sdk").await.unwrap().expect("the page is still on sale");
        assert_eq!(page.product.full_names(), ["acme/sdk"]);
        assert_eq!(page.prices.iter().map(|p| p.id.get()).collect::<Vec<_>>(), [2]);
        let sdk = &page.product.repositories[0];
        assert_eq!(sdk.permission, None, "{folder}: the price's permission still decides");
        let granted = server::grants::live_in(&db, sdk.repository.id).await.unwrap();
        assert_eq!(granted.iter().map(|g| g.purchase_id.get()).collect::<Vec<_>>(), [1, 2]);
        // What GitHub said of each purchase is now its grant of the product's one repository.
        let grants = rows(
            &db,
            "grants",
            &[
                "purchase_id",
                "repository_id",
                "status",
                "github_access",
                "github_invitation_id",
                "invitation_url",
                "removed_at",
            ],
            "purchase_id",
        )
        .await;
        let text = |s: &str| Some(s.to_owned());
        assert_eq!(
            grants,
            [
                vec![text("1"), text("1"), text("active"), text("repopass"), None, None, None],
                vec![
                    text("2"),
                    text("1"),
                    text("invited"),
                    text("repopass"),
                    text("77"),
                    text("https://github.com/acme/sdk/invitations"),
                    None
                ],
                vec![text("3"), text("2"), text("removed"), text("preexisting"), None, None, text("330")],
            ],
            "{folder}: every granted purchase has its grant; the unpaid checkout none"
        );

        let course = server::products::get(&db, server::domain::ProductId(2)).await.unwrap();
        assert_eq!((course.status.as_str(), course.full_names()), ("archived", vec!["mona/course".to_owned()]));
        assert_eq!(server::activity::latest(&db, 10).await.unwrap().len(), 4);
        if backend == Backend::Sqlite {
            let broken: Vec<(String,)> =
                sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(db.pool()).await.unwrap();
            assert!(broken.is_empty(), "foreign keys broken by the migration: {broken:?}");
        }
        // New rows get new ids on both (PostgreSQL's identities moved past the copied ones).
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO repositories (github_repo_id, owner, name, created_at, updated_at) VALUES (503, 'acme', 'cli', 1, 1) RETURNING id",
        )
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{folder}: {e}"));
        assert_eq!(next, 3, "{folder}");
    }
}
