pub mod account;
pub mod account_team;
pub mod admin;
pub mod checkout_success;
pub mod not_found;
pub mod product;
pub mod setup;
pub mod storefront;
