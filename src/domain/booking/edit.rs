//! An administrator's changes to offices and specialists: raw form values checked into the
//! shapes the store writes. Every field at fault is reported, not just the first.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::OfficeKind;
use super::schedule::{ExceptionKind, LocalWindow, WorkDay, format_hhmm, parse_hhmm};
use crate::domain::lang::Text;
use crate::domain::validation::FieldError;

pub const MAX_CODE_CHARS: usize = 32;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ADDRESS_CHARS: usize = 300;
pub const MAX_DESK_CHARS: usize = 32;
/// The coarsest slot grid an office may have.
pub const MAX_GRID_MINUTES: u16 = 120;
/// The longest exception one form may add (one row per day).
pub const MAX_EXCEPTION_DAYS: i64 = 366;

/// An office's form as sent. `hours[d]` is (opens, closes) of weekday `d` (Monday = 0); both
/// empty means closed that day.
#[derive(Debug, Clone, Default)]
pub struct OfficeInput<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub name_en: &'a str,
    pub address: &'a str,
    pub address_en: &'a str,
    pub kind: &'a str,
    pub timezone: &'a str,
    pub slot_minutes: &'a str,
    pub hours: [(&'a str, &'a str); 7],
}

#[derive(Debug, Clone, PartialEq)]
pub struct OfficeChange {
    pub code: String,
    pub name: Text,
    pub address: Text,
    pub kind: OfficeKind,
    pub timezone: Tz,
    pub slot_minutes: u16,
    pub hours: [Option<LocalWindow>; 7],
}

fn required(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    max: usize,
    what: (&str, &str),
) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::bilingual(
            field,
            format!("{} не може бути порожнім.", what.0),
            format!("{} cannot be empty.", what.1),
        ));
    } else if v.chars().count() > max {
        errors.push(FieldError::bilingual(
            field,
            format!("{} має бути не довшим за {max} символів.", what.0),
            format!("{} must be at most {max} characters long.", what.1),
        ));
    }
    v.to_string()
}

/// One day's "from"–"to" pair: both empty is `Ok(None)`.
fn hours_pair(
    errors: &mut Vec<FieldError>,
    field: &str,
    day: usize,
    (start, end): (&str, &str),
) -> Option<LocalWindow> {
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() && end.is_empty() {
        return None;
    }
    let d = day + 1;
    match (parse_hhmm(start), parse_hhmm(end)) {
        (Some(a), Some(b)) if a < b => LocalWindow::new(a, b),
        (Some(_), Some(_)) => {
            errors.push(FieldError::bilingual(
                format!("{field}_{day}"),
                format!("День {d}: час закінчення {end} має бути пізніше за початок {start}."),
                format!("Day {d}: the end {end} must be later than the start {start}."),
            ));
            None
        }
        _ => {
            errors.push(FieldError::bilingual(
                format!("{field}_{day}"),
                format!(
                    "День {d}: вкажіть початок і кінець у форматі ГГ:ХХ (наприклад 09:00 і 17:30) або залиште обидва порожніми."
                ),
                format!(
                    "Day {d}: give the start and end as HH:MM (say 09:00 and 17:30), or leave both empty."
                ),
            ));
            None
        }
    }
}

pub fn validate_office(i: &OfficeInput) -> Result<OfficeChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = i.code.trim().to_string();
    if code.is_empty()
        || code.chars().count() > MAX_CODE_CHARS
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.push(FieldError::bilingual(
            "code",
            format!("Код: від 1 до {MAX_CODE_CHARS} латинських літер, цифр, «-» або «_»."),
            format!("Code: 1 to {MAX_CODE_CHARS} Latin letters, digits, '-' or '_'."),
        ));
    }
    let name = required(
        &mut errors,
        "name",
        i.name,
        MAX_NAME_CHARS,
        ("Назва українською", "The Ukrainian name"),
    );
    let name_en = required(
        &mut errors,
        "name_en",
        i.name_en,
        MAX_NAME_CHARS,
        ("Назва англійською", "The English name"),
    );
    let address = required(
        &mut errors,
        "address",
        i.address,
        MAX_ADDRESS_CHARS,
        ("Адреса українською", "The Ukrainian address"),
    );
    let address_en = required(
        &mut errors,
        "address_en",
        i.address_en,
        MAX_ADDRESS_CHARS,
        ("Адреса англійською", "The English address"),
    );
    let kind = OfficeKind::from_code(i.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::bilingual(
            "kind",
            "Оберіть вид: центр або контактний центр.",
            "Choose a kind: office or contact center.",
        ));
    }
    let tz_text = i.timezone.trim();
    let timezone = tz_text.parse::<Tz>().ok();
    if timezone.is_none() {
        errors.push(FieldError::bilingual(
            "timezone",
            format!(
                "Невідомий часовий пояс «{tz_text}»: вкажіть назву з бази IANA, наприклад Europe/Kyiv."
            ),
            format!(
                "Unknown time zone \"{tz_text}\": give an IANA name such as Europe/Kyiv."
            ),
        ));
    }
    let slot_minutes = match i.slot_minutes.trim().parse::<u16>() {
        Ok(m) if (1..=MAX_GRID_MINUTES).contains(&m) => Some(m),
        _ => {
            errors.push(FieldError::bilingual(
                "slot_minutes",
                format!("Крок сітки запису: ціле число хвилин від 1 до {MAX_GRID_MINUTES}."),
                format!("The slot grid: a whole number of minutes from 1 to {MAX_GRID_MINUTES}."),
            ));
            None
        }
    };
    let mut hours = [None; 7];
    for (d, pair) in i.hours.iter().enumerate() {
        hours[d] = hours_pair(&mut errors, "hours", d, *pair);
    }
    match (kind, timezone, slot_minutes) {
        (Some(kind), Some(timezone), Some(slot_minutes)) if errors.is_empty() => Ok(OfficeChange {
            code,
            name: Text::new(name, name_en),
            address: Text::new(address, address_en),
            kind,
            timezone,
            slot_minutes,
            hours,
        }),
        _ => Err(errors),
    }
}

/// A closed day (holiday) of an office.
#[derive(Debug, Clone, PartialEq)]
pub struct Closure {
    pub day: NaiveDate,
    pub reason: Text,
}

fn parse_day(errors: &mut Vec<FieldError>, field: &str, value: &str) -> Option<NaiveDate> {
    let v = value.trim();
    let day = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
    if day.is_none() {
        errors.push(FieldError::bilingual(
            field,
            format!("Дата «{v}»: вкажіть її у форматі РРРР-ММ-ДД."),
            format!("Date \"{v}\": give it as YYYY-MM-DD."),
        ));
    }
    day
}

pub fn validate_closure(
    day: &str,
    reason: &str,
    reason_en: &str,
) -> Result<Closure, Vec<FieldError>> {
    let mut errors = Vec::new();
    let day = parse_day(&mut errors, "day", day);
    let reason = reason.trim();
    let reason_en = reason_en.trim();
    for (field, v) in [("reason", reason), ("reason_en", reason_en)] {
        if v.chars().count() > MAX_NAME_CHARS {
            errors.push(FieldError::bilingual(
                field,
                format!("Причина має бути не довшою за {MAX_NAME_CHARS} символів."),
                format!("The reason must be at most {MAX_NAME_CHARS} characters long."),
            ));
        }
    }
    match day {
        Some(day) if errors.is_empty() => Ok(Closure {
            day,
            reason: Text::new(reason, reason_en),
        }),
        _ => Err(errors),
    }
}

/// A closed day is added for today or later: days gone by are as they were.
pub fn check_closure_day(day: NaiveDate, today: NaiveDate) -> Result<(), Vec<FieldError>> {
    if day < today {
        return Err(vec![FieldError::bilingual(
            "day",
            format!("День {day} уже минув: вихідний можна додати на сьогодні або пізніше."),
            format!("{day} has passed: a closed day can be added for today or later."),
        )]);
    }
    Ok(())
}

/// A specialist's form as sent; `skills` are the ticked service codes.
#[derive(Debug, Clone, Default)]
pub struct SpecialistInput<'a> {
    pub name: &'a str,
    pub window_label: &'a str,
    pub active: bool,
    pub skills: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialistChange {
    pub name: String,
    pub window_label: String,
    pub active: bool,
    /// Service codes; the store refuses codes the catalog does not have.
    pub skills: Vec<String>,
}

pub fn validate_specialist(i: &SpecialistInput) -> Result<SpecialistChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = required(
        &mut errors,
        "name",
        i.name,
        MAX_NAME_CHARS,
        ("Ім'я", "The name"),
    );
    let window_label = required(
        &mut errors,
        "window_label",
        i.window_label,
        MAX_DESK_CHARS,
        ("Вікно чи стіл", "The desk or window"),
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut skills: Vec<String> = i.skills.iter().map(|s| s.trim().to_string()).collect();
    skills.sort();
    skills.dedup();
    Ok(SpecialistChange {
        name,
        window_label,
        active: i.active,
        skills,
    })
}

/// "13:00-13:30, 15:00-15:15" → windows; an empty text is none.
pub fn parse_windows(text: &str) -> Option<Vec<LocalWindow>> {
    let mut out = Vec::new();
    for part in text.split([',', ';', '\n']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (a, b) = part.split_once(['-', '–', '—'])?;
        out.push(LocalWindow::parse(a, b)?);
    }
    out.sort();
    Some(out)
}

pub fn format_windows(windows: &[LocalWindow]) -> String {
    windows
        .iter()
        .map(|w| format!("{}-{}", format_hhmm(w.start), format_hhmm(w.end)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One weekday of a specialist's week as sent: working hours, breaks and walk-in periods
/// ("HH:MM-HH:MM" lists).
#[derive(Debug, Clone, Copy, Default)]
pub struct DayInput<'a> {
    pub starts: &'a str,
    pub ends: &'a str,
    pub breaks: &'a str,
    pub walk_in: &'a str,
}

/// Checks a weekly schedule: hours that end after they start, breaks and walk-in periods
/// inside the working hours, breaks that do not overlap.
pub fn validate_week(days: &[DayInput; 7]) -> Result<[WorkDay; 7], Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut week: [WorkDay; 7] = Default::default();
    for (d, input) in days.iter().enumerate() {
        let n = d + 1;
        let work = hours_pair(&mut errors, "work", d, (input.starts, input.ends));
        let mut lists = Vec::new();
        for (field, text, uk, en) in [
            ("breaks", input.breaks, "перерви", "breaks"),
            (
                "walk_in",
                input.walk_in,
                "час для живої черги",
                "walk-in periods",
            ),
        ] {
            match parse_windows(text) {
                Some(list) => {
                    if !list.is_empty() && work.is_none() {
                        errors.push(FieldError::bilingual(
                            format!("{field}_{d}"),
                            format!("День {n}: {uk} задано для неробочого дня."),
                            format!("Day {n}: {en} are given for a day off."),
                        ));
                    } else if let Some(w) = work
                        && list.iter().any(|b| b.start < w.start || b.end > w.end)
                    {
                        errors.push(FieldError::bilingual(
                            format!("{field}_{d}"),
                            format!("День {n}: {uk} мають бути в межах робочого часу."),
                            format!("Day {n}: {en} must lie within the working hours."),
                        ));
                    }
                    if list.windows(2).any(|p| p[1].start < p[0].end) {
                        errors.push(FieldError::bilingual(
                            format!("{field}_{d}"),
                            format!("День {n}: {uk} перекриваються."),
                            format!("Day {n}: the {en} overlap."),
                        ));
                    }
                    lists.push(list);
                }
                None => {
                    errors.push(FieldError::bilingual(
                        format!("{field}_{d}"),
                        format!(
                            "День {n}: {uk} — проміжки ГГ:ХХ-ГГ:ХХ через кому, кінець пізніше за початок (наприклад 13:00-13:30, 15:00-15:15)."
                        ),
                        format!(
                            "Day {n}: {en} are HH:MM-HH:MM ranges separated by commas, each ending after it starts (say 13:00-13:30, 15:00-15:15)."
                        ),
                    ));
                    lists.push(Vec::new());
                }
            }
        }
        let walk_in = lists.pop().unwrap_or_default();
        let breaks = lists.pop().unwrap_or_default();
        week[d] = WorkDay {
            work,
            breaks,
            walk_in,
        };
    }
    if errors.is_empty() {
        Ok(week)
    } else {
        Err(errors)
    }
}

/// An exception as sent: a date range, its kind and (optional for time off, required for an
/// extra shift) its hours.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExceptionInput<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub kind: &'a str,
    pub starts: &'a str,
    pub ends: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionChange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub kind: ExceptionKind,
    /// `None`: the whole day (time off only).
    pub window: Option<LocalWindow>,
}

impl ExceptionChange {
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(|d| *d <= self.to)
    }
}

pub fn validate_exception(i: &ExceptionInput) -> Result<ExceptionChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    let from = parse_day(&mut errors, "from", i.from);
    // An empty end is the start: a single day.
    let to = if i.to.trim().is_empty() {
        from
    } else {
        parse_day(&mut errors, "to", i.to)
    };
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            errors.push(FieldError::bilingual(
                "to",
                "Кінцева дата має бути не раніше за початкову.",
                "The last day must not be before the first.",
            ));
        } else if (b - a).num_days() >= MAX_EXCEPTION_DAYS {
            errors.push(FieldError::bilingual(
                "to",
                format!("Один виняток охоплює не більше {MAX_EXCEPTION_DAYS} днів."),
                format!("One exception covers at most {MAX_EXCEPTION_DAYS} days."),
            ));
        }
    }
    let kind = ExceptionKind::from_code(i.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::bilingual(
            "kind",
            "Оберіть вид: відпустка, лікарняний або додаткова зміна.",
            "Choose a kind: leave, sick day or extra shift.",
        ));
    }
    let window = {
        let (a, b) = (i.starts.trim(), i.ends.trim());
        if a.is_empty() && b.is_empty() {
            None
        } else {
            match LocalWindow::parse(a, b) {
                Some(w) => Some(w),
                None => {
                    errors.push(FieldError::bilingual(
                        "starts",
                        "Години винятку: початок і кінець у форматі ГГ:ХХ, кінець пізніше за початок.",
                        "The exception's hours: start and end as HH:MM, the end after the start.",
                    ));
                    None
                }
            }
        }
    };
    if kind == Some(ExceptionKind::Extra) && window.is_none() && errors.is_empty() {
        errors.push(FieldError::bilingual(
            "starts",
            "Для додаткової зміни вкажіть її години.",
            "Give the hours of the extra shift.",
        ));
    }
    match (from, to, kind) {
        (Some(from), Some(to), Some(kind)) if errors.is_empty() => Ok(ExceptionChange {
            from,
            to,
            kind,
            window,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office<'a>() -> OfficeInput<'a> {
        OfficeInput {
            code: "west-2",
            name: "Західний центр",
            name_en: "West office",
            address: "вул. Тестова, 1",
            address_en: "1 Test St",
            kind: "office",
            timezone: "Europe/Kyiv",
            slot_minutes: "15",
            hours: [
                ("09:00", "18:00"),
                ("09:00", "18:00"),
                ("", ""),
                ("", ""),
                ("", ""),
                ("", ""),
                ("", ""),
            ],
        }
    }

    fn fields(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn office_is_read() {
        let o = validate_office(&office()).expect("valid");
        assert_eq!(o.timezone, chrono_tz::Europe::Kyiv);
        assert_eq!(o.slot_minutes, 15);
        assert_eq!(o.hours[0], LocalWindow::new(540, 1080));
        assert_eq!(o.hours[2], None);
    }

    #[test]
    fn office_faults_are_all_reported() {
        let mut i = office();
        i.timezone = "Mars/Olympus";
        i.hours[0] = ("18:00", "09:00");
        i.hours[1] = ("09:00", "");
        i.slot_minutes = "0";
        i.code = "bad code";
        let e = validate_office(&i).unwrap_err();
        assert_eq!(
            fields(&e),
            ["code", "timezone", "slot_minutes", "hours_0", "hours_1"]
        );
        assert!(e[1].message.en.contains("Unknown time zone"), "{e:?}");
        assert!(e[3].message.en.contains("later than the start"), "{e:?}");
    }

    fn day<'a>(s: &'a str, e: &'a str, b: &'a str, w: &'a str) -> DayInput<'a> {
        DayInput {
            starts: s,
            ends: e,
            breaks: b,
            walk_in: w,
        }
    }

    #[test]
    fn week_is_read_with_breaks() {
        let mut days = [DayInput::default(); 7];
        days[0] = day("09:00", "17:00", "15:00-15:15, 13:00-13:30", "16:00-17:00");
        let w = validate_week(&days).expect("valid");
        assert_eq!(
            w[0].breaks,
            vec![
                LocalWindow::new(780, 810).unwrap(),
                LocalWindow::new(900, 915).unwrap()
            ]
        );
        assert_eq!(w[0].walk_in, vec![LocalWindow::new(960, 1020).unwrap()]);
        assert_eq!(w[1], WorkDay::default());
        assert_eq!(format_windows(&w[0].breaks), "13:00-13:30, 15:00-15:15");
    }

    #[test]
    fn week_faults() {
        let mut days = [DayInput::default(); 7];
        days[0] = day("09:00", "17:00", "13:00-13:30, 13:15-14:00", "");
        days[1] = day("17:00", "09:00", "", "");
        days[2] = day("09:00", "12:00", "11:30-12:30", "");
        days[3] = day("", "", "12:00-12:30", "");
        days[4] = day("09:00", "12:00", "10:00", "");
        let e = validate_week(&days).unwrap_err();
        assert_eq!(
            fields(&e),
            ["breaks_0", "work_1", "breaks_2", "breaks_3", "breaks_4"]
        );
        assert!(e[0].message.en.contains("overlap"), "{e:?}");
    }

    #[test]
    fn exceptions() {
        let leave = validate_exception(&ExceptionInput {
            from: "2027-03-01",
            to: "2027-03-03",
            kind: "leave",
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(leave.days().count(), 3);
        assert_eq!(leave.window, None);
        let extra = ExceptionInput {
            from: "2027-03-01",
            kind: "extra",
            ..Default::default()
        };
        assert_eq!(fields(&validate_exception(&extra).unwrap_err()), ["starts"]);
        let back = ExceptionInput {
            from: "2027-03-05",
            to: "2027-03-01",
            kind: "sick",
            ..Default::default()
        };
        assert_eq!(fields(&validate_exception(&back).unwrap_err()), ["to"]);
        let ok = validate_exception(&ExceptionInput {
            from: "2027-03-06",
            kind: "extra",
            starts: "10:00",
            ends: "14:00",
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(ok.window, LocalWindow::new(600, 840));
        assert_eq!(ok.days().count(), 1);
    }

    #[test]
    fn closed_days_are_today_or_later() {
        let today = NaiveDate::from_ymd_opt(2027, 1, 7).unwrap();
        assert!(check_closure_day(today, today).is_ok());
        let e = check_closure_day(today.pred_opt().unwrap(), today).unwrap_err();
        assert_eq!(fields(&e), ["day"]);
        assert!(e[0].message.en.contains("has passed"), "{e:?}");
    }

    #[test]
    fn closures() {
        assert!(validate_closure("2027-01-07", "Різдво", "Christmas").is_ok());
        assert_eq!(
            fields(&validate_closure("07.01.2027", "", "").unwrap_err()),
            ["day"]
        );
    }
}
