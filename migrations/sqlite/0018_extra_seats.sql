-- Seats added to a team purchase of a one-time price (issue 21): each is
-- a payment of its own through Stripe Checkout, applied once however often
-- Stripe reports it, and taken back once if that payment is refunded in
-- full or disputed. Kept in step between the two folders.
CREATE TABLE extra_seats (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    purchase_id              BIGINT NOT NULL REFERENCES purchases (id),
    stripe_checkout_session_id TEXT NOT NULL UNIQUE,
    stripe_payment_intent_id TEXT UNIQUE,
    seats                    BIGINT NOT NULL CHECK (seats >= 1),
    amount                   BIGINT NOT NULL,
    currency                 TEXT   NOT NULL,
    paid_at                  BIGINT NOT NULL,
    -- Refunded in full or disputed: the seats were taken off again.
    returned_at              BIGINT
);
CREATE INDEX extra_seats_purchase ON extra_seats (purchase_id);
