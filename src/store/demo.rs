//! Demo data for a first start: one office in Kyiv, a few specialists, a few personal accounts.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use super::entities::{
    account, office, office_hours, service, specialist, specialist_skill, work_schedule,
};

pub const DEMO_OFFICE_CODE: &str = "pecherskyi";

/// Loads the demo once: does nothing when the demo office already exists.
pub async fn load(db: &DatabaseConnection, slot_minutes: u32) -> Result<bool, DbErr> {
    if office::Entity::find()
        .filter(office::Column::Code.eq(DEMO_OFFICE_CODE))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let txn = db.begin().await?;
    let office = office::ActiveModel {
        code: Set(DEMO_OFFICE_CODE.into()),
        name: Set("Печерський районний центр".into()),
        name_en: Set("Pecherskyi district center".into()),
        address: Set("м. Київ, вул. Прикладна, 1 (демонстраційна адреса)".into()),
        address_en: Set("1 Prykladna St, Kyiv (demo address)".into()),
        timezone: Set("Europe/Kyiv".into()),
        slot_minutes: Set(i32::try_from(slot_minutes).unwrap_or(5)),
        walk_in_share_pct: Set(30),
        active: Set(true),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    // Monday..Thursday 08:00–17:00, Friday 08:00–15:45, as Ukrainian public offices keep.
    for weekday in 0..5 {
        office_hours::ActiveModel {
            office_id: Set(office.id),
            weekday: Set(weekday),
            opens: Set("08:00".into()),
            closes: Set(if weekday == 4 { "15:45" } else { "17:00" }.into()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }

    let all_services = service::Entity::find().all(&txn).await?;
    let specialists: [(&str, &str, &[&str]); 3] = [
        (
            "Олена Коваленко",
            "1",
            &["payments", "charges", "heat-meter-charges"],
        ),
        (
            "Андрій Шевчук",
            "2",
            &["account-changes", "certificates", "water-meters"],
        ),
        (
            "Марія Бондаренко",
            "3",
            &["quality-claims", "debt-legal", "certificates", "payments"],
        ),
    ];
    let categories = super::catalog::list_categories(&txn).await?;
    for (name, window, category_codes) in specialists {
        let s = specialist::ActiveModel {
            office_id: Set(office.id),
            user_id: Set(None),
            name: Set(name.into()),
            window_label: Set(window.into()),
            active: Set(true),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let category_ids: Vec<i32> = categories
            .iter()
            .filter(|c| category_codes.contains(&c.code.as_str()))
            .map(|c| c.id)
            .collect();
        for svc in all_services
            .iter()
            .filter(|svc| category_ids.contains(&svc.category_id))
        {
            specialist_skill::ActiveModel {
                specialist_id: Set(s.id),
                service_id: Set(svc.id),
            }
            .insert(&txn)
            .await?;
        }
        for weekday in 0..5 {
            work_schedule::ActiveModel {
                specialist_id: Set(s.id),
                weekday: Set(weekday),
                starts: Set("08:00".into()),
                ends: Set(if weekday == 4 { "15:45" } else { "17:00" }.into()),
                break_starts: Set(Some("12:00".into())),
                break_ends: Set(Some("12:45".into())),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }

    let accounts = [
        (
            "1000000001",
            "Іваненко Петро Васильович",
            "вул. Прикладна, 10, кв. 5",
            54_30,
            48_10,
            3,
        ),
        (
            "1000000002",
            "Сидоренко Ганна Іванівна",
            "вул. Прикладна, 12, кв. 41",
            72_00,
            65_50,
            2,
        ),
        (
            "1000000003",
            "Мельник Олег Петрович",
            "просп. Демонстраційний, 7, кв. 118",
            38_75,
            38_75,
            1,
        ),
    ];
    let now = super::now();
    for (number, owner, address, total, heated, residents) in accounts {
        account::ActiveModel {
            number: Set(number.into()),
            owner_name: Set(owner.into()),
            address: Set(address.into()),
            // Areas above are in hundredths of a square metre; 1 cm² is 1/100 of that.
            total_area_cm2: Set(total * 100),
            heated_area_cm2: Set(heated * 100),
            registered_residents: Set(residents),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    super::booking::load_demo(&txn, slot_minutes).await?;
    super::queue::load_demo(&txn, office.id).await?;
    super::case::load_demo(
        &txn,
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Kyiv)
            .date_naive(),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}
