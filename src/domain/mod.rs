//! Pure domain logic: no HTTP, no SQL, no I/O. Tested fast and alone.

pub mod booking;
pub mod catalog;
pub mod lang;
pub mod money;
pub mod rules;
pub mod staff;
pub mod validation;
