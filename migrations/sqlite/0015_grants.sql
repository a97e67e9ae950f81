-- Access per repository (issue 20): a purchase grants every repository of
-- its product, and each repository's invitation, acceptance and removal is
-- a grant of its own. What GitHub said about a purchase's one repository
-- (invitation, whether the access was RepoPass's) moves from the purchase
-- to its grant. Kept in step with ../postgres/0015_grants.sql.
CREATE TABLE grants (
    purchase_id           BIGINT NOT NULL REFERENCES purchases (id),
    repository_id         BIGINT NOT NULL REFERENCES repositories (id),
    -- The account the grant is for (the purchase's; kept here so one
    -- account's grants on a repository are found by an index).
    github_user_id        BIGINT NOT NULL,
    -- waiting: to be invited (queued behind GitHub's limits, or refused for
    -- `status_reason`); invited; active; removed.
    status                TEXT   NOT NULL CHECK (status IN ('waiting', 'invited', 'active', 'removed')),
    status_reason         TEXT,
    status_reason_code    TEXT,
    -- 'preexisting': the account had this access before RepoPass was
    -- involved; RepoPass never changes or removes it.
    github_access         TEXT   NOT NULL DEFAULT 'repopass' CHECK (github_access IN ('repopass', 'preexisting')),
    github_invitation_id  BIGINT,
    invitation_url        TEXT,
    invited_at            BIGINT,
    activated_at          BIGINT,
    removed_at            BIGINT,
    -- When RepoPass last asked GitHub to invite for this grant, and for
    -- which account (what GitHub shows after a crash is then known ours).
    invite_attempted_at   BIGINT,
    invite_attempted_user BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (purchase_id, repository_id)
);
CREATE INDEX grants_repository_user ON grants (repository_id, github_user_id, status);
CREATE INDEX grants_status_invited ON grants (status, invited_at);

-- Every purchase that was ever granted (or waits to be) keeps what it had,
-- now as the grant of its product's one repository.
INSERT INTO grants (purchase_id, repository_id, github_user_id, status, status_reason, status_reason_code,
                    github_access, github_invitation_id, invitation_url, invited_at, activated_at, removed_at,
                    invite_attempted_at, invite_attempted_user, created_at, updated_at)
SELECT p.id, pr.repository_id, p.github_user_id,
       CASE p.status WHEN 'paid' THEN 'waiting' WHEN 'invited' THEN 'invited' WHEN 'active' THEN 'active' ELSE 'removed' END,
       CASE WHEN p.status = 'paid' THEN p.status_reason END,
       CASE WHEN p.status = 'paid' THEN p.status_reason_code END,
       p.github_access, p.github_invitation_id, p.invitation_url, p.invited_at, p.activated_at,
       CASE WHEN p.status = 'revoked' THEN p.revoked_at END,
       p.invite_attempted_at, p.invite_attempted_user, p.created_at, p.updated_at
FROM purchases p JOIN product_repositories pr ON pr.product_id = p.product_id
WHERE p.status IN ('paid', 'invited', 'active')
   OR (p.status = 'revoked' AND p.paid_at IS NOT NULL);

ALTER TABLE purchases DROP COLUMN github_invitation_id;
ALTER TABLE purchases DROP COLUMN invitation_url;
ALTER TABLE purchases DROP COLUMN github_access;
ALTER TABLE purchases DROP COLUMN invite_attempted_at;
ALTER TABLE purchases DROP COLUMN invite_attempted_user;

-- The repository a log entry is about, when it is about one (an
-- invitation, an acceptance, a removal); NULL: the whole purchase. The log
-- is append-only, so entries written before this stay as they were: their
-- product had one repository.
ALTER TABLE access_log ADD COLUMN repository_id BIGINT REFERENCES repositories (id);
