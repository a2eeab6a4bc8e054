//! Whether an office issues tickets now, and when it opens next.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// One day of opening hours: 0 = Monday … 6 = Sunday, local times `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub weekday: u32,
    pub opens: NaiveTime,
    /// `None` means until midnight (`24:00`).
    pub closes: Option<NaiveTime>,
}

impl Opening {
    /// Parses `HH:MM` strings as the office tables keep them; `24:00` closes at midnight.
    pub fn parse(weekday: i32, opens: &str, closes: &str) -> Option<Opening> {
        let weekday = u32::try_from(weekday).ok().filter(|w| *w < 7)?;
        let opens = NaiveTime::parse_from_str(opens.trim(), "%H:%M").ok()?;
        let closes = match closes.trim() {
            "24:00" => None,
            c => Some(NaiveTime::parse_from_str(c, "%H:%M").ok()?),
        };
        Some(Opening {
            weekday,
            opens,
            closes,
        })
    }

    fn contains(&self, t: NaiveTime) -> bool {
        t >= self.opens && self.closes.is_none_or(|c| t < c)
    }
}

/// `Ok(())` when open at the local time `now`; otherwise the next local opening within two
/// weeks (`None` when the office has no hours at all).
pub fn check_open(hours: &[Opening], now: NaiveDateTime) -> Result<(), Option<NaiveDateTime>> {
    let today = now.weekday().num_days_from_monday();
    if hours
        .iter()
        .any(|h| h.weekday == today && h.contains(now.time()))
    {
        return Ok(());
    }
    for days in 0..15 {
        let date = now.date() + Duration::days(days);
        let weekday = date.weekday().num_days_from_monday();
        let next = hours
            .iter()
            .filter(|h| h.weekday == weekday)
            .map(|h| date.and_time(h.opens))
            .filter(|at| *at > now)
            .min();
        if next.is_some() {
            return Err(next);
        }
    }
    Err(None)
}

/// Like `check_open`, but the office is closed all day on `closed` dates (holidays, closure
/// days): the next opening skips them.
pub fn check_open_except(
    hours: &[Opening],
    closed: &[NaiveDate],
    now: NaiveDateTime,
) -> Result<(), Option<NaiveDateTime>> {
    let mut at = now;
    for _ in 0..32 {
        if closed.contains(&at.date()) {
            at = (at.date() + Duration::days(1)).and_time(NaiveTime::MIN);
            continue;
        }
        match check_open(hours, at) {
            Ok(()) if at == now => return Ok(()),
            Ok(()) => return Err(Some(at)),
            Err(Some(next)) => at = next,
            Err(None) => return Err(None),
        }
    }
    Err(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn weekdays() -> Vec<Opening> {
        (0..5)
            .map(|d| Opening::parse(d, "08:00", "17:00").unwrap())
            .collect()
    }

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn open_inside_hours() {
        // 25 Nov 2026 is a Wednesday.
        assert_eq!(check_open(&weekdays(), at(25, 8, 0)), Ok(()));
        assert_eq!(check_open(&weekdays(), at(25, 16, 59)), Ok(()));
    }

    #[test]
    fn closed_says_when_it_opens() {
        assert_eq!(
            check_open(&weekdays(), at(25, 7, 30)),
            Err(Some(at(25, 8, 0)))
        );
        assert_eq!(
            check_open(&weekdays(), at(25, 17, 0)),
            Err(Some(at(26, 8, 0)))
        );
        // Friday evening → Monday morning.
        assert_eq!(
            check_open(&weekdays(), at(27, 18, 0)),
            Err(Some(at(30, 8, 0)))
        );
        assert_eq!(check_open(&[], at(25, 9, 0)), Err(None));
    }

    #[test]
    fn midnight_closing() {
        let h = vec![Opening::parse(2, "00:00", "24:00").unwrap()];
        assert_eq!(check_open(&h, at(25, 23, 59)), Ok(()));
        assert!(Opening::parse(7, "08:00", "17:00").is_none());
        assert!(Opening::parse(1, "8am", "17:00").is_none());
    }

    #[test]
    fn closure_days_are_skipped() {
        let h = weekdays();
        let wed = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let thu = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(check_open_except(&h, &[], at(25, 9, 0)), Ok(()));
        // Closed today: the next opening is tomorrow's.
        assert_eq!(
            check_open_except(&h, &[wed], at(25, 9, 0)),
            Err(Some(at(26, 8, 0)))
        );
        // Closed today and tomorrow: Friday.
        assert_eq!(
            check_open_except(&h, &[wed, thu], at(25, 9, 0)),
            Err(Some(at(27, 8, 0)))
        );
        // After hours with tomorrow a holiday: the day after.
        assert_eq!(
            check_open_except(&h, &[thu], at(25, 18, 0)),
            Err(Some(at(27, 8, 0)))
        );
        // Around the clock but closed today: from midnight.
        let all: Vec<Opening> = (0..7)
            .map(|d| Opening::parse(d, "00:00", "24:00").unwrap())
            .collect();
        assert_eq!(
            check_open_except(&all, &[wed], at(25, 12, 0)),
            Err(Some(at(26, 0, 0)))
        );
        assert_eq!(check_open_except(&[], &[wed], at(25, 9, 0)), Err(None));
    }
}
