//! RepoPass's vocabulary as types: the states of purchases, repositories,
//! webhook deliveries, jobs and emails; why a purchase is where it is; the
//! ids that must not be mixed up. Nothing here does I/O. Each text type is
//! stored as the same text the CHECK constraints list, read and written
//! through sqlx directly, and compared only as a type: a decision never
//! reads a word.

mod alert;
mod holder;
mod ids;
mod interval;
mod reason;
mod status;

pub use alert::{AlertKind, BackupStatus};
pub use holder::{GithubTeam, Holder};
pub use ids::{Email, GithubLogin, GithubUserId, IntBool, Money, PriceId, ProductId, PurchaseId, RepositoryId};
pub use interval::Interval;
pub use reason::Reason;
pub use status::{
    AccessOrigin, Action, CauseKind, DeliveryStatus, DriftKind, EmailKind, EmailStatus, EndpointFormat, EndpointStatus,
    EventStatus, GithubState, GrantStatus, IllegalMove, JobStatus, ProductStatus, Provider, PurchaseStatus,
    WebhookEventType,
};

/// A stored word that is not one of its type's words (a newer version's
/// row, or a hand edit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a known {what}")]
pub struct Unknown {
    pub what: &'static str,
    pub value: String,
}

/// An enum stored as text: `as_str`/`Display`/`FromStr` are the only places
/// its words appear, and sqlx reads and binds it as text on both databases.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::Unknown;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::domain::Unknown { what: stringify!($name), value: other.to_owned() }),
                }
            }
        }

        impl ::sqlx::Type<::sqlx::Any> for $name {
            fn type_info() -> ::sqlx::any::AnyTypeInfo {
                <str as ::sqlx::Type<::sqlx::Any>>::type_info()
            }
            fn compatible(ty: &::sqlx::any::AnyTypeInfo) -> bool {
                <str as ::sqlx::Type<::sqlx::Any>>::compatible(ty)
            }
        }

        impl<'q> ::sqlx::Encode<'q, ::sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <::sqlx::Any as ::sqlx::Database>::ArgumentBuffer<'q>,
            ) -> ::std::result::Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <&'q str as ::sqlx::Encode<'q, ::sqlx::Any>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> ::sqlx::Decode<'r, ::sqlx::Any> for $name {
            fn decode(
                value: <::sqlx::Any as ::sqlx::Database>::ValueRef<'r>,
            ) -> ::std::result::Result<Self, ::sqlx::error::BoxDynError> {
                let text = <String as ::sqlx::Decode<'r, ::sqlx::Any>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }
    };
}
pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_its_value() {
        fn round_trip<T: Copy + std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug>(all: &[T])
        where
            T::Err: std::fmt::Debug,
        {
            for v in all {
                assert_eq!(v.to_string().parse::<T>().unwrap(), *v);
            }
        }
        round_trip(PurchaseStatus::ALL);
        round_trip(ProductStatus::ALL);
        round_trip(GithubState::ALL);
        round_trip(EventStatus::ALL);
        round_trip(JobStatus::ALL);
        round_trip(EmailStatus::ALL);
        round_trip(EmailKind::ALL);
        round_trip(WebhookEventType::ALL);
        round_trip(EndpointStatus::ALL);
        round_trip(EndpointFormat::ALL);
        round_trip(DeliveryStatus::ALL);
        round_trip(DriftKind::ALL);
        round_trip(Reason::ALL);
        round_trip(Action::ALL);
        round_trip(CauseKind::ALL);
        round_trip(Provider::ALL);
        round_trip(AccessOrigin::ALL);
        assert_eq!(
            "granted".parse::<PurchaseStatus>().unwrap_err().to_string(),
            "'granted' is not a known PurchaseStatus"
        );
    }
}
