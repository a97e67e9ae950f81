//! GitHub accounts: a buyer's username looked up through the creator's
//! connection, and the person signing in with their own OAuth token.

use super::{builder, Github, GithubError};

/// A GitHub account as RepoPass needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubUser {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub avatar_url: String,
    /// GitHub's word for the account: `User`, `Organization`, `Bot`, ...
    pub kind: String,
}

impl GithubUser {
    /// A person's account (only people can be invited as collaborators).
    pub fn is_person(&self) -> bool {
        self.kind == "User"
    }
}

impl From<octocrab::models::Author> for GithubUser {
    fn from(a: octocrab::models::Author) -> Self {
        GithubUser {
            id: a.id.0 as i64,
            login: a.login,
            name: None,
            avatar_url: a.avatar_url.to_string(),
            kind: a.r#type,
        }
    }
}

impl Github {
    /// The account called `login`, asked through the connection that
    /// manages `owner`'s repositories; `None` if GitHub has no such account.
    pub async fn user_by_login(&self, owner: &str, login: &str) -> Result<Option<GithubUser>, GithubError> {
        let client = self.for_owner(owner).await?;
        match client.users(login).profile().await.map_err(GithubError::from) {
            Ok(p) => Ok(Some(GithubUser {
                id: p.id.0 as i64,
                login: p.login,
                name: p.name,
                avatar_url: p.avatar_url.to_string(),
                kind: p.r#type,
            })),
            Err(GithubError::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Who holds this OAuth token (the person signing in).
    pub async fn signed_in_user(&self, access_token: &str) -> Result<GithubUser, GithubError> {
        let client = builder(&self.inner.base)?.user_access_token(access_token.to_owned()).build()?;
        Ok(client.current().user().await?.into())
    }

    /// The token holder's verified email addresses, lowercased
    /// (`GET /user/emails`, scope `user:email`).
    pub async fn verified_emails(&self, access_token: &str) -> Result<Vec<String>, GithubError> {
        #[derive(serde::Deserialize)]
        struct UserEmail {
            email: String,
            verified: bool,
        }
        let client = builder(&self.inner.base)?.user_access_token(access_token.to_owned()).build()?;
        let emails: Vec<UserEmail> = client.get("/user/emails", None::<&()>).await?;
        Ok(emails.into_iter().filter(|e| e.verified).map(|e| e.email.to_lowercase()).collect())
    }
}
