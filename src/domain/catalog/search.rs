//! Finding a service by words a resident types ("довідка", "лічильник", "meter").

/// The longest query kept; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 100;

/// A resident's search: lower-case words, every one of which a service must contain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

/// Lower case, one kind of apostrophe (Ukrainian is typed with ', ’ and ʼ alike).
pub fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            '’' | 'ʼ' | '`' | '‘' => '\'',
            c => c,
        })
        .collect()
}

impl SearchQuery {
    pub fn parse(raw: &str) -> SearchQuery {
        let raw: String = raw.chars().take(MAX_QUERY_CHARS).collect();
        SearchQuery {
            words: fold(&raw)
                .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words as typed, joined again (for the search box).
    pub fn text(&self) -> String {
        self.words.join(" ")
    }

    /// True when every word occurs in one of the texts (titles in both languages, the category).
    pub fn matches(&self, texts: &[&str]) -> bool {
        let folded: Vec<String> = texts.iter().map(|t| fold(t)).collect();
        self.words
            .iter()
            .all(|w| folded.iter().any(|t| t.contains(w.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_must_match_somewhere() {
        let q = SearchQuery::parse("  Довідка  сім’ї ");
        assert_eq!(q.text(), "довідка сім'ї");
        assert!(q.matches(&["Довідка про склад сім'ї", "Certificate"]));
        assert!(!q.matches(&["Довідка про відсутність заборгованості"]));
        let q = SearchQuery::parse("meter довідка");
        assert!(q.matches(&["довідка", "heat meter"]));
    }

    #[test]
    fn empty_and_long_queries() {
        assert!(SearchQuery::parse(" , . ").is_empty());
        assert!(SearchQuery::parse("").matches(&["anything"]));
        let long = "а".repeat(10_000);
        assert_eq!(
            SearchQuery::parse(&long).text().chars().count(),
            MAX_QUERY_CHARS
        );
    }
}
