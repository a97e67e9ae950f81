pub mod action_result;
pub mod container;
pub mod layout;
pub mod repo_access;
pub mod sandbox_banner;
pub mod theme_toggle;
pub mod unsaved;
