//! Input the handlers never saw: a JSON body that does not parse, a form or query of the wrong
//! shape, a body over the limit. Each becomes an `AppError` in the project's own words, in the
//! request's language, naming the field, never serde's English text.

use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::domain::lang::Text;
use crate::error::{AppError, FieldError};

/// The longest piece of a request echoed back in a message.
const ECHO_MAX: usize = 40;

/// A value from the request as a message may quote it: at most [`ECHO_MAX`] characters.
pub fn echo(s: &str) -> String {
    if s.chars().count() <= ECHO_MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(ECHO_MAX).collect();
        format!("{head}…")
    }
}

/// Parses a JSON body into `T`, naming the field at fault (`readings[3].hour`) when it does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        json_error(&path, e.inner())
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

fn json_error(path: &str, e: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    let detail = e.to_string();
    let detail = detail
        .rsplit_once(" at line ")
        .map_or(detail.as_str(), |(head, _)| head);
    if detail.starts_with("number out of range") {
        return field_fault(
            path,
            Text::new(
                "число завелике або замале.",
                "the number is too large or too small.",
            ),
        );
    }
    match e.classify() {
        Category::Data => {
            let (field, text) = describe(path, detail);
            field_fault(&field, text)
        }
        Category::Eof => AppError::BadRequest(Text::new(
            format!(
                "Тіло запиту не є коректним JSON: воно обривається (рядок {}, позиція {}).",
                e.line(),
                e.column()
            ),
            format!(
                "The request body is not valid JSON: it ends too early (line {}, column {}).",
                e.line(),
                e.column()
            ),
        )),
        Category::Syntax | Category::Io => AppError::BadRequest(Text::new(
            format!(
                "Тіло запиту не є коректним JSON (рядок {}, позиція {}).",
                e.line(),
                e.column()
            ),
            format!(
                "The request body is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            ),
        )),
    }
}

/// A 422 about one field, the field named in the message too.
pub fn field_fault(field: &str, text: Text) -> AppError {
    let field = if field.is_empty() || field == "." {
        "body"
    } else {
        field
    };
    AppError::Invalid {
        message: Text::new(
            format!("Поле «{field}»: {}", text.uk),
            format!("Field \"{field}\": {}", text.en),
        ),
        fields: vec![FieldError::new(field, capitalized(text))],
    }
}

fn capitalized(t: Text) -> Text {
    fn cap(s: &str) -> String {
        let mut c = s.chars();
        match c.next() {
            Some(f) => f.to_uppercase().chain(c).collect(),
            None => String::new(),
        }
    }
    Text::new(cap(&t.uk), cap(&t.en))
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_string()
    } else if path == name || path.ends_with(&format!(".{name}")) {
        path.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The text between the first pair of backticks: serde quotes names and values so.
fn quoted(s: &str) -> Option<&str> {
    let (_, rest) = s.split_once('`')?;
    rest.split_once('`').map(|(q, _)| q)
}

/// The values serde lists after "expected one of": `a`, `b`.
fn listed(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// What a serde "expected …" names, in both languages.
fn kind_of(expected: &str) -> Text {
    let e = expected.trim();
    let int = [
        "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize",
    ];
    if int.contains(&e) || e.contains("integer") {
        Text::new("ціле число", "a whole number")
    } else if e == "f32" || e == "f64" || e.contains("NumberInput") || e.contains("number") {
        Text::new("число", "a number")
    } else if e.contains("string") || e.contains("char") {
        Text::new("текст у лапках", "text in quotes")
    } else if e.contains("bool") {
        Text::new("true або false", "true or false")
    } else if e.contains("sequence") || e.contains("array") || e.contains("tuple") {
        Text::new("список [ … ]", "a list [ … ]")
    } else if e.contains("struct") || e.contains("map") {
        Text::new("об'єкт { … }", "an object { … }")
    } else {
        Text::new("значення іншого типу", "a value of another type")
    }
}

/// The bounds of an integer type serde names, for "out of range" messages.
fn int_range(expected: &str) -> Option<(i128, i128)> {
    Some(match expected.trim() {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    })
}

/// Turns serde's message about a value at `path` into the field it is about and our own words.
/// Works for JSON (path from `serde_path_to_error`) and for forms and queries (path empty).
pub fn describe(path: &str, detail: &str) -> (String, Text) {
    let path = path.trim();
    if let Some(rest) = detail.strip_prefix("unknown field ") {
        let name = quoted(rest).unwrap_or("");
        let allowed = rest
            .split_once("expected ")
            .map(|(_, e)| listed(e).join(", "))
            .unwrap_or_default();
        let (uk, en) = if allowed.is_empty() {
            (
                "такого поля немає.".to_string(),
                "there is no such field.".to_string(),
            )
        } else {
            (
                format!("такого поля немає; можливі поля: {allowed}."),
                format!("there is no such field; the fields are: {allowed}."),
            )
        };
        return (join(path, name), Text::new(uk, en));
    }
    if let Some(rest) = detail.strip_prefix("missing field ") {
        let name = quoted(rest).unwrap_or("");
        return (
            join(path, name),
            Text::new("обов'язкове поле відсутнє.", "this field is required."),
        );
    }
    if let Some(rest) = detail.strip_prefix("duplicate field ") {
        let name = quoted(rest).unwrap_or("");
        return (
            join(path, name),
            Text::new("поле вказане двічі.", "the field is given twice."),
        );
    }
    if let Some(rest) = detail.strip_prefix("unknown variant ") {
        let value = echo(quoted(rest).unwrap_or(""));
        let allowed = rest
            .split_once("expected ")
            .map(|(_, e)| listed(e).join(", "))
            .unwrap_or_default();
        return (
            path.to_string(),
            Text::new(
                format!("невідоме значення «{value}»; можливі: {allowed}."),
                format!("unknown value \"{value}\"; the values are: {allowed}."),
            ),
        );
    }
    if detail.contains("untagged enum NumberInput") {
        return (
            path.to_string(),
            Text::new(
                "потрібне число, наприклад 12.5 або \"12,5\".",
                "a number is required, e.g. 12.5 or \"12,5\".",
            ),
        );
    }
    if let Some(rest) = detail.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        // why: a JSON integer past i64 reaches serde as a float; it is a number, just too large.
        let whole = got
            .strip_prefix("floating point ")
            .and_then(quoted)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|n| n.fract() == 0.0);
        if let (Some(_), Some((lo, hi))) = (whole, int_range(expected)) {
            return (path.to_string(), out_of_range(lo, hi));
        }
        let kind = kind_of(expected);
        return (
            path.to_string(),
            Text::new(
                format!("тут очікується {}.", kind.uk),
                format!("this must be {}.", kind.en),
            ),
        );
    }
    if let Some(rest) = detail.strip_prefix("invalid value: ") {
        let (_, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        if let Some((lo, hi)) = int_range(expected) {
            return (path.to_string(), out_of_range(lo, hi));
        }
        return (
            path.to_string(),
            Text::new("неприпустиме значення.", "the value is not allowed."),
        );
    }
    if detail.starts_with("invalid length") {
        return (
            path.to_string(),
            Text::new(
                "неправильна кількість елементів.",
                "the number of items is wrong.",
            ),
        );
    }
    if detail.starts_with("invalid digit") || detail.starts_with("cannot parse") {
        return (
            path.to_string(),
            Text::new("потрібне число.", "a number is required."),
        );
    }
    (
        path.to_string(),
        Text::new("неправильне значення.", "the value is not valid."),
    )
}

fn out_of_range(lo: i128, hi: i128) -> Text {
    Text::new(
        format!("число поза межами: від {lo} до {hi}."),
        format!("the number is out of range: from {lo} to {hi}."),
    )
}

/// A body over the size limit.
pub fn too_large() -> AppError {
    AppError::TooLarge(Text::new(
        "Тіло запиту завелике.",
        "The request body is too large.",
    ))
}

/// axum's own rejections (path, query, form, body) come as plain text in English; this turns one
/// into an `AppError` of the same status class, keeping the field when serde named it.
pub fn from_plain(status: StatusCode, detail: &str) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::NOT_FOUND => AppError::not_found(),
        StatusCode::UNPROCESSABLE_ENTITY => {
            // "Failed to deserialize form body: unknown field `x`…": the part after the first ": ".
            let inner = detail.split_once(": ").map_or(detail, |(_, d)| d);
            let (field, text) = describe("", inner);
            field_fault(&field, text)
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::BadRequest(Text::new(
            "Непідтримуваний тип вмісту запиту (Content-Type).",
            "The request's content type (Content-Type) is not supported.",
        )),
        _ => {
            let inner = detail.split_once(": ").map_or(detail, |(_, d)| d);
            let (field, text) = describe("", inner);
            if field.is_empty() {
                AppError::BadRequest(Text::new(
                    "Некоректний запит: його не вдалося прочитати.",
                    "Invalid request: it could not be read.",
                ))
            } else {
                AppError::BadRequest(Text::new(
                    format!("Некоректний запит, поле «{field}»: {}", text.uk),
                    format!("Invalid request, field \"{field}\": {}", text.en),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        hour: Option<String>,
        count: Option<u32>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        rows: Vec<Inner>,
    }

    fn fault(body: &str) -> (String, Text) {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(AppError::Invalid { fields, .. }) => {
                (fields[0].field.clone(), fields[0].message.clone())
            }
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn names_the_field_in_both_languages_without_serde_text() {
        let (f, t) = fault(r#"{"name":"a","rows":[{},{"hour":5}]}"#);
        assert_eq!(f, "rows[1].hour");
        assert!(t.uk.contains("очікується текст"), "{t:?}");
        assert!(!t.uk.contains("expected"), "{t:?}");
        let (f, t) = fault(r#"{"name":"a","rows":[],"extra":1}"#);
        assert_eq!(f, "extra");
        assert!(t.en.contains("no such field"), "{t:?}");
        let (f, _) = fault(r#"{"rows":[]}"#);
        assert_eq!(f, "name");
        let (f, t) = fault(r#"{"name":"a","rows":[{"count":99999999999999999999999}]}"#);
        assert_eq!(f, "rows[0].count");
        assert!(t.en.contains("out of range"), "{t:?}");
        let (f, t) = fault(r#"{"name":"a","rows":[{"count":-1}]}"#);
        assert_eq!(f, "rows[0].count");
        assert!(t.en.contains("from 0 to 4294967295"), "{t:?}");
    }

    #[test]
    fn broken_json_is_400_with_a_position() {
        match parse_json::<Outer>(b"{\"name\":") {
            Err(AppError::BadRequest(t)) => {
                assert!(t.uk.contains("обривається"), "{t:?}");
                assert!(!t.uk.contains("EOF"), "{t:?}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<Outer>(b"{\"name\":\"a\",\"rows\":[]} x"),
            Err(AppError::BadRequest(_))
        ));
    }

    #[test]
    fn long_values_are_cut() {
        let long = "9".repeat(400);
        assert_eq!(echo(&long).chars().count(), ECHO_MAX + 1);
    }
}
