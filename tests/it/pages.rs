//! Pages in Ukrainian and English, the remembered language switch, and the admin forms.

use axum::http::StatusCode;

use crate::on_both_databases;
use crate::support::{ADMIN_PASSWORD, Backend, TestApp, csrf_of};

on_both_databases!(
    home_in_ukrainian,
    home_in_english,
    language_switch_is_remembered,
    admin_form_edits_and_validates,
    admin_import_form_reports_errors,
);

async fn home_in_ukrainian(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get_with("/", &[("accept", "text/html")]).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.body;
    assert!(html.contains("<html lang=\"uk\">"));
    assert_eq!(html.matches("class=\"service\"").count(), 34);
    assert_eq!(html.matches("class=\"category\"").count(), 8);
    // Categories are collapsed until opened or searched.
    assert_eq!(
        html.matches("<details class=\"category\"").count(),
        8,
        "{html}"
    );
    assert!(!html.contains(" open>"));
    assert!(html.contains("Довідка про відсутність заборгованості"));
    assert!(html.contains("5–7 хв"));
    assert!(html.contains("від 10 хв"));
    assert!(html.contains("(044) 247-40-40"));
    assert!(html.contains("cks.kiev@gmail.com"));
    // Booking exists: the old "not available yet" line is gone, the visit and contact-center
    // channels lead to the booking flow, and the menu has it.
    assert!(!html.contains("Онлайн-запис ще не доступний"), "{html}");
    assert!(
        html.contains("channel=visit\">Записатися на прийом</a>"),
        "{html}"
    );
    assert!(
        html.contains("channel=contact_center\">Замовити зворотний дзвінок</a>"),
        "{html}"
    );
    assert!(html.contains("href=\"/booking/times?service="), "{html}");
    assert!(html.contains("<a href=\"/booking/\">Запис</a>"), "{html}");
    assert!(html.contains("href=\"/calculators/temporary-absence\""));
    // Demo office with its hours.
    assert!(html.contains("Пн 08:00–17:00"));
    // No asset comes from another host.
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("stylesheet\" href=\"http"));
    let css = app.get("/static/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    app.finish().await;
}

async fn home_in_english(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .get_with(
            "/",
            &[
                ("accept", "text/html"),
                ("accept-language", "en-GB,en;q=0.9,uk;q=0.5"),
            ],
        )
        .await;
    let html = r.body;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Certificates"));
    assert!(html.contains("10+ min"));
    // The published Ukrainian title stays beside the translation.
    assert!(html.contains("Довідка про відсутність заборгованості"));
    assert!(!html.contains("Online booking is not available yet"));
    assert!(html.contains("channel=visit\">Book a visit</a>"), "{html}");
    assert!(
        html.contains("channel=contact_center\">Book a call-back</a>"),
        "{html}"
    );
    assert!(html.contains("<a href=\"/booking/\">Booking</a>"), "{html}");
    app.finish().await;
}

async fn language_switch_is_remembered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/lang/en?next=%2F%23catalog").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/#catalog"));
    let lang = r.cookie("cherga_lang").expect("language cookie");
    assert_eq!(lang, "en");
    // The cookie wins over the browser's Accept-Language.
    let r = app
        .get_with(
            "/",
            &[
                ("cookie", "cherga_lang=en"),
                ("accept-language", "uk"),
                ("accept", "text/html"),
            ],
        )
        .await;
    assert!(r.body.contains("<html lang=\"en\">"));
    // Only local paths are followed.
    let r = app.get("/lang/uk?next=https%3A%2F%2Fevil.example").await;
    assert_eq!(r.location(), Some("/"));
    assert_eq!(app.get("/lang/de").await.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

async fn admin_form_edits_and_validates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let r = app
        .get_with(
            "/admin/services/tariffs-info",
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("інформація щодо діючих тарифів"));

    let r = app
        .form(
            "/admin/services/tariffs-info",
            &[
                ("csrf", &csrf),
                ("title", "інформація щодо діючих тарифів"),
                ("title_en", "Current tariffs"),
                ("planned_minutes", "abc"),
                ("active", "1"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Тривалість прийому має бути цілим числом"));
    assert!(r.body.contains("Оберіть хоча б один спосіб"));
    let s = app.get("/api/v1/services/tariffs-info").await.json();
    assert_eq!(
        s["title_en"], "Current tariffs",
        "unchanged after a bad form"
    );

    let r = app
        .form(
            "/admin/services/tariffs-info",
            &[
                ("csrf", &csrf),
                ("title", "інформація щодо діючих тарифів"),
                ("title_en", "Tariffs in force"),
                ("planned_minutes", "12"),
                ("channel_website", "1"),
                ("active", "1"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = app.get("/api/v1/services/tariffs-info").await.json();
    assert_eq!(s["title_en"], "Tariffs in force");
    assert_eq!(s["planned_minutes"], 12);
    assert_eq!(s["channels"], serde_json::json!(["website"]));

    // A forged form (no CSRF token) changes nothing.
    let r = app
        .form(
            "/admin/services/tariffs-info",
            &[("title", "x"), ("title_en", "x"), ("channel_visit", "1")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/services/tariffs-info").await.json()["title_en"],
        "Tariffs in force"
    );
    app.finish().await;
}

async fn admin_import_form_reports_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let r = app
        .form(
            "/admin/catalog",
            &[("csrf", &csrf), ("catalog", "[[services]\nbroken")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("class=\"error\""));
    let r = app
        .form(
            "/admin/catalog",
            &[
                ("csrf", &csrf),
                ("catalog", cherga::domain::catalog::BUNDLED_TOML),
            ],
            &cookies,
        )
        .await;
    // The shipped file matches the fresh database: the preview says so and writes nothing
    // (it used to report "updated 34").
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("змінювати нічого"), "{}", r.body);
    app.finish().await;
}
