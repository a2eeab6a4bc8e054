//! The one integration-test binary: every area is a module, so the suite links once.

mod support;

mod auth;
mod binary;
mod booking;
mod booking_staff;
mod browser;
mod calculators;
mod case;
mod case_integrity;
mod case_ops;
mod case_visit;
mod catalog;
mod journey;
mod mail;
mod offices;
mod ops;
mod pages;
mod queue;
mod staff;
