//! Interface strings for templates, from `locales/*.yml` (one file per area) through rust-i18n.

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
        // why: each area keeps its strings in its own file (`locales/<area>.yml`), so every
        // file in the folder is checked, not only app.yml.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut yaml = String::new();
        for entry in std::fs::read_dir(&dir).expect("locales folder") {
            let path = entry.expect("locale file").path();
            if path.extension().is_some_and(|e| e == "yml") {
                yaml.push_str(&std::fs::read_to_string(&path).expect("readable locale file"));
                yaml.push('\n');
            }
        }
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
