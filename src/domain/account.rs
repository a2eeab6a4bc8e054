//! A personal account's facts: owners with shares, meter readings with plausibility checks, a new
//! account to open, a split of one account into two, and the monthly consumption of a meter sealed
//! while the account was still charged by the norm.

use chrono::NaiveDate;

use crate::domain::lang::Text;
use crate::domain::ledger::Basis;
use crate::domain::rules::calendar::YearMonth;
use crate::domain::rules::numbers::echo;
use crate::domain::rules::services::Service;
use crate::domain::validation::FieldError;

/// An owner's share of the dwelling, as a fraction `numerator / denominator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerShare {
    pub name: String,
    pub numerator: u32,
    pub denominator: u32,
}

/// The shares of all owners must add up to exactly one whole.
pub fn check_shares(owners: &[OwnerShare]) -> Result<(), Text> {
    if owners.is_empty() {
        return Err(Text::new(
            "Потрібен хоча б один власник.",
            "At least one owner is needed.",
        ));
    }
    // why: add fractions exactly over a common denominator instead of floats.
    let mut num: u128 = 0;
    let mut den: u128 = 1;
    for o in owners {
        if o.denominator == 0 || o.numerator == 0 || o.numerator > o.denominator {
            return Err(Text::new(
                format!("Частка власника «{}» неправильна.", echo(&o.name)),
                format!("The share of owner \"{}\" is wrong.", echo(&o.name)),
            ));
        }
        num = num * u128::from(o.denominator) + u128::from(o.numerator) * den;
        den *= u128::from(o.denominator);
    }
    if num != den {
        return Err(Text::new(
            "Частки власників разом мають становити одне ціле.",
            "The owners' shares must add up to one whole.",
        ));
    }
    Ok(())
}

/// A meter reading in thousandths of a unit (m³ or kWh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub on: NaiveDate,
    pub value_milli: i64,
}

/// Why a new reading is not accepted.
pub fn check_reading(
    previous: Option<Reading>,
    new: Reading,
    max_per_day_milli: i64,
    verification_due: Option<NaiveDate>,
) -> Result<i64, Text> {
    if new.value_milli < 0 {
        return Err(Text::new(
            "Показник не може бути від'ємним.",
            "A reading cannot be negative.",
        ));
    }
    if let Some(due) = verification_due
        && new.on > due
    {
        return Err(Text::new(
            format!("Строк повірки лічильника минув {due}: показники не приймаються."),
            format!("The meter's verification was due {due}: readings are not accepted."),
        ));
    }
    let Some(prev) = previous else {
        return Ok(0);
    };
    if new.on <= prev.on {
        return Err(Text::new(
            format!("Показник має бути пізніший за попередній ({}).", prev.on),
            format!(
                "The reading must be later than the previous one ({}).",
                prev.on
            ),
        ));
    }
    if new.value_milli < prev.value_milli {
        return Err(Text::new(
            "Показник менший за попередній.",
            "The reading is lower than the previous one.",
        ));
    }
    let used = new.value_milli - prev.value_milli;
    let days = (new.on - prev.on).num_days().max(1);
    if used > max_per_day_milli.saturating_mul(days) {
        return Err(Text::new(
            format!(
                "Споживання {} за {days} дн. неправдоподібно велике.",
                show_milli(used)
            ),
            format!(
                "Consumption of {} over {days} days is implausibly high.",
                show_milli(used)
            ),
        ));
    }
    Ok(used)
}

/// "12.345" from thousandths.
pub fn show_milli(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// A meter installed with a new account, with its first reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeter {
    pub service: Service,
    pub serial: String,
    /// The seal date, which is also the date of the first reading.
    pub sealed_on: NaiveDate,
    pub value_milli: i64,
}

/// A personal account to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub number: String,
    pub address: String,
    /// The address of the building the premises are in, when it is a known building.
    pub building: Option<String>,
    pub total_area_cm2: i64,
    pub heated_area_cm2: i64,
    pub residents: u32,
    pub owners: Vec<OwnerShare>,
    pub services: Vec<(Service, Basis)>,
    pub meters: Vec<NewMeter>,
}

/// Part of an account split off into a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub number: String,
    pub address: String,
    /// Residents moved to the new account.
    pub residents: u32,
    /// Area moved to the new account.
    pub total_area_cm2: i64,
    pub heated_area_cm2: i64,
    /// The new account's owners.
    pub owners: Vec<OwnerShare>,
    /// The old account's owners after the split.
    pub remaining_owners: Vec<OwnerShare>,
    /// The services the new account gets, charged on the same basis as on the old one.
    pub services: Vec<Service>,
    /// Of those, the ones the old account no longer has (their meters move with them).
    pub moved: Vec<Service>,
}

/// What the split takes from: the old account's residents and areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitFrom {
    pub residents: u32,
    pub total_area_cm2: i64,
    pub heated_area_cm2: i64,
}

/// A personal account number is ten digits.
pub fn check_number(field: &str, number: &str) -> Option<FieldError> {
    let ok = number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit());
    (!ok).then(|| {
        FieldError::new(
            field,
            Text::new(
                format!("«{number}» — не номер рахунку: потрібно 10 цифр."),
                format!("\"{number}\" is not an account number: 10 digits are needed."),
            ),
        )
    })
}

fn check_areas(errors: &mut Vec<FieldError>, total: i64, heated: i64) {
    // why: 10 000 m² bounds a dwelling generously and keeps the arithmetic far from overflow.
    if total <= 0 || total > 100_000_000 {
        errors.push(FieldError::bilingual(
            "total_area",
            "Загальна площа має бути додатною (до 10 000 м²).",
            "The total area must be positive (up to 10 000 m²).",
        ));
    }
    if heated < 0 || heated > total {
        errors.push(FieldError::bilingual(
            "heated_area",
            "Опалювана площа — від 0 до загальної.",
            "The heated area is 0 to the total area.",
        ));
    }
}

fn check_owners(errors: &mut Vec<FieldError>, field: &str, owners: &[OwnerShare]) {
    if let Err(t) = check_shares(owners) {
        errors.push(FieldError::new(field, t));
    }
}

/// Every fault of a new account, by the field it is in.
pub fn check_new_account(a: &NewAccount) -> Vec<FieldError> {
    let mut errors = Vec::new();
    errors.extend(check_number("number", &a.number));
    if a.address.trim().is_empty() {
        errors.push(FieldError::bilingual(
            "address",
            "Вкажіть адресу.",
            "Give the address.",
        ));
    }
    check_areas(&mut errors, a.total_area_cm2, a.heated_area_cm2);
    if a.residents > 1000 {
        errors.push(FieldError::bilingual(
            "residents",
            "Забагато мешканців.",
            "Too many residents.",
        ));
    }
    check_owners(&mut errors, "owners", &a.owners);
    if a.services.is_empty() {
        errors.push(FieldError::bilingual(
            "services",
            "Потрібна хоча б одна послуга.",
            "At least one service is needed.",
        ));
    }
    for (i, (s, basis)) in a.services.iter().enumerate() {
        if a.services[..i].iter().any(|(t, _)| t == s) {
            errors.push(FieldError::new(
                format!("services[{i}].service"),
                Text::new(
                    format!("Послугу «{}» вказано двічі.", s.id()),
                    format!("The service \"{}\" is listed twice.", s.id()),
                ),
            ));
        }
        // why: a metered service without a meter would be charged nothing for ever.
        if *basis == Basis::PerMeter && !a.meters.iter().any(|m| m.service == *s) {
            errors.push(FieldError::new(
                format!("services[{i}].basis"),
                Text::new(
                    format!("Послуга «{}» за лічильником потребує лічильника.", s.id()),
                    format!("The metered service \"{}\" needs a meter.", s.id()),
                ),
            ));
        }
    }
    for (i, m) in a.meters.iter().enumerate() {
        if m.serial.trim().is_empty() {
            errors.push(FieldError::bilingual(
                format!("meters[{i}].serial"),
                "Вкажіть номер лічильника.",
                "Give the meter's serial number.",
            ));
        }
        if !a
            .services
            .iter()
            .any(|(s, b)| *s == m.service && *b == Basis::PerMeter)
        {
            errors.push(FieldError::bilingual(
                format!("meters[{i}].service"),
                "Лічильник — лише для послуги, що нараховується за лічильником.",
                "A meter is only for a service charged by its meter.",
            ));
        }
        if m.value_milli < 0 {
            errors.push(FieldError::bilingual(
                format!("meters[{i}].value"),
                "Показник не може бути від'ємним.",
                "A reading cannot be negative.",
            ));
        }
    }
    errors
}

/// Every fault of a split of `from`.
pub fn check_split(s: &Split, from: SplitFrom) -> Vec<FieldError> {
    let mut errors = Vec::new();
    errors.extend(check_number("number", &s.number));
    if s.address.trim().is_empty() {
        errors.push(FieldError::bilingual(
            "address",
            "Вкажіть адресу нового рахунку.",
            "Give the new account's address.",
        ));
    }
    check_areas(&mut errors, s.total_area_cm2, s.heated_area_cm2);
    // why: a split leaves both parts with some area; moving all of it is an owner change.
    if s.total_area_cm2 >= from.total_area_cm2 || s.heated_area_cm2 > from.heated_area_cm2 {
        errors.push(FieldError::new(
            "total_area",
            Text::new(
                "Відокремлена площа має бути меншою за площу рахунку.",
                "The area split off must be less than the account's area.",
            ),
        ));
    }
    if s.residents > from.residents {
        errors.push(FieldError::new(
            "residents",
            Text::new(
                format!("На рахунку лише {} мешканців.", from.residents),
                format!("The account has only {} residents.", from.residents),
            ),
        ));
    }
    check_owners(&mut errors, "owners", &s.owners);
    check_owners(&mut errors, "remaining_owners", &s.remaining_owners);
    if s.services.is_empty() {
        errors.push(FieldError::bilingual(
            "services",
            "Потрібна хоча б одна послуга.",
            "At least one service is needed.",
        ));
    }
    for (i, m) in s.moved.iter().enumerate() {
        if !s.services.contains(m) {
            errors.push(FieldError::new(
                format!("moved[{i}]"),
                Text::new(
                    format!(
                        "Перенести можна лише послугу нового рахунку, а не «{}».",
                        m.id()
                    ),
                    format!(
                        "Only a service of the new account can move, not \"{}\".",
                        m.id()
                    ),
                ),
            ));
        }
    }
    errors
}

/// The metered consumption of each month from the seal month to `last`, in thousandths, from the
/// readings of a meter sealed on `seal` (sorted by day). The seal month counts from the reading on or
/// before the seal day (else the first one after it); a later month from the last reading before
/// it. A month after the seal month without a reading of its own is left out: its consumption is
/// counted in the next month that has one.
pub fn consumption_since_seal(
    readings: &[Reading],
    seal: NaiveDate,
    last: YearMonth,
) -> Vec<(YearMonth, i64)> {
    let mut sorted = readings.to_vec();
    sorted.sort_by_key(|r| r.on);
    let Some(base) = sorted
        .iter()
        .rev()
        .find(|r| r.on <= seal)
        .or_else(|| sorted.iter().find(|r| r.on >= seal))
        .copied()
    else {
        return Vec::new();
    };
    let first = YearMonth::of(seal);
    let mut out = Vec::new();
    let mut from = base;
    let mut m = first;
    while m <= last {
        let end = sorted
            .iter()
            .rev()
            .find(|r| r.on <= m.last_day() && r.on >= from.on)
            .copied();
        match end {
            Some(e) if m == first || e.on >= m.first_day() => {
                out.push((m, (e.value_milli - from.value_milli).max(0)));
                from = e;
            }
            _ => {}
        }
        m = m.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_wrong_share_quotes_at_most_40_characters_of_the_name() {
        let e = check_shares(&[OwnerShare {
            name: "Ю".repeat(300),
            numerator: 3,
            denominator: 2,
        }])
        .unwrap_err();
        assert!(e.uk.contains(&format!("{}…", "Ю".repeat(40))), "{}", e.uk);
        assert!(!e.en.contains(&"Ю".repeat(41)), "{}", e.en);
    }

    fn owner(n: u32, den: u32) -> OwnerShare {
        OwnerShare {
            name: "X".into(),
            numerator: n,
            denominator: den,
        }
    }

    #[test]
    fn shares_must_make_one() {
        assert!(check_shares(&[owner(1, 1)]).is_ok());
        assert!(check_shares(&[owner(1, 2), owner(1, 3), owner(1, 6)]).is_ok());
        assert!(check_shares(&[owner(1, 2), owner(1, 3)]).is_err());
        assert!(check_shares(&[owner(2, 1)]).is_err());
        assert!(check_shares(&[]).is_err());
    }

    #[test]
    fn readings_are_checked() {
        let prev = Reading {
            on: d("2026-01-01"),
            value_milli: 100_000,
        };
        let ok = Reading {
            on: d("2026-01-31"),
            value_milli: 106_500,
        };
        assert_eq!(check_reading(Some(prev), ok, 1_000, None), Ok(6_500));
        let lower = Reading {
            value_milli: 99_000,
            ..ok
        };
        assert!(check_reading(Some(prev), lower, 1_000, None).is_err());
        let huge = Reading {
            value_milli: 200_000,
            ..ok
        };
        assert!(check_reading(Some(prev), huge, 1_000, None).is_err());
        let earlier = Reading {
            on: d("2025-12-01"),
            ..ok
        };
        assert!(check_reading(Some(prev), earlier, 1_000, None).is_err());
        assert!(check_reading(Some(prev), ok, 1_000, Some(d("2026-01-15"))).is_err());
        assert_eq!(check_reading(None, ok, 1_000, None), Ok(0));
        assert_eq!(show_milli(6_500), "6.500");
    }

    #[test]
    fn consumption_since_seal_by_month() {
        let r = |on: &str, v: i64| Reading {
            on: d(on),
            value_milli: v,
        };
        let readings = [
            r("2026-03-11", 100_000),
            r("2026-03-31", 105_000),
            r("2026-04-30", 125_000),
            r("2026-06-30", 150_000),
        ];
        let m = |s: &str| YearMonth::parse(s).unwrap();
        assert_eq!(
            consumption_since_seal(&readings, d("2026-03-11"), m("2026-06")),
            vec![
                (m("2026-03"), 5_000),
                (m("2026-04"), 20_000),
                // May has no reading: its water is counted in June.
                (m("2026-06"), 25_000),
            ]
        );
        assert!(consumption_since_seal(&[], d("2026-03-11"), m("2026-06")).is_empty());
    }

    #[test]
    fn new_accounts_and_splits_are_checked() {
        let ok = NewAccount {
            number: "1000000099".into(),
            address: "вул. Нова, 1, кв. 2".into(),
            building: None,
            total_area_cm2: 500_000,
            heated_area_cm2: 450_000,
            residents: 2,
            owners: vec![owner(1, 1)],
            services: vec![(Service::Gas, Basis::PerMeter)],
            meters: vec![NewMeter {
                service: Service::Gas,
                serial: "G-1".into(),
                sealed_on: d("2026-01-01"),
                value_milli: 0,
            }],
        };
        assert!(check_new_account(&ok).is_empty());
        let bad = NewAccount {
            number: "12".into(),
            heated_area_cm2: 600_000,
            meters: Vec::new(),
            ..ok.clone()
        };
        let fields: Vec<String> = check_new_account(&bad)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["number", "heated_area", "services[0].basis"]);
        let split = Split {
            number: "1000000098".into(),
            address: "кв. 2а".into(),
            residents: 1,
            total_area_cm2: 200_000,
            heated_area_cm2: 200_000,
            owners: vec![owner(1, 1)],
            remaining_owners: vec![owner(1, 1)],
            services: vec![Service::Gas],
            moved: vec![],
        };
        let from = SplitFrom {
            residents: 2,
            total_area_cm2: 500_000,
            heated_area_cm2: 450_000,
        };
        assert!(check_split(&split, from).is_empty());
        let too_much = Split {
            residents: 3,
            total_area_cm2: 500_000,
            moved: vec![Service::Waste],
            ..split
        };
        let fields: Vec<String> = check_split(&too_much, from)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["total_area", "residents", "moved[0]"]);
    }
}
