//! The creator's admin panel. Every page sits behind `AdminGate`; the server
//! functions behind it check again (the gate is for people, not security).

mod gate;
pub mod home;
pub mod settings;
