//! A meter sealed mid-month: the norm-based charge stops on the seal day.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::FieldError;
use super::calendar::{YearMonth, show_date};
use super::numbers::{MAX_AMOUNT, days_text};
use super::rule_set::RuleSet;
use crate::domain::lang::Text;
use crate::domain::money::Money;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealInput {
    pub month: YearMonth,
    /// The month's norm-based charge P.
    pub charge: Money,
    pub seal_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealResult {
    pub rule_set: String,
    pub version: u32,
    pub days_in_month: u32,
    pub days_credited: u32,
    pub credit: Money,
    pub explanation: Text,
}

pub fn check(input: &SealInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.charge.is_negative() || input.charge.to_decimal() > MAX_AMOUNT {
        errors.push(FieldError::new(
            "charge",
            Text::new(
                "Нарахування має бути від 0 і не завеликим.",
                "The charge must be 0 or more and not too large.",
            ),
        ));
    }
    if !input.month.contains(input.seal_date) {
        errors.push(FieldError::new(
            "seal_date",
            Text::new(
                format!("Дата пломбування не належить до місяця {}.", input.month),
                format!("The seal date is outside the month {}.", input.month),
            ),
        ));
    }
    errors
}

/// Credit `P × days_from_seal_to_month_end / D`, the seal day included by default.
pub fn calculate(rule_set: &RuleSet, input: &SealInput) -> Result<SealResult, Vec<FieldError>> {
    let errors = check(input);
    if !errors.is_empty() {
        return Err(errors);
    }
    let d = input.month.days();
    let day = input.seal_date.day();
    let included = rule_set.meter_seal.seal_day_included;
    let days = if included { d - day + 1 } else { d - day };
    let p = input.charge;
    let credit =
        Money::reduction_capped(p.to_decimal() * Decimal::from(days) / Decimal::from(d), p);
    let cur = &rule_set.currency;
    let seal = show_date(input.seal_date);
    let (days_uk, days_en) = days_text(days);
    let (incl_uk, incl_en) = if included {
        ("день пломбування включно", "the seal day included")
    } else {
        ("без дня пломбування", "the seal day not included")
    };
    Ok(SealResult {
        rule_set: rule_set.id.clone(),
        version: rule_set.version,
        days_in_month: d,
        days_credited: days,
        credit,
        explanation: Text::new(
            format!(
                "Лічильник опломбовано {}: з цього дня нарахування за нормою припиняється, далі — за показниками лічильника. До кінця місяця {days_uk} ({incl_uk}): {p} {} × {days}/{d} = {credit} {} повертається.",
                seal.uk, cur.uk, cur.uk
            ),
            format!(
                "The meter was sealed on {}: from that day the norm-based charge stops and the meter's readings are charged instead. {days_en} to the month's end ({incl_en}): {p} {} × {days}/{d} = {credit} {} is credited.",
                seal.en, cur.en, cur.en
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::RuleSetRegistry;
    use crate::domain::rules::calendar::parse_date;

    fn run(month: &str, charge: &str, seal: &str) -> Result<SealResult, Vec<FieldError>> {
        let reg = RuleSetRegistry::embedded().unwrap();
        let input = SealInput {
            month: YearMonth::parse(month).unwrap(),
            charge: Money::parse(charge).unwrap(),
            seal_date: parse_date(seal).unwrap(),
        };
        calculate(reg.get("ua-zaporizhzhia-2023").unwrap(), &input)
    }

    #[test]
    fn credit_includes_the_seal_day() {
        // April, sealed on the 21st: days 21..30 = 10; 300.00 × 10/30 = 100.00
        let r = run("2024-04", "300.00", "2024-04-21").unwrap();
        assert_eq!(
            (r.days_credited, r.credit.to_string()),
            (10, "100.00".into())
        );
        // Sealed on the 1st: the whole charge.
        assert_eq!(
            run("2024-04", "300.00", "2024-04-01")
                .unwrap()
                .credit
                .to_string(),
            "300.00"
        );
        // Sealed on the last day of a leap February: 1 day of 29; 58.01 × 1/29 = 2.0003… → 2.00
        let r = run("2024-02", "58.01", "2024-02-29").unwrap();
        assert_eq!((r.days_in_month, r.credit.to_string()), (29, "2.00".into()));
        assert!(r.explanation.uk.contains("1 день"));
    }

    #[test]
    fn seal_outside_month_is_an_error() {
        let errs = run("2024-04", "300.00", "2024-05-01").unwrap_err();
        assert_eq!(errs[0].field, "seal_date");
    }
}
