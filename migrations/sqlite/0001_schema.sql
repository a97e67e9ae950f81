-- RepoPass schema (SQLite). Kept in step with ../postgres/0001_schema.sql:
-- same tables, columns, keys and indexes; only the dialect differs.
-- Conventions: ids are integers; times are UTC unix seconds (BIGINT);
-- money is an integer amount in minor units plus an ISO currency code;
-- flags are 0/1 integers (sqlx's Any driver cannot decode SQLite BOOLEAN).

CREATE TABLE admins (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    github_user_id  BIGINT  NOT NULL UNIQUE,
    github_login    TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('owner', 'admin')),
    created_at      BIGINT  NOT NULL,
    last_sign_in_at BIGINT
);

CREATE TABLE customers (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    github_user_id     BIGINT  UNIQUE,
    github_login       TEXT,
    email              TEXT    NOT NULL,
    stripe_customer_id TEXT    UNIQUE,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX customers_email ON customers (email);
CREATE INDEX customers_github_login ON customers (github_login);

CREATE TABLE repositories (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    github_repo_id    BIGINT  NOT NULL UNIQUE,
    owner             TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    owner_is_org      INTEGER NOT NULL DEFAULT 0,
    slug              TEXT    NOT NULL UNIQUE,
    title             TEXT    NOT NULL,
    summary           TEXT    NOT NULL DEFAULT '',
    description_md    TEXT    NOT NULL DEFAULT '',
    cover_image       TEXT,
    status            TEXT    NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'published', 'unpublished', 'archived')),
    -- what GitHub last told us about the repository itself
    github_state      TEXT    NOT NULL DEFAULT 'ok'
                      CHECK (github_state IN ('ok', 'renamed', 'transferred', 'deleted', 'archived', 'public', 'access_lost')),
    stripe_product_id TEXT    UNIQUE,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX repositories_status ON repositories (status, title);

CREATE TABLE prices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id   BIGINT  NOT NULL REFERENCES repositories (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('one_time', 'monthly', 'yearly')),
    amount          BIGINT  NOT NULL CHECK (amount >= 0),
    currency        TEXT    NOT NULL CHECK (length(currency) = 3),
    trial_days      BIGINT  NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
    permission      TEXT    NOT NULL DEFAULT 'pull'
                    CHECK (permission IN ('pull', 'triage', 'push', 'maintain')),
    stripe_price_id TEXT    UNIQUE,
    active          INTEGER NOT NULL DEFAULT 1,
    -- set when an amount change archived this price in favour of another
    replaced_by     BIGINT  REFERENCES prices (id),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX prices_repository ON prices (repository_id, active);

CREATE TABLE purchases (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- unguessable id for URLs shown to buyers (the success page)
    public_id                  TEXT    NOT NULL UNIQUE,
    repository_id              BIGINT  NOT NULL REFERENCES repositories (id),
    price_id                   BIGINT  NOT NULL REFERENCES prices (id),
    customer_id                BIGINT  REFERENCES customers (id),
    github_user_id             BIGINT  NOT NULL,
    github_login               TEXT    NOT NULL,
    email                      TEXT    NOT NULL,
    status                     TEXT    NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'paid', 'invited', 'active', 'revoked', 'expired')),
    status_reason              TEXT,
    amount                     BIGINT  NOT NULL,
    currency                   TEXT    NOT NULL,
    stripe_checkout_session_id TEXT    UNIQUE,
    stripe_customer_id         TEXT,
    stripe_subscription_id     TEXT,
    stripe_payment_intent_id   TEXT,
    github_invitation_id       BIGINT,
    invitation_url             TEXT,
    invited_at                 BIGINT,
    current_period_end         BIGINT,
    cancel_at                  BIGINT,
    grace_until                BIGINT,
    moved_at                   BIGINT,
    paid_at                    BIGINT,
    activated_at               BIGINT,
    revoked_at                 BIGINT,
    created_at                 BIGINT  NOT NULL,
    updated_at                 BIGINT  NOT NULL
);
-- At most one granted purchase per GitHub account and repository: a second
-- grant is refused by the database, whatever the code does.
CREATE UNIQUE INDEX purchases_one_grant ON purchases (repository_id, github_user_id)
    WHERE status IN ('invited', 'active');
CREATE INDEX purchases_repository_status ON purchases (repository_id, status, created_at);
CREATE INDEX purchases_status_created ON purchases (status, created_at);
CREATE INDEX purchases_created ON purchases (created_at);
CREATE INDEX purchases_customer ON purchases (customer_id);
CREATE INDEX purchases_github_user ON purchases (github_user_id);
CREATE INDEX purchases_github_login ON purchases (github_login);
CREATE INDEX purchases_email ON purchases (email);
CREATE INDEX purchases_subscription ON purchases (stripe_subscription_id);
CREATE INDEX purchases_payment_intent ON purchases (stripe_payment_intent_id);

CREATE TABLE access_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    purchase_id   BIGINT  NOT NULL REFERENCES purchases (id),
    from_status   TEXT,
    to_status     TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    -- what caused it: a webhook event, an admin, an API key, the scheduler...
    cause_kind    TEXT    NOT NULL
                  CHECK (cause_kind IN ('stripe_event', 'github_event', 'admin', 'api_key', 'customer', 'schedule', 'system')),
    cause_ref     TEXT,
    detail        TEXT,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX access_log_purchase ON access_log (purchase_id, id);
CREATE INDEX access_log_created ON access_log (created_at);
-- The log is append-only: history that can be edited is not history.
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;

CREATE TABLE webhook_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    provider     TEXT    NOT NULL CHECK (provider IN ('stripe', 'github')),
    -- Stripe's event id, or GitHub's X-GitHub-Delivery
    event_id     TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'received'
                 CHECK (status IN ('received', 'processed', 'ignored', 'failed', 'dead')),
    error        TEXT,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    received_at  BIGINT  NOT NULL,
    processed_at BIGINT,
    UNIQUE (provider, event_id)
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);
CREATE INDEX webhook_events_status ON webhook_events (status, received_at);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL DEFAULT '{}',
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'done', 'dead')),
    attempts     BIGINT  NOT NULL DEFAULT 0,
    max_attempts BIGINT  NOT NULL DEFAULT 10,
    run_at       BIGINT  NOT NULL,
    locked_until BIGINT,
    last_error   TEXT,
    -- optional idempotency key: enqueueing the same work twice is a no-op
    dedupe_key   TEXT    UNIQUE,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX jobs_claim ON jobs (status, run_at, id);

-- Layout of tower-sessions-sqlx-store's SqliteStore, so it can use this table.
CREATE TABLE sessions (
    id          TEXT    PRIMARY KEY NOT NULL,
    data        BLOB    NOT NULL,
    expiry_date INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry_date);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    -- the first characters of the key, to recognise it in lists
    prefix       TEXT    NOT NULL,
    -- SHA-256 of the whole key; the key itself is never stored
    key_hash     TEXT    NOT NULL UNIQUE,
    created_by   BIGINT  REFERENCES admins (id),
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE emails (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    to_address  TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body_text   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    purchase_id BIGINT  REFERENCES purchases (id),
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'logged', 'failed')),
    attempts    BIGINT  NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  BIGINT  NOT NULL,
    sent_at     BIGINT
);
CREATE INDEX emails_status ON emails (status, id);

-- Daily counters: one row per repository and UTC day (days since 1970-01-01).
CREATE TABLE page_views (
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    day           BIGINT NOT NULL,
    views         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (repository_id, day)
);
