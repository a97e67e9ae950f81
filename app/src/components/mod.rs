pub mod container;
pub mod layout;
pub mod theme_toggle;
