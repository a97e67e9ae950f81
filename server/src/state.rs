//! What every request handler and server function shares: built once at
//! start-up, cheap to clone.

use std::sync::Arc;

use crate::{
    github::Github, oauth::GithubOAuth, page_version::PageVersion, page_views::PageViews, stripe::Stripe, Config, Db,
};

/// What every request, page render and worker shares. One allocation:
/// each request clones it several times (every middleware with state, the
/// page's context), and a clone is one reference count.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

#[derive(Debug)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    pub github: Github,
    /// None when no GitHub OAuth app is configured (sign-in unavailable).
    pub oauth: Option<GithubOAuth>,
    pub stripe: Stripe,
    pub page_views: PageViews,
    /// The generation of what published pages show (see `page_version`).
    pub pages: PageVersion,
    /// Nudges this process's worker when a job was enqueued.
    pub wake: crate::worker::Wake,
    /// Stores incoming webhooks in groups (see `intake`).
    pub intake: crate::intake::Intake,
    /// GitHub username answers and their budget.
    pub lookups: Arc<crate::github_accounts::Lookups>,
    /// Stops this server's workers, or starts it again with new settings.
    pub control: Control,
    /// While setup is not finished: the one-time link that lets its holder run it.
    pub setup: Option<Arc<crate::setup::SetupLink>>,
}

/// What the serving process is asked to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Run,
    /// Settings were saved (setup, a new Stripe key): build the server again
    /// from the environment and the saved values, on the same listener.
    Reload,
    /// SIGTERM or Ctrl-C: finish what is running, then exit.
    Stop,
}

/// Shared by the server loop and the workers of one start of the server.
#[derive(Debug, Clone)]
pub struct Control(Arc<tokio::sync::watch::Sender<Next>>);

impl Default for Control {
    fn default() -> Self {
        Control(Arc::new(tokio::sync::watch::Sender::new(Next::Run)))
    }
}

impl Control {
    pub fn request(&self, next: Next) {
        // A stop is final: a reload asked for while stopping does not undo it.
        self.0.send_if_modified(|now| {
            let change = *now != Next::Stop && *now != next;
            if change {
                *now = next;
            }
            change
        });
    }

    pub fn next(&self) -> Next {
        *self.0.borrow()
    }

    /// Completes once a reload or a stop was asked for.
    pub async fn ended(&self) -> Next {
        let mut rx = self.0.subscribe();
        let next = match rx.wait_for(|n| *n != Next::Run).await {
            Ok(n) => *n,
            Err(_) => Next::Stop,
        };
        next
    }
}

/// Why the shared state could not be built (bad credentials' shape).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("GitHub: {0}")]
    Github(#[from] crate::github::GithubError),
    #[error("Stripe: {0}")]
    Stripe(#[from] crate::stripe::StripeError),
}

impl AppState {
    /// `setup`: while setup is not finished, the link that runs it.
    pub fn new(config: Config, db: Db, setup: Option<Arc<crate::setup::SetupLink>>) -> Result<Self, StateError> {
        let github = Github::from_config(&config)?;
        let oauth = GithubOAuth::from_config(&config);
        let stripe = Stripe::from_config(&config)?;
        let lookups = Arc::new(crate::github_accounts::Lookups::new(config.limits.github_lookups_per_hour));
        let intake = crate::intake::Intake::new(db.clone());
        Ok(AppState(Arc::new(Services {
            config: Arc::new(config),
            db,
            github,
            oauth,
            stripe,
            page_views: PageViews::default(),
            pages: PageVersion::default(),
            wake: Default::default(),
            intake,
            lookups,
            control: Control::default(),
            setup,
        })))
    }
}
