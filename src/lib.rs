//! cherga: electronic queue and appointment system for communal service centers.

rust_i18n::i18n!("locales", fallback = "uk");

pub mod app;
pub mod callbacks;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod holds;
pub mod mail;
pub mod security;
pub mod store;
pub mod web;
