//! Calendar months, quarters and dates as residents read them.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::domain::lang::Text;

/// A calendar month, written "YYYY-MM".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| YearMonth { year, month })
    }

    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Parses exactly "YYYY-MM".
    pub fn parse(input: &str) -> Result<YearMonth, Text> {
        let bad = || {
            let input = super::numbers::echo(input);
            Text::new(
                format!("«{input}» — не місяць; потрібен формат РРРР-ММ, наприклад 2024-04."),
                format!("\"{input}\" is not a month; use YYYY-MM, e.g. 2024-04."),
            )
        };
        let s = input.trim();
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month).ok_or_else(bad)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        // why: the constructor guarantees the first day exists; the fallback is unreachable.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    pub fn next(self) -> YearMonth {
        if self.month == 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or_default()
    }

    /// Calendar days in the month (28–31), whatever daylight-saving does to its hours.
    pub fn days(self) -> u32 {
        self.last_day().day()
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        YearMonth::of(date) == self
    }

    /// "березень 2024" / "March 2024".
    pub fn name(self) -> Text {
        let i = (self.month as usize).saturating_sub(1).min(11);
        Text::new(
            format!("{} {}", MONTHS_UK[i], self.year),
            format!("{} {}", MONTHS_EN[i], self.year),
        )
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

const MONTHS_UK: [&str; 12] = [
    "січень",
    "лютий",
    "березень",
    "квітень",
    "травень",
    "червень",
    "липень",
    "серпень",
    "вересень",
    "жовтень",
    "листопад",
    "грудень",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The first day of the quarter the date falls in.
pub fn quarter_start(date: NaiveDate) -> NaiveDate {
    let month = (date.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(date.year(), month, 1).unwrap_or(date)
}

/// Parses exactly "YYYY-MM-DD".
pub fn parse_date(input: &str) -> Result<NaiveDate, Text> {
    let s = input.trim();
    let ok_shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    match ok_shape
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
    {
        Some(d) => Ok(d),
        None => Err(Text::new(
            format!(
                "«{}» — не дата; потрібен формат РРРР-ММ-ДД, наприклад 2024-03-01.",
                super::numbers::echo(input)
            ),
            format!(
                "\"{}\" is not a date; use YYYY-MM-DD, e.g. 2024-03-01.",
                super::numbers::echo(input)
            ),
        )),
    }
}

/// A date in both languages: "01.03.2024" / "2024-03-01".
pub fn show_date(date: NaiveDate) -> Text {
    Text::new(
        date.format("%d.%m.%Y").to_string(),
        date.format("%Y-%m-%d").to_string(),
    )
}

/// Days from `from` to `to`, both included; zero when `to` is before `from`.
pub fn days_inclusive(from: NaiveDate, to: NaiveDate) -> u32 {
    let d = (to - from).num_days() + 1;
    u32::try_from(d.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn months() {
        assert_eq!(YearMonth::parse("2024-02").unwrap().days(), 29);
        assert_eq!(YearMonth::parse("2023-02").unwrap().days(), 28);
        assert_eq!(
            YearMonth::parse("2024-12").unwrap().next().to_string(),
            "2025-01"
        );
        assert_eq!(
            YearMonth::parse("2024-03").unwrap().name().uk,
            "березень 2024"
        );
        for bad in ["2024-13", "2024-3", "24-03", "2024/03", "2024-00", ""] {
            assert!(YearMonth::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quarters_and_dates() {
        assert_eq!(quarter_start(d("2024-03-31")), d("2024-01-01"));
        assert_eq!(quarter_start(d("2024-04-01")), d("2024-04-01"));
        assert_eq!(quarter_start(d("2024-12-15")), d("2024-10-01"));
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("2024-2-01").is_err());
        assert_eq!(days_inclusive(d("2024-03-01"), d("2024-03-31")), 31);
        assert_eq!(days_inclusive(d("2024-03-02"), d("2024-03-01")), 0);
        assert_eq!(show_date(d("2024-03-01")).uk, "01.03.2024");
    }
}
