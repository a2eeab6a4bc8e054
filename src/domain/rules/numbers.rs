//! Exact decimal numbers from text, and how they are shown to residents.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::domain::lang::Text;

/// The largest quantity (m³, Gcal, m², °C, MPa) a request may carry.
// why: a bound keeps every product of inputs far inside Decimal's range, so no arithmetic can overflow.
pub const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// The largest amount of money (in hryvnias) a request may carry, for the same reason.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// A JSON number or a string holding one; numbers are taken from their text so "3.6" stays 3.6.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum NumberInput {
    Int(i64),
    Float(f64),
    Text(String),
}

impl NumberInput {
    pub fn as_text(&self) -> String {
        match self {
            NumberInput::Int(i) => i.to_string(),
            // why: f64's Display prints the shortest text that reads back to the same number, so a JSON
            // 3.6 becomes "3.6", not 3.600000000000000088817841970012523.
            // A huge or tiny float is written in exponent form ("1e308"), not as 309 digits.
            NumberInput::Float(f) if *f != 0.0 && (f.abs() >= 1e16 || f.abs() < 1e-9) => {
                format!("{f:e}")
            }
            NumberInput::Float(f) => f.to_string(),
            NumberInput::Text(s) => s.clone(),
        }
    }
}

impl From<&str> for NumberInput {
    fn from(s: &str) -> Self {
        NumberInput::Text(s.to_string())
    }
}

/// Parses a decimal number from text ("3.6", "3,6", "1e-2"); no NaN, no infinity.
pub fn parse_decimal(input: &str) -> Result<Decimal, Text> {
    let s = input.trim().replace(',', ".");
    let shown = echo(input.trim());
    let bad = || {
        if looks_numeric(&s) {
            // why: text shaped like a number that Decimal cannot hold is too large or too precise,
            // not "not a number".
            let exponent = s
                .split(['e', 'E'])
                .nth(1)
                .and_then(|e| e.parse::<i64>().ok())
                .unwrap_or(0);
            let int_digits = s
                .split(['e', 'E'])
                .next()
                .unwrap_or("")
                .split('.')
                .next()
                .unwrap_or("")
                .trim_start_matches(['-', '+', '0'])
                .len() as i64;
            if exponent + int_digits > 20 {
                return Text::new(
                    format!("Число «{shown}» завелике."),
                    format!("The number \"{shown}\" is too large."),
                );
            }
            return Text::new(
                format!("Число «{shown}» має забагато знаків після коми."),
                format!("The number \"{shown}\" has too many decimal places."),
            );
        }
        Text::new(
            format!("«{shown}» — не число."),
            format!("\"{shown}\" is not a number."),
        )
    };
    if s.is_empty() {
        return Err(Text::new("Число не вказане.", "The number is empty."));
    }
    let plain = s
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+');
    let parsed = if plain {
        Decimal::from_str_exact(&s).map_err(|_| bad())?
    } else if s.contains(['e', 'E']) {
        Decimal::from_scientific(&s).map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    Ok(parsed.normalize())
}

/// At most 40 characters of a resident's input, for quoting it in a message.
pub fn echo(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(40).collect::<String>())
    }
}

/// Digits with an optional sign, one decimal point and an optional exponent.
fn looks_numeric(s: &str) -> bool {
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let m = mantissa.trim_start_matches(['-', '+']);
    let digits_ok = !m.is_empty()
        && m.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && m.bytes().filter(|b| *b == b'.').count() <= 1
        && m.bytes().any(|b| b.is_ascii_digit());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.trim_start_matches(['-', '+']);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    digits_ok && exp_ok
}

/// Parses a non-negative quantity no larger than [`MAX_QUANTITY`].
pub fn parse_quantity(input: &NumberInput) -> Result<Decimal, Text> {
    let text = input.as_text();
    let d = parse_decimal(&text)?;
    check_quantity(d)?;
    Ok(d)
}

pub fn check_quantity(d: Decimal) -> Result<(), Text> {
    if d.is_sign_negative() && !d.is_zero() {
        return Err(Text::new(
            format!("Значення {} не може бути від'ємним.", show(d)),
            format!("The value {} cannot be negative.", show(d)),
        ));
    }
    if d > MAX_QUANTITY {
        return Err(too_large(d));
    }
    Ok(())
}

pub fn too_large(d: Decimal) -> Text {
    Text::new(
        format!("Значення {} завелике.", show(d)),
        format!("The value {} is too large.", show(d)),
    )
}

/// A number as a resident reads it: no trailing zeros ("3.6", "175", "0.1").
pub fn show(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A number rounded half-up to `dp` places, trailing zeros dropped.
pub fn show_rounded(d: Decimal, dp: u32) -> String {
    show(d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
}

/// A number rounded half-up to exactly `dp` places ("0.1234", "2.5000").
pub fn fixed(d: Decimal, dp: u32) -> String {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_numbers_are_too_large_not_not_a_number() {
        let e = parse_quantity(&NumberInput::Float(1e308)).unwrap_err();
        assert!(e.en.contains("too large"), "{e:?}");
        assert!(e.en.len() < 80, "{e:?}");
        let e = parse_decimal(&"9".repeat(400)).unwrap_err();
        assert!(e.en.contains("too large"), "{e:?}");
        assert!(e.uk.contains("завелике"), "{e:?}");
        assert!(e.en.chars().count() < 80, "{e:?}");
        let e = parse_decimal("0.0000000000000000000000000000000001").unwrap_err();
        assert!(e.en.contains("decimal places"), "{e:?}");
        let e = parse_decimal("abc").unwrap_err();
        assert!(e.en.contains("not a number"), "{e:?}");
        assert_eq!(NumberInput::Float(3.6).as_text(), "3.6");
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(show(parse_decimal("3.6").unwrap()), "3.6");
        assert_eq!(show(parse_decimal("3,60").unwrap()), "3.6");
        assert_eq!(show(parse_decimal("1e-2").unwrap()), "0.01");
        assert!(parse_decimal("NaN").is_err());
        assert!(parse_decimal("inf").is_err());
        assert!(parse_decimal("").is_err());
        assert!(parse_decimal("1.2.3").is_err());
        assert_eq!(
            show(parse_quantity(&NumberInput::Float(3.6)).unwrap()),
            "3.6"
        );
        assert_eq!(show(parse_quantity(&NumberInput::Int(792)).unwrap()), "792");
        assert!(parse_quantity(&NumberInput::Float(-0.5)).is_err());
        assert!(parse_quantity(&"2000000000".into()).is_err());
        assert_eq!(fixed(parse_decimal("0.12345").unwrap(), 4), "0.1235");
        assert_eq!(fixed(parse_decimal("2.5").unwrap(), 4), "2.5000");
    }

    #[test]
    fn untagged_accepts_numbers_and_strings() {
        let v: Vec<NumberInput> = serde_json::from_str(r#"[3.6, 54, "49.5"]"#).unwrap();
        let texts: Vec<String> = v.iter().map(NumberInput::as_text).collect();
        assert_eq!(texts, ["3.6", "54", "49.5"]);
    }
}

/// The Ukrainian word form for a count: `uk_plural(n, "день", "дні", "днів")`.
pub fn uk_plural(n: u64, one: &'static str, few: &'static str, many: &'static str) -> &'static str {
    let (m10, m100) = (n % 10, n % 100);
    if m10 == 1 && m100 != 11 {
        one
    } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
        few
    } else {
        many
    }
}

/// The English word form for a count: `en_plural(n, "day", "days")`.
pub fn en_plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// "31 день" / "31 days".
pub fn days_text(n: u32) -> (String, String) {
    let n64 = u64::from(n);
    (
        format!("{n} {}", uk_plural(n64, "день", "дні", "днів")),
        format!("{n} {}", en_plural(n64, "day", "days")),
    )
}

#[cfg(test)]
mod plural_tests {
    use super::*;

    #[test]
    fn ukrainian_plurals() {
        let f = |n| uk_plural(n, "день", "дні", "днів");
        assert_eq!(
            [f(1), f(2), f(5), f(11), f(21), f(22), f(112)],
            ["день", "дні", "днів", "днів", "день", "дні", "днів"]
        );
    }
}
