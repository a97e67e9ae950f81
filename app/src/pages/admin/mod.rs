//! The creator's admin panel. Every page sits behind `AdminGate`; the server
//! functions behind it check again (the gate is for people, not security).

pub mod alerts;
pub mod api_keys;
mod cover;
pub mod customer;
pub mod customers;
mod dashboard;
pub mod events;
mod gate;
pub mod home;
mod prices;
mod product_repositories;
pub mod repositories;
pub mod repository_edit;
pub mod settings;
pub mod webhooks;
