-- The GitHub login a change happened to, kept with the change: after access
-- moves to another account, the history still says who paid. Older entries
-- have none and fall back to the purchase's current login.
ALTER TABLE access_log ADD COLUMN github_login TEXT;
