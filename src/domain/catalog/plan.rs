//! What an import would do to the catalog in the database: which services are added, which change
//! (field by field), which are deactivated. Shown to the admin before anything is written, and
//! the same plan is what the store applies.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::file::{Catalog, Service};

/// One field of a record, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field as named in the file: `title`, `title_en`, `category`, `duration`, `channels`,
    /// `letter`, `active`, or a center field (`name_uk`, `phone`, …).
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

/// A service named in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceLine {
    pub code: String,
    /// The Ukrainian title (after the import, or the current one for a deactivated service).
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePlan {
    pub code: String,
    pub title: String,
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryPlan {
    pub code: String,
    pub title: String,
    pub changes: Vec<FieldChange>,
}

/// Everything an import would change. Empty when the file says what the database already holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportPlan {
    pub center: Vec<FieldChange>,
    pub categories_added: Vec<CategoryPlan>,
    pub categories_changed: Vec<CategoryPlan>,
    pub added: Vec<ServiceLine>,
    pub changed: Vec<ServicePlan>,
    pub deactivated: Vec<ServiceLine>,
}

impl ImportPlan {
    pub fn is_empty(&self) -> bool {
        self.center.is_empty()
            && self.categories_added.is_empty()
            && self.categories_changed.is_empty()
            && self.added.is_empty()
            && self.changed.is_empty()
            && self.deactivated.is_empty()
    }
}

fn yes_no(b: bool) -> String {
    if b { "true" } else { "false" }.to_string()
}

fn push_change(changes: &mut Vec<FieldChange>, field: &'static str, before: &str, after: &str) {
    if before != after {
        changes.push(FieldChange {
            field,
            before: before.to_string(),
            after: after.to_string(),
        });
    }
}

fn channel_codes(s: &Service) -> String {
    s.channels
        .iter()
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join(", ")
}

fn service_changes(before: &Service, after: &Service, was_active: bool) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    push_change(&mut changes, "category", &before.category, &after.category);
    push_change(&mut changes, "title", &before.title.uk, &after.title.uk);
    push_change(&mut changes, "title_en", &before.title.en, &after.title.en);
    push_change(
        &mut changes,
        "duration",
        &before.duration_text,
        &after.duration_text,
    );
    // why: the channels are compared as what they mean; the published wording alone changing
    // ("сайт особистий візит" vs "особистий візит сайт") is still shown, as the text changed.
    if before.channels != after.channels {
        push_change(
            &mut changes,
            "channels",
            &channel_codes(before),
            &channel_codes(after),
        );
    } else {
        push_change(
            &mut changes,
            "channels",
            &before.channels_text,
            &after.channels_text,
        );
    }
    if !was_active {
        push_change(&mut changes, "active", &yes_no(false), &yes_no(true));
    }
    changes
}

/// Compares the catalog in the database (`current`: every service, active or not; `inactive`:
/// the codes of those switched off) with a parsed file.
pub fn plan_import(current: &Catalog, inactive: &HashSet<String>, file: &Catalog) -> ImportPlan {
    let mut plan = ImportPlan::default();
    let c0 = &current.center;
    let c1 = &file.center;
    for (field, before, after) in [
        ("name_uk", &c0.name.uk, &c1.name.uk),
        ("name_en", &c0.name.en, &c1.name.en),
        ("phone", &c0.phone, &c1.phone),
        ("website", &c0.website, &c1.website),
        ("email", &c0.email, &c1.email),
        ("address_uk", &c0.address.uk, &c1.address.uk),
        ("address_en", &c0.address.en, &c1.address.en),
    ] {
        push_change(&mut plan.center, field, before, after);
    }

    let categories: HashMap<&str, _> = current
        .categories
        .iter()
        .map(|c| (c.code.as_str(), c))
        .collect();
    for c in &file.categories {
        match categories.get(c.code.as_str()) {
            None => plan.categories_added.push(CategoryPlan {
                code: c.code.clone(),
                title: c.title.uk.clone(),
                changes: Vec::new(),
            }),
            Some(old) => {
                let mut changes = Vec::new();
                push_change(
                    &mut changes,
                    "letter",
                    &old.letter.to_string(),
                    &c.letter.to_string(),
                );
                push_change(&mut changes, "title", &old.title.uk, &c.title.uk);
                push_change(&mut changes, "title_en", &old.title.en, &c.title.en);
                if !changes.is_empty() {
                    plan.categories_changed.push(CategoryPlan {
                        code: c.code.clone(),
                        title: c.title.uk.clone(),
                        changes,
                    });
                }
            }
        }
    }

    let services: HashMap<&str, &Service> = current
        .services
        .iter()
        .map(|s| (s.code.as_str(), s))
        .collect();
    let in_file: HashSet<&str> = file.services.iter().map(|s| s.code.as_str()).collect();
    for s in &file.services {
        match services.get(s.code.as_str()) {
            None => plan.added.push(ServiceLine {
                code: s.code.clone(),
                title: s.title.uk.clone(),
            }),
            Some(old) => {
                let changes = service_changes(old, s, !inactive.contains(&s.code));
                if !changes.is_empty() {
                    plan.changed.push(ServicePlan {
                        code: s.code.clone(),
                        title: s.title.uk.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for s in &current.services {
        if !in_file.contains(s.code.as_str()) && !inactive.contains(&s.code) {
            plan.deactivated.push(ServiceLine {
                code: s.code.clone(),
                title: s.title.uk.clone(),
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::{Channel, bundled};

    fn catalog() -> Catalog {
        match bundled() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_same_catalog_plans_nothing() {
        let c = catalog();
        let plan = plan_import(&c, &HashSet::new(), &c);
        assert!(plan.is_empty(), "{plan:?}");
    }

    #[test]
    fn names_each_changed_field() {
        let current = catalog();
        let mut file = current.clone();
        file.services[0].title.uk = "Нова назва".into();
        file.services[1].channels = vec![Channel::Visit];
        file.services[1].channels_text = "особистий візит".into();
        let gone = file.services.remove(2);
        file.center.phone = "123".into();
        file.categories[0].title.en = "Payments".into();
        let plan = plan_import(&current, &HashSet::new(), &file);
        assert_eq!(plan.changed.len(), 2, "{plan:?}");
        assert_eq!(
            plan.changed[0].changes,
            vec![FieldChange {
                field: "title",
                before: current.services[0].title.uk.clone(),
                after: "Нова назва".into()
            }]
        );
        assert_eq!(plan.changed[1].changes[0].field, "channels");
        assert_eq!(plan.changed[1].changes[0].after, "visit");
        assert_eq!(
            plan.deactivated,
            vec![ServiceLine {
                code: gone.code.clone(),
                title: gone.title.uk.clone()
            }]
        );
        assert_eq!(plan.center.len(), 1);
        assert_eq!(plan.categories_changed.len(), 1);
        assert!(plan.added.is_empty());
    }

    #[test]
    fn added_and_reactivated_services() {
        let mut current = catalog();
        let file = current.clone();
        let removed = current.services.remove(0);
        let inactive: HashSet<String> = [file.services[1].code.clone()].into();
        let plan = plan_import(&current, &inactive, &file);
        assert_eq!(plan.added.len(), 1);
        assert_eq!(plan.added[0].code, removed.code);
        assert_eq!(plan.changed.len(), 1);
        assert_eq!(plan.changed[0].changes[0].field, "active");
        // An inactive service missing from the file is not deactivated again.
        let mut file2 = file.clone();
        file2.services.remove(1);
        let plan = plan_import(&current, &inactive, &file2);
        assert!(plan.deactivated.is_empty(), "{plan:?}");
    }
}
