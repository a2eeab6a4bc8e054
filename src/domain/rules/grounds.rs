//! Grounds of temporary absence and the documents each ground needs, as a checklist.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::domain::lang::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    Abroad,
    Inpatient,
    Study,
    Military,
    Imprisonment,
    Employment,
    Missing,
    Deceased,
    Idp,
    Other,
}

impl Ground {
    pub const ALL: [Ground; 10] = [
        Ground::Abroad,
        Ground::Inpatient,
        Ground::Study,
        Ground::Military,
        Ground::Imprisonment,
        Ground::Employment,
        Ground::Missing,
        Ground::Deceased,
        Ground::Idp,
        Ground::Other,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Ground::Abroad => "abroad",
            Ground::Inpatient => "inpatient",
            Ground::Study => "study",
            Ground::Military => "military",
            Ground::Imprisonment => "imprisonment",
            Ground::Employment => "employment",
            Ground::Missing => "missing",
            Ground::Deceased => "deceased",
            Ground::Idp => "idp",
            Ground::Other => "other",
        }
    }

    pub fn parse(id: &str) -> Option<Ground> {
        Ground::ALL.into_iter().find(|g| g.id() == id.trim())
    }

    pub fn name(self) -> Text {
        let (uk, en) = match self {
            Ground::Abroad => ("проживання за межами України", "living abroad"),
            Ground::Inpatient => ("стаціонарне лікування", "inpatient treatment"),
            Ground::Study => ("навчання в іншому населеному пункті", "studying elsewhere"),
            Ground::Military => ("служба в Збройних Силах України", "military service"),
            Ground::Imprisonment => ("відбування покарання", "imprisonment"),
            Ground::Employment => (
                "робота в іншому населеному пункті України",
                "employment elsewhere in Ukraine",
            ),
            Ground::Missing => ("особа безвісно відсутня", "missing person"),
            Ground::Deceased => ("особа померла", "deceased person"),
            Ground::Idp => ("внутрішньо переміщена особа", "internally displaced person"),
            Ground::Other => (
                "інша документально підтверджена відсутність",
                "other documented absence",
            ),
        };
        Text::new(uk, en)
    }
}

/// A document a clerk can see, e.g. the written application or a certificate from a hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub id: String,
    pub name: Text,
}

/// How much a document is needed for a ground.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// Always required.
    Required,
    /// At least one document of the ground's `one_of` group is required.
    OneOf,
    /// Only in some situations (e.g. "if needed" in the source); never rejects by itself.
    IfNeeded,
}

/// One ground of a rule set and its document list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroundDocuments {
    pub ground: Ground,
    pub required: Vec<String>,
    pub one_of: Vec<String>,
    pub if_needed: Vec<String>,
    /// Whether the ground's certificate is only valid for the rule set's validity period.
    pub certificate_expires: bool,
}

/// One row of a checklist shown to a clerk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub document: Document,
    pub need: Need,
}

/// All documents of a rule set and which grounds need which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRules {
    pub documents: Vec<Document>,
    pub grounds: Vec<GroundDocuments>,
}

impl DocumentRules {
    pub fn document(&self, id: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.id == id)
    }

    pub fn ground(&self, ground: Ground) -> Option<&GroundDocuments> {
        self.grounds.iter().find(|g| g.ground == ground)
    }

    pub fn grounds(&self) -> impl Iterator<Item = Ground> + '_ {
        self.grounds.iter().map(|g| g.ground)
    }

    /// The checklist for a ground: required documents first, then "one of", then "if needed".
    pub fn checklist(&self, ground: Ground) -> Vec<ChecklistItem> {
        let Some(g) = self.ground(ground) else {
            return Vec::new();
        };
        let rows = |ids: &[String], need: Need| -> Vec<ChecklistItem> {
            ids.iter()
                .filter_map(|id| self.document(id))
                .map(|d| ChecklistItem {
                    document: d.clone(),
                    need,
                })
                .collect()
        };
        let mut out = rows(&g.required, Need::Required);
        out.extend(rows(&g.one_of, Need::OneOf));
        out.extend(rows(&g.if_needed, Need::IfNeeded));
        out
    }

    /// Why the documents seen are not enough for the ground; empty when they are.
    pub fn missing_documents(&self, ground: Ground, seen: &BTreeSet<String>) -> Vec<Text> {
        let Some(g) = self.ground(ground) else {
            return vec![Text::new(
                format!(
                    "Підстава «{}» не передбачена цими правилами.",
                    ground.name().uk
                ),
                format!(
                    "The ground \"{}\" is not provided for by these rules.",
                    ground.name().en
                ),
            )];
        };
        let name = |id: &str| {
            self.document(id)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| Text::new(id, id))
        };
        let mut reasons: Vec<Text> = g
            .required
            .iter()
            .filter(|id| !seen.contains(*id))
            .map(|id| {
                let n = name(id);
                Text::new(
                    format!("Бракує обов'язкового документа: {}.", n.uk),
                    format!("A required document is missing: {}.", n.en),
                )
            })
            .collect();
        if !g.one_of.is_empty() && !g.one_of.iter().any(|id| seen.contains(id)) {
            let names: Vec<Text> = g.one_of.iter().map(|id| name(id)).collect();
            reasons.push(Text::new(
                format!(
                    "Бракує документа, що підтверджує відсутність; потрібен хоча б один із: {}.",
                    names
                        .iter()
                        .map(|n| n.uk.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                format!(
                    "No document confirms the absence; at least one of these is needed: {}.",
                    names
                        .iter()
                        .map(|n| n.en.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ));
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::RuleSetRegistry;

    fn seen(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn zaporizhzhia_has_nine_grounds_each_needing_application() {
        let reg = RuleSetRegistry::embedded().unwrap();
        let docs = &reg.get("ua-zaporizhzhia-2023").unwrap().absence.documents;
        let grounds: Vec<Ground> = docs.grounds().collect();
        assert_eq!(grounds.len(), 9);
        assert!(!grounds.contains(&Ground::Other));
        for g in grounds {
            let list = docs.checklist(g);
            assert_eq!(list[0].document.id, "application", "{g:?}");
            assert!(list.len() >= 3, "{g:?}");
            // The application and the ground's own certificate are always required.
            let required = list.iter().filter(|i| i.need == Need::Required).count();
            assert!(required >= 2, "{g:?}");
        }
    }

    #[test]
    fn missing_required_documents_are_reasons() {
        let reg = RuleSetRegistry::embedded().unwrap();
        let docs = &reg.get("ua-zaporizhzhia-2023").unwrap().absence.documents;
        let all = seen(&["application", "inpatient_certificate", "passports"]);
        assert!(docs.missing_documents(Ground::Inpatient, &all).is_empty());
        // The register extract is "if needed" in the source, so its absence rejects nothing.
        let reasons = docs.missing_documents(Ground::Inpatient, &seen(&["passports"]));
        assert_eq!(reasons.len(), 2);
        assert!(reasons[0].uk.contains("заява"), "{}", reasons[0].uk);
        assert!(reasons[1].en.contains("inpatient"), "{}", reasons[1].en);
        // A ground the rule set does not know is a reason too.
        assert_eq!(docs.missing_documents(Ground::Other, &all).len(), 1);
    }

    #[test]
    fn ru_354_needs_application_and_any_one_proof() {
        let reg = RuleSetRegistry::embedded().unwrap();
        let docs = &reg.get("ru-354").unwrap().absence.documents;
        assert_eq!(docs.grounds().count(), 10);
        assert!(
            docs.missing_documents(Ground::Other, &seen(&["application", "tickets"]))
                .is_empty()
        );
        let reasons = docs.missing_documents(Ground::Other, &seen(&["application"]));
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].en.contains("at least one"));
    }
}
