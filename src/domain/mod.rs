//! Pure domain logic: no HTTP, no SQL, no I/O. Tested fast and alone.

pub mod account;
pub mod booking;
pub mod catalog;
pub mod lang;
pub mod ledger;
pub mod money;
pub mod procedure;
pub mod queue;
pub mod rules;
pub mod staff;
pub mod validation;
