//! The catalog API against the published seed, edits and re-import.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::on_both_databases;
use crate::support::{Backend, TestApp};

/// One service line of the published seed: title, duration, channels (tab-separated after "- ").
struct SeedService {
    title: String,
    min: u64,
    max: Option<u64>,
    channels: Vec<&'static str>,
}

fn seed_services() -> Vec<SeedService> {
    let text = include_str!("../../data/sources/catalog-kyiv-communal-service-center.uk.txt");
    text.lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let duration = cols[1].trim().trim_end_matches('.').trim_end_matches(" хв");
            let (min, max) = if let Some(from) = duration.strip_prefix("від ") {
                (from.trim().parse().unwrap(), None)
            } else if let Some((a, b)) = duration.split_once('-') {
                (a.parse().unwrap(), Some(b.parse().unwrap()))
            } else {
                let v = duration.parse().unwrap();
                (v, Some(v))
            };
            let ch = cols[2];
            let mut channels: Vec<(usize, &'static str)> = [
                ("контактний центр", "contact_center"),
                ("особистий візит", "visit"),
                ("сайт", "website"),
            ]
            .iter()
            .filter_map(|(uk, code)| ch.find(uk).map(|pos| (pos, *code)))
            .collect();
            channels.sort();
            SeedService {
                title: cols[0].trim().to_string(),
                min,
                max,
                channels: channels.into_iter().map(|(_, c)| c).collect(),
            }
        })
        .collect()
}

on_both_databases!(
    lists_the_34_published_services,
    one_service_by_code,
    unknown_service_is_json_404,
    admin_edits_a_service,
    edits_are_validated_and_guarded,
    reimport_keeps_references,
    bad_import_changes_nothing,
);

async fn lists_the_34_published_services(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/api/v1/services").await;
    assert_eq!(r.status, StatusCode::OK);
    let services = r.json();
    let services = services.as_array().expect("array");
    assert_eq!(services.len(), 34);
    let categories: std::collections::BTreeSet<&str> = services
        .iter()
        .map(|s| s["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories.len(), 8);

    let seed = seed_services();
    assert_eq!(seed.len(), 34, "service lines in the published list");
    for (api, published) in services.iter().zip(&seed) {
        assert_eq!(api["title"], published.title.as_str());
        assert_eq!(api["duration"]["min"], published.min);
        match published.max {
            Some(m) => assert_eq!(api["duration"]["max"], m),
            None => assert!(api["duration"]["max"].is_null()),
        }
        assert_eq!(
            api["channels"],
            json!(published.channels),
            "{}",
            published.title
        );
        assert!(!api["title_en"].as_str().unwrap().is_empty());
        assert!(
            api["code"]
                .as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }
    app.finish().await;
}

async fn one_service_by_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .get("/api/v1/services/family-payments-certificate-f2")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let s = r.json();
    assert_eq!(s["duration"], json!({"min": 3, "max": 15}));
    assert_eq!(s["channels"], json!(["visit"]));
    // 15 minutes is already on the 5-minute grid.
    assert_eq!(s["planned_minutes"], 15);

    // Open-ended "від 10 хв": twice the lower bound by default.
    let s = app.get("/api/v1/services/account-opening").await.json();
    assert_eq!(s["duration"], json!({"min": 10, "max": null}));
    assert_eq!(s["planned_minutes"], 20);

    // "7 хв" rounds up to the 5-minute grid.
    let s = app.get("/api/v1/services/payment-search").await.json();
    assert_eq!(s["planned_minutes"], 10);
    app.finish().await;
}

async fn unknown_service_is_json_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/api/v1/services/no-such-service").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let e = r.json();
    assert_eq!(e["error"], "not_found");
    assert!(e["message"].as_str().unwrap().contains("no-such-service"));
    let r = app
        .get_with("/api/v1/services/%FF%FE", &[("accept-language", "en")])
        .await;
    assert!(r.status.is_client_error());
    assert!(r.json()["message"].is_string());
    app.finish().await;
}

async fn admin_edits_a_service(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/invoice-duplicate",
            &json!({"planned_minutes": 15, "title_en": "Duplicate invoice", "channels": ["visit", "website"]}),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = app.get("/api/v1/services/invoice-duplicate").await.json();
    assert_eq!(s["planned_minutes"], 15);
    assert_eq!(s["title_en"], "Duplicate invoice");
    assert_eq!(s["channels"], json!(["visit", "website"]));
    // The published title is untouched.
    assert_eq!(
        s["title"],
        "видача дублікату рахунку на сплату житлово-комунальних послуг"
    );

    // null clears the override: back to the published "2 хв" on the 5-minute grid.
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/invoice-duplicate",
            &json!({"planned_minutes": null}),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["planned_minutes"], 5);

    // Deactivated services leave the public list.
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/invoice-duplicate",
            &json!({"active": false}),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let list = app.get("/api/v1/services").await.json();
    assert_eq!(list.as_array().unwrap().len(), 33);
    app.finish().await;
}

async fn edits_are_validated_and_guarded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let patch = json!({"planned_minutes": 10});
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &patch,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "unauthorized");

    let auth = app.admin_bearer().await;
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &json!({"planned_minutes": 0, "title": "  ", "channels": []}),
            &[("authorization", &auth), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.json();
    assert_eq!(e["error"], "invalid");
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "planned_minutes", "channels"]);

    // Wrong types and unknown channels are 422 with a message, never 500.
    for bad in [
        json!({"planned_minutes": "ten"}),
        json!({"channels": ["fax"]}),
        json!({"surprise": true}),
    ] {
        let r = app
            .json(
                Method::PATCH,
                "/api/v1/services/payment-search",
                &bad,
                &[("authorization", &auth)],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
        assert_eq!(r.json()["error"], "invalid");
    }
    // Nothing was half-written.
    let s = app.get("/api/v1/services/payment-search").await.json();
    assert_eq!(s["planned_minutes"], 10);
    assert_eq!(s["channels"], json!(["contact_center", "visit"]));
    app.finish().await;
}

async fn reimport_keeps_references(backend: Backend) {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn(backend).await;
    let before = cherga::store::catalog::find_service(&app.db, "owner-change")
        .await
        .unwrap()
        .unwrap();
    let skills_before = cherga::store::entities::specialist_skill::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert!(skills_before > 0);

    // A catalog without the "owner-change" service and with a renamed title elsewhere.
    let original = cherga::domain::catalog::BUNDLED_TOML;
    let start = original.find("code = \"owner-change\"").unwrap();
    let block_start = original[..start].rfind("[[services]]").unwrap();
    let block_end = start + original[start..].find("[[services]]").unwrap();
    let edited = format!("{}{}", &original[..block_start], &original[block_end..]).replace(
        "title_en = \"Duplicate invoice",
        "title_en = \"Copy of an invoice",
    );

    let auth = app.admin_bearer().await;
    let req = axum::http::Request::post("/api/v1/catalog/import")
        .header("authorization", &auth)
        .header("content-type", "application/toml")
        .body(axum::body::Body::from(edited))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let report = r.json();
    assert_eq!(report["added"], 0);
    assert_eq!(report["updated"], 33);
    assert_eq!(report["deactivated"], 1);

    let after = cherga::store::catalog::find_service(&app.db, "owner-change")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.id, before.id);
    assert!(!after.active);
    let skills_after = cherga::store::entities::specialist_skill::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert_eq!(skills_after, skills_before);
    assert_eq!(
        app.get("/api/v1/services")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        33
    );

    // Importing the full catalog again brings it back, same id.
    let req = axum::http::Request::post("/api/v1/catalog/import")
        .header("authorization", &auth)
        .body(axum::body::Body::from(original))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    let back = app.get("/api/v1/services/owner-change").await.json();
    assert_eq!(back["active"], true);
    app.finish().await;
}

async fn bad_import_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let broken = cherga::domain::catalog::BUNDLED_TOML
        .replace("duration = \"7 хв\"", "duration = \"сім хв\"");
    let req = axum::http::Request::post("/api/v1/catalog/import")
        .header("authorization", &auth)
        .header("accept-language", "uk")
        .body(axum::body::Body::from(broken))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.json();
    assert_eq!(e["error"], "invalid");
    assert!(
        e["message"].as_str().unwrap().contains("payment-search"),
        "{}",
        e["message"]
    );
    assert_eq!(
        app.get("/api/v1/services")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        34
    );
    app.finish().await;
}
