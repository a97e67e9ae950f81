//! The creator's admin panel. Every page sits behind `AdminGate`; the server
//! functions behind it check again (the gate is for people, not security).

pub mod api_keys;
mod gate;
pub mod home;
pub mod repositories;
pub mod repository_edit;
pub mod settings;
