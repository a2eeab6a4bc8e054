//! The one integration-test binary: every area is a module, so the suite links once.

mod support;

mod auth;
mod binary;
mod booking;
mod browser;
mod calculators;
mod case;
mod case_visit;
mod case_ops;
mod catalog;
mod mail;
mod offices;
mod ops;
mod pages;
mod queue;
mod staff;
