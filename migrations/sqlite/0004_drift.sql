-- What reconciliation found: purchases without the access they paid for,
-- and access nobody paid for. Each run replaces a repository's open findings.
CREATE TABLE drift (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id  BIGINT  NOT NULL REFERENCES repositories (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('paid_without_access', 'access_without_purchase')),
    github_user_id BIGINT  NOT NULL,
    github_login   TEXT    NOT NULL,
    purchase_id    BIGINT  REFERENCES purchases (id),
    detail         TEXT    NOT NULL DEFAULT '',
    detected_at    BIGINT  NOT NULL
);
CREATE INDEX drift_repository ON drift (repository_id, kind);
