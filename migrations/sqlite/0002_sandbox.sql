-- The built-in sandbox's own state (Stripe and GitHub stand-ins), kept in
-- RepoPass's database so it survives restarts. RepoPass's code never reads
-- these tables: it talks to the sandbox over HTTP, as to the real services.

-- Objects as the stand-in APIs return them (a Stripe object, a GitHub user,
-- an invitation...), as JSON, keyed by kind and id.
CREATE TABLE sandbox_objects (
    kind       TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    parent     TEXT,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX sandbox_objects_parent ON sandbox_objects (kind, parent);

-- Small settings: the clock offset, armed faults, id sequences.
CREATE TABLE sandbox_state (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Signed webhook deliveries to RepoPass, retried with backoff.
CREATE TABLE sandbox_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT   NOT NULL CHECK (provider IN ('stripe', 'github')),
    event_id        TEXT   NOT NULL,
    event_type      TEXT   NOT NULL,
    target_url      TEXT   NOT NULL,
    payload         TEXT   NOT NULL,
    status          TEXT   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_status     BIGINT,
    last_error      TEXT,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX sandbox_deliveries_due ON sandbox_deliveries (status, next_attempt_at);
