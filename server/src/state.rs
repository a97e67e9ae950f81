//! What every request handler and server function shares: built once at
//! start-up, cheap to clone.

use std::sync::Arc;

use crate::{Config, Db};

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Self {
        AppState { config: Arc::new(config), db }
    }
}
