//! Staff sign-in: bearer tokens for the API, cookies and CSRF for pages, roles.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::on_both_databases;
use crate::support::{ADMIN_PASSWORD, Backend, TestApp, csrf_of};

on_both_databases!(
    api_sign_in_and_out,
    wrong_password_is_401,
    roles_are_enforced,
    page_sign_in_needs_csrf,
    anonymous_staff_pages_redirect,
    expired_sessions_are_refused_and_swept,
);

async fn expired_sessions_are_refused_and_swept(backend: Backend) {
    use cherga::store::staff::{self, SessionKind};
    use sea_orm::EntityTrait;
    let app = TestApp::spawn(backend).await;
    let admin = staff::authenticate(&app.db, "admin", ADMIN_PASSWORD)
        .await
        .unwrap()
        .expect("admin");
    let (token, _) = staff::start_session(
        &app.db,
        admin.id,
        SessionKind::Bearer,
        chrono::Duration::seconds(-1),
    )
    .await
    .unwrap();
    let r = app
        .get_with(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The next sign-in sweeps it away.
    app.admin_bearer().await;
    let left = cherga::store::entities::staff_session::Entity::find_by_id(
        cherga::security::token_hash(&token),
    )
    .one(&app.db)
    .await
    .unwrap();
    assert!(left.is_none());
    app.finish().await;
}

async fn api_sign_in_and_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let me = app
        .get_with("/api/v1/me", &[("authorization", &auth)])
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["role"], "admin");
    let r = app
        .json(
            Method::DELETE,
            "/api/v1/session",
            &json!({}),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let me = app
        .get_with("/api/v1/me", &[("authorization", &auth)])
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    app.finish().await;
}

async fn wrong_password_is_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"username": "admin", "password": "wrong"}),
            &[("accept-language", "uk")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "bad_credentials");
    assert_eq!(r.json()["message"], "Невірне ім'я користувача або пароль.");

    let r = app
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"username": "", "password": ""}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["fields"].as_array().unwrap().len(), 2);

    let r = app
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"user": "admin"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let req = axum::http::Request::post("/api/v1/session")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "bad_request");
    app.finish().await;
}

async fn roles_are_enforced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    cherga::store::staff::create_user(
        &app.db,
        "kiosk1",
        "Кіоск",
        cherga::domain::staff::Role::Kiosk,
        "kiosk-password",
    )
    .await
    .unwrap();
    let kiosk = app.bearer("kiosk1", "kiosk-password").await;
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &json!({"planned_minutes": 30}),
            &[("authorization", &kiosk)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "forbidden");

    // A duplicate username is a conflict, not a crash.
    let dup = cherga::store::staff::create_user(
        &app.db,
        "kiosk1",
        "Інший",
        cherga::domain::staff::Role::Kiosk,
        "x",
    )
    .await
    .unwrap_err();
    let err: cherga::error::AppError = dup.into();
    assert_eq!(err.status(), StatusCode::CONFLICT);
    app.finish().await;
}

async fn page_sign_in_needs_csrf(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Without the token the form is refused.
    let r = app
        .form(
            "/login",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
            "cherga_csrf=0000000000000000000000000000000000000000000000000000000000000000",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.cookie("cherga_session").is_none());

    // A wrong password shows the form again with the reason.
    let page = app.get_with("/login", &[("accept", "text/html")]).await;
    let csrf = page.cookie("cherga_csrf").unwrap();
    let r = app
        .form(
            "/login",
            &[("csrf", &csrf), ("username", "admin"), ("password", "nope")],
            &format!("cherga_csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("користувача або пароль."), "{}", r.body);

    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let r = app
        .get_with(
            "/admin/services",
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("payment-search"));

    // The cookie session may call the API, but a change needs the CSRF header.
    let patch = json!({"planned_minutes": 20});
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &patch,
            &[("cookie", &cookies)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csrf = csrf_of(&cookies);
    let r = app
        .json(
            Method::PATCH,
            "/api/v1/services/payment-search",
            &patch,
            &[("cookie", &cookies), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Sign out ends the session.
    let r = app.form("/logout", &[("csrf", &csrf)], &cookies).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .get_with(
            "/admin/services",
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    app.finish().await;
}

async fn anonymous_staff_pages_redirect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .get_with("/admin/services", &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login?next=%2Fadmin%2Fservices"));
    let r = app.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "unauthorized");
    app.finish().await;
}
