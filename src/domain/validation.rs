//! A field at fault in submitted input, with its message in both languages.

use serde::Serialize;

use super::lang::Text;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path as the client sent it: `title`, `readings[3].hour`.
    pub field: String,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: impl Into<String>, uk: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: Text::new(uk, en),
        }
    }
}
