-- Alerts and scheduled backups (issue 25). Kept in step between the two
-- folders. Times of alerts, watches and backups are on the clock of dated
-- decisions (the sandbox's in zero-config mode); refusals are on the
-- system clock, as are the webhook deliveries they are compared with.

-- One row per time a condition held: open while `resolved_at` is NULL (at
-- most one open per kind), with every occurrence seen while it lasted
-- (`subjects`: a dead job's id, a purchase's id, …, space-separated) and
-- how many of them the last email told of.
CREATE TABLE alerts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind                 TEXT    NOT NULL,
    opened_at            BIGINT  NOT NULL,
    resolved_at          BIGINT,
    subjects             TEXT    NOT NULL DEFAULT '',
    occurrences          BIGINT  NOT NULL DEFAULT 0,
    notified_at          BIGINT,
    notified_occurrences BIGINT  NOT NULL DEFAULT 0,
    -- What happened and what it affects, as last seen (shown in Settings).
    summary              TEXT    NOT NULL,
    affects              TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_open ON alerts (kind) WHERE resolved_at IS NULL;
CREATE INDEX alerts_kind ON alerts (kind, id);

-- Since when a condition that must last before it counts has been seen:
-- a paid purchase without an invitation (15 minutes), Stripe's last
-- delivery (24 hours), the last backup (two days). `value` is what was
-- seen then (the last delivery's id), so a change restarts the wait.
CREATE TABLE alert_watches (
    kind    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    since   BIGINT  NOT NULL,
    value   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (kind, subject)
);

-- Webhook deliveries refused for their signature, counted per provider and
-- hour: bounded however much is posted. `seen_event_id` is the newest
-- stored delivery when the last one was refused: one stored after it
-- passed the check, so the refusals are over (ids order what seconds cannot).
CREATE TABLE webhook_refusals (
    provider      TEXT    NOT NULL,
    hour          BIGINT  NOT NULL,
    refused       BIGINT  NOT NULL,
    last_at       BIGINT  NOT NULL,
    last_reason   TEXT    NOT NULL,
    seen_event_id BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, hour)
);

-- Who gets which alerts by email. None: the creator's email gets them all.
CREATE TABLE alert_recipients (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT    NOT NULL UNIQUE,
    -- Space-separated words of `AlertKind`.
    kinds      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- Each scheduled (or asked-for) backup of the SQLite database, checked by
-- opening the copy and running SQLite's integrity check.
CREATE TABLE backups (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    path      TEXT    NOT NULL,
    taken_at  BIGINT  NOT NULL,
    bytes     BIGINT  NOT NULL DEFAULT 0,
    status    TEXT    NOT NULL CHECK (status IN ('verified', 'failed', 'pruned')),
    detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX backups_taken ON backups (status, taken_at);
