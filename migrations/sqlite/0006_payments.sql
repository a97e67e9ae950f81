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
-- Covering the dashboard's sums (no table reads).
CREATE INDEX payments_created ON payments (created_at, currency, kind, amount);
CREATE INDEX payments_purchase ON payments (purchase_id);

-- The dashboard's windows over purchases, each covering its query.
CREATE INDEX purchases_paid ON purchases (paid_at, repository_id);
CREATE INDEX purchases_revoked ON purchases (status, revoked_at);
CREATE INDEX purchases_granted ON purchases (status, github_user_id, price_id, amount, currency);

-- Purchases paid before the ledger existed: their first payment.
INSERT INTO payments (purchase_id, stripe_ref, kind, amount, currency, created_at)
SELECT id, 'before-ledger:' || id, 'payment', amount, currency, paid_at
FROM purchases WHERE paid_at IS NOT NULL AND amount > 0;
