//! "Sign in with GitHub" through the oauth2 crate. The CSRF state is kept in
//! the caller's session (see the HTTP layer); this module builds the
//! authorize URL and exchanges the code.

use oauth2::{
    basic::{BasicClient, BasicErrorResponse},
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, RedirectUrl,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};

use crate::Config;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("GitHub sign-in is not configured: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET")]
    NotConfigured,
    #[error("GitHub refused the sign-in ({0}); please try again")]
    Refused(String),
    #[error("could not reach GitHub to finish signing in: {0}")]
    Transport(String),
}

#[derive(Clone)]
pub struct GithubOAuth {
    client: Client,
    http: oauth2::reqwest::Client,
}

impl std::fmt::Debug for GithubOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubOAuth").field("auth_url", &self.client.auth_uri().as_str()).finish_non_exhaustive()
    }
}

impl GithubOAuth {
    /// `None` when no OAuth app is configured.
    pub fn from_config(config: &Config) -> Option<Self> {
        let (id, secret) = (config.github.client_id.as_ref()?, config.github.client_secret.as_ref()?);
        let web = config.github.web_url.as_str().trim_end_matches('/');
        let redirect = config.public_url.join("auth/github/callback").ok()?;
        let client = BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize")).ok()?)
            .set_token_uri(TokenUrl::new(format!("{web}/login/oauth/access_token")).ok()?)
            .set_redirect_uri(RedirectUrl::new(redirect.to_string()).ok()?);
        // No redirects: the token endpoint must answer itself (oauth2's advice
        // against SSRF). Bounded: a sign-in never waits on GitHub forever.
        let http = oauth2::reqwest::ClientBuilder::new()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .ok()?;
        Some(GithubOAuth { client, http })
    }

    /// Where to send the browser, and the state to remember in its session.
    /// `emails`: also ask for the account's email addresses (customers: the
    /// billing portal opens for the address a purchase was paid with).
    pub fn authorize_url(&self, emails: bool) -> (String, String) {
        // read:user is all an admin's sign-in needs: who you are, not your repositories.
        let mut request = self.client.authorize_url(CsrfToken::new_random).add_scope(Scope::new("read:user".into()));
        if emails {
            request = request.add_scope(Scope::new("user:email".into()));
        }
        let (url, state) = request.url();
        (url.to_string(), state.secret().clone())
    }

    /// Trades the callback's code for the user's access token.
    pub async fn exchange(&self, code: &str) -> Result<SecretString, OAuthError> {
        match self.client.exchange_code(AuthorizationCode::new(code.to_owned())).request_async(&self.http).await {
            Ok(token) => Ok(SecretString::from(token.access_token().secret().to_owned())),
            Err(RequestTokenError::ServerResponse(e)) => Err(OAuthError::Refused(e.error().to_string())),
            // GitHub answers errors with status 200, which oauth2 reads as a malformed token.
            Err(RequestTokenError::Parse(_, body)) => match serde_json::from_slice::<BasicErrorResponse>(&body) {
                Ok(e) => Err(OAuthError::Refused(e.error().to_string())),
                Err(_) => Err(OAuthError::Refused("unexpected answer from the token endpoint".into())),
            },
            Err(RequestTokenError::Request(e)) => Err(OAuthError::Transport(e.to_string())),
            Err(RequestTokenError::Other(e)) => Err(OAuthError::Transport(e)),
        }
    }
}
