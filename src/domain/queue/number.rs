//! Ticket numbers: a letter per category and a counter per office per local day (`A-017`).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketNumber {
    pub letter: String,
    pub number: u32,
}

impl TicketNumber {
    pub fn new(letter: &str, number: u32) -> Self {
        TicketNumber {
            letter: letter.trim().to_uppercase(),
            number,
        }
    }

    /// `A-017`: three digits at least, more when a day goes past 999.
    pub fn label(&self) -> String {
        format!("{}-{:03}", self.letter, self.number)
    }

    /// What the board says aloud, in Ukrainian: "Талон А 17, вікно 3". Latin letters
    /// that look Cyrillic are read as their Cyrillic twins.
    pub fn spoken_uk(&self, window: &str) -> String {
        let letter: String = self.letter.chars().map(cyrillic_twin).collect();
        format!("Талон {letter} {}, вікно {window}", self.number)
    }
}

fn cyrillic_twin(c: char) -> char {
    match c {
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        other => other,
    }
}

/// The office's local day of an instant: counters restart at local midnight.
pub fn local_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn labels_pad_to_three_digits() {
        assert_eq!(TicketNumber::new("a", 17).label(), "A-017");
        assert_eq!(TicketNumber::new("Б", 1234).label(), "Б-1234");
    }

    #[test]
    fn speaks_in_ukrainian() {
        assert_eq!(
            TicketNumber::new("A", 17).spoken_uk("3"),
            "Талон А 17, вікно 3"
        );
    }

    #[test]
    fn local_day_follows_the_office_zone() {
        let tz: Tz = "Europe/Kyiv".parse().unwrap();
        // 22:30 UTC on 24 Nov is 00:30 on 25 Nov in Kyiv (UTC+2).
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 22, 30, 0).unwrap();
        assert_eq!(
            local_day(at, tz),
            NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
        );
    }
}
