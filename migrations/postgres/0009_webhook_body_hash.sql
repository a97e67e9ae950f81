-- (PostgreSQL dialect of ../sqlite/0009_webhook_body_hash.sql.)
-- GitHub signs only the body (no timestamp, nothing about the delivery id):
-- a captured delivery replayed under a new X-GitHub-Delivery must not be
-- processed again, so a GitHub body is stored once, by its SHA-256.
ALTER TABLE webhook_events ADD COLUMN payload_sha256 TEXT;
CREATE UNIQUE INDEX webhook_events_body ON webhook_events (provider, payload_sha256) WHERE payload_sha256 IS NOT NULL;
