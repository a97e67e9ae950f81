-- Every request for a sign-in link, per address, whether or not the address
-- bought anything: the per-address cap must answer everyone alike. The
-- address is kept only as a SHA-256 hash; rows older than the window are
-- deleted as new requests arrive.
CREATE TABLE sign_in_requests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email_hash TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX sign_in_requests_email ON sign_in_requests (email_hash, created_at);
CREATE INDEX sign_in_requests_age ON sign_in_requests (created_at);
