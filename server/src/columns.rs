//! A column value set alongside a state change, for the purchase and grant
//! updates built from parts (typed: PostgreSQL will not cast text to bigint).

use crate::domain::Reason;

#[derive(Debug, Clone)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Reason(Option<Reason>),
}
