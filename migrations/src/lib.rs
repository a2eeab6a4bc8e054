//! Database migrations, run at start-up by `cherga serve` and `cherga migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_foundation;
mod m20261125_000010_booking;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261125_000010_booking::Migration),
        ]
    }
}
