-- Products (issue 20): what is sold (slug, title, description, cover,
-- prices) is a product, and a product grants one or more GitHub
-- repositories. Every repository on sale so far becomes a product of one,
-- keeping its id, so every price, purchase, page view and log row keeps
-- pointing at what it meant. Kept in step with ../postgres/0014_products.sql.
--
-- SQLite runs this inside one transaction (sqlx), where foreign keys cannot
-- be switched off; they are deferred instead, and the rebuilt `products`
-- table gets back every row its children point at before the commit checks.
PRAGMA defer_foreign_keys = ON;

-- The old table becomes the products table: SQLite rewrites the foreign
-- keys of prices, purchases, page views (and drift, rebuilt below) to it.
ALTER TABLE repositories RENAME TO products;

-- A GitHub repository RepoPass manages, and what GitHub last said of it.
CREATE TABLE repositories (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    github_repo_id BIGINT  NOT NULL UNIQUE,
    owner          TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    owner_is_org   INTEGER NOT NULL DEFAULT 0,
    github_state   TEXT    NOT NULL DEFAULT 'ok'
                   CHECK (github_state IN ('ok', 'renamed', 'transferred', 'deleted', 'archived', 'public', 'access_lost')),
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
INSERT INTO repositories (id, github_repo_id, owner, name, owner_is_org, github_state, created_at, updated_at)
SELECT id, github_repo_id, owner, name, owner_is_org, github_state, created_at, updated_at FROM products;

-- The repositories a product grants. `permission` NULL: the price's (what
-- every product had so far); set, it is that repository's own level.
CREATE TABLE product_repositories (
    product_id    BIGINT NOT NULL REFERENCES products (id),
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    permission    TEXT   CHECK (permission IS NULL OR permission IN ('pull', 'triage', 'push', 'maintain')),
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (product_id, repository_id)
);
CREATE INDEX product_repositories_repository ON product_repositories (repository_id);
INSERT INTO product_repositories (product_id, repository_id, permission, added_at)
SELECT id, id, NULL, created_at FROM products;

-- The products table without the GitHub columns (SQLite cannot drop a
-- UNIQUE column in place): copied aside, dropped, made again, refilled.
CREATE TEMP TABLE products_before AS SELECT * FROM products;
DROP TABLE products;
CREATE TABLE products (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    slug              TEXT    NOT NULL UNIQUE,
    title             TEXT    NOT NULL,
    summary           TEXT    NOT NULL DEFAULT '',
    description_md    TEXT    NOT NULL DEFAULT '',
    cover_image       TEXT,
    status            TEXT    NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'published', 'unpublished', 'archived')),
    stripe_product_id TEXT    UNIQUE,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
INSERT INTO products (id, slug, title, summary, description_md, cover_image, status, stripe_product_id, created_at, updated_at)
SELECT id, slug, title, summary, description_md, cover_image, status, stripe_product_id, created_at, updated_at
FROM products_before;
DROP TABLE products_before;
CREATE INDEX products_status ON products (status, title);

-- Drift is about a GitHub repository, not what it is sold as.
CREATE TABLE drift_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id  BIGINT  NOT NULL REFERENCES repositories (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('paid_without_access', 'access_without_purchase')),
    github_user_id BIGINT  NOT NULL,
    github_login   TEXT    NOT NULL,
    purchase_id    BIGINT  REFERENCES purchases (id),
    detail         TEXT    NOT NULL DEFAULT '',
    detected_at    BIGINT  NOT NULL
);
INSERT INTO drift_new SELECT id, repository_id, kind, github_user_id, github_login, purchase_id, detail, detected_at FROM drift;
DROP TABLE drift;
ALTER TABLE drift_new RENAME TO drift;
CREATE INDEX drift_repository ON drift (repository_id, kind);

-- What points at a product says so.
ALTER TABLE prices RENAME COLUMN repository_id TO product_id;
ALTER TABLE purchases RENAME COLUMN repository_id TO product_id;
ALTER TABLE page_views RENAME COLUMN repository_id TO product_id;
DROP INDEX prices_repository;
CREATE INDEX prices_product ON prices (product_id, active);
DROP INDEX purchases_repository_status;
CREATE INDEX purchases_product_status ON purchases (product_id, status, created_at);
DROP INDEX purchases_paid;
CREATE INDEX purchases_paid ON purchases (paid_at, product_id);
