-- Whether RepoPass made a purchase's access on GitHub ('repopass') or found
-- the account already a collaborator or invited ('preexisting'). RepoPass
-- never changes or removes access it did not make.
ALTER TABLE purchases ADD COLUMN github_access TEXT NOT NULL DEFAULT 'repopass'
    CHECK (github_access IN ('repopass', 'preexisting'));
