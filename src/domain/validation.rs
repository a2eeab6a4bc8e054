//! A field at fault in submitted input, with its message in both languages.

use serde::Serialize;

use super::lang::Text;

/// One input field at fault, named as the client sent it (`title`, `readings[3].hour`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {}", message.en)]
pub struct FieldError {
    pub field: String,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: Text) -> FieldError {
        FieldError {
            field: field.into(),
            message,
        }
    }

    pub fn bilingual(
        field: impl Into<String>,
        uk: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        FieldError::new(field, Text::new(uk, en))
    }
}
