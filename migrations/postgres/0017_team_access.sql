-- Team access (issue 21, part 4): a product whose repositories all belong
-- to one GitHub organisation may grant them through a GitHub team that
-- RepoPass created (or adopted) for it: a holder is a team member, and a
-- repository added to the product is added to the team once. NULL: each
-- buyer is a collaborator of each repository (personal repositories
-- always). Kept in step between the two folders.
ALTER TABLE products ADD COLUMN github_team_org TEXT;
ALTER TABLE products ADD COLUMN github_team_slug TEXT;
ALTER TABLE products ADD COLUMN github_team_id BIGINT;
