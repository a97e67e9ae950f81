//! The one way a setting is read: trimmed (empty counts as unset), checked,
//! and refused as `VARIABLE: what is wrong` without echoing a secret.

use secrecy::SecretString;
use url::Url;

use super::{bad, redact_url, ConfigError};

/// The variables of one source (the environment, or a test's map).
pub struct Vars<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Vars<'a> {
    pub fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Vars { get }
    }

    /// The value, if set (`FOO=` in a .env file means "not configured").
    pub fn text(&self, name: &str) -> Option<String> {
        (self.get)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.text(name).map(SecretString::from)
    }

    /// A whole number in `range`, `default` when unset.
    pub fn number(
        &self,
        name: &'static str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
        what: &str,
    ) -> Result<u32, ConfigError> {
        match self.text(name) {
            None => Ok(default),
            Some(raw) => raw.parse::<u32>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                bad(name, format!("'{raw}' is not a number of {what} between {} and {}", range.start(), range.end()))
            }),
        }
    }

    /// An http(s) URL, `default` when unset.
    pub fn url(&self, name: &'static str, default: Option<&str>) -> Result<Option<Url>, ConfigError> {
        self.text(name).or(default.map(str::to_owned)).map(|raw| http_url(name, &raw)).transpose()
    }

    /// The items of a comma-separated setting, each read by `item`.
    pub fn list<T>(&self, name: &'static str, item: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, ConfigError> {
        match self.text(name) {
            None => Ok(Vec::new()),
            Some(list) => comma_list(&list).map(|i| item(i).map_err(|problem| bad(name, problem))).collect(),
        }
    }
}

pub fn http_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    match Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        _ => Err(bad(var, format!("'{}' is not an http(s) URL", redact_url(raw)))),
    }
}

/// The items of a comma-separated setting, trimmed, empty ones skipped.
fn comma_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}
