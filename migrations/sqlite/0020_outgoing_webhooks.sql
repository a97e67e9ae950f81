-- Outgoing webhooks (issue 23): the creator's endpoints, the events
-- RepoPass sends them, and each delivery with its attempts. Kept in step
-- between the two folders.

-- Where the creator's tools listen. The signing secrets are sealed with
-- the vault's key (`vault::seal_text`); while a rotation overlaps, the
-- previous secret signs too, until `previous_secret_until`.
CREATE TABLE outgoing_endpoints (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    url                   TEXT    NOT NULL,
    description           TEXT    NOT NULL DEFAULT '',
    -- The event types it wants, space-separated words of `WebhookEventType`.
    event_types           TEXT    NOT NULL,
    -- The body: a Standard Webhooks event, or a chat message (Slack, Discord).
    format                TEXT    NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'slack', 'discord')),
    secret                TEXT    NOT NULL,
    previous_secret       TEXT,
    previous_secret_until BIGINT,
    status                TEXT    NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    disabled_reason       TEXT,
    -- The first failure since the last success (the sandbox clock in
    -- zero-config mode): a day of failures disables the endpoint.
    failing_since         BIGINT,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL
);

-- What happened, once, whoever listens: its payload is written when it
-- happens (the purchase as it was then), so a retry sends the same bytes.
CREATE TABLE outgoing_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type   TEXT    NOT NULL,
    -- Deliveries of one purchase go out in the order they happened.
    purchase_id  BIGINT  REFERENCES purchases (id),
    payload      TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);

-- One event for one endpoint.
CREATE TABLE outgoing_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     BIGINT  NOT NULL REFERENCES outgoing_endpoints (id) ON DELETE CASCADE,
    event_id        BIGINT  NOT NULL REFERENCES outgoing_events (id),
    purchase_id     BIGINT,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX outgoing_deliveries_endpoint ON outgoing_deliveries (endpoint_id, id);
CREATE INDEX outgoing_deliveries_due ON outgoing_deliveries (status, next_attempt_at);
CREATE INDEX outgoing_deliveries_order ON outgoing_deliveries (endpoint_id, purchase_id, status, id);

-- Each request made, as the delivery log shows it.
CREATE TABLE outgoing_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id   BIGINT  NOT NULL REFERENCES outgoing_deliveries (id) ON DELETE CASCADE,
    attempted_at  BIGINT  NOT NULL,
    -- NULL: no answer (refused address, timeout, connection error).
    status_code   BIGINT,
    error         TEXT,
    -- The first KB of the answer.
    response_body TEXT    NOT NULL DEFAULT '',
    duration_ms   BIGINT  NOT NULL
);
CREATE INDEX outgoing_attempts_delivery ON outgoing_attempts (delivery_id, id);
