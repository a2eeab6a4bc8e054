//! Opening hours, weekly schedules, breaks, exceptions and walk-in periods, in local wall time.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use chrono_tz::Tz;

/// Minutes since local midnight, 0..=1440.
pub type LocalMinute = u16;

/// A stretch of local wall time on one day, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalWindow {
    pub start: LocalMinute,
    pub end: LocalMinute,
}

impl LocalWindow {
    /// `None` unless `start < end`.
    pub fn new(start: LocalMinute, end: LocalMinute) -> Option<LocalWindow> {
        (start < end && end <= 1440).then_some(LocalWindow { start, end })
    }

    /// Reads "HH:MM"–"HH:MM" ("24:00" is the end of the day).
    pub fn parse(start: &str, end: &str) -> Option<LocalWindow> {
        LocalWindow::new(parse_hhmm(start)?, parse_hhmm(end)?)
    }
}

/// "08:00" → 480. Accepts "H:MM" and "24:00".
pub fn parse_hhmm(s: &str) -> Option<LocalMinute> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

pub fn format_hhmm(m: LocalMinute) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionKind {
    Leave,
    Sick,
    /// An extra shift: working time added to the day.
    Extra,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 3] = [
        ExceptionKind::Leave,
        ExceptionKind::Sick,
        ExceptionKind::Extra,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ExceptionKind::Leave => "leave",
            ExceptionKind::Sick => "sick",
            ExceptionKind::Extra => "extra",
        }
    }

    pub fn from_code(code: &str) -> Option<ExceptionKind> {
        ExceptionKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A change to one specialist's day. Time off without a window takes the whole day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub day: NaiveDate,
    pub kind: ExceptionKind,
    pub window: Option<LocalWindow>,
}

/// One weekday of a specialist's week: working time and breaks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkDay {
    pub work: Option<LocalWindow>,
    pub breaks: Vec<LocalWindow>,
    /// Kept for walk-in tickets: not bookable online.
    pub walk_in: Vec<LocalWindow>,
}

/// Everything the engine needs about one specialist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialistPlan {
    pub id: i32,
    /// Monday = 0 … Sunday = 6.
    pub week: [WorkDay; 7],
    pub exceptions: Vec<Exception>,
    /// Taken time as UTC minutes since the epoch, `[start, end)`, in any order.
    pub busy: Vec<(i64, i64)>,
}

impl SpecialistPlan {
    pub fn new(id: i32) -> SpecialistPlan {
        SpecialistPlan {
            id,
            week: Default::default(),
            exceptions: Vec::new(),
            busy: Vec::new(),
        }
    }
}

/// Everything the engine needs about an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficePlan {
    pub timezone: Tz,
    /// Slot grid in minutes, counted from the opening time.
    pub grid_minutes: u16,
    /// Monday = 0 … Sunday = 6.
    pub hours: [Option<LocalWindow>; 7],
    /// Holidays and other closed days.
    pub closed: BTreeSet<NaiveDate>,
}

/// Subtracts `cut` from sorted, disjoint `windows`.
pub(crate) fn subtract(windows: &mut Vec<(i64, i64)>, cut: (i64, i64)) {
    let mut out = Vec::with_capacity(windows.len() + 1);
    for &(s, e) in windows.iter() {
        if cut.1 <= s || cut.0 >= e {
            out.push((s, e));
            continue;
        }
        if s < cut.0 {
            out.push((s, cut.0));
        }
        if cut.1 < e {
            out.push((cut.1, e));
        }
    }
    *windows = out;
}

/// Adds `w` to sorted, disjoint `windows`, merging overlaps.
pub(crate) fn union(windows: &mut Vec<(i64, i64)>, w: (i64, i64)) {
    windows.push(w);
    windows.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(windows.len());
    for &(s, e) in windows.iter() {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    *windows = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hours() {
        assert_eq!(parse_hhmm("08:00"), Some(480));
        assert_eq!(parse_hhmm("8:05"), Some(485));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("12:60"), None);
        assert_eq!(parse_hhmm("12"), None);
        assert_eq!(parse_hhmm("ab:cd"), None);
        assert_eq!(format_hhmm(485), "08:05");
        assert!(LocalWindow::parse("10:00", "09:00").is_none());
    }

    #[test]
    fn subtracts_and_merges() {
        let mut w = vec![(0, 100)];
        subtract(&mut w, (40, 50));
        assert_eq!(w, vec![(0, 40), (50, 100)]);
        subtract(&mut w, (-10, 5));
        assert_eq!(w, vec![(5, 40), (50, 100)]);
        union(&mut w, (35, 60));
        assert_eq!(w, vec![(5, 100)]);
        union(&mut w, (200, 210));
        assert_eq!(w, vec![(5, 100), (200, 210)]);
    }
}
