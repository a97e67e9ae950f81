-- Settings RepoPass obtains at run time (the setup wizard, the settings
-- page): Stripe and GitHub App credentials and the like. Each value is
-- encrypted (XChaCha20-Poly1305) under the secret key, which never reaches
-- the database; `key_id` names the key it was sealed with, so a wrong key is
-- said as such and a rotation can be finished after a crash.
CREATE TABLE stored_settings (
    name       TEXT   PRIMARY KEY NOT NULL,
    key_id     TEXT   NOT NULL,
    nonce      TEXT   NOT NULL,
    sealed     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The sandbox signs each delivery with its endpoint's own secret (a Stripe
-- webhook endpoint, a GitHub App's webhook); none means the built-in one.
ALTER TABLE sandbox_deliveries ADD COLUMN endpoint_id TEXT;
