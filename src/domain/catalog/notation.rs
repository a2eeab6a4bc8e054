//! The published notations of the catalog: durations ("7 хв", "5-7 хв", "від 10 хв") and
//! channels ("контактний центр особистий візит сайт").

use serde::{Deserialize, Serialize};

use super::error::{CatalogError, ChannelsProblem, DurationProblem};
use crate::domain::lang::{Lang, Text};

/// How much longer than its lower bound an open-ended service ("від 10 хв") is planned, unless
/// the office configures otherwise.
pub const DEFAULT_OPEN_ENDED_FACTOR: u32 = 2;

/// A published service duration in minutes: `max == None` means open-ended ("від 10 хв").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DurationRange {
    pub min: u32,
    pub max: Option<u32>,
}

impl DurationRange {
    /// The booking length for this duration on a slot grid: the upper bound, or
    /// `min * open_ended_factor` when open-ended, rounded up to a whole number of slots.
    /// A zero grid or factor is read as 1 so a misconfigured office still gets a length.
    pub fn planned_minutes(&self, grid_minutes: u32, open_ended_factor: u32) -> u32 {
        let grid = u64::from(grid_minutes.max(1));
        let target = match self.max {
            Some(max) => u64::from(max),
            None => u64::from(self.min) * u64::from(open_ended_factor.max(1)),
        };
        let rounded = target.div_ceil(grid) * grid;
        u32::try_from(rounded).unwrap_or(u32::MAX)
    }

    /// The duration for a resident: uk "7 хв", "5–7 хв", "від 10 хв"; en "7 min", "5–7 min", "10+ min".
    pub fn display(&self, lang: Lang) -> String {
        match (lang, self.max) {
            (Lang::Uk, None) => format!("від {} хв", self.min),
            (Lang::En, None) => format!("{}+ min", self.min),
            (Lang::Uk, Some(max)) if max == self.min => format!("{max} хв"),
            (Lang::En, Some(max)) if max == self.min => format!("{max} min"),
            (Lang::Uk, Some(max)) => format!("{}–{max} хв", self.min),
            (Lang::En, Some(max)) => format!("{}–{max} min", self.min),
        }
    }

    pub fn is_open_ended(&self) -> bool {
        self.max.is_none()
    }
}

/// Reads a published duration: "7 хв", "5-7 хв" (or with "–"), "від 10 хв", "3-5 хв.".
/// Case and extra whitespace do not matter.
pub fn parse_duration(s: &str) -> Result<DurationRange, CatalogError> {
    let fail = |problem| CatalogError::Duration {
        input: s.trim().to_string(),
        problem,
    };
    let lower = s.trim().to_lowercase();
    if lower.is_empty() {
        return Err(fail(DurationProblem::Empty));
    }
    let (open, rest) = match lower.strip_prefix("від") {
        Some(rest) => (true, rest.trim_start()),
        None => (false, lower.as_str()),
    };
    let (min, rest) = take_number(rest).map_err(fail)?;
    let rest = rest.trim_start();
    let (max, rest) = match rest.strip_prefix(is_dash) {
        Some(_) if open => {
            // "від 5-10 хв" mixes both shapes; which one was meant is unclear.
            return Err(fail(DurationProblem::Garbage(rest.to_string())));
        }
        Some(after_dash) => {
            let (max, rest) = take_number(after_dash.trim_start()).map_err(fail)?;
            (Some(max), rest)
        }
        None if open => (None, rest),
        None => (Some(min), rest),
    };
    let mut words = rest.split_whitespace();
    let unit = words
        .next()
        .ok_or_else(|| fail(DurationProblem::MissingUnit))?;
    if !unit.starts_with(char::is_alphabetic) {
        // "7.5 хв", "7/8 хв": minutes are whole numbers.
        return Err(fail(DurationProblem::Garbage(rest.trim().to_string())));
    }
    if !is_minutes(unit) {
        return Err(fail(DurationProblem::UnknownUnit(unit.to_string())));
    }
    let leftover: Vec<&str> = words.collect();
    if !leftover.is_empty() {
        return Err(fail(DurationProblem::Garbage(leftover.join(" "))));
    }
    if min == 0 || max == Some(0) {
        return Err(fail(DurationProblem::Zero));
    }
    if let Some(max) = max
        && min > max
    {
        return Err(fail(DurationProblem::MinAboveMax { min, max }));
    }
    Ok(DurationRange { min, max })
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '–' | '—' | '‒' | '−')
}

fn is_minutes(unit: &str) -> bool {
    matches!(
        unit,
        "хв" | "хв." | "хвилина" | "хвилини" | "хвилин" | "min" | "min."
    )
}

/// Splits a leading run of ASCII digits off `s` and reads it.
fn take_number(s: &str) -> Result<(u32, &str), DurationProblem> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return Err(DurationProblem::NoNumber);
    }
    let n = s[..end]
        .parse::<u32>()
        .map_err(|_| DurationProblem::Overflow)?;
    Ok((n, &s[end..]))
}

/// How a resident can get a service, as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// By phone through the contact center; in cherga, a call-back at a booked time.
    ContactCenter,
    /// In person at a district center: an appointment or a walk-in ticket.
    Visit,
    /// Answered by a page on the website.
    Website,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::ContactCenter, Channel::Visit, Channel::Website];

    pub fn code(self) -> &'static str {
        match self {
            Channel::ContactCenter => "contact_center",
            Channel::Visit => "visit",
            Channel::Website => "website",
        }
    }

    pub fn from_code(code: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == code.trim())
    }

    /// The channel's name, as the published catalog calls it.
    pub fn label(self) -> Text {
        match self {
            Channel::ContactCenter => Text::new("Контактний центр", "Contact center"),
            Channel::Visit => Text::new("Особистий візит", "Visit in person"),
            Channel::Website => Text::new("Сайт", "Website"),
        }
    }

    /// The button a resident presses to use this channel.
    pub fn action(self) -> Text {
        match self {
            Channel::ContactCenter => Text::new("Замовити зворотний дзвінок", "Book a call-back"),
            Channel::Visit => Text::new("Записатися на прийом", "Book a visit"),
            Channel::Website => Text::new("Дізнатися онлайн", "Read online"),
        }
    }

    /// What the resident can do through this channel, one sentence.
    pub fn explanation(self) -> Text {
        match self {
            Channel::ContactCenter => Text::new(
                "Оберіть зручний час, і фахівець контактного центру вам зателефонує.",
                "Pick a time and a contact center specialist will call you back.",
            ),
            Channel::Visit => Text::new(
                "Запишіться на прийом до фахівця або візьміть талон у терміналі в центрі.",
                "Book an appointment with a specialist or take a walk-in ticket at the center's kiosk.",
            ),
            Channel::Website => Text::new(
                "Відповідь можна знайти на сайті, без черги.",
                "The answer is on the website, no queue needed.",
            ),
        }
    }
}

/// Reads a published channel list: "контактний центр", "особистий візит" and "сайт" in any order,
/// separated by whitespace (commas tolerated), case-insensitive. Keeps the published order.
pub fn parse_channels(s: &str) -> Result<Vec<Channel>, CatalogError> {
    let fail = |problem| CatalogError::Channels {
        input: s.trim().to_string(),
        problem,
    };
    let lower = s.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err(fail(ChannelsProblem::Empty));
    }
    let mut channels = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (channel, used) = match (words[i], words.get(i + 1).copied()) {
            ("контактний", Some("центр")) => (Channel::ContactCenter, 2),
            ("особистий", Some("візит")) => (Channel::Visit, 2),
            ("сайт", _) => (Channel::Website, 1),
            (word, _) => return Err(fail(ChannelsProblem::Unknown(word.to_string()))),
        };
        if channels.contains(&channel) {
            return Err(fail(ChannelsProblem::Duplicate(channel)));
        }
        channels.push(channel);
        i += used;
    }
    Ok(channels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IntoDeserializer;

    fn d(s: &str) -> DurationRange {
        match parse_duration(s) {
            Ok(d) => d,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn range(min: u32, max: Option<u32>) -> DurationRange {
        DurationRange { min, max }
    }

    fn duration_problem(s: &str) -> DurationProblem {
        match parse_duration(s) {
            Err(CatalogError::Duration { problem, .. }) => problem,
            other => panic!("{s:?} should be rejected, got {other:?}"),
        }
    }

    fn channels_problem(s: &str) -> ChannelsProblem {
        match parse_channels(s) {
            Err(CatalogError::Channels { problem, .. }) => problem,
            other => panic!("{s:?} should be rejected, got {other:?}"),
        }
    }

    #[test]
    fn exact_duration() {
        assert_eq!(d("7 хв"), range(7, Some(7)));
        assert_eq!(d("2 хв"), range(2, Some(2)));
    }

    #[test]
    fn range_duration_with_any_dash_and_spacing() {
        assert_eq!(d("5-7 хв"), range(5, Some(7)));
        assert_eq!(d("5–7 хв"), range(5, Some(7)));
        assert_eq!(d("5 - 7 хв"), range(5, Some(7)));
        assert_eq!(d("5 – 7 хв"), range(5, Some(7)));
        assert_eq!(d("3-15 хв"), range(3, Some(15)));
        assert_eq!(d("7-7 хв"), range(7, Some(7)));
    }

    #[test]
    fn open_ended_duration() {
        assert_eq!(d("від 10 хв"), range(10, None));
        assert_eq!(d("ВІД 10 ХВ"), range(10, None));
        assert_eq!(d("від10хв"), range(10, None));
        assert!(d("від 10 хв").is_open_ended());
    }

    #[test]
    fn trailing_dot_case_and_whitespace() {
        assert_eq!(d("3-5 хв."), range(3, Some(5)));
        assert_eq!(d("  3-5   ХВ  "), range(3, Some(5)));
        assert_eq!(d("\t7\u{a0}хв "), range(7, Some(7)));
        assert_eq!(d("7хв"), range(7, Some(7)));
        assert_eq!(d("  Від   10   Хв. "), range(10, None));
    }

    #[test]
    fn malformed_durations_are_rejected_with_the_reason() {
        assert_eq!(duration_problem(""), DurationProblem::Empty);
        assert_eq!(duration_problem("   "), DurationProblem::Empty);
        assert_eq!(duration_problem("хв"), DurationProblem::NoNumber);
        assert_eq!(duration_problem("від хв"), DurationProblem::NoNumber);
        assert_eq!(duration_problem("-5 хв"), DurationProblem::NoNumber);
        assert_eq!(duration_problem("5- хв"), DurationProblem::NoNumber);
        assert_eq!(duration_problem("0 хв"), DurationProblem::Zero);
        assert_eq!(duration_problem("0-5 хв"), DurationProblem::Zero);
        assert_eq!(duration_problem("від 0 хв"), DurationProblem::Zero);
        assert_eq!(
            duration_problem("7-5 хв"),
            DurationProblem::MinAboveMax { min: 7, max: 5 }
        );
        assert_eq!(duration_problem("7"), DurationProblem::MissingUnit);
        assert_eq!(
            duration_problem("7 год"),
            DurationProblem::UnknownUnit("год".into())
        );
        assert_eq!(
            duration_problem("7 хв abc"),
            DurationProblem::Garbage("abc".into())
        );
        assert_eq!(
            duration_problem("від 5-10 хв"),
            DurationProblem::Garbage("-10 хв".into())
        );
        assert_eq!(
            duration_problem("7.5 хв"),
            DurationProblem::Garbage(".5 хв".into())
        );
        assert_eq!(
            duration_problem("99999999999 хв"),
            DurationProblem::Overflow
        );
        assert_eq!(
            duration_problem("1-99999999999 хв"),
            DurationProblem::Overflow
        );
        assert_eq!(duration_problem("abc"), DurationProblem::NoNumber);
    }

    #[test]
    fn duration_errors_are_bilingual_and_quote_the_input() {
        let text = parse_duration("7 год").err().map(|e| e.text());
        let Some(text) = text else {
            panic!("should be rejected")
        };
        assert!(text.uk.contains("«7 год»") && text.uk.contains("год"));
        assert!(text.en.contains("\"7 год\"") && text.en.contains("unknown unit"));
    }

    #[test]
    fn planned_minutes_round_the_upper_bound_up_to_the_grid() {
        assert_eq!(d("7 хв").planned_minutes(5, 2), 10);
        assert_eq!(d("2 хв").planned_minutes(5, 2), 5);
        assert_eq!(d("5 хв").planned_minutes(5, 2), 5);
        assert_eq!(d("5-7 хв").planned_minutes(5, 2), 10);
        assert_eq!(d("3-15 хв").planned_minutes(5, 2), 15);
        assert_eq!(
            d("від 10 хв").planned_minutes(5, DEFAULT_OPEN_ENDED_FACTOR),
            20
        );
        assert_eq!(d("від 10 хв").planned_minutes(15, 2), 30);
        assert_eq!(d("від 10 хв").planned_minutes(5, 3), 30);
        assert_eq!(d("7 хв").planned_minutes(15, 2), 15);
        assert_eq!(d("7 хв").planned_minutes(1, 2), 7);
    }

    #[test]
    fn planned_minutes_survive_zero_and_huge_settings() {
        assert_eq!(d("7 хв").planned_minutes(0, 2), 7);
        assert_eq!(d("від 10 хв").planned_minutes(5, 0), 10);
        assert_eq!(d("від 10 хв").planned_minutes(0, 0), 10);
        let huge = range(u32::MAX, None);
        assert_eq!(huge.planned_minutes(7, u32::MAX), u32::MAX);
        assert_eq!(
            range(1, Some(u32::MAX)).planned_minutes(u32::MAX - 1, 2),
            u32::MAX
        );
    }

    #[test]
    fn display_in_both_languages() {
        assert_eq!(d("7 хв").display(Lang::Uk), "7 хв");
        assert_eq!(d("5-7 хв").display(Lang::Uk), "5–7 хв");
        assert_eq!(d("від 10 хв").display(Lang::Uk), "від 10 хв");
        assert_eq!(d("7 хв").display(Lang::En), "7 min");
        assert_eq!(d("5-7 хв").display(Lang::En), "5–7 min");
        assert_eq!(d("від 10 хв").display(Lang::En), "10+ min");
    }

    #[test]
    fn display_reads_back() {
        for s in ["7 хв", "5-7 хв", "від 10 хв", "3-5 хв."] {
            let parsed = d(s);
            assert_eq!(d(&parsed.display(Lang::Uk)), parsed);
        }
    }

    #[test]
    fn channels_keep_the_published_order() {
        assert_eq!(
            parse_channels("контактний центр особистий візит").ok(),
            Some(vec![Channel::ContactCenter, Channel::Visit])
        );
        assert_eq!(
            parse_channels("особистий візит контактний центр").ok(),
            Some(vec![Channel::Visit, Channel::ContactCenter])
        );
        assert_eq!(
            parse_channels("контактний центр особистий візит сайт").ok(),
            Some(vec![
                Channel::ContactCenter,
                Channel::Visit,
                Channel::Website
            ])
        );
        assert_eq!(
            parse_channels("особистий візит").ok(),
            Some(vec![Channel::Visit])
        );
        assert_eq!(
            parse_channels("  САЙТ   Особистий\tвізит, контактний  центр ").ok(),
            Some(vec![
                Channel::Website,
                Channel::Visit,
                Channel::ContactCenter
            ])
        );
    }

    #[test]
    fn malformed_channels_name_the_bad_part() {
        assert_eq!(channels_problem(""), ChannelsProblem::Empty);
        assert_eq!(channels_problem("  ,  "), ChannelsProblem::Empty);
        assert_eq!(
            channels_problem("особистий візит пошта"),
            ChannelsProblem::Unknown("пошта".into())
        );
        assert_eq!(
            channels_problem("контактний особистий візит"),
            ChannelsProblem::Unknown("контактний".into())
        );
        assert_eq!(
            channels_problem("особистий"),
            ChannelsProblem::Unknown("особистий".into())
        );
        assert_eq!(
            channels_problem("сайт особистий візит сайт"),
            ChannelsProblem::Duplicate(Channel::Website)
        );
        let Err(e) = parse_channels("сайт телеграм") else {
            panic!("should be rejected")
        };
        assert!(e.text().uk.contains("«телеграм»"));
        assert!(e.text().en.contains("\"телеграм\""));
    }

    #[test]
    fn channel_codes_and_serde_names_agree() {
        for channel in Channel::ALL {
            assert_eq!(Channel::from_code(channel.code()), Some(channel));
            let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                channel.code().into_deserializer();
            assert_eq!(Channel::deserialize(de).ok(), Some(channel));
        }
        assert_eq!(Channel::from_code("phone"), None);
    }

    #[test]
    fn channel_texts() {
        assert_eq!(Channel::Visit.action().uk, "Записатися на прийом");
        assert_eq!(Channel::Visit.action().en, "Book a visit");
        assert_eq!(
            Channel::ContactCenter.action().uk,
            "Замовити зворотний дзвінок"
        );
        assert_eq!(Channel::ContactCenter.action().en, "Book a call-back");
        assert_eq!(Channel::Website.action().get(Lang::Uk), "Дізнатися онлайн");
        assert_eq!(Channel::Website.action().get(Lang::En), "Read online");
        for channel in Channel::ALL {
            assert!(!channel.label().uk.is_empty() && !channel.explanation().en.is_empty());
        }
    }
}
