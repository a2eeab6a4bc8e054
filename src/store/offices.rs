//! Offices (district centers) with their time zone and opening hours.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{office, office_hours};
use crate::domain::lang::Text;

#[derive(Debug, Clone, PartialEq)]
pub struct OpeningHours {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: i32,
    pub opens: String,
    pub closes: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfficeRecord {
    pub id: i32,
    pub code: String,
    pub name: Text,
    pub address: Text,
    pub timezone: String,
    pub slot_minutes: i32,
    pub hours: Vec<OpeningHours>,
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<OfficeRecord>, DbErr> {
    let offices = office::Entity::find()
        .order_by_asc(office::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(offices.len());
    for o in offices {
        let hours = office_hours::Entity::find()
            .filter(office_hours::Column::OfficeId.eq(o.id))
            .order_by_asc(office_hours::Column::Weekday)
            .all(db)
            .await?
            .into_iter()
            .map(|h| OpeningHours {
                weekday: h.weekday,
                opens: h.opens,
                closes: h.closes,
            })
            .collect();
        out.push(OfficeRecord {
            id: o.id,
            code: o.code,
            name: Text::new(o.name, o.name_en),
            address: Text::new(o.address, o.address_en),
            timezone: o.timezone,
            slot_minutes: o.slot_minutes,
            hours,
        });
    }
    Ok(out)
}
