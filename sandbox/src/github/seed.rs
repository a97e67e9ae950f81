//! The sandbox's starting world: a creator who owns some private
//! repositories (one through an organisation, where permission levels
//! apply), and a few people who can buy.

use super::model::*;
use crate::{Error, Sandbox};

/// The account the sandbox's `GITHUB_TOKEN` belongs to.
pub const CREATOR: &str = "sandbox-creator";
pub const ORG: &str = "sandbox-org";

pub async fn seed(sb: &Sandbox) -> Result<(), Error> {
    let now = sb.store().now().await?;
    let people: [(i64, &str, bool, Option<&str>); 7] = [
        (1001, CREATOR, false, Some("Sandy Creator")),
        (2001, ORG, true, Some("Sandbox Org")),
        (583231, "octocat", false, Some("The Octocat")),
        (1002, "alice", false, Some("Alice Buyer")),
        (1003, "bob", false, Some("Bob Buyer")),
        (1004, "carol", false, Some("Carol Buyer")),
        (1005, "mona", false, Some("Mona Lisa Octocat")),
    ];
    for (id, login, organization, name) in people {
        let user = User {
            id,
            login: login.to_owned(),
            organization,
            name: name.map(str::to_owned),
            email: None,
            admins: if organization { vec![CREATOR.to_owned()] } else { vec![] },
            created_at: now,
        };
        sb.store().insert_new(USER, login, None, &user).await?;
    }
    let repos: [(i64, &str, &str, bool, &str); 4] = [
        (5001, CREATOR, "pro-kit", true, "The professional starter kit"),
        (5002, CREATOR, "course-materials", true, "Exercises and solutions for the course"),
        (5003, ORG, "enterprise-sdk", true, "SDK for enterprise customers"),
        (5004, CREATOR, "public-demo", false, "A public demo repository"),
    ];
    for (id, owner, name, private, description) in repos {
        let repo = Repo {
            id,
            owner: owner.to_owned(),
            name: name.to_owned(),
            private,
            archived: false,
            description: Some(description.to_owned()),
            created_at: now,
        };
        sb.store().insert_new(REPO, &Repo::key(owner, name), Some(owner), &repo).await?;
    }
    Ok(())
}
