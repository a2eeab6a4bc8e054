//! Database migrations, run at start-up by `cherga serve` and `cherga migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_foundation;
mod m20261125_000002_staff;
mod m20261125_000010_booking;
mod m20261125_000020_mail;
mod m20261125_000030_queue;
mod m20261125_000040_case;
mod m20261206_000001_booking_mail;
mod m20261206_000002_schedule_break;
mod m20261206_000003_ticket_booking;
mod m20261206_000004_visit_case;
mod m20261206_100100_case_uniques;
mod m20261206_100200_ledger_indexes;
mod m20261206_100300_office_active;
mod m20261206_200100_desk_unique;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261125_000002_staff::Migration),
            Box::new(m20261125_000010_booking::Migration),
            Box::new(m20261125_000020_mail::Migration),
            Box::new(m20261125_000030_queue::Migration),
            Box::new(m20261125_000040_case::Migration),
            Box::new(m20261206_000001_booking_mail::Migration),
            Box::new(m20261206_000002_schedule_break::Migration),
            Box::new(m20261206_000003_ticket_booking::Migration),
            Box::new(m20261206_000004_visit_case::Migration),
            Box::new(m20261206_100100_case_uniques::Migration),
            Box::new(m20261206_100200_ledger_indexes::Migration),
            Box::new(m20261206_100300_office_active::Migration),
            Box::new(m20261206_200100_desk_unique::Migration),
        ]
    }
}
