//! How often a price is paid.

use crate::{Error, Result};

/// How often a price is paid. The REST API spells these `one_time`, `month`
/// and `year` (Stripe's words); the database `one_time`, `monthly`, `yearly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    OneTime,
    Month,
    Year,
}

impl Interval {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "one_time" | "lifetime" => Ok(Interval::OneTime),
            "month" | "monthly" => Ok(Interval::Month),
            "year" | "yearly" => Ok(Interval::Year),
            _ => Err(Error::invalid("interval", "choose one_time, month or year")),
        }
    }
    pub fn db(self) -> &'static str {
        match self {
            Interval::OneTime => "one_time",
            Interval::Month => "monthly",
            Interval::Year => "yearly",
        }
    }
    pub fn api(self) -> &'static str {
        match self {
            Interval::OneTime => "one_time",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }
    /// What a buyer gets, in words: "one-time purchase", "monthly subscription".
    pub fn words(self) -> &'static str {
        match self {
            Interval::OneTime => "one-time purchase",
            Interval::Month => "monthly subscription",
            Interval::Year => "yearly subscription",
        }
    }

    pub fn is_subscription(self) -> bool {
        self != Interval::OneTime
    }
}

// Stored as the database's word (`prices.kind`), read back strictly.
impl sqlx::Type<sqlx::Any> for Interval {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <str as sqlx::Type<sqlx::Any>>::type_info()
    }
    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <str as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for Interval {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&'q str as sqlx::Encode<'q, sqlx::Any>>::encode(self.db(), buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Interval {
    fn decode(
        value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        let word = <String as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
        match word.as_str() {
            "one_time" => Ok(Interval::OneTime),
            "monthly" => Ok(Interval::Month),
            "yearly" => Ok(Interval::Year),
            other => Err(format!("'{other}' is not a price kind").into()),
        }
    }
}
