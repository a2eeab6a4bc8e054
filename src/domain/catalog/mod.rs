//! The service catalog: categories and services with their published durations and channels.
//!
//! The catalog is data (`data/catalog.toml`, bundled into the binary); this module reads it,
//! checks it, and understands its notations so the rest of cherga can plan bookings from it.

mod edit;
mod error;
mod file;
mod notation;
mod plan;
mod search;

pub use edit::{MAX_PLANNED_MINUTES, MAX_TITLE_CHARS, ServiceChange, validate_change};
pub use error::{CatalogError, ChannelsProblem, CodeOwner, DurationProblem, SyntaxProblem};
pub use file::{
    Catalog, Category, Center, MAX_CATALOG_BYTES, MAX_CENTER_FIELD_CHARS, Service, parse_catalog,
    to_toml,
};
pub use notation::{
    Channel, DEFAULT_OPEN_ENDED_FACTOR, DurationRange, parse_channels, parse_duration,
};
pub use plan::{CategoryPlan, FieldChange, ImportPlan, ServiceLine, ServicePlan, plan_import};
pub use search::{SearchQuery, fold as fold_for_search};

/// The catalog file shipped with the program, as text (for re-import or download).
pub const BUNDLED_TOML: &str = include_str!("../../../data/catalog.toml");

/// The catalog shipped with the program: the Kyiv Communal Service Center's published list.
pub fn bundled() -> Result<Catalog, CatalogError> {
    parse_catalog(BUNDLED_TOML)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lang::Lang;

    fn catalog() -> Catalog {
        match bundled() {
            Ok(c) => c,
            Err(e) => panic!("bundled catalog: {e}"),
        }
    }

    fn service_titled(catalog: &Catalog, title: &str) -> Service {
        match catalog.services.iter().find(|s| s.title.uk == title) {
            Some(s) => s.clone(),
            None => panic!("no service titled {title:?}"),
        }
    }

    #[test]
    fn bundled_catalog_has_8_categories_and_34_services() {
        let c = catalog();
        assert_eq!(c.categories.len(), 8);
        assert_eq!(c.services.len(), 34);
        let letters: String = c.categories.iter().map(|c| c.letter).collect();
        assert_eq!(letters, "АБВГДЕЖИ");
        for category in &c.categories {
            assert!(
                c.services_in(&category.code).count() > 0,
                "{}",
                category.code
            );
        }
    }

    #[test]
    fn bundled_center() {
        let c = catalog();
        assert_eq!(c.center.name.uk, "Центр комунального сервісу");
        assert_eq!(c.center.phone, "(044) 247-40-40");
        assert_eq!(c.center.website, "www.cks.kiev.ua");
        assert_eq!(c.center.email, "cks.kiev@gmail.com");
        assert_eq!(c.center.address.uk, "адреса районного центру");
        assert!(!c.center.address.en.is_empty());
    }

    #[test]
    fn bundled_spot_checks_against_the_seed() {
        let c = catalog();
        assert_eq!(
            c.categories[0].title.uk,
            "Питання оплати за житлово-комунальні послуги"
        );
        assert_eq!(c.categories[3].title.uk, "Надання довідок");

        let f2 = service_titled(
            &c,
            "Довідка про склад сім'ї та розмір платежів за ЖКП (для оформлення субсидії, компенсації) (Ф-2)",
        );
        assert_eq!(f2.category, "certificates");
        assert_eq!(f2.duration_text, "3-15 хв");
        assert_eq!(
            f2.duration,
            DurationRange {
                min: 3,
                max: Some(15)
            }
        );
        assert_eq!(f2.channels, vec![Channel::Visit]);
        assert_eq!(f2.duration.planned_minutes(5, 2), 15);

        let tariffs = service_titled(&c, "інформація щодо діючих тарифів");
        assert_eq!(tariffs.duration_text, "7 хв");
        assert_eq!(
            tariffs.channels,
            vec![Channel::ContactCenter, Channel::Visit, Channel::Website]
        );
        assert_eq!(
            tariffs.channels_text,
            "контактний центр особистий візит сайт"
        );

        let readings = service_titled(&c, "прийняття показників індивідуальних приладів обліку");
        assert_eq!(
            readings.channels,
            vec![Channel::Visit, Channel::ContactCenter]
        );
        assert_eq!(readings.channels_text, "особистий візит контактний центр");

        let towel = service_titled(
            &c,
            "консультація з питання застосування тарифу на ГВП за умови непрацюючої/ відсутньої рушникосушарки.",
        );
        assert_eq!(towel.duration_text, "3-5 хв.");
        assert_eq!(towel.duration.display(Lang::Uk), "3–5 хв");

        let opening = service_titled(&c, "відкриття особового рахунку");
        assert_eq!(opening.duration, DurationRange { min: 10, max: None });
        assert_eq!(opening.duration.display(Lang::En), "10+ min");
        assert_eq!(
            opening
                .duration
                .planned_minutes(5, DEFAULT_OPEN_ENDED_FACTOR),
            20
        );

        let absence = c.service("temporary-absence-recalculation");
        assert_eq!(
            absence.map(|s| s.title.uk.as_str()),
            Some(
                "зняття нарахувань та проведення перерахунків при необхідності за період тимчасової відсутності мешканців"
            )
        );
        assert_eq!(
            c.service("payment-search")
                .map(|s| s.duration_text.as_str()),
            Some("7 хв")
        );
    }

    #[test]
    fn every_bundled_title_is_trimmed_and_translated() {
        let c = catalog();
        for s in &c.services {
            assert_eq!(s.title.uk, s.title.uk.trim(), "{}", s.code);
            assert!(
                !s.title.en.is_empty() && s.title.en.is_ascii(),
                "{}",
                s.code
            );
        }
        for cat in &c.categories {
            assert!(
                !cat.title.en.is_empty() && cat.title.en.is_ascii(),
                "{}",
                cat.code
            );
        }
    }

    /// One category of the published seed: its title and its service lines.
    struct SeedCategory {
        title: String,
        services: Vec<[String; 3]>,
    }

    /// The seed's table rows are tab-separated; a category header carries the column names
    /// ("час надання послуги"), a service line starts with "- ".
    fn parse_seed(text: &str) -> Vec<SeedCategory> {
        let mut categories: Vec<SeedCategory> = Vec::new();
        for line in text.lines() {
            if !line.contains('\t') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            if let Some(title) = fields[0].strip_prefix("- ") {
                let Some(current) = categories.last_mut() else {
                    panic!("service line before any category: {line:?}")
                };
                assert!(fields.len() >= 3, "short service line: {line:?}");
                current.services.push([
                    title.trim().to_string(),
                    fields[1].to_string(),
                    fields[2].to_string(),
                ]);
            } else {
                categories.push(SeedCategory {
                    title: fields[0].to_string(),
                    services: Vec::new(),
                });
            }
        }
        categories
    }

    #[test]
    fn bundled_catalog_matches_the_published_seed() {
        // The published list as it was downloaded, kept beside the data made from it.
        let text =
            include_str!("../../../data/sources/catalog-kyiv-communal-service-center.uk.txt");
        let seed = parse_seed(text);
        let c = catalog();
        assert_eq!(seed.len(), c.categories.len());
        assert_eq!(seed.iter().map(|s| s.services.len()).sum::<usize>(), 34);

        let mut bundled_services = c.services.iter();
        for (published, category) in seed.iter().zip(&c.categories) {
            assert_eq!(category.title.uk, published.title, "{}", category.code);
            for [title, duration, channels] in &published.services {
                let Some(service) = bundled_services.next() else {
                    panic!("bundled catalog ends before {title:?}")
                };
                assert_eq!(&service.title.uk, title, "{}", service.code);
                assert_eq!(&service.duration_text, duration, "{}", service.code);
                assert_eq!(&service.channels_text, channels, "{}", service.code);
                assert_eq!(service.category, category.code, "{}", service.code);
            }
        }
        assert!(bundled_services.next().is_none());
    }
}
