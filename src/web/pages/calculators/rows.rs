//! Repeated rows of labelled inputs (charges, readings, interruptions, premises): how a form's
//! submitted columns become rows, rows become request items, and rows are shown again.
//! Every row's inputs share their names (`charges.month`, `charges.amount`, …), so the n-th value
//! of each name is the n-th row; a browser always sends every input of a row, even when empty.

use std::collections::BTreeMap;

use crate::domain::lang::Text;
use crate::domain::rules::FieldError;
use crate::domain::rules::numbers::NumberInput;
use crate::domain::rules::requests::{
    ChargeRequest, InterruptionRequest, PremiseRequest, ReadingRequest,
};

use super::Choice;

/// The longest value a calculator's text input takes.
pub(super) const MAX_LEN: usize = 100;
/// The most rows one list takes (a month has at most 744 hours).
pub(super) const MAX_ROWS: usize = 1000;
/// Empty rows shown after the filled ones, so the form works without JavaScript.
const SPARE_ROWS: usize = 3;

/// The columns of each row list.
pub(super) const CHARGES: &[&str] = &["month", "service", "amount", "metered"];
pub(super) const READINGS: &[&str] = &["date", "time", "temperature_c", "pressure_mpa"];
pub(super) const INTERRUPTIONS: &[&str] =
    &["start_date", "start_time", "end_date", "end_time", "kind"];
pub(super) const PREMISES: &[&str] = &["id", "area_m2", "connected"];

/// A row as submitted: one value per column.
pub(super) type Row = Vec<String>;

/// A submitted form split into single values and row columns, with the inputs that were too long.
#[derive(Debug, Default)]
pub(crate) struct Submitted {
    pub(super) single: serde_json::Map<String, serde_json::Value>,
    columns: BTreeMap<String, Vec<String>>,
    pub(super) too_long: Vec<String>,
}

impl Submitted {
    /// Splits urlencoded pairs: `list.column` names are row columns, the rest single values.
    pub(crate) fn parse(body: &[u8]) -> Submitted {
        let mut out = Submitted::default();
        for (k, v) in form_urlencoded::parse(body) {
            let mut v = v.into_owned();
            if v.chars().count() > MAX_LEN {
                v = v.chars().take(MAX_LEN).collect();
                if !out.too_long.contains(&k.to_string()) {
                    out.too_long.push(k.to_string());
                }
            }
            if k.contains('.') {
                out.columns.entry(k.into_owned()).or_default().push(v);
            } else {
                out.single
                    .insert(k.into_owned(), serde_json::Value::String(v));
            }
        }
        out
    }

    /// The rows of one list, blank rows at the end dropped (blank rows between filled ones keep
    /// their place, so "row 3" stays the third row the resident sees).
    pub(super) fn rows(&self, list: &str, columns: &[&str]) -> Vec<Row> {
        let cols: Vec<&[String]> = columns
            .iter()
            .map(|c| {
                self.columns
                    .get(&format!("{list}.{c}"))
                    .map_or(&[][..], Vec::as_slice)
            })
            .collect();
        let n = cols
            .iter()
            .map(|c| c.len())
            .max()
            .unwrap_or(0)
            .min(MAX_ROWS);
        let mut rows: Vec<Row> = (0..n)
            .map(|i| {
                cols.iter()
                    .map(|c| c.get(i).map(|s| s.trim().to_string()).unwrap_or_default())
                    .collect()
            })
            .collect();
        while rows.last().is_some_and(|r| is_blank(list, r)) {
            rows.pop();
        }
        rows
    }

    /// Whether a list had more rows than it takes.
    pub(super) fn too_many(&self, list: &str) -> bool {
        self.columns
            .iter()
            .any(|(k, v)| k.starts_with(&format!("{list}.")) && v.len() > MAX_ROWS)
    }
}

/// A row with nothing typed in it; the yes/no selects have a default and do not count.
fn is_blank(list: &str, row: &Row) -> bool {
    let typed = match list {
        "charges" => &row[..3.min(row.len())],
        "premises" => &row[..2.min(row.len())],
        _ => &row[..],
    };
    typed.iter().all(|s| s.trim().is_empty())
}

/// The faults of a submitted form before any row is read: values too long, too many rows.
pub(super) fn limit_faults(s: &Submitted, lists: &[&str]) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = s
        .too_long
        .iter()
        .map(|name| {
            let field = name.split('.').next().unwrap_or(name);
            FieldError::new(
                field,
                Text::new(
                    format!("значення задовге (найбільше {MAX_LEN} символів)."),
                    format!("the value is too long (at most {MAX_LEN} characters)."),
                ),
            )
        })
        .collect();
    for list in lists {
        if s.too_many(list) {
            out.push(FieldError::new(
                *list,
                Text::new(
                    format!("забагато рядків (найбільше {MAX_ROWS})."),
                    format!("too many rows (at most {MAX_ROWS})."),
                ),
            ));
        }
    }
    out
}

/// A row that could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LineError {
    /// The row list (and request list) it belongs to.
    pub(super) list: &'static str,
    /// 1-based, counting every row as the resident sees it.
    pub(super) line: usize,
    pub(super) message: Text,
}

/// The rows of one list as request items, with the row number each came from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Rows<T> {
    pub(super) rows: Vec<T>,
    /// `lines[i]` is the row number of `rows[i]`, so `charges[2]` can be named "row 5".
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

/// The filled rows: (1-based row number, the row).
fn filled<'a>(list: &'a str, rows: &'a [Row]) -> impl Iterator<Item = (usize, &'a Row)> {
    rows.iter()
        .enumerate()
        .filter(move |(_, r)| !is_blank(list, r))
        .map(|(i, r)| (i + 1, r))
}

fn cell(row: &Row, i: usize) -> &str {
    row.get(i).map_or("", String::as_str)
}

pub(super) fn text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

pub(super) fn number(s: &str) -> Option<NumberInput> {
    text(s).map(NumberInput::Text)
}

/// A date and a time input as the API's local `YYYY-MM-DDTHH:MM`; missing when either is empty.
fn instant(date: &str, time: &str) -> Option<String> {
    let (date, time) = (date.trim(), time.trim());
    if date.is_empty() || time.is_empty() {
        return None;
    }
    // A time input may send seconds ("10:00:00"); the API takes minutes.
    let time: String = time.chars().take(5).collect();
    Some(format!("{date}T{time}"))
}

/// "yes" / "no" from a select.
fn yes_no(list: &'static str, line: usize, s: &str) -> Result<bool, LineError> {
    match s {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(LineError {
            list,
            line,
            message: Text::new(
                format!("рядок {line}: виберіть «так» або «ні»."),
                format!("row {line}: choose yes or no."),
            ),
        }),
    }
}

pub(super) fn parse_readings(rows: &[Row]) -> Rows<ReadingRequest> {
    let mut out = Rows::default();
    for (line, r) in filled("readings", rows) {
        out.rows.push(ReadingRequest {
            hour: instant(cell(r, 0), cell(r, 1)),
            temperature_c: number(cell(r, 2)),
            pressure_mpa: number(cell(r, 3)),
        });
        out.lines.push(line);
    }
    out
}

pub(super) fn parse_interruptions(rows: &[Row]) -> Rows<InterruptionRequest> {
    let mut out = Rows::default();
    for (line, r) in filled("interruptions", rows) {
        out.rows.push(InterruptionRequest {
            start: instant(cell(r, 0), cell(r, 1)),
            end: instant(cell(r, 2), cell(r, 3)),
            kind: text(cell(r, 4)),
        });
        out.lines.push(line);
    }
    out
}

pub(super) fn parse_charges(rows: &[Row]) -> Rows<ChargeRequest> {
    let mut out = Rows::default();
    for (line, r) in filled("charges", rows) {
        let metered = match yes_no("charges", line, cell(r, 3)) {
            Ok(m) => m,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        out.rows.push(ChargeRequest {
            month: text(cell(r, 0)),
            service: text(cell(r, 1)),
            amount: number(cell(r, 2)),
            metered: Some(metered),
        });
        out.lines.push(line);
    }
    out
}

pub(super) fn parse_premises(rows: &[Row]) -> Rows<PremiseRequest> {
    let mut out = Rows::default();
    for (line, r) in filled("premises", rows) {
        let connected = match yes_no("premises", line, cell(r, 2)) {
            Ok(c) => c,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        out.rows.push(PremiseRequest {
            id: text(cell(r, 0)),
            area_m2: number(cell(r, 1)),
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
            let shown: String = s.chars().take(40).collect();
            errors.push(FieldError::new(
                field,
                Text::new(
                    format!("«{shown}» — не ціле число."),
                    format!("\"{shown}\" is not a whole number."),
                ),
            ));
            None
        }
    }
}

// ---- showing rows ----------------------------------------------------------------------------------

/// How one column of a row list is entered.
pub(super) enum Input {
    /// An `<input>` of this type, with its `inputmode` when it has one.
    Typed(&'static str, &'static str),
    /// A `<select>` of these (value, label) pairs.
    Select(Vec<(String, String)>),
}

/// One column of a row list: its name, label and input.
pub(super) struct Column {
    pub(super) name: &'static str,
    pub(super) label: String,
    pub(super) input: Input,
}

/// One input of one row, ready for the template.
pub(crate) struct CellView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) kind: &'static str,
    pub(crate) inputmode: &'static str,
    pub(crate) value: String,
    /// Empty for an `<input>`.
    pub(crate) options: Vec<Choice>,
}

pub(crate) struct RowView {
    pub(crate) id: String,
    pub(crate) number: usize,
    pub(crate) cells: Vec<CellView>,
    pub(crate) error: Option<String>,
}

/// A list of rows as the page shows it: the filled rows, then a few empty ones.
pub(crate) struct RowListView {
    pub(crate) id: &'static str,
    pub(crate) rows: Vec<RowView>,
}

/// Builds the rows to show: the submitted ones, then [`SPARE_ROWS`] empty ones; `error_at(n)`
/// gives the faults of row `n`.
pub(super) fn row_list(
    id: &'static str,
    columns: &[Column],
    rows: &[Row],
    error_at: impl Fn(usize) -> Option<String>,
) -> RowListView {
    let empty: Vec<Row> = vec![vec![String::new(); columns.len()]; SPARE_ROWS];
    let views = rows
        .iter()
        .chain(empty.iter())
        .enumerate()
        .map(|(i, r)| {
            let n = i + 1;
            RowView {
                id: format!("{id}-row-{n}"),
                number: n,
                cells: columns
                    .iter()
                    .enumerate()
                    .map(|(c, col)| {
                        let value = cell(r, c).to_string();
                        let (kind, inputmode, options) = match &col.input {
                            Input::Typed(kind, mode) => (*kind, *mode, Vec::new()),
                            Input::Select(opts) => (
                                "select",
                                "",
                                opts.iter()
                                    .map(|(v, l)| Choice {
                                        value: v.clone(),
                                        label: l.clone(),
                                        selected: *v == value,
                                    })
                                    .collect(),
                            ),
                        };
                        CellView {
                            id: format!("{id}-{n}-{}", col.name),
                            name: format!("{id}.{}", col.name),
                            label: col.label.clone(),
                            kind,
                            inputmode,
                            value,
                            options,
                        }
                    })
                    .collect(),
                error: error_at(n),
            }
        })
        .collect();
    RowListView { id, rows: views }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(pairs: &[(&str, &str)]) -> Submitted {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Submitted::parse(body.as_bytes())
    }

    #[test]
    fn columns_become_rows_and_trailing_blanks_go() {
        let s = submitted(&[
            ("csrf", "x"),
            ("charges.month", "2024-03"),
            ("charges.service", "gas"),
            ("charges.amount", "10"),
            ("charges.metered", "no"),
            ("charges.month", ""),
            ("charges.service", ""),
            ("charges.amount", ""),
            ("charges.metered", "no"),
            ("charges.month", "2024-04"),
            ("charges.service", "waste"),
            ("charges.amount", "5"),
            ("charges.metered", "yes"),
            ("charges.month", ""),
            ("charges.service", ""),
            ("charges.amount", ""),
            ("charges.metered", "no"),
        ]);
        assert_eq!(s.single["csrf"], "x");
        let rows = s.rows("charges", CHARGES);
        assert_eq!(rows.len(), 3, "{rows:?}");
        let c = parse_charges(&rows);
        assert_eq!(c.lines, [1, 3]);
        assert_eq!(c.rows[1].metered, Some(true));
        assert_eq!(c.rows[1].service.as_deref(), Some("waste"));
    }

    #[test]
    fn date_and_time_make_the_apis_instant() {
        let rows = vec![
            vec!["2024-04-02".into(), "10:00".into(), "54".into(), "".into()],
            vec!["2024-04-02".into(), "".into(), "54".into(), "0,3".into()],
        ];
        let r = parse_readings(&rows);
        assert_eq!(r.rows[0].hour.as_deref(), Some("2024-04-02T10:00"));
        assert_eq!(r.rows[1].hour, None);
        assert_eq!(r.rows[1].pressure_mpa, Some(NumberInput::from("0,3")));
        let i = parse_interruptions(&[vec![
            "2024-04-15".into(),
            "08:00:00".into(),
            "2024-04-15".into(),
            "11:00".into(),
            "planned".into(),
        ]]);
        assert_eq!(i.rows[0].start.as_deref(), Some("2024-04-15T08:00"));
        assert_eq!(i.rows[0].kind.as_deref(), Some("planned"));
    }

    #[test]
    fn long_values_and_too_many_rows_are_faults() {
        let long = "1".repeat(MAX_LEN + 5);
        let s = submitted(&[("heat_gcal", &long), ("premises.id", &long)]);
        assert_eq!(s.single["heat_gcal"].as_str().unwrap().len(), MAX_LEN);
        let f = limit_faults(&s, &["premises"]);
        let fields: Vec<&str> = f.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["heat_gcal", "premises"]);
        let many: Vec<(&str, &str)> = (0..=MAX_ROWS).map(|_| ("premises.id", "A")).collect();
        let s = submitted(&many);
        assert_eq!(s.rows("premises", PREMISES).len(), MAX_ROWS);
        assert_eq!(limit_faults(&s, &["premises"]).len(), 1);
    }

    #[test]
    fn a_yes_no_select_must_be_chosen() {
        let p = parse_premises(&[
            vec!["A".into(), "60".into(), "yes".into()],
            vec!["B".into(), "30".into(), "".into()],
        ]);
        assert_eq!(p.lines, [1]);
        assert_eq!(p.errors[0].line, 2);
        assert!(p.errors[0].message.uk.contains("рядок 2"));
    }
}
