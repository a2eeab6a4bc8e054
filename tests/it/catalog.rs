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
    import_page_starts_from_the_database_and_previews,
    api_dry_run_and_export,
    import_errors_speak_the_request_language,
    titles_have_a_length_limit,
    edits_reach_the_cached_catalog_at_once_and_across_instances,
    home_search_works_without_javascript,
    static_assets_are_hashed_cached_and_compressed,
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
        "title_en = \"Duplicate of an invoice",
        "title_en = \"Copy of an invoice",
    );
    assert!(
        edited.contains("Copy of an invoice"),
        "the rename is in the file"
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
    // Only the renamed service changed; the others are counted only when they change.
    assert_eq!(report["updated"], 1);
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
        app.get("/api/v1/services/invoice-duplicate").await.json()["title_en"],
        "Copy of an invoice for housing and communal services"
    );
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

fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name}: {html}"))
        + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_string()
}

fn textarea(html: &str) -> String {
    let start = html.find("<textarea id=\"catalog\"").expect("textarea");
    let start = start + html[start..].find('>').expect("tag end") + 1;
    let end = start + html[start..].find("</textarea>").expect("textarea end");
    html_unescape(&html[start..end])
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn service_title(app: &TestApp, code: &str) -> String {
    cherga::store::catalog::find_service(&app.db, code)
        .await
        .unwrap()
        .unwrap()
        .title
        .uk
}

/// Issue 9, item 2: the import page used to be filled from the shipped file, so sending it back
/// unchanged reverted the admin's edits and reported "updated 34".
async fn import_page_starts_from_the_database_and_previews(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &json!({"title": "Розшук платежу (змінено в адмінці)"}),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let csrf = crate::support::csrf_of(&cookies);
    let page = app
        .get_with(
            "/admin/catalog",
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let text = textarea(&page.body);
    assert!(
        text.contains("Розшук платежу (змінено в адмінці)"),
        "pre-filled from the database: {text}"
    );

    // Sent back unchanged: nothing to change, and the edit survives even a confirmation.
    let r = app
        .form(
            "/admin/catalog",
            &[("csrf", &csrf), ("catalog", &text), ("step", "preview")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("змінювати нічого"), "{}", r.body);
    assert!(
        !r.body.contains("name=\"step\" value=\"apply\""),
        "{}",
        r.body
    );

    // A renamed service and a removed one: previewed field by field, nothing written yet.
    let start = text.find("code = \"owner-change\"").unwrap();
    let block_start = text[..start].rfind("[[services]]").unwrap();
    let block_end = start + text[start..].find("[[services]]").unwrap();
    let edited = format!("{}{}", &text[..block_start], &text[block_end..])
        .replace("Розшук платежу (змінено в адмінці)", "Розшук платежу");
    let r = app
        .form(
            "/admin/catalog",
            &[("csrf", &csrf), ("catalog", &edited), ("step", "preview")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body.matches("class=\"plan-changed\"").count(),
        1,
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<td>Розшук платежу (змінено в адмінці)</td><td>Розшук платежу</td>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("class=\"plan-deactivated\""), "{}", r.body);
    assert!(r.body.contains("<code>owner-change</code>"), "{}", r.body);
    assert_eq!(
        service_title(&app, "payment-search").await,
        "Розшук платежу (змінено в адмінці)"
    );
    let hash = hidden_value(&r.body, "hash");
    let previewed = html_unescape(&hidden_value(&r.body, "catalog"));
    assert_eq!(previewed, edited);

    // A confirmation of some other text is refused and writes nothing.
    let other = edited.replace("Розшук платежу", "Інша назва");
    let r = app
        .form(
            "/admin/catalog",
            &[
                ("csrf", &csrf),
                ("catalog", &other),
                ("step", "apply"),
                ("hash", &hash),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Перегляньте зміни ще раз"), "{}", r.body);
    assert_eq!(
        service_title(&app, "payment-search").await,
        "Розшук платежу (змінено в адмінці)"
    );

    // An edit made after the preview: confirming the old preview would undo it, so it is
    // refused with a fresh preview.
    cherga::store::catalog::update_service(
        &app.db,
        "owner-change",
        cherga::store::catalog::ServiceEdit {
            title_en: Some("Change of owner (edited meanwhile)".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .unwrap();
    let r = app
        .form(
            "/admin/catalog",
            &[
                ("csrf", &csrf),
                ("catalog", &previewed),
                ("step", "apply"),
                ("hash", &hash),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        service_title(&app, "payment-search").await,
        "Розшук платежу (змінено в адмінці)",
        "nothing applied"
    );
    let hash = hidden_value(&r.body, "hash");

    // The previewed text, confirmed (with the CRLF line breaks a browser sends).
    let crlf = previewed.replace('\n', "\r\n");
    let r = app
        .form(
            "/admin/catalog",
            &[
                ("csrf", &csrf),
                ("catalog", &crlf),
                ("step", "apply"),
                ("hash", &hash),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("послуг додано 0, змінено 1, вимкнено 1"),
        "{}",
        r.body
    );
    assert_eq!(
        service_title(&app, "payment-search").await,
        "Розшук платежу"
    );
    let owner = cherga::store::catalog::find_service(&app.db, "owner-change")
        .await
        .unwrap()
        .unwrap();
    assert!(!owner.active);
    app.finish().await;
}

async fn import_toml(
    app: &TestApp,
    auth: &str,
    query: &str,
    body: String,
) -> crate::support::Reply {
    let req = axum::http::Request::post(format!("/api/v1/catalog/import{query}"))
        .header("authorization", auth)
        .header("content-type", "application/toml")
        .body(axum::body::Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn api_dry_run_and_export(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/tariffs-info",
            &json!({"title_en": "Tariffs now in force", "channels": ["visit"]}),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The export carries the edits; importing it back changes nothing.
    let r = app
        .get_with("/api/v1/catalog/export", &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Tariffs now in force"), "{}", r.body);
    let exported = r.body.clone();
    let r = import_toml(&app, &auth, "", exported.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"categories": 8, "added": 0, "updated": 0, "deactivated": 0})
    );
    let s = app.get("/api/v1/services/tariffs-info").await.json();
    assert_eq!(s["title_en"], "Tariffs now in force");
    assert_eq!(s["channels"], json!(["visit"]));

    // The shipped file would undo both edits: the dry run says so field by field, writes nothing.
    let r = import_toml(
        &app,
        &auth,
        "?dry_run=true",
        cherga::domain::catalog::BUNDLED_TOML.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let plan = r.json();
    assert_eq!(plan["changed"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["changed"][0]["code"], "tariffs-info");
    let fields: Vec<&str> = plan["changed"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title_en", "channels"], "{plan}");
    assert_eq!(
        plan["changed"][0]["changes"][0]["before"],
        "Tariffs now in force"
    );
    assert_eq!(plan["deactivated"], json!([]));
    assert_eq!(
        app.get("/api/v1/services/tariffs-info").await.json()["title_en"],
        "Tariffs now in force"
    );

    // Only admins export.
    let r = app.get("/api/v1/catalog/export").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    app.finish().await;
}

/// Issue 9, item 7: "Помилка: Помилка у файлі каталогу…" with the TOML parser's English tail.
async fn import_errors_speak_the_request_language(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let broken = cherga::domain::catalog::BUNDLED_TOML.replacen("code = \"", "code = ", 1);
    for (lang, expect, foreign) in [
        ("uk", "Файл каталогу, рядок", "line"),
        ("en", "Catalog file, line", "рядок"),
    ] {
        let req = axum::http::Request::post("/api/v1/catalog/import")
            .header("authorization", &auth)
            .header("accept-language", lang)
            .body(axum::body::Body::from(broken.clone()))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let message = r.json()["message"].as_str().unwrap().to_string();
        assert!(message.starts_with(expect), "{message}");
        assert!(!message.contains(foreign), "{message}");
        assert!(!message.contains("expected") || lang == "en", "{message}");
    }
    let unknown = cherga::domain::catalog::BUNDLED_TOML.replacen("title_en =", "titel_en =", 1);
    let req = axum::http::Request::post("/api/v1/catalog/import")
        .header("authorization", &auth)
        .header("accept-language", "uk")
        .body(axum::body::Body::from(unknown))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("невідоме поле «titel_en»"), "{message}");
    assert!(!message.contains("expected"), "{message}");

    // The admin page says it once, without a "Помилка:" prefix.
    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let csrf = crate::support::csrf_of(&cookies);
    let r = app
        .form(
            "/admin/catalog",
            &[("csrf", &csrf), ("catalog", &broken), ("step", "preview")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("role=\"alert\">Файл каталогу, рядок"),
        "{}",
        r.body
    );
    app.finish().await;
}

/// Issue 9, item 5: a 100,000-character service title was accepted.
async fn titles_have_a_length_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let long = "я".repeat(100_000);
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &json!({"title": long}),
            &[("authorization", &auth), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let e = r.json();
    assert_eq!(e["fields"][0]["field"], "title", "{e}");
    assert!(
        e["fields"][0]["message"].as_str().unwrap().contains("500"),
        "{e}"
    );

    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let csrf = crate::support::csrf_of(&cookies);
    let r = app
        .form(
            "/admin/services/payment-search",
            &[
                ("csrf", &csrf),
                ("title", "Назва"),
                ("title_en", &"x".repeat(501)),
                ("channel_visit", "1"),
                ("active", "1"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("не довшою за 500 символів"), "{}", r.body);

    let file = cherga::domain::catalog::BUNDLED_TOML.replacen(
        "title_en = \"A payment for housing and communal services is not shown; payment search\"",
        &format!("title_en = \"{}\"", "x".repeat(501)),
        1,
    );
    assert_ne!(
        file,
        cherga::domain::catalog::BUNDLED_TOML,
        "the file names the service"
    );
    let r = import_toml(&app, &auth, "", file).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.json()["message"].as_str().unwrap().contains("500"),
        "{}",
        r.body
    );
    assert_ne!(service_title(&app, "payment-search").await, "Назва");
    app.finish().await;
}

/// Issue 9, item 10: the catalog is served from memory; an edit shows at once on the instance
/// that made it, and within a second on another (simulated by writing through the store, as
/// `cherga import-catalog` or a second server would, without touching this router's cache).
async fn edits_reach_the_cached_catalog_at_once_and_across_instances(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let first = app.get("/api/v1/services/payment-search").await.json();
    assert_eq!(first["active"], true);
    let home = app.get_with("/", &[("accept", "text/html")]).await;
    assert!(home.body.contains("svc-payment-search"));

    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &json!({"title_en": "Finding a payment"}),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let listed = app.get("/api/v1/services").await.json();
    let svc = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "payment-search")
        .unwrap()
        .clone();
    assert_eq!(
        svc["title_en"], "Finding a payment",
        "at once, same instance"
    );

    // Another instance deactivates it.
    cherga::store::catalog::update_service(
        &app.db,
        "payment-search",
        cherga::store::catalog::ServiceEdit {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .unwrap();
    tokio::time::sleep(cherga::store::cache::CHECK_EVERY + std::time::Duration::from_millis(200))
        .await;
    let listed = app.get("/api/v1/services").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 33, "seen within a second");
    let home = app.get_with("/", &[("accept", "text/html")]).await;
    assert!(!home.body.contains("svc-payment-search"), "{}", home.body);

    // And an import made elsewhere.
    let parsed = cherga::domain::catalog::bundled().unwrap();
    let report = cherga::store::catalog::import(&app.db, &parsed)
        .await
        .unwrap();
    assert_eq!((report.updated, report.added), (1, 0));
    tokio::time::sleep(cherga::store::cache::CHECK_EVERY + std::time::Duration::from_millis(200))
        .await;
    let s = app.get("/api/v1/services/payment-search").await.json();
    assert_eq!(s["active"], true, "{s}");
    app.finish().await;
}

/// Issue 9, item 8: the search works without JavaScript (`?q=`), in both languages.
async fn home_search_works_without_javascript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .get_with(
            "/?q=%D0%94%D0%BE%D0%B2%D1%96%D0%B4%D0%BA%D0%B0",
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let html = r.body;
    // Every service is on the page; those that do not match are hidden.
    assert_eq!(html.matches("<li class=\"service\"").count(), 34);
    let found: usize = {
        let marker = "data-found=\"";
        let i = html.find("id=\"catalog\"").unwrap();
        let start = i + html[i..].find(marker).unwrap() + marker.len();
        html[start..start + html[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let catalog = cherga::domain::catalog::bundled().unwrap();
    let expected = catalog
        .services
        .iter()
        .filter(|s| {
            let cat = catalog.category(&s.category).unwrap();
            [&s.title.uk, &s.title.en, &cat.title.uk, &cat.title.en]
                .iter()
                .any(|t| t.to_lowercase().contains("довідка"))
        })
        .count();
    assert!(expected >= 3, "{expected}");
    assert_eq!(found, expected, "{html}");
    assert_eq!(shown_services(&html).len(), expected, "{html}");
    assert!(
        html.contains(&format!("Знайдено послуг: {expected}")),
        "{html}"
    );
    assert!(html.contains("id=\"cat-certificates\" open>"), "{html}");
    assert!(html.contains("value=\"довідка\""), "{html}");

    let r = app
        .get_with(
            "/?q=meter",
            &[("accept", "text/html"), ("accept-language", "en")],
        )
        .await;
    assert!(r.body.contains("Services found:"), "{}", r.body);
    assert!(!r.body.contains("data-found=\"0\""), "{}", r.body);

    let r = app.get_with("/?q=zzzzzz", &[("accept", "text/html")]).await;
    assert!(r.body.contains("Нічого не знайдено"), "{}", r.body);
    assert_eq!(r.body.matches("<details class=\"category\"").count(), 8);
    assert!(shown_services(&r.body).is_empty(), "{}", r.body);
    assert_eq!(r.body.matches("<details class=\"category\"").count(), 8);
    app.finish().await;
}

/// The codes of the services a page shows (its `<li class="service">` without `hidden`).
fn shown_services(html: &str) -> Vec<String> {
    html.split("<li class=\"service\" id=\"svc-")
        .skip(1)
        .filter(|rest| {
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            !tag.ends_with(" hidden")
        })
        .map(|rest| rest[..rest.find('"').unwrap_or(0)].to_string())
        .collect()
}

/// Issue 9, items 10 and 13: hashed asset URLs cached for a year, revalidation otherwise, and
/// compressed pages.
async fn static_assets_are_hashed_cached_and_compressed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.get_with("/", &[("accept", "text/html")]).await;
    let start = home
        .body
        .find("/static/style.css?v=")
        .expect("hashed stylesheet URL");
    let end = start + home.body[start..].find('"').unwrap();
    let url = home.body[start..end].to_string();
    assert!(home.body.contains("/static/catalog.js?v="), "{}", home.body);

    let css = app.get(&url).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        css.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(css.body.contains("/* catalog:"), "the current stylesheet");

    let plain = app.get("/static/style.css").await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.headers["cache-control"], "public, no-cache");
    let etag = plain.headers["etag"].to_str().unwrap().to_string();
    let again = app
        .get_with("/static/style.css", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let stale = app.get("/static/style.css?v=0000000000000000").await;
    assert_eq!(stale.headers["cache-control"], "public, no-cache");
    assert_eq!(
        app.get("/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/static/nope.css").await.status,
        StatusCode::NOT_FOUND
    );

    for (encoding, expect) in [("gzip", "gzip"), ("br", "br")] {
        let r = app
            .get_with(
                "/",
                &[("accept", "text/html"), ("accept-encoding", encoding)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers["content-encoding"], expect);
    }
    let r = app
        .get_with("/api/v1/services", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(r.headers["content-encoding"], "gzip");
    app.finish().await;
}

/// Starts a copy of the binary (SQLite only: it is about the files the binary needs).
fn start_copy(
    exe: &std::path::Path,
    dir: &std::path::Path,
    envs: &[(&str, &str)],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(exe);
    cmd.current_dir(dir)
        .env("CHERGA_ADDR", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .env_remove("CHERGA_STATIC_DIR")
        .env("CHERGA_ADMIN_PASSWORD", "copied-binary-password")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the copied binary");
    let stdout = child.stdout.take().expect("stdout");
    let addr = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.trim()
                .strip_prefix("cherga: listening on ")
                .map(str::to_string)
        });
    let Some(addr) = addr else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the copied binary exited before listening");
    };
    (child, addr)
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Issue 9, item 13: a binary copied away from the source tree still serves its stylesheet
/// (embedded), `--static-dir` overrides it, and `export-catalog` writes a file import takes back.
#[tokio::test]
async fn copied_binary_serves_its_stylesheet_and_exports_the_catalog() {
    let server = tempfile::tempdir().expect("temp dir");
    let exe = server.path().join("cherga");
    std::fs::copy(env!("CARGO_BIN_EXE_cherga"), &exe).expect("copy the binary");
    let data = server.path().join("data");
    std::fs::create_dir(&data).unwrap();

    let (child, addr) = start_copy(&exe, &data, &[]);
    let home = reqwest::get(&addr)
        .await
        .expect("GET /")
        .text()
        .await
        .unwrap();
    let start = home
        .find("/static/style.css?v=")
        .expect("hashed stylesheet URL");
    let end = start + home[start..].find('"').unwrap();
    let css = reqwest::get(format!("{addr}{}", &home[start..end]))
        .await
        .expect("GET stylesheet");
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("/* catalog:"));
    stop(child);

    let own = server.path().join("assets");
    std::fs::create_dir(&own).unwrap();
    std::fs::write(own.join("style.css"), "/* the center's own */").unwrap();
    let (child, addr) = start_copy(&exe, &data, &[("CHERGA_STATIC_DIR", own.to_str().unwrap())]);
    let css = reqwest::get(format!("{addr}/static/style.css"))
        .await
        .expect("GET stylesheet")
        .text()
        .await
        .unwrap();
    assert_eq!(css, "/* the center's own */");
    stop(child);

    let out = std::process::Command::new(&exe)
        .current_dir(&data)
        .env_remove("DATABASE_URL")
        .args(["export-catalog", "exported.toml"])
        .output()
        .expect("run export-catalog");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(data.join("exported.toml")).unwrap();
    let parsed = cherga::domain::catalog::parse_catalog(&text).expect("export parses");
    assert_eq!(parsed, cherga::domain::catalog::bundled().unwrap());
    let out = std::process::Command::new(&exe)
        .current_dir(&data)
        .env_remove("DATABASE_URL")
        .arg("export-catalog")
        .output()
        .expect("export to stdout");
    assert_eq!(String::from_utf8_lossy(&out.stdout), text);
}
