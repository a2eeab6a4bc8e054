//! Health, readiness, metrics, OpenAPI, and errors for unknown routes.

use axum::http::StatusCode;

use crate::on_both_databases;
use crate::support::{Backend, TestApp};

on_both_databases!(
    health_ready_metrics,
    openapi_document,
    unknown_routes_are_json,
    no_demo_still_loads_the_catalog,
    first_start_is_idempotent,
);

async fn no_demo_still_loads_the_catalog(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.no_demo = true).await;
    let services = app.get("/api/v1/services").await.json();
    assert_eq!(services.as_array().map(Vec::len), Some(34));
    assert!(
        cherga::store::offices::list(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    // The admin account exists all the same.
    app.admin_bearer().await;
    app.finish().await;
}

async fn first_start_is_idempotent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A second start on the same database loads nothing twice and creates no second admin.
    let config = cherga::config::Config::for_database(&app.database_url);
    let (db, boot) = cherga::app::prepare(&config).await.expect("second start");
    assert!(!boot.catalog_loaded && !boot.demo_loaded);
    assert!(boot.generated_admin_password.is_none());
    // The demo office and the demo contact center (booking).
    assert_eq!(cherga::store::offices::list(&db).await.unwrap().len(), 2);
    assert_eq!(cherga::store::staff::count(&db).await.unwrap(), 1);
    let _ = db.close().await;
    app.finish().await;
}

async fn health_ready_metrics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    let r = app.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["database"], "ok");
    app.get("/api/v1/services").await;
    let m = app.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.body.contains("cherga_http_requests_total{"), "{}", m.body);
    assert!(m.body.contains("route=\"/api/v1/services\""));
    app.finish().await;
}

async fn openapi_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.get("/api/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/services",
        "/api/v1/services/{code}",
        "/api/v1/session",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let props = &doc["components"]["schemas"]["ServiceDto"]["properties"];
    for field in [
        "code",
        "category",
        "title",
        "title_en",
        "duration",
        "channels",
        "planned_minutes",
    ] {
        assert!(props[field].is_object(), "{field} missing");
    }
    app.finish().await;
}

async fn unknown_routes_are_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/api/v1/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "not_found");
    let r = app
        .json(
            axum::http::Method::DELETE,
            "/api/v1/services",
            &serde_json::json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.json()["message"].is_string());
    // A browser gets a page, in its language.
    let r = app
        .get_with(
            "/no-such-page",
            &[("accept", "text/html"), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("The page or record was not found."));
    app.finish().await;
}
