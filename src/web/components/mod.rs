//! The page's components, one file each.

pub mod about;
pub mod console;
pub mod controllers;
pub mod editor;
pub mod faults;
pub mod header;
pub mod inspector;
pub mod map;
pub mod network;
pub mod notices;
pub mod request;
pub mod scheduling;
pub mod timeline;
pub mod tree;
