//! Money for display: the `money` crate, shared with the server so the
//! access log and the pages say amounts the same way.

pub use money::*;
