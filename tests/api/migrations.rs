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
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
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
