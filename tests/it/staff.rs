//! Staff accounts, one's own password, center contacts, sign-in throttling and length limits.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{ADMIN_PASSWORD, Backend, Reply, TestApp, csrf_of};

on_both_databases!(
    admin_creates_disables_and_resets_accounts,
    last_admin_cannot_be_locked_out,
    own_password_change_needs_the_current_one,
    specialist_accounts_link_to_one_specialist,
    sign_in_is_throttled_per_account,
    sign_in_is_throttled_per_address,
    login_page_says_when_to_retry,
    overlong_input_is_refused,
    center_contacts_are_edited_and_shown,
    staff_pages_work_without_javascript,
);

/// Creates an account through the API and returns its id.
async fn create(app: &TestApp, admin: &str, username: &str, role: &str, password: &str) -> i64 {
    let r = app
        .json(
            Method::POST,
            "/api/v1/staff-users",
            &json!({"username": username, "display_name": format!("Працівник {username}"), "role": role, "password": password}),
            &[("authorization", admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

async fn patch(app: &TestApp, admin: &str, id: i64, body: Value) -> Reply {
    app.json(
        Method::PATCH,
        &format!("/api/v1/staff-users/{id}"),
        &body,
        &[("authorization", admin)],
    )
    .await
}

async fn sign_in(app: &TestApp, username: &str, password: &str, lang: &str) -> Reply {
    app.json(
        Method::POST,
        "/api/v1/session",
        &json!({"username": username, "password": password}),
        &[("accept-language", lang)],
    )
    .await
}

async fn sign_in_from(app: &TestApp, ip: [u8; 4], username: &str, password: &str) -> Reply {
    let mut req = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(Body::from(
            json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    app.send(req).await
}

async fn me(app: &TestApp, auth: &str) -> StatusCode {
    app.get_with("/api/v1/me", &[("authorization", auth)])
        .await
        .status
}

async fn admin_id(app: &TestApp) -> i64 {
    let admin = app.admin_bearer().await;
    let r = app
        .get_with("/api/v1/staff-users", &[("authorization", &admin)])
        .await;
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "admin")
        .expect("admin listed")["id"]
        .as_i64()
        .unwrap()
}

async fn admin_creates_disables_and_resets_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_bearer().await;
    let id = create(&app, &admin, "Olena.K", "supervisor", "olena-password-1").await;

    let r = app
        .get_with(
            &format!("/api/v1/staff-users/{id}"),
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["username"], "olena.k", "{}", r.body);
    assert_eq!(r.json()["role"], "supervisor", "{}", r.body);
    assert_eq!(r.json()["active"], true, "{}", r.body);

    // A supervisor may not manage accounts.
    let olena = app.bearer("olena.k", "olena-password-1").await;
    let r = app
        .get_with("/api/v1/staff-users", &[("authorization", &olena)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The same username again is a conflict with a message, not a 500.
    let r = app
        .json(
            Method::POST,
            "/api/v1/staff-users",
            &json!({"username": "OLENA.K", "display_name": "x", "role": "kiosk", "password": "another-password"}),
            &[("authorization", &admin), ("accept-language", "uk")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["message"], "Таке ім'я користувача вже зайняте.");

    // Every fault of a new account is reported at once; nothing is written.
    let r = app
        .json(
            Method::POST,
            "/api/v1/staff-users",
            &json!({"username": "x", "display_name": "", "role": "root", "password": "short"}),
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.json()["fields"].as_array().unwrap().len(),
        4,
        "{}",
        r.body
    );
    let all = app
        .get_with("/api/v1/staff-users", &[("authorization", &admin)])
        .await;
    assert_eq!(all.json().as_array().unwrap().len(), 2, "{}", all.body);

    // Disabling ends the account's tokens at once and refuses new sign-ins.
    let r = patch(&app, &admin, id, json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["active"], false);
    assert_eq!(me(&app, &olena).await, StatusCode::UNAUTHORIZED);
    let r = sign_in(&app, "olena.k", "olena-password-1", "en").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let sessions = cherga::store::entities::staff_session::Entity::find()
        .filter(cherga::store::entities::staff_session::Column::UserId.eq(id as i32))
        .all(&app.db)
        .await
        .unwrap();
    assert!(sessions.is_empty(), "sessions left: {sessions:?}");

    // Enabled again, with a reset password: the old one no longer works.
    let r = patch(&app, &admin, id, json!({"active": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .json(
            Method::PUT,
            &format!("/api/v1/staff-users/{id}/password"),
            &json!({"password": "brand-new-password"}),
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = sign_in(&app, "olena.k", "olena-password-1", "en").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    app.bearer("olena.k", "brand-new-password").await;

    let r = app
        .json(
            Method::PUT,
            "/api/v1/staff-users/9999/password",
            &json!({"password": "brand-new-password"}),
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    app.finish().await;
}

async fn last_admin_cannot_be_locked_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_bearer().await;
    let first = admin_id(&app).await;
    for change in [json!({"active": false}), json!({"role": "kiosk"})] {
        let r = patch(&app, &admin, first, change).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(r.json()["error"], "conflict");
    }
    assert_eq!(me(&app, &admin).await, StatusCode::OK);
    // With a second administrator, the first may step down.
    let second = create(&app, &admin, "admin2", "admin", "second-admin-password").await;
    let r = patch(&app, &admin, first, json!({"role": "supervisor"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let admin2 = app.bearer("admin2", "second-admin-password").await;
    let r = patch(&app, &admin2, second, json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    app.finish().await;
}

async fn own_password_change_needs_the_current_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_bearer().await;
    let other_device = app.admin_bearer().await;
    let r = app
        .json(
            Method::PUT,
            "/api/v1/me/password",
            &json!({"current_password": "wrong", "new_password": "a-new-admin-password"}),
            &[("authorization", &admin), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.json()["fields"][0]["field"],
        "current_password",
        "{}",
        r.body
    );
    assert_eq!(
        r.json()["fields"][0]["message"],
        "The current password is wrong."
    );

    let r = app
        .json(
            Method::PUT,
            "/api/v1/me/password",
            &json!({"current_password": ADMIN_PASSWORD, "new_password": "short"}),
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "new_password", "{}", r.body);

    let r = app
        .json(
            Method::PUT,
            "/api/v1/me/password",
            &json!({"current_password": ADMIN_PASSWORD, "new_password": "a-new-admin-password"}),
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // This session stays, the other device's ends; only the new password signs in.
    assert_eq!(me(&app, &admin).await, StatusCode::OK);
    assert_eq!(me(&app, &other_device).await, StatusCode::UNAUTHORIZED);
    let r = sign_in(&app, "admin", ADMIN_PASSWORD, "en").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    app.bearer("admin", "a-new-admin-password").await;

    let r = app
        .json(
            Method::PUT,
            "/api/v1/me/password",
            &json!({"current_password": "x", "new_password": "a-new-admin-password"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    app.finish().await;
}

async fn specialist_accounts_link_to_one_specialist(backend: Backend) {
    use cherga::store::entities::specialist;
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_bearer().await;
    let specialists = specialist::Entity::find().all(&app.db).await.unwrap();
    assert!(specialists.len() >= 2, "demo specialists: {specialists:?}");
    let (s1, s2) = (specialists[0].id, specialists[1].id);
    let a = create(
        &app,
        &admin,
        "spec.a",
        "specialist",
        "specialist-a-password",
    )
    .await;
    let b = create(
        &app,
        &admin,
        "spec.b",
        "specialist",
        "specialist-b-password",
    )
    .await;
    let k = create(&app, &admin, "kiosk.1", "kiosk", "kiosk-one-password").await;

    let r = patch(&app, &admin, a, json!({"specialist_id": s1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["specialist"]["id"], s1, "{}", r.body);
    let linked = specialist::Entity::find_by_id(s1)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.user_id, Some(a as i32));

    // One specialist, one account.
    let r = patch(&app, &admin, b, json!({"specialist_id": s1})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Only specialist accounts link; an unknown specialist is invalid.
    let r = patch(&app, &admin, k, json!({"specialist_id": s2})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = patch(&app, &admin, b, json!({"specialist_id": 99999})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // Moving the link: the old specialist is freed.
    let r = patch(&app, &admin, a, json!({"specialist_id": s2})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let old = specialist::Entity::find_by_id(s1)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.user_id, None);
    // Leaving the specialist role lets go of the specialist.
    let r = patch(&app, &admin, a, json!({"role": "supervisor"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["specialist"].is_null(), "{}", r.body);
    let freed = specialist::Entity::find_by_id(s2)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(freed.user_id, None);
    // `null` unlinks explicitly.
    patch(&app, &admin, b, json!({"specialist_id": s1})).await;
    let r = patch(&app, &admin, b, json!({"specialist_id": null})).await;
    assert!(r.json()["specialist"].is_null(), "{}", r.body);
    app.finish().await;
}

async fn sign_in_is_throttled_per_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..15 {
        let r = sign_in(&app, "admin", "wrong-password", "uk").await;
        statuses.push(r.status.as_u16());
        last = Some(r);
    }
    let last = last.unwrap();
    // Three free failures, the fourth locks for a second: the next is refused unanswered.
    // (A later lock may run out while a slow debug-build hash is checked: a few 401s.)
    assert_eq!(&statuses[..5], &[401, 401, 401, 401, 429], "{statuses:?}");
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert!(refused >= 8, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(last.json()["error"], "too_many_attempts", "{}", last.body);
    let msg = last.json()["message"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("Забагато невдалих спроб входу. Спробуйте знову через"),
        "{msg}"
    );
    let retry: u64 = last.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    // Refused attempts are not counted, and the right password is refused while locked.
    let counted = cherga::store::staff::failures_of(&app.db, "admin")
        .await
        .unwrap();
    assert_eq!(counted as usize, 15 - refused, "{statuses:?}");
    let r = sign_in(&app, "admin", ADMIN_PASSWORD, "en").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Too many failed sign-in attempts. Try again in"),
        "{}",
        r.body
    );

    // After the lock, the right password signs in and clears the count.
    let row =
        cherga::store::entities::login_throttle::Entity::find_by_id("account:admin".to_string())
            .one(&app.db)
            .await
            .unwrap()
            .expect("throttle row");
    let wait = row.locked_until.expect("locked") - chrono::Utc::now();
    tokio::time::sleep(wait.to_std().unwrap_or_default() + std::time::Duration::from_millis(100))
        .await;
    app.admin_bearer().await;
    assert_eq!(
        cherga::store::staff::failures_of(&app.db, "admin")
            .await
            .unwrap(),
        0
    );
    let r = sign_in(&app, "admin", "wrong-password", "en").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    app.finish().await;
}

async fn sign_in_is_throttled_per_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Different (unknown) usernames from one address: each a first failure for its account,
    // but the address runs out of its twenty free tries.
    let mut first_refusal = None;
    for i in 0..30 {
        let r = sign_in_from(&app, [10, 0, 0, 7], &format!("guess{i}"), "wrong-password").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers.contains_key(header::RETRY_AFTER));
            first_refusal = Some(i);
            break;
        }
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "attempt {i}: {}",
            r.body
        );
    }
    assert_eq!(
        first_refusal,
        Some(21),
        "the 22nd attempt is the first refused"
    );
    let r = sign_in_from(&app, [10, 0, 0, 7], "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // Another address is not affected.
    let r = sign_in_from(&app, [10, 0, 0, 8], "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.finish().await;
}

async fn login_page_says_when_to_retry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = app.get_with("/login", &[("accept", "text/html")]).await;
    let csrf = page.cookie("cherga_csrf").expect("csrf cookie");
    let cookies = format!("cherga_csrf={csrf}; cherga_lang=en");
    let mut last = None;
    for _ in 0..6 {
        last = Some(
            app.form(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("username", "admin"),
                    ("password", "wrong-password"),
                ],
                &cookies,
            )
            .await,
        );
    }
    let r = last.unwrap();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.body
            .contains("Too many failed sign-in attempts. Try again in"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("name=\"password\""),
        "the form comes back: {}",
        r.body
    );
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    // A 100,000-character password is refused before any hashing, with the form.
    let huge = "x".repeat(100_000);
    let r = app
        .form(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "someone"),
                ("password", &huge),
            ],
            &cookies,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        &r.body[..r.body.len().min(500)]
    );
    assert!(r.body.contains("at most 128 characters"), "{}", r.body);
    app.finish().await;
}

async fn overlong_input_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_bearer().await;
    let huge = "x".repeat(100_000);
    let r = sign_in(&app, "admin", &huge, "en").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "password", "{}", r.body);
    let r = sign_in(&app, &huge, "password", "en").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "username", "{}", r.body);

    for (field, value) in [
        ("username", "u".repeat(65)),
        ("display_name", "д".repeat(101)),
        ("password", "p".repeat(129)),
    ] {
        let mut body = json!({"username": "valid.name", "display_name": "Ім'я", "role": "kiosk", "password": "a-valid-password"});
        body[field] = json!(value);
        let r = app
            .json(
                Method::POST,
                "/api/v1/staff-users",
                &body,
                &[("authorization", &admin)],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.body
        );
        assert_eq!(r.json()["fields"][0]["field"], field, "{}", r.body);
    }
    let id = admin_id(&app).await;
    let r = patch(&app, &admin, id, json!({"display_name": "д".repeat(101)})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .json(
            Method::PUT,
            "/api/v1/center",
            &json!({"name_uk": huge, "name_en": "C", "address_uk": "a", "address_en": "a", "phone": "044", "email": "a@b.ua"}),
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        &r.body[..r.body.len().min(500)]
    );
    assert_eq!(r.json()["fields"][0]["field"], "name_uk");
    app.finish().await;
}

async fn center_contacts_are_edited_and_shown(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.demo = false;
        c.no_demo = true;
    })
    .await;
    // Seeded from the catalog file's [center], placeholder address included.
    let r = app.get("/api/v1/center").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json()["address_uk"],
        "адреса районного центру",
        "{}",
        r.body
    );
    let home = app.get("/").await;
    assert!(
        home.body.contains("адреса районного центру"),
        "{}",
        home.body
    );

    let body = json!({
        "name_uk": "ЦКС Печерського району", "name_en": "Pecherskyi Communal Service Center",
        "address_uk": "вул. Лаврська, 5", "address_en": "5 Lavrska St",
        "phone": "+380 44 123 45 67", "email": "pechersk@example.ua", "website": "",
        "hours_uk": "Пн–Пт 8:00–17:00", "hours_en": "Mon–Fri 8:00–17:00"
    });
    let r = app.json(Method::PUT, "/api/v1/center", &body, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let admin = app.admin_bearer().await;
    let r = app
        .json(
            Method::PUT,
            "/api/v1/center",
            &body,
            &[("authorization", &admin)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["address_en"], "5 Lavrska St");

    let home = app.get("/").await;
    assert!(home.body.contains("вул. Лаврська, 5"), "{}", home.body);
    assert!(home.body.contains("Пн–Пт 8:00–17:00"), "{}", home.body);
    assert!(home.body.contains("tel:+380441234567"), "{}", home.body);
    assert!(
        !home.body.contains("адреса районного центру"),
        "{}",
        home.body
    );
    let en = app.get_with("/", &[("accept-language", "en")]).await;
    assert!(
        en.body.contains("5 Lavrska St") && en.body.contains("Mon–Fri 8:00–17:00"),
        "{}",
        en.body
    );

    // Stored in the database: a new instance over it shows the same.
    let stored = cherga::store::center::find_contacts(&app.db).await.unwrap();
    assert_eq!(stored.address.uk, "вул. Лаврська, 5");

    let r = app
        .json(
            Method::PUT,
            "/api/v1/center",
            &json!({"name_uk": "", "name_en": "x", "address_uk": "a", "address_en": "a", "phone": "call me", "email": "nope"}),
            &[("authorization", &admin), ("accept-language", "uk")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields: Vec<String> = r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["name_uk", "phone", "email"], "{}", r.body);
    let still = cherga::store::center::find_contacts(&app.db).await.unwrap();
    assert_eq!(still.address.uk, "вул. Лаврська, 5");

    // Another instance (its own caches, the same database) saves: seen here within a second.
    let mut moved = still.clone();
    moved.address.uk = "вул. Лаврська, 7".into();
    let other = cherga::store::cache::Caches::default();
    cherga::store::center::save(&other, &app.db, &moved)
        .await
        .unwrap();
    tokio::time::sleep(cherga::store::cache::CHECK_EVERY + std::time::Duration::from_millis(200))
        .await;
    let home = app.get("/").await;
    assert!(home.body.contains("вул. Лаврська, 7"), "{}", home.body);

    // The API is described in the one OpenAPI document.
    let doc = app.get("/api/openapi.json").await.json();
    for path in [
        "/api/v1/staff-users",
        "/api/v1/staff-users/{id}",
        "/api/v1/staff-users/{id}/password",
        "/api/v1/me/password",
        "/api/v1/center",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/session"]["post"]["responses"]["429"].is_object());
    app.finish().await;
}

async fn staff_pages_work_without_javascript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let html = |path: &str| {
        let cookies = cookies.clone();
        let path = path.to_string();
        let app = &app;
        async move {
            app.get_with(&path, &[("accept", "text/html"), ("cookie", &cookies)])
                .await
        }
    };
    let r = html("/admin/staff").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("data-username=\"admin\""), "{}", r.body);

    // Create through the form; a bad one comes back with messages and 422.
    let r = app
        .form(
            "/admin/staff",
            &[
                ("csrf", &csrf),
                ("username", "x"),
                ("display_name", "Кіоск"),
                ("role", "kiosk"),
                ("password", "short"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("Пароль має містити від 12 до 128 символів."),
        "{}",
        r.body
    );
    let r = app
        .form(
            "/admin/staff",
            &[
                ("csrf", &csrf),
                ("username", "hall.kiosk"),
                ("display_name", "Кіоск у залі"),
                ("role", "kiosk"),
                ("password", "kiosk-hall-password"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("data-username=\"hall.kiosk\""),
        "{}",
        r.body
    );
    let kiosk = cherga::store::staff::list_accounts(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.username == "hall.kiosk")
        .expect("created");

    // Disable through the edit form (the box unticked), then reset the password.
    let path = format!("/admin/staff/{}", kiosk.id);
    assert_eq!(html(&path).await.status, StatusCode::OK);
    let r = app
        .form(
            &path,
            &[
                ("csrf", &csrf),
                ("display_name", "Кіоск у залі"),
                ("role", "kiosk"),
                ("specialist_id", ""),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let k = cherga::store::staff::find_account(&app.db, kiosk.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!k.active);
    let r = app
        .form(
            &format!("{path}/password"),
            &[("csrf", &csrf), ("password", "kiosk-new-password")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Новий пароль встановлено"), "{}", r.body);
    // The admin cannot disable themselves as the last admin: 409 with the form.
    let me = cherga::store::staff::list_accounts(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.username == "admin")
        .unwrap();
    let r = app
        .form(
            &format!("/admin/staff/{}", me.id),
            &[
                ("csrf", &csrf),
                ("display_name", "Адміністратор"),
                ("role", "admin"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("останній активний адміністратор"),
        "{}",
        r.body
    );

    // Own password through the page.
    assert_eq!(html("/account/password").await.status, StatusCode::OK);
    let r = app
        .form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "page-new-password"),
                ("confirm_password", "page-other-password"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "page-new-password"),
                ("confirm_password", "page-new-password"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Пароль змінено."), "{}", r.body);
    app.bearer("admin", "page-new-password").await;

    // Center contacts through the page.
    let r = html("/admin/center").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .form(
            "/admin/center",
            &[
                ("csrf", &csrf),
                ("name_uk", "ЦКС"),
                ("name_en", "CSC"),
                ("address_uk", "вул. Нова, 2"),
                ("address_en", "2 Nova St"),
                ("phone", "(044) 111-22-33"),
                ("email", "a@b.ua"),
                ("website", ""),
                ("hours_uk", ""),
                ("hours_en", ""),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(app.get("/").await.body.contains("вул. Нова, 2"));

    // A kiosk account does not reach these pages; anonymous visitors are sent to sign in.
    let r = app
        .get_with("/admin/staff", &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .get_with("/account/password", &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    app.finish().await;
}
