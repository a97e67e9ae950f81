//! Values that must not be mixed up: ids of different tables, a GitHub login
//! and an email that were checked once, at the edge, and an amount that
//! never travels without its currency.

use serde::{Deserialize, Serialize};

/// A row id of one table, read and bound through sqlx as the integer it is.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::sqlx::Type<::sqlx::Any> for $name {
            fn type_info() -> ::sqlx::any::AnyTypeInfo {
                <i64 as ::sqlx::Type<::sqlx::Any>>::type_info()
            }
            fn compatible(ty: &::sqlx::any::AnyTypeInfo) -> bool {
                <i64 as ::sqlx::Type<::sqlx::Any>>::compatible(ty)
            }
        }

        impl<'q> ::sqlx::Encode<'q, ::sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <::sqlx::Any as ::sqlx::Database>::ArgumentBuffer<'q>,
            ) -> ::std::result::Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <i64 as ::sqlx::Encode<'q, ::sqlx::Any>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> ::sqlx::Decode<'r, ::sqlx::Any> for $name {
            fn decode(
                value: <::sqlx::Any as ::sqlx::Database>::ValueRef<'r>,
            ) -> ::std::result::Result<Self, ::sqlx::error::BoxDynError> {
                Ok($name(<i64 as ::sqlx::Decode<'r, ::sqlx::Any>>::decode(value)?))
            }
        }
    };
}

id_type!(
    /// `purchases.id` (never shown to buyers: they see the random public id).
    PurchaseId
);
id_type!(
    /// `prices.id`.
    PriceId
);
id_type!(
    /// `products.id`: what is sold (a page, its prices, its repositories).
    ProductId
);
id_type!(
    /// `repositories.id` (RepoPass's, not GitHub's repository id).
    RepositoryId
);
id_type!(
    /// GitHub's numeric account id: stays when the login changes.
    GithubUserId
);

/// A 0/1 INTEGER column (both databases store flags so), read once at the
/// row boundary: `#[sqlx(try_from = "IntBool")] pub active: bool`.
#[derive(Debug, Clone, Copy)]
pub struct IntBool(i64);

impl From<IntBool> for bool {
    fn from(flag: IntBool) -> bool {
        flag.0 != 0
    }
}

impl ::sqlx::Type<::sqlx::Any> for IntBool {
    fn type_info() -> ::sqlx::any::AnyTypeInfo {
        <i64 as ::sqlx::Type<::sqlx::Any>>::type_info()
    }
    fn compatible(ty: &::sqlx::any::AnyTypeInfo) -> bool {
        <i64 as ::sqlx::Type<::sqlx::Any>>::compatible(ty)
    }
}

impl<'r> ::sqlx::Decode<'r, ::sqlx::Any> for IntBool {
    fn decode(value: <::sqlx::Any as ::sqlx::Database>::ValueRef<'r>) -> Result<Self, ::sqlx::error::BoxDynError> {
        Ok(IntBool(<i64 as ::sqlx::Decode<'r, ::sqlx::Any>>::decode(value)?))
    }
}

/// A GitHub login as GitHub allows them: 1–39 characters, letters, digits
/// and single hyphens, not at either end.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GithubLogin(String);

impl GithubLogin {
    /// `@octocat` and ` octocat ` read as `octocat`; anything GitHub would
    /// not accept as a login is `None`.
    pub fn parse(raw: &str) -> Option<GithubLogin> {
        let login = raw.trim().trim_start_matches('@');
        let ok = (1..=39).contains(&login.len())
            && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !login.starts_with('-')
            && !login.ends_with('-')
            && !login.contains("--");
        ok.then(|| GithubLogin(login.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for GithubLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address as the buy form and the sign-in link accept it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Trimmed; `None` unless it is a valid address with a dot in its domain
    ///  of at most 254 characters.
    pub fn parse(raw: &str) -> Option<Email> {
        let email = raw.trim();
        let ok = !email.is_empty()
            && email.len() <= 254
            && email_address::EmailAddress::is_valid(email)
            && email.contains('.');
        ok.then(|| Email(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in the currency's minor units (cents), as Stripe counts it,
/// with its lowercase ISO currency code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: String,
}

impl Money {
    pub fn new(amount: i64, currency: &str) -> Money {
        Money { amount, currency: currency.to_ascii_lowercase() }
    }
}

/// `$19.99`, `¥500`, `19.99 CHF`: as the pages say it (the `money` crate).
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&money::format_amount(self.amount, &self.currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_like_the_pages_write_it() {
        assert_eq!(Money::new(5000, "USD").to_string(), "$50.00");
        assert_eq!(Money::new(123_456, "eur").to_string(), "€1,234.56");
        assert_eq!(Money::new(500, "jpy").to_string(), "¥500");
        assert_eq!(Money::new(1990, "chf").to_string(), "19.90 CHF");
    }

    #[test]
    fn logins_and_emails_are_checked_once() {
        assert_eq!(GithubLogin::parse(" @octo-cat ").unwrap().as_str(), "octo-cat");
        for bad in ["", "-a", "a-", "a--b", "a b", "ü", &"a".repeat(40)] {
            assert!(GithubLogin::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Email::parse(" a@example.com ").unwrap().as_str(), "a@example.com");
        for bad in ["", "a", "a@b", "@example.com", "a@@example.com"] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }
}
