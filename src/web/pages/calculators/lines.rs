//! Textarea lines: one request item a line, parts separated by `;`, each item remembering the line
//! it came from so faults can name it.

use crate::domain::lang::Text;
use crate::domain::rules::FieldError;
use crate::domain::rules::numbers::NumberInput;
use crate::domain::rules::requests::{
    ChargeRequest, InterruptionRequest, PremiseRequest, ReadingRequest,
};

/// A textarea line that does not split into the expected parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LineError {
    /// The textarea (and request list) it belongs to.
    pub(super) list: &'static str,
    /// 1-based, counting every line of the textarea as the resident sees it.
    pub(super) line: usize,
    pub(super) message: Text,
}

/// The rows of one textarea as request items, with the textarea line each came from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Rows<T> {
    pub(super) rows: Vec<T>,
    /// `lines[i]` is the textarea line of `rows[i]`, so `charges[2]` can be named "line 5".
    pub(super) lines: Vec<usize>,
    pub(super) errors: Vec<LineError>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            rows: Vec::new(),
            lines: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// The non-blank lines of a textarea: (1-based line number, its parts split at `;`, trimmed).
fn data_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.split(';').map(str::trim).collect()))
}

fn shape_error(list: &'static str, line: usize, format: &Text, got: usize) -> LineError {
    LineError {
        list,
        line,
        message: Text::new(
            format!(
                "рядок {line} має {got} част. через «;», а потрібно так: «{}».",
                format.uk
            ),
            format!(
                "line {line} has {got} part(s) separated by \";\"; it must look like \"{}\".",
                format.en
            ),
        ),
    }
}

fn bool_error(list: &'static str, line: usize, value: &str) -> LineError {
    LineError {
        list,
        line,
        message: Text::new(
            format!("рядок {line}: «{value}» — потрібно так або ні (також yes/no, 1/0)."),
            format!("line {line}: \"{value}\" must be yes or no (also так/ні, 1/0)."),
        ),
    }
}

/// Yes/no as residents type it, in either language.
fn parse_yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "так" | "yes" | "y" | "1" | "true" | "т" | "+" => Some(true),
        "ні" | "no" | "n" | "0" | "false" | "н" | "-" => Some(false),
        _ => None,
    }
}

pub(super) fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

pub(super) fn number(s: &str) -> Option<NumberInput> {
    text(s).map(NumberInput::Text)
}

/// `YYYY-MM-DDTHH:MM; temperature; pressure` (temperature or pressure may be empty or left off).
pub(super) fn parse_readings(input: &str) -> Rows<ReadingRequest> {
    let format = Text::new(
        "РРРР-ММ-ДДTГГ:ХХ; температура °C; тиск МПа",
        "YYYY-MM-DDTHH:MM; temperature °C; pressure MPa",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if !(1..=3).contains(&parts.len()) {
            out.errors
                .push(shape_error("readings", line, &format, parts.len()));
            continue;
        }
        out.rows.push(ReadingRequest {
            hour: text(parts[0]),
            temperature_c: parts.get(1).and_then(|s| number(s)),
            pressure_mpa: parts.get(2).and_then(|s| number(s)),
        });
        out.lines.push(line);
    }
    out
}

/// `start; end; kind`.
pub(super) fn parse_interruptions(input: &str) -> Rows<InterruptionRequest> {
    let format = Text::new(
        "РРРР-ММ-ДДTГГ:ХХ; РРРР-ММ-ДДTГГ:ХХ; вид",
        "YYYY-MM-DDTHH:MM; YYYY-MM-DDTHH:MM; kind",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if parts.len() != 3 {
            out.errors
                .push(shape_error("interruptions", line, &format, parts.len()));
            continue;
        }
        out.rows.push(InterruptionRequest {
            start: text(parts[0]),
            end: text(parts[1]),
            kind: text(parts[2]),
        });
        out.lines.push(line);
    }
    out
}

/// `YYYY-MM; service; amount; metered`.
pub(super) fn parse_charges(input: &str) -> Rows<ChargeRequest> {
    let format = Text::new(
        "РРРР-ММ; послуга; сума; лічильник так/ні",
        "YYYY-MM; service; amount; metered yes/no",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if parts.len() != 4 {
            out.errors
                .push(shape_error("charges", line, &format, parts.len()));
            continue;
        }
        let Some(metered) = parse_yes_no(parts[3]) else {
            out.errors.push(bool_error("charges", line, parts[3]));
            continue;
        };
        out.rows.push(ChargeRequest {
            month: text(parts[0]),
            service: text(parts[1]),
            amount: number(parts[2]),
            metered: Some(metered),
        });
        out.lines.push(line);
    }
    out
}

/// `id; area_m2; connected`.
pub(super) fn parse_premises(input: &str) -> Rows<PremiseRequest> {
    let format = Text::new(
        "приміщення; площа м²; підключене так/ні",
        "premise; area m²; connected yes/no",
    );
    let mut out = Rows::default();
    for (line, parts) in data_lines(input) {
        if parts.len() != 3 {
            out.errors
                .push(shape_error("premises", line, &format, parts.len()));
            continue;
        }
        let Some(connected) = parse_yes_no(parts[2]) else {
            out.errors.push(bool_error("premises", line, parts[2]));
            continue;
        };
        out.rows.push(PremiseRequest {
            id: text(parts[0]),
            area_m2: number(parts[1]),
            connected: Some(connected),
        });
        out.lines.push(line);
    }
    out
}

/// A whole number of persons; text that is not one is a fault of its own.
pub(super) fn persons(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                Text::new(
                    format!("«{s}» — не ціле число."),
                    format!("\"{s}\" is not a whole number."),
                ),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_keep_their_line_numbers_and_optional_parts() {
        let rows = parse_readings(
            "\n2024-04-02T10:00; 54; 0.3\n\n2024-04-02T11:00; ; 0,2\n2024-04-02T12:00\n",
        );
        assert!(rows.errors.is_empty());
        assert_eq!(rows.lines, [2, 4, 5]);
        assert_eq!(rows.rows[0].temperature_c, Some(NumberInput::from("54")));
        assert_eq!(rows.rows[1].temperature_c, None);
        assert_eq!(rows.rows[1].pressure_mpa, Some(NumberInput::from("0,2")));
        assert_eq!(rows.rows[2].pressure_mpa, None);
        let bad = parse_readings("2024-04-02T10:00; 54; 0.3; extra");
        assert_eq!(bad.errors.len(), 1);
        assert_eq!(bad.errors[0].line, 1);
        assert!(bad.errors[0].message.uk.contains("рядок 1"));
        assert!(bad.errors[0].message.en.contains("line 1"));
        assert!(bad.rows.is_empty());
    }

    #[test]
    fn charges_and_premises_need_every_part_and_a_yes_or_no() {
        let c = parse_charges(
            "2024-03; gas; 10; так\n2024-03; gas; 10\n2024-03; gas; 10; maybe\n2024-04; waste; 5; No",
        );
        assert_eq!(c.lines, [1, 4]);
        assert_eq!(c.rows[0].metered, Some(true));
        assert_eq!(c.rows[1].metered, Some(false));
        assert_eq!(c.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
        assert!(c.errors[1].message.en.contains("maybe"));
        let p = parse_premises("A; 60; 1\nB; 30\nC; 10; ні");
        assert_eq!(p.lines, [1, 3]);
        assert_eq!(p.rows[1].connected, Some(false));
        assert_eq!(p.errors[0].line, 2);
        let i = parse_interruptions("2024-04-01T10:00; 2024-04-01T12:00; planned\nnope");
        assert_eq!(i.rows.len(), 1);
        assert_eq!(i.errors[0].list, "interruptions");
    }

    #[test]
    fn yes_no_in_both_languages() {
        for s in ["так", "Так", "yes", "1", "TRUE"] {
            assert_eq!(parse_yes_no(s), Some(true), "{s}");
        }
        for s in ["ні", "НІ", "no", "0", "false"] {
            assert_eq!(parse_yes_no(s), Some(false), "{s}");
        }
        assert_eq!(parse_yes_no("maybe"), None);
    }
}
