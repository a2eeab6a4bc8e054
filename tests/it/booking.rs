//! Online booking through the API: offices, availability, bookings, the race for one slot,
//! fair-access rules, and the staff's day list.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Backend, TestApp};

on_both_databases!(
    categories_have_titles_and_services,
    offices_and_specialists_are_listed,
    availability_respects_schedule_and_breaks,
    book_view_cancel_and_release,
    bad_input_is_422_with_fields,
    channels_decide_what_can_be_booked,
    two_hundred_racers_one_winner,
    two_instances_one_winner,
    any_specialist_race_fills_each_specialist_once,
    pending_hold_confirms_or_expires,
    caps_per_person_and_service,
    no_shows_block_online_booking,
    rate_limit_answers_429_with_retry_after,
    reschedule_moves_the_booking,
    staff_see_the_day,
    openapi_lists_booking_and_bearer,
    resident_pages_book_and_cancel_without_javascript,
);

/// An app with the rate limits and the cancellation delay off unless a test sets them.
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 0;
        c.booking.availability_rate_per_minute = 0;
    })
    .await
}

async fn office_id(app: &TestApp, kind: &str) -> i64 {
    let r = app.get("/api/v1/offices").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} office: {}", r.body))["id"]
        .as_i64()
        .unwrap()
}

/// A service bookable at the demo office that a given number of specialists handle.
async fn visit_service(app: &TestApp, office: i64, min_specialists: usize) -> String {
    let specs = app
        .get(&format!("/api/v1/offices/{office}/specialists"))
        .await
        .json();
    let services = app.get("/api/v1/services").await.json();
    services
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["channels"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "visit")
        })
        .map(|s| s["code"].as_str().unwrap().to_string())
        .find(|code| {
            specs
                .as_array()
                .unwrap()
                .iter()
                .filter(|sp| {
                    sp["services"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c == code.as_str())
                })
                .count()
                >= min_specialists
        })
        .expect("a visit service")
}

fn days_ahead(n: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(n))
        .format("%Y-%m-%d")
        .to_string()
}

async fn slots(app: &TestApp, office: i64, service: &str, specialist: Option<i64>) -> Vec<Value> {
    let mut url = format!(
        "/api/v1/offices/{office}/availability?service={service}&from={}&to={}",
        days_ahead(0),
        days_ahead(14)
    );
    if let Some(s) = specialist {
        url.push_str(&format!("&specialist={s}"));
    }
    let r = app.get(&url).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["slots"].as_array().unwrap().clone()
}

fn request(office: i64, service: &str, start: &str, phone: &str) -> Value {
    json!({"office": office, "service": service, "start": start, "name": "Олена Тест", "phone": phone})
}

async fn book(app: &TestApp, body: &Value) -> crate::support::Reply {
    app.json(Method::POST, "/api/v1/bookings", body, &[]).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn categories_have_titles_and_services(backend: Backend) {
    let app = spawn(backend).await;
    let r = app.get("/api/v1/categories").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cats = r.json();
    let cats = cats.as_array().unwrap();
    assert_eq!(cats.len(), 8, "{}", r.body);
    let services: usize = cats
        .iter()
        .map(|c| c["services"].as_array().unwrap().len())
        .sum();
    assert_eq!(services, 34, "{}", r.body);
    let listed = app.get("/api/v1/services").await.json();
    for s in listed.as_array().unwrap() {
        let cat = cats.iter().find(|c| c["code"] == s["category"]).unwrap();
        assert!(cat["services"].as_array().unwrap().contains(&s["code"]));
        assert!(!cat["title"].as_str().unwrap().is_empty());
        assert!(!cat["title_en"].as_str().unwrap().is_empty());
    }
    app.finish().await;
}

async fn offices_and_specialists_are_listed(backend: Backend) {
    let app = spawn(backend).await;
    let r = app.get("/api/v1/offices").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let offices = r.json();
    assert_eq!(offices.as_array().unwrap().len(), 2, "{}", r.body);
    assert_eq!(offices[0]["timezone"], "Europe/Kyiv");
    assert_eq!(offices[0]["kind"], "office");
    assert_eq!(offices[1]["kind"], "contact_center");
    let office = offices[0]["id"].as_i64().unwrap();
    let r = app
        .get(&format!("/api/v1/offices/{office}/specialists"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let specs = r.json();
    assert_eq!(specs.as_array().unwrap().len(), 3, "{}", r.body);
    assert_eq!(specs[0]["desk"], "1");
    assert!(
        !specs[0]["services"].as_array().unwrap().is_empty(),
        "{}",
        r.body
    );
    let cc = offices[1]["id"].as_i64().unwrap();
    let r = app.get(&format!("/api/v1/offices/{cc}/specialists")).await;
    assert_eq!(r.json().as_array().unwrap().len(), 2, "{}", r.body);
    let r = app.get("/api/v1/offices/9999/specialists").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    app.finish().await;
}

async fn availability_respects_schedule_and_breaks(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    assert!(!all.is_empty());
    let now = chrono::Utc::now();
    for s in &all {
        let start = chrono::DateTime::parse_from_rfc3339(s["start"].as_str().unwrap()).unwrap();
        let end = chrono::DateTime::parse_from_rfc3339(s["end"].as_str().unwrap()).unwrap();
        let offset = start.offset().local_minus_utc();
        assert!(offset == 7200 || offset == 10800, "Kyiv offset: {s}");
        let local = start.format("%H:%M").to_string();
        assert!(
            local.as_str() >= "08:00" && end.format("%H:%M").to_string().as_str() <= "17:00",
            "{s}"
        );
        // Lunch break 12:00–12:45: nothing starts inside it.
        assert!(
            !(local.as_str() >= "12:00" && local.as_str() < "12:45"),
            "{s}"
        );
        // Grid of 5 minutes counted from 08:00.
        assert_eq!(
            start.format("%M").to_string().parse::<u32>().unwrap() % 5,
            0
        );
        assert!(start.with_timezone(&chrono::Utc) >= now + chrono::Duration::minutes(59));
    }
    // Bad queries.
    let r = app
        .get(&format!(
            "/api/v1/offices/{office}/availability?service={service}&from=2026-13-01&to=x"
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields: BTreeSet<String> = r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["from".to_string(), "to".to_string()])
    );
    let r = app
        .get(&format!(
            "/api/v1/offices/{office}/availability?service=nope&from={}&to={}",
            days_ahead(0),
            days_ahead(1)
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    app.finish().await;
}

async fn book_view_cancel_and_release(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 0;
        c.booking.availability_rate_per_minute = 0;
        c.booking.booking_release_delay_minutes = 0;
    })
    .await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let first = slots(&app, office, &service, None).await[0].clone();
    let spec = first["specialists"][0].as_i64().unwrap();
    let start = first["start"].as_str().unwrap();
    let mut body = request(office, &service, start, "067 123 45 67");
    body["specialist"] = json!(spec);
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let b = r.json();
    assert_eq!(b["status"], "confirmed", "no email: nothing to confirm");
    assert_eq!(b["start"], start);
    assert_eq!(b["specialist"], spec);
    assert_eq!(b["code"].as_str().unwrap().len(), 6);
    let token = b["manage_token"].as_str().unwrap().to_string();
    assert!(token.len() >= 32, "≥128 bits: {token}");
    // The token is stored only as a hash.
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM booking WHERE manage_token_hash = '{token}'")
        )
        .await,
        0
    );
    let minutes = (chrono::DateTime::parse_from_rfc3339(b["end"].as_str().unwrap()).unwrap()
        - chrono::DateTime::parse_from_rfc3339(start).unwrap())
    .num_minutes();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM booking_claim").await,
        minutes
    );

    // The time is gone for that specialist.
    let after = slots(&app, office, &service, Some(spec)).await;
    assert!(after.iter().all(|s| s["start"] != start), "still offered");

    let r = app.get(&format!("/api/v1/bookings/{token}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["code"], b["code"]);
    assert!(r.json().get("manage_token").is_none(), "{}", r.body);
    let r = app.get("/api/v1/bookings/not-a-token").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = app
        .json(
            Method::DELETE,
            &format!("/api/v1/bookings/{token}"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "cancelled");
    let r = app
        .json(
            Method::DELETE,
            &format!("/api/v1/bookings/{token}"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking_claim").await, 0);
    // With no delay the time is free again at once.
    let again = slots(&app, office, &service, Some(spec)).await;
    assert!(again.iter().any(|s| s["start"] == start), "released");
    app.finish().await;
}

async fn bad_input_is_422_with_fields(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let r = book(
        &app,
        &json!({"office": office, "service": service, "start": "tomorrow", "name": " ", "phone": "12", "email": "x@", "lang": "de"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields: Vec<String> = r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        ["start", "name", "phone", "email", "lang"],
        "{}",
        r.body
    );
    // English on request.
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings",
            &json!({"office": office, "service": service, "start": "x", "name": "A", "phone": "0671234567"}),
            &[("accept-language", "en")],
        )
        .await;
    assert!(
        r.json()["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("RFC 3339"),
        "{}",
        r.body
    );
    // A time off the schedule (03:00 local) is 422, not 409.
    let day = days_ahead(3);
    let r = book(
        &app,
        &request(
            office,
            &service,
            &format!("{day}T03:00:00+02:00"),
            "0671234567",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "start");
    let r = book(
        &app,
        &request(
            9999,
            &service,
            &format!("{day}T09:00:00+02:00"),
            "0671234567",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings",
            &json!({"office": office}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 0);
    app.finish().await;
}

async fn channels_decide_what_can_be_booked(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let cc = office_id(&app, "contact_center").await;
    let services = app.get("/api/v1/services").await.json();
    let services = services.as_array().unwrap();
    let has = |s: &Value, c: &str| s["channels"].as_array().unwrap().iter().any(|x| x == c);
    let website_only = services
        .iter()
        .find(|s| s["channels"].as_array().unwrap().len() == 1 && has(s, "website"))
        .map(|s| s["code"].as_str().unwrap().to_string());
    let no_phone = services
        .iter()
        .find(|s| !has(s, "contact_center"))
        .map(|s| s["code"].as_str().unwrap().to_string())
        .expect("a service without the contact center");
    let (from, to) = (days_ahead(0), days_ahead(7));
    let r = app
        .get(&format!(
            "/api/v1/offices/{cc}/availability?service={no_phone}&from={from}&to={to}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = book(
        &app,
        &request(
            cc,
            &no_phone,
            &format!("{from}T09:00:00+02:00"),
            "0671234567",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    if let Some(web) = website_only {
        let r = book(
            &app,
            &request(
                office,
                &web,
                &format!("{from}T09:00:00+02:00"),
                "0671234567",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    }
    // A call-back at the contact center.
    let phone = services
        .iter()
        .find(|s| has(s, "contact_center"))
        .map(|s| s["code"].as_str().unwrap().to_string())
        .unwrap();
    let free = slots(&app, cc, &phone, None).await;
    let r = book(
        &app,
        &request(cc, &phone, free[0]["start"].as_str().unwrap(), "0671234567"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["channel"], "contact_center");
    app.finish().await;
}

/// Sends `n` bookings of one start at once, each from a different phone, across `apps`.
async fn race(apps: &[&TestApp], body: &Value, n: usize) -> (usize, usize, Vec<String>) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut b = body.clone();
        b["phone"] = json!(format!("+380 67 {:07}", 1_000_000 + i));
        let app = apps[i % apps.len()];
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post("/api/v1/bookings")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(b.to_string()))
                .unwrap();
            let resp = router.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }));
    }
    let (mut ok, mut taken, mut other) = (0, 0, Vec::new());
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT if body.contains("slot_taken") => taken += 1,
            s => other.push(format!("{s}: {body}")),
        }
    }
    (ok, taken, other)
}

async fn two_hundred_racers_one_winner(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let first = slots(&app, office, &service, None).await[0].clone();
    let mut body = request(office, &service, first["start"].as_str().unwrap(), "");
    body["specialist"] = first["specialists"][0].clone();
    let (ok, taken, other) = race(&[&app], &body, 200).await;
    assert_eq!((ok, taken), (1, 199), "others: {other:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 1);
    app.finish().await;
}

async fn two_instances_one_winner(backend: Backend) {
    let app = spawn(backend).await;
    // A second instance: its own router and pool over the same database.
    let mut config = cherga::config::Config::for_database(&app.database_url);
    config.booking.booking_rate_per_minute = 0;
    config.admin_password = Some(crate::support::ADMIN_PASSWORD.into());
    let (db2, _) = cherga::app::prepare(&config)
        .await
        .expect("second instance");
    let router2 = cherga::app::router(db2.clone(), config, cherga::app::bundled_rules().unwrap());
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let first = slots(&app, office, &service, None).await[0].clone();
    let mut body = request(office, &service, first["start"].as_str().unwrap(), "");
    body["specialist"] = first["specialists"][0].clone();
    let second = TestAppRef { router: router2 };
    let (ok, taken, other) = race2(&app, &second, &body, 200).await;
    assert_eq!((ok, taken), (1, 199), "others: {other:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 1);
    let _ = db2.close().await;
    app.finish().await;
}

struct TestAppRef {
    router: axum::Router,
}

async fn race2(a: &TestApp, b: &TestAppRef, body: &Value, n: usize) -> (usize, usize, Vec<String>) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut req_body = body.clone();
        req_body["phone"] = json!(format!("+380 67 {:07}", 2_000_000 + i));
        let router = if i % 2 == 0 {
            a.router.clone()
        } else {
            b.router.clone()
        };
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post("/api/v1/bookings")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(req_body.to_string()))
                .unwrap();
            let resp = router.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }));
    }
    let (mut ok, mut taken, mut other) = (0, 0, Vec::new());
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT if body.contains("slot_taken") => taken += 1,
            s => other.push(format!("{s}: {body}")),
        }
    }
    (ok, taken, other)
}

async fn any_specialist_race_fills_each_specialist_once(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 2).await;
    let all = slots(&app, office, &service, None).await;
    let slot = all
        .iter()
        .find(|s| s["specialists"].as_array().unwrap().len() >= 2)
        .expect("a slot two specialists share")
        .clone();
    let free = slot["specialists"].as_array().unwrap().len();
    let body = request(office, &service, slot["start"].as_str().unwrap(), "");
    let (ok, taken, other) = race(&[&app], &body, 50).await;
    assert_eq!((ok, taken), (free, 50 - free), "others: {other:?}");
    let distinct = count(&app, "SELECT COUNT(DISTINCT specialist_id) FROM booking").await;
    assert_eq!(distinct as usize, free);
    app.finish().await;
}

async fn pending_hold_confirms_or_expires(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    // Booked with an email: pending, holding the time.
    let mut body = request(office, &service, all[0]["start"].as_str().unwrap(), "");
    body["email"] = json!("Olena@Example.com");
    body.as_object_mut().unwrap().remove("phone");
    body["specialist"] = all[0]["specialists"][0].clone();
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["status"], "pending");
    assert!(r.json()["hold_expires_at"].is_string(), "{}", r.body);

    // A second one through the store, to get its confirmation token as the mail would carry.
    let policy = cherga::config::Config::for_database("sqlite::memory:").booking_policy();
    // Far from the first booking's time, so the two never overlap.
    let other = &all[all.len() / 2];
    let start = chrono::DateTime::parse_from_rfc3339(other["start"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let contact = cherga::domain::booking::request::parse_contact(
        "Петро",
        None,
        Some("petro@example.com"),
        None,
        Some("en"),
    )
    .unwrap();
    let booked = cherga::store::booking::book_slot(
        &app.db,
        cherga::store::booking::NewBooking {
            office_id: office as i32,
            service_code: service.clone(),
            start,
            specialist_id: other["specialists"][0].as_i64().map(|v| v as i32),
            contact,
            client_ip: None,
        },
        &policy,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let token = booked.confirm_token.clone().expect("confirm token");
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings/confirm",
            &json!({"token": token}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "confirmed");
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings/confirm",
            &json!({"token": "wrong"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // The first hold runs out: the worker expires it and frees its minutes.
    let claims_before = count(&app, "SELECT COUNT(*) FROM booking_claim").await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "UPDATE booking SET hold_expires_at = '2000-01-01 00:00:00+00:00' WHERE status = 'pending'",
        )
        .await
        .unwrap();
    let expired = cherga::holds::run_once(&app.db).await.unwrap();
    assert_eq!(expired, 1);
    assert_eq!(
        cherga::holds::run_once(&app.db).await.unwrap(),
        0,
        "done once"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM booking WHERE status = 'expired'"
        )
        .await,
        1
    );
    assert!(count(&app, "SELECT COUNT(*) FROM booking_claim").await < claims_before);
    let again = slots(&app, office, &service, all[0]["specialists"][0].as_i64()).await;
    assert!(
        again.iter().any(|s| s["start"] == all[0]["start"]),
        "hold released"
    );
    app.finish().await;
}

async fn caps_per_person_and_service(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let specs = app
        .get(&format!("/api/v1/offices/{office}/specialists"))
        .await
        .json();
    let codes: Vec<String> = specs[0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let services = app.get("/api/v1/services").await.json();
    let visit: Vec<String> = codes
        .into_iter()
        .filter(|c| {
            services.as_array().unwrap().iter().any(|s| {
                s["code"] == c.as_str()
                    && s["channels"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x == "visit")
            })
        })
        .collect();
    assert!(visit.len() >= 4, "{visit:?}");
    let mut made = 0;
    let mut day = 0;
    for code in visit.iter().take(3) {
        let s = slots(&app, office, code, None).await;
        let r = book(
            &app,
            &request(
                office,
                code,
                s[day]["start"].as_str().unwrap(),
                "+38 067 555 00 11",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        made += 1;
        day += 20;
    }
    assert_eq!(made, 3);
    // The same service again, however the phone is typed.
    let s = slots(&app, office, &visit[0], None).await;
    let r = book(
        &app,
        &request(
            office,
            &visit[0],
            s[40]["start"].as_str().unwrap(),
            "0675550011",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "already_booked", "{}", r.body);
    let s = slots(&app, office, &visit[3], None).await;
    let r = book(
        &app,
        &request(
            office,
            &visit[3],
            s[60]["start"].as_str().unwrap(),
            "0675550011",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "too_many_bookings", "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 3);
    app.finish().await;
}

async fn no_shows_block_online_booking(backend: Backend) {
    let app = spawn(backend).await;
    let bearer = app.admin_bearer().await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    for i in 0..3 {
        let r = book(
            &app,
            &request(
                office,
                &service,
                all[i * 30]["start"].as_str().unwrap(),
                "0671112233",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.json()["id"].as_i64().unwrap();
        let r = app
            .json(
                Method::POST,
                &format!("/api/v1/offices/{office}/bookings/{id}/no-show"),
                &json!({}),
                &[("authorization", &bearer)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["status"], "no_show");
    }
    let r = book(
        &app,
        &request(
            office,
            &service,
            all[100]["start"].as_str().unwrap(),
            "067 111 22 33",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "no_show_block", "{}", r.body);
    // Staff only.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/offices/{office}/bookings/1/no-show"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    app.finish().await;
}

async fn rate_limit_answers_429_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 2;
        c.booking.availability_rate_per_minute = 3;
    })
    .await;
    let office = office_id(&app, "office").await;
    let url = format!(
        "/api/v1/offices/{office}/availability?service=x&from={}&to={}",
        days_ahead(0),
        days_ahead(1)
    );
    for _ in 0..3 {
        let r = app.get(&url).await;
        assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    }
    let r = app.get(&url).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.headers.get("retry-after").is_some());
    let body = json!({"office": office});
    for _ in 0..2 {
        let r = book(&app, &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    }
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.json()["error"], "too_many_requests");
    let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    app.finish().await;
}

async fn reschedule_moves_the_booking(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    let r = book(
        &app,
        &request(
            office,
            &service,
            all[0]["start"].as_str().unwrap(),
            "0671234567",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let token = r.json()["manage_token"].as_str().unwrap().to_string();
    let target = all[10]["start"].as_str().unwrap();
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/bookings/{token}/reschedule"),
            &json!({"start": target}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["start"], target);
    let minutes = (chrono::DateTime::parse_from_rfc3339(r.json()["end"].as_str().unwrap())
        .unwrap()
        - chrono::DateTime::parse_from_rfc3339(target).unwrap())
    .num_minutes();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM booking_claim").await,
        minutes
    );
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/bookings/{token}/reschedule"),
            &json!({"start": "soon"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    app.finish().await;
}

async fn staff_see_the_day(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    let start = all[0]["start"].as_str().unwrap();
    let r = book(&app, &request(office, &service, start, "0671234567")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let day = &start[..10];
    let url = format!("/api/v1/offices/{office}/bookings?date={day}");
    let r = app.get(&url).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let bearer = app.admin_bearer().await;
    let r = app.get_with(&url, &[("authorization", &bearer)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(list[0]["name"], "Олена Тест");
    assert_eq!(list[0]["phone"], "0671234567");
    let r = app
        .get_with(
            &format!("/api/v1/offices/{office}/bookings?date=nope"),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    app.finish().await;
}

async fn openapi_lists_booking_and_bearer(backend: Backend) {
    let app = spawn(backend).await;
    let doc = app.get("/api/openapi.json").await.json();
    for path in [
        "/api/v1/categories",
        "/api/v1/offices",
        "/api/v1/offices/{id}/availability",
        "/api/v1/bookings",
        "/api/v1/bookings/{manage_token}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["paths"]["/api/v1/offices/{id}/bookings"]["get"]["security"][0]["bearer"],
        json!([])
    );
    assert!(doc["paths"]["/api/v1/services/{code}"]["patch"]["security"].is_array());
    app.finish().await;
}

fn between<'a>(body: &'a str, from: &str, to: &str) -> &'a str {
    let i = body
        .find(from)
        .unwrap_or_else(|| panic!("{from} not in {body}"))
        + from.len();
    let j = body[i..].find(to).unwrap() + i;
    &body[i..j]
}

async fn resident_pages_book_and_cancel_without_javascript(backend: Backend) {
    let app = spawn(backend).await;
    let html = [("accept", "text/html")];
    let r = app.get_with("/booking/", &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Записатися на візит"), "{}", r.body);
    let r = app
        .get_with(
            "/booking/?lang=en",
            &[("accept", "text/html"), ("accept-language", "en")],
        )
        .await;
    assert!(r.body.contains("Book a visit"), "{}", r.body);
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let r = app
        .get_with(
            &format!("/booking/times?service={service}&channel=visit&office={office}"),
            &html,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let details = between(&r.body, "href=\"/booking/details?", "\"").replace("&#38;", "&");
    let r = app
        .get_with(&format!("/booking/details?{details}"), &html)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let csrf = r.cookie("cherga_csrf").expect("csrf cookie");
    let start = between(&r.body, "name=\"start\" value=\"", "\"").replace("&#43;", "+");
    let cookies = format!("cherga_csrf={csrf}");
    let office_s = office.to_string();
    let fields = [
        ("csrf", csrf.as_str()),
        ("office", office_s.as_str()),
        ("service", service.as_str()),
        ("start", start.as_str()),
        ("name", ""),
        ("phone", "12"),
        ("email", ""),
        ("account", ""),
    ];
    let r = app.form("/booking/details", &fields, &cookies).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Вкажіть ім"), "{}", r.body);
    let mut ok = fields;
    ok[4] = ("name", "Олена");
    ok[5] = ("phone", "067 123 45 67");
    let r = app.form("/booking/details", &ok, &cookies).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let manage = r.location().unwrap().to_string();
    assert!(manage.starts_with("/booking/manage/"), "{manage}");
    let r = app.get_with(&manage, &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("підтверджено"), "{}", r.body);
    // The same time again: taken, with the times page to choose another.
    let mut again = ok;
    again[5] = ("phone", "067 000 00 01");
    let r = app.form("/booking/details", &again, &cookies).await;
    if r.status != StatusCode::SEE_OTHER {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    }
    let r = app
        .form(
            &format!("{manage}/cancel"),
            &[("csrf", csrf.as_str())],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app.get_with(&manage, &html).await;
    assert!(r.body.contains("скасовано"), "{}", r.body);
    // Without the CSRF token nothing happens.
    let r = app
        .form(&format!("{manage}/cancel"), &[("csrf", "x")], &cookies)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Staff day page.
    let staff = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let day = &start[..10];
    let req = axum::http::Request::get(format!("/booking/staff?office={office}&date={day}"))
        .header("accept", "text/html")
        .header("cookie", staff)
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Олена"), "{}", r.body);
    app.finish().await;
}
