-- Money in and out, one row per payment or refund
-- (a checkout's payment, each paid renewal invoice, each refund as a
-- negative amount): what revenue is counted from. Keyed by Stripe's id of
-- what happened, so a webhook delivered twice counts once.
CREATE TABLE payments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    purchase_id BIGINT  NOT NULL REFERENCES purchases (id),
    stripe_ref  TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('payment', 'renewal', 'refund')),
    amount      BIGINT  NOT NULL,
    currency    TEXT    NOT NULL CHECK (length(currency) = 3),
    created_at  BIGINT  NOT NULL
);
CREATE INDEX payments_created ON payments (created_at, currency);
CREATE INDEX payments_purchase ON payments (purchase_id);

-- The dashboard's windows over purchases.
CREATE INDEX purchases_paid ON purchases (paid_at);
CREATE INDEX purchases_revoked ON purchases (revoked_at);
