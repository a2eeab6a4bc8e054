//! sea-orm entities, one per table. Relations are joined by id in the queries that need them.

pub mod account;
pub mod account_benefit;
pub mod account_owner;
pub mod account_service;
pub mod account_subsidy;
pub mod building;
pub mod case_audit;
pub mod case_document;
pub mod category;
pub mod charge_run;
pub mod idempotency_key;
pub mod ledger_entry;
pub mod meter;
pub mod meter_reading;
pub mod office;
pub mod office_hours;
pub mod service;
pub mod setting;
pub mod specialist;
pub mod specialist_skill;
pub mod staff_session;
pub mod staff_user;
pub mod tariff;
pub mod visit_case;
pub mod work_schedule;
