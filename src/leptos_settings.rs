//! Finds the Leptos runtime options (output name, site root, …).
//!
//! Under cargo-leptos they arrive as LEPTOS_* variables; a deployed binary
//! reads `Cargo-leptos.toml` instead (LEPTOS_* variables still override it).

use std::path::{Path, PathBuf};

use leptos_config::LeptosOptions;

pub const FILE_NAME: &str = "Cargo-leptos.toml";

#[derive(Debug, thiserror::Error)]
pub enum LeptosSettingsError {
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error(
        "{FILE_NAME} not found in the working directory or next to the binary; set REPOPASS_LEPTOS_CONFIG to its path"
    )]
    NotFound,
}

pub fn load() -> Result<LeptosOptions, LeptosSettingsError> {
    if let Ok(path) = std::env::var("REPOPASS_LEPTOS_CONFIG") {
        let path = Path::new(&path);
        return from_file(path).map(|options| beside(options, path));
    }
    // cargo-leptos sets the whole set of variables; trust them as they are.
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        return leptos_config::get_configuration(None)
            .map(|c| c.leptos_options)
            .map_err(|e| LeptosSettingsError::Invalid { path: "LEPTOS_* variables".into(), reason: e.to_string() });
    }
    let beside_binary = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(FILE_NAME)));
    let candidates = std::iter::once(PathBuf::from(FILE_NAME)).chain(beside_binary);
    for path in candidates {
        if path.is_file() {
            return from_file(&path).map(|options| beside(options, &path));
        }
    }
    Err(LeptosSettingsError::NotFound)
}

/// A relative site root in a settings file is relative to that file, not to
/// wherever the server was started from (an unpacked release run from
/// another folder).
fn beside(mut options: LeptosOptions, file: &Path) -> LeptosOptions {
    let root = Path::new(options.site_root.as_ref());
    if root.is_relative() {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            options.site_root = dir.join(root).display().to_string().into();
        }
    }
    options
}

pub fn from_file(path: &Path) -> Result<LeptosOptions, LeptosSettingsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LeptosSettingsError::Invalid { path: path.display().to_string(), reason: e.to_string() })?;
    leptos_config::get_config_from_str(&text)
        .map_err(|e| LeptosSettingsError::Invalid { path: path.display().to_string(), reason: e.to_string() })
}
