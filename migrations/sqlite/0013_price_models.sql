-- Pricing models beyond a fixed amount (issue 20). Kept in step between
-- the two folders.
--
-- Pay what you want: the buyer names the amount at checkout (Stripe's
-- custom_unit_amount); `amount` is then the least they may pay, and
-- `suggested_amount` what the checkout starts from. One-time prices only.
ALTER TABLE prices ADD COLUMN custom_amount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prices ADD COLUMN suggested_amount BIGINT;
-- A one-time price that gives access for this many days ("12 months of
-- updates"); NULL: for as long as the repository is sold (today's meaning).
ALTER TABLE prices ADD COLUMN access_days BIGINT CHECK (access_days IS NULL OR access_days > 0);
-- When a purchase's period of access ends (UTC unix seconds); NULL: it
-- does not end by date (lifetime, or a subscription's own period).
ALTER TABLE purchases ADD COLUMN access_until BIGINT;
CREATE INDEX purchases_access_until ON purchases (access_until);

-- The creator's preferences: plain values, not secrets (those are in
-- stored_settings, sealed).
CREATE TABLE preferences (
    name       TEXT   PRIMARY KEY NOT NULL,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Warnings sent before access ends: one per purchase, end date and
-- threshold, so each is sent once, and a new end date is warned afresh.
CREATE TABLE access_warnings (
    purchase_id BIGINT NOT NULL REFERENCES purchases (id),
    ends_at     BIGINT NOT NULL,
    days_before BIGINT NOT NULL,
    sent_at     BIGINT NOT NULL,
    PRIMARY KEY (purchase_id, ends_at, days_before)
);
