//! Interface strings for templates, from `locales/app.yml` through rust-i18n.

use crate::domain::lang::{Lang, Text};

/// The translator a template calls as `t.get("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn get(&self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.0.code()).into_owned()
    }

    /// Picks the user's language from bilingual text.
    pub fn pick<'a>(&self, text: &'a Text) -> &'a str {
        text.get(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        let yaml = include_str!("../../locales/app.yml");
        let keys: Vec<&str> = yaml
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('_') && l.ends_with(':'))
            .map(|l| l.trim_end_matches(':'))
            .collect();
        assert!(keys.len() > 20);
        for key in keys {
            let uk = Tr(Lang::Uk).get(key);
            let en = Tr(Lang::En).get(key);
            assert_ne!(uk, key, "{key} has no Ukrainian text");
            // A missing English text falls back to Ukrainian, so the two must differ.
            assert_ne!(en, uk, "{key} has no English text");
        }
    }

    #[test]
    fn switches_language() {
        assert_eq!(Tr(Lang::Uk).get("admin.save"), "Зберегти");
        assert_eq!(Tr(Lang::En).get("admin.save"), "Save");
    }
}
