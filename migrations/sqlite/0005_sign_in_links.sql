-- One-time sign-in links for customers (sent to a purchase email). Only a
-- hash of the token is kept: a copy of the database signs no one in.
CREATE TABLE sign_in_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT    NOT NULL UNIQUE,
    email      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
-- Counting an address's recent links (the per-address rate limit).
CREATE INDEX sign_in_links_email ON sign_in_links (email, created_at);
