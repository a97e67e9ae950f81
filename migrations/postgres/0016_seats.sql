-- Team purchases (issue 21): a price sold per seat, a company purchase of
-- several seats handed out by its managers, and each seat holder's own
-- access. Kept in step between the two folders.

-- A price sold per seat: the buyer picks how many (Stripe's quantity),
-- between these. NULL: one purchase, one person (every price so far).
ALTER TABLE prices ADD COLUMN seats_min BIGINT CHECK (seats_min IS NULL OR seats_min >= 1);
ALTER TABLE prices ADD COLUMN seats_max BIGINT CHECK (seats_max IS NULL OR seats_max >= 1);

-- A company purchase: the seats paid for now, and (when the managers
-- chose fewer) how many from the next renewal on. NULL: not per seat.
ALTER TABLE purchases ADD COLUMN seats BIGINT CHECK (seats IS NULL OR seats >= 1);
ALTER TABLE purchases ADD COLUMN seats_next BIGINT CHECK (seats_next IS NULL OR seats_next >= 1);
-- A seat: the holder's own purchase row (its grants, its access log),
-- given by a manager of the company purchase it belongs to. It carries no
-- payment; it lasts while its company purchase does.
ALTER TABLE purchases ADD COLUMN seat_of BIGINT REFERENCES purchases (id);
CREATE INDEX purchases_seat_of ON purchases (seat_of, status);

-- A company purchase holds no access itself (its seats do): it may be
-- active for the same account as that account's own seat.
DROP INDEX purchases_one_grant;
CREATE UNIQUE INDEX purchases_one_grant ON purchases (product_id, github_user_id)
    WHERE status IN ('invited', 'active') AND seats IS NULL;

-- Who may hand out a company purchase's seats: its buyer, and whoever a
-- manager appointed. By GitHub account (they sign in with it).
CREATE TABLE purchase_managers (
    purchase_id    BIGINT NOT NULL REFERENCES purchases (id),
    github_user_id BIGINT NOT NULL,
    github_login   TEXT   NOT NULL,
    -- The manager who appointed them; NULL: the buyer.
    appointed_by   BIGINT,
    appointed_at   BIGINT NOT NULL,
    PRIMARY KEY (purchase_id, github_user_id)
);
CREATE INDEX purchase_managers_user ON purchase_managers (github_user_id);
