//! What the pages do with a server action's outcome: an error to show
//! under its form, and on success a notice and a fresh read of the page's
//! data (the `version` its resource is keyed on).

use leptos::prelude::*;

use crate::error::AppError;

/// The error of an action's last result, as the user should read it.
pub fn error_of<T>(value: Option<Result<T, AppError>>) -> Option<String> {
    match value {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    }
}

/// Once the action succeeds: show `say(result)` and read the data again.
/// When it fails, an earlier success's notice goes: the page never shows
/// "done" and "refused" at once.
pub fn on_success<T: 'static>(
    value: impl Fn() -> Option<Result<T, AppError>> + 'static,
    version: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    say: impl Fn(&T) -> String + 'static,
) {
    Effect::new(move |_| match value() {
        Some(Ok(v)) => {
            notice.set(Some(say(&v)));
            version.update(|n| *n += 1);
        }
        Some(Err(_)) => notice.set(None),
        None => {}
    });
}
