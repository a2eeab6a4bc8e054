//! A personal account's facts: owners with shares and meter readings with plausibility checks.

use chrono::NaiveDate;

use crate::domain::lang::Text;
use crate::domain::rules::numbers::echo;

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
}
