//! An administrator's change to a service, checked before it reaches the database.

use super::notation::Channel;
use crate::domain::validation::FieldError;

/// The longest appointment an admin may plan: a whole working day.
pub const MAX_PLANNED_MINUTES: u32 = 480;
/// The longest service or category title kept, in either language (the longest published one
/// is 311 characters).
pub const MAX_TITLE_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceChange {
    pub title: String,
    pub title_en: String,
    pub planned_override: Option<u32>,
    pub channels: Vec<Channel>,
    pub active: bool,
}

/// Checks raw form or JSON values; every field at fault is reported, not just the first.
pub fn validate_change(
    title: &str,
    title_en: &str,
    planned_minutes: &str,
    channels: Vec<Channel>,
    active: bool,
) -> Result<ServiceChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    let title = title.trim();
    let title_en = title_en.trim();
    if title.is_empty() {
        errors.push(FieldError::bilingual(
            "title",
            "Назва українською не може бути порожньою.",
            "The Ukrainian title cannot be empty.",
        ));
    }
    if title_en.is_empty() {
        errors.push(FieldError::bilingual(
            "title_en",
            "Назва англійською не може бути порожньою.",
            "The English title cannot be empty.",
        ));
    }
    for (field, value, uk) in [
        ("title", title, "Назва українською"),
        ("title_en", title_en, "Назва англійською"),
    ] {
        if value.chars().count() > MAX_TITLE_CHARS {
            let en = if field == "title" {
                "The Ukrainian title"
            } else {
                "The English title"
            };
            errors.push(FieldError::bilingual(
                field,
                format!("{uk} має бути не довшою за {MAX_TITLE_CHARS} символів."),
                format!("{en} must be at most {MAX_TITLE_CHARS} characters long."),
            ));
        }
    }
    let planned = planned_minutes.trim();
    let planned_override = if planned.is_empty() {
        None
    } else {
        match planned.parse::<u32>() {
            Ok(m) if (1..=MAX_PLANNED_MINUTES).contains(&m) => Some(m),
            _ => {
                errors.push(FieldError::bilingual(
                    "planned_minutes",
                    format!(
                        "Тривалість прийому має бути цілим числом хвилин від 1 до {MAX_PLANNED_MINUTES} або порожньою."
                    ),
                    format!(
                        "The appointment length must be a whole number of minutes from 1 to {MAX_PLANNED_MINUTES}, or empty."
                    ),
                ));
                None
            }
        }
    };
    let mut unique = Vec::new();
    for c in channels {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    if unique.is_empty() {
        errors.push(FieldError::bilingual(
            "channels",
            "Оберіть хоча б один спосіб отримання послуги.",
            "Choose at least one way to get the service.",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ServiceChange {
        title: title.to_string(),
        title_en: title_en.to_string(),
        planned_override,
        channels: unique,
        active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_good_change() {
        let c = validate_change(" Назва ", "Title", "15", vec![Channel::Visit], true).unwrap();
        assert_eq!(c.title, "Назва");
        assert_eq!(c.planned_override, Some(15));
    }

    #[test]
    fn empty_length_clears_the_override() {
        let c = validate_change("Н", "T", "  ", vec![Channel::Website], false).unwrap();
        assert_eq!(c.planned_override, None);
        assert!(!c.active);
    }

    #[test]
    fn reports_every_bad_field() {
        let errs = validate_change("", " ", "0", vec![], true).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "title_en", "planned_minutes", "channels"]);
        assert!(validate_change("a", "b", "481", vec![Channel::Visit], true).is_err());
        assert!(validate_change("a", "b", "-5", vec![Channel::Visit], true).is_err());
        assert!(validate_change("a", "b", "1e3", vec![Channel::Visit], true).is_err());
    }

    #[test]
    fn titles_have_a_length_limit() {
        let ok = "я".repeat(MAX_TITLE_CHARS);
        assert!(validate_change(&ok, &ok, "", vec![Channel::Visit], true).is_ok());
        let long = "я".repeat(100_000);
        let errs = validate_change(&long, &long, "", vec![Channel::Visit], true).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "title_en"]);
        assert!(errs[0].message.uk.contains("500"), "{:?}", errs[0]);
    }

    #[test]
    fn duplicate_channels_collapse() {
        let c = validate_change("a", "b", "", vec![Channel::Visit, Channel::Visit], true).unwrap();
        assert_eq!(c.channels, vec![Channel::Visit]);
    }
}
