-- Whether RepoPass made a purchase's access on GitHub ('repopass') or found
-- the account already a collaborator or invited ('preexisting'). RepoPass
-- never changes or removes access it did not make.
ALTER TABLE purchases ADD COLUMN github_access TEXT NOT NULL DEFAULT 'repopass'
    CHECK (github_access IN ('repopass', 'preexisting'));
-- When RepoPass last asked GitHub to invite for this purchase, and for which
-- account: an invitation found after a crash between GitHub's answer and
-- the purchase's update is then known to be RepoPass's own.
ALTER TABLE purchases ADD COLUMN invite_attempted_at BIGINT;
ALTER TABLE purchases ADD COLUMN invite_attempted_user BIGINT;
