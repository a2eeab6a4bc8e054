//! Exact money: an integer number of kopiykas, never a float.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::lang::Text;

/// An amount in kopiykas (1/100 of a hryvnia).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("empty amount")]
    Empty,
    #[error("not an amount: {0}")]
    Invalid(String),
    #[error("more than two digits after the decimal point: {0}")]
    TooManyDecimals(String),
    #[error("negative amount: {0}")]
    Negative(String),
    #[error("amount too large: {0}")]
    TooLarge(String),
}

impl MoneyError {
    pub fn text(&self) -> Text {
        match self {
            MoneyError::Empty => Text::new("Сума не вказана.", "The amount is empty."),
            MoneyError::Invalid(s) => Text::new(
                format!("«{s}» — не сума грошей; напишіть, наприклад, 14.26."),
                format!("\"{s}\" is not an amount of money; write it like 14.26."),
            ),
            MoneyError::TooManyDecimals(s) => Text::new(
                format!("У сумі «{s}» більше двох знаків після крапки (копійок)."),
                format!("The amount \"{s}\" has more than two digits after the point (kopiykas)."),
            ),
            MoneyError::Negative(s) => Text::new(
                format!("Сума «{s}» не може бути від'ємною."),
                format!("The amount \"{s}\" cannot be negative."),
            ),
            MoneyError::TooLarge(s) => Text::new(
                format!("Сума «{s}» завелика."),
                format!("The amount \"{s}\" is too large."),
            ),
        }
    }
}

impl Money {
    pub const ZERO: Money = Money(0);
    pub const MAX: Money = Money(i64::MAX);

    pub const fn from_kopiykas(kopiykas: i64) -> Money {
        Money(kopiykas)
    }

    pub const fn kopiykas(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses "14.26", "792", "792.5", "-3.10"; at most two decimals.
    // why: a comma is accepted as the decimal separator because that is how amounts are written in Ukrainian.
    pub fn parse(input: &str) -> Result<Money, MoneyError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let body = body.replace(',', ".");
        let (whole, frac) = match body.split_once('.') {
            Some((w, f)) => (w, f),
            None => (body.as_str(), ""),
        };
        let digits_only = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(frac)
            || (body.contains('.') && frac.is_empty())
        {
            return Err(MoneyError::Invalid(input.to_string()));
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals(input.to_string()));
        }
        let too_large = || MoneyError::TooLarge(input.to_string());
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        let mut cents: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| too_large())?
        };
        if frac.len() == 1 {
            cents *= 10;
        }
        let abs = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .ok_or_else(too_large)?;
        Ok(Money(if negative { -abs } else { abs }))
    }

    /// Like [`Money::parse`], but a negative amount is an error.
    pub fn parse_non_negative(input: &str) -> Result<Money, MoneyError> {
        let m = Money::parse(input)?;
        if m.is_negative() {
            return Err(MoneyError::Negative(input.to_string()));
        }
        Ok(m)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Rounds half-up (away from zero) to a kopiyka.
    pub fn from_decimal_half_up(value: Decimal) -> Result<Money, MoneyError> {
        let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let scaled = rounded * Decimal::ONE_HUNDRED;
        let kop =
            i64::try_from(scaled.trunc()).map_err(|_| MoneyError::TooLarge(value.to_string()))?;
        Ok(Money(kop))
    }

    /// Rounds `value` half-up and never lets it exceed `cap` nor drop below zero.
    pub fn reduction_capped(value: Decimal, cap: Money) -> Money {
        if value <= Decimal::ZERO {
            return Money::ZERO;
        }
        if value >= cap.to_decimal() {
            return cap.max(Money::ZERO);
        }
        // why: value lies strictly between 0 and cap here, so rounding cannot overflow.
        Money::from_decimal_half_up(value).unwrap_or(cap).min(cap)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

// why: saturating arithmetic, because an overflow panic is worse than a clamped absurd amount,
// and amounts near i64::MAX kopiykas (92 quadrillion hryvnias) never occur in practice.
impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.saturating_sub(rhs.0))
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let s = String::deserialize(deserializer)?;
        Money::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    proptest! {
        #[test]
        fn display_parses_back(k in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_kopiykas(k);
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
            prop_assert_eq!(Money::from_decimal_half_up(m.to_decimal()).unwrap(), m);
        }
    }

    #[test]
    fn parses_and_displays() {
        assert_eq!(Money::parse("14.26").unwrap().kopiykas(), 1426);
        assert_eq!(Money::parse("792").unwrap().to_string(), "792.00");
        assert_eq!(Money::parse("792.5").unwrap().to_string(), "792.50");
        assert_eq!(Money::parse(" 0.05 ").unwrap().kopiykas(), 5);
        assert_eq!(Money::parse("12,30").unwrap().kopiykas(), 1230);
        assert_eq!(Money::parse("-3.1").unwrap().to_string(), "-3.10");
        assert_eq!(Money::from_kopiykas(-5).to_string(), "-0.05");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", "abc", "1.", ".5", "1.2.3", "1e3", "--1", "+1", "1 000", "NaN",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(matches!(
            Money::parse("1.234"),
            Err(MoneyError::TooManyDecimals(_))
        ));
        assert!(matches!(
            Money::parse_non_negative("-1"),
            Err(MoneyError::Negative(_))
        ));
        assert!(matches!(
            Money::parse("99999999999999999999"),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn rounds_half_up() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(
            Money::from_decimal_half_up(d("14.256")).unwrap().kopiykas(),
            1426
        );
        assert_eq!(
            Money::from_decimal_half_up(d("0.005")).unwrap().kopiykas(),
            1
        );
        assert_eq!(
            Money::from_decimal_half_up(d("0.0049999"))
                .unwrap()
                .kopiykas(),
            0
        );
        assert_eq!(
            Money::from_decimal_half_up(d("2.675")).unwrap().kopiykas(),
            268
        );
        assert_eq!(
            Money::reduction_capped(d("10.004"), Money::from_kopiykas(1000)).kopiykas(),
            1000
        );
        assert_eq!(
            Money::reduction_capped(d("-1"), Money::from_kopiykas(1000)),
            Money::ZERO
        );
    }

    #[test]
    fn arithmetic_and_serde() {
        let a = Money::parse("1.50").unwrap();
        let b = Money::parse("2.75").unwrap();
        assert_eq!((a + b).to_string(), "4.25");
        assert_eq!((a - b).to_string(), "-1.25");
        assert_eq!([a, b, b].into_iter().sum::<Money>().to_string(), "7.00");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"1.50\"");
        let back: Money = serde_json::from_str("\"1.5\"").unwrap();
        assert_eq!(back, a);
    }
}
