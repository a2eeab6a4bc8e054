//! sea-orm entities, one per table. Relations are joined by id in the queries that need them.

pub mod account;
pub mod booking;
pub mod booking_claim;
pub mod category;
pub mod office;
pub mod office_closure;
pub mod office_hours;
pub mod service;
pub mod setting;
pub mod specialist;
pub mod specialist_exception;
pub mod specialist_skill;
pub mod staff_session;
pub mod staff_user;
pub mod walk_in_period;
pub mod work_schedule;
