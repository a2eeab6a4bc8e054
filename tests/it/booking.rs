//! Online booking through the API: offices, availability, bookings, the race for one slot,
//! fair-access rules, and the staff's day list.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use cherga::store::entities::{mail_attachment, mail_outbox};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::on_both_databases;
use crate::support::{Backend, TestApp, count};

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
    mail_follows_the_booking,
    confirm_by_code_on_page_and_api,
    manage_page_reschedules_without_javascript,
    page_routes_are_rate_limited_and_record_the_ip,
    caps_hold_under_a_race,
    caps_by_email_and_by_account,
    cancelled_slot_stays_blocked_during_the_release_delay,
    reschedule_to_a_taken_time_is_409,
    website_only_service_offers_no_booking,
);

/// An app with the rate limits and the cancellation delay off unless a test sets them.
pub(crate) async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 0;
        c.booking.availability_rate_per_minute = 0;
    })
    .await
}

pub(crate) async fn office_id(app: &TestApp, kind: &str) -> i64 {
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
pub(crate) async fn visit_service(app: &TestApp, office: i64, min_specialists: usize) -> String {
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

pub(crate) async fn slots(
    app: &TestApp,
    office: i64,
    service: &str,
    specialist: Option<i64>,
) -> Vec<Value> {
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

pub(crate) async fn book(app: &TestApp, body: &Value) -> crate::support::Reply {
    app.json(Method::POST, "/api/v1/bookings", body, &[]).await
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

/// Posts every body to `/api/v1/bookings` at once, spread over `routers` (one per app
/// instance); the answers in the bodies' order.
async fn post_at_once(routers: &[axum::Router], bodies: Vec<Value>) -> Vec<(StatusCode, String)> {
    let mut tasks = Vec::new();
    for (i, b) in bodies.into_iter().enumerate() {
        let router = routers[i % routers.len()].clone();
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
    let mut answers = Vec::with_capacity(tasks.len());
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

/// Sends `n` bookings of one start at once, each from a different phone, across `routers`,
/// and sorts the answers: created, taken, anything else.
async fn race(routers: &[axum::Router], body: &Value, n: usize) -> (usize, usize, Vec<String>) {
    let bodies = (0..n)
        .map(|i| {
            let mut b = body.clone();
            b["phone"] = json!(format!("+380 67 {:07}", 1_000_000 + i));
            b
        })
        .collect();
    let (mut ok, mut taken, mut other) = (0, 0, Vec::new());
    for (status, body) in post_at_once(routers, bodies).await {
        match status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT if body.contains("slot_taken") => taken += 1,
            s => other.push(format!("{s}: {body}")),
        }
    }
    (ok, taken, other)
}

/// SQLite's batched writer decided every race in memory: no batch fell back to writing its
/// bookings one by one (which would still be correct, and so would hide a wrong decision).
fn no_batch_undone() {
    assert_eq!(cherga::store::booking::batch_fallbacks(), 0);
}

async fn two_hundred_racers_one_winner(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let first = slots(&app, office, &service, None).await[0].clone();
    let mut body = request(office, &service, first["start"].as_str().unwrap(), "");
    body["specialist"] = first["specialists"][0].clone();
    let (ok, taken, other) = race(std::slice::from_ref(&app.router), &body, 200).await;
    assert_eq!((ok, taken), (1, 199), "others: {other:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 1);
    no_batch_undone();
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
    let (ok, taken, other) = race(&[app.router.clone(), router2], &body, 200).await;
    assert_eq!((ok, taken), (1, 199), "others: {other:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 1);
    let _ = db2.close().await;
    app.finish().await;
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
    let (ok, taken, other) = race(std::slice::from_ref(&app.router), &body, 50).await;
    assert_eq!((ok, taken), (free, 50 - free), "others: {other:?}");
    let distinct = count(&app, "SELECT COUNT(DISTINCT specialist_id) FROM booking").await;
    assert_eq!(distinct as usize, free);
    no_batch_undone();
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

    // A second one, far from the first one's time so the two never overlap; its
    // confirmation token is read from the mail in the outbox, as the resident would.
    let other = &all[all.len() / 2];
    let mut body = request(office, &service, other["start"].as_str().unwrap(), "");
    body.as_object_mut().unwrap().remove("phone");
    body["email"] = json!("petro@example.com");
    body["lang"] = json!("en");
    body["specialist"] = other["specialists"][0].clone();
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let token = confirm_token_of(&app, id).await;
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
        "/api/v1/bookings/{manage_token}/confirm",
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
    // Day labels name the weekday in the page's language.
    let uk_days = ["(Пн)", "(Вт)", "(Ср)", "(Чт)", "(Пт)", "(Сб)", "(Нд)"];
    assert!(uk_days.iter().any(|d| r.body.contains(d)), "{}", r.body);
    for en in ["(Mon)", "(Tue)", "(Wed)", "(Thu)", "(Fri)"] {
        assert!(!r.body.contains(en), "{en} on a Ukrainian page");
    }
    let en = app
        .get_with(
            &format!("/booking/times?service={service}&channel=visit&office={office}"),
            &[("accept", "text/html"), ("accept-language", "en")],
        )
        .await;
    let en_days = [
        "(Mon)", "(Tue)", "(Wed)", "(Thu)", "(Fri)", "(Sat)", "(Sun)",
    ];
    assert!(en_days.iter().any(|d| en.body.contains(d)), "{}", en.body);
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
    let done = r.location().unwrap().to_string();
    assert!(done.starts_with("/booking/manage/"), "{done}");
    assert!(done.ends_with("?done=1"), "{done}");
    let manage = done.trim_end_matches("?done=1").to_string();
    // The done page: the notice and the code for the kiosk.
    let r = app.get_with(&done, &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Вас записано"), "{}", r.body);
    let code = between(&r.body, "class=\"booking-code\">", "<");
    assert_eq!(code.len(), 6, "{code}");
    let r = app.get_with(&manage, &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("підтверджено"), "{}", r.body);
    assert!(!r.body.contains("Вас записано"), "said once: {}", r.body);
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

// ---- mail, confirmation by code, the manage page, limits and caps ----

pub(crate) async fn mails(app: &TestApp, booking_id: i64) -> Vec<mail_outbox::Model> {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::DedupeKey.starts_with(format!("booking:{booking_id}:")))
        .order_by_asc(mail_outbox::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

pub(crate) async fn mail_with_key(app: &TestApp, key: &str) -> mail_outbox::Model {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::DedupeKey.eq(key))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no mail {key}"))
}

pub(crate) async fn attachment_types(app: &TestApp, outbox_id: i32) -> Vec<String> {
    mail_attachment::Entity::find()
        .filter(mail_attachment::Column::OutboxId.eq(outbox_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.content_type)
        .collect()
}

/// The confirmation token in the link of the booking's confirmation mail.
pub(crate) async fn confirm_token_of(app: &TestApp, booking_id: i64) -> String {
    let m = mail_with_key(app, &format!("booking:{booking_id}:confirm")).await;
    let after = m
        .body_text
        .split("/booking/confirm/")
        .nth(1)
        .unwrap_or_else(|| panic!("no link in {}", m.body_text));
    let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64, "{}", m.body_text);
    token
}

/// The six digits at the end of the code line of the confirmation mail.
async fn confirm_code_of(app: &TestApp, booking_id: i64) -> String {
    let m = mail_with_key(app, &format!("booking:{booking_id}:confirm")).await;
    let line = m
        .body_text
        .lines()
        .find(|l| l.contains("confirmation code") || l.contains("код підтвердження"))
        .unwrap_or_else(|| panic!("no code in {}", m.body_text));
    let code = line.rsplit(' ').next().unwrap().trim().to_string();
    assert_eq!(code.len(), 6, "{line}");
    code
}

pub(crate) fn instant(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Free slots starting more than two days from now (their reminder is due later).
pub(crate) fn far(all: &[Value]) -> Vec<Value> {
    let limit = chrono::Utc::now() + chrono::Duration::hours(48);
    all.iter()
        .filter(|s| instant(s["start"].as_str().unwrap()) > limit)
        .cloned()
        .collect()
}

pub(crate) fn email_request(
    office: i64,
    service: &str,
    slot: &Value,
    email: &str,
    lang: &str,
) -> Value {
    json!({"office": office, "service": service, "start": slot["start"], "name": "Olena",
           "email": email, "lang": lang, "specialist": slot["specialists"][0]})
}

async fn mail_follows_the_booking(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = far(&slots(&app, office, &service, None).await);
    assert!(all.len() > 40, "{}", all.len());

    // Phone only: nothing to mail.
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
    let phone_id = r.json()["id"].as_i64().unwrap();
    assert_eq!(mails(&app, phone_id).await.len(), 0);

    // With an email: pending, one confirmation request in English with link and code.
    let slot = &all[20];
    let r = book(
        &app,
        &email_request(office, &service, slot, "Olena@Example.com", "en"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["status"], "pending");
    let id = r.json()["id"].as_i64().unwrap();
    let manage = r.json()["manage_token"].as_str().unwrap().to_string();
    let code = r.json()["code"].as_str().unwrap().to_string();
    let list = mails(&app, id).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let m = &list[0];
    assert_eq!(m.dedupe_key, format!("booking:{id}:confirm"));
    assert_eq!(m.recipient, "Olena@Example.com");
    assert_eq!(m.lang, "en");
    assert!(m.subject.starts_with("Please confirm"), "{}", m.subject);
    assert!(m.body_text.contains(&code), "{}", m.body_text);
    assert!(
        m.body_text
            .contains(&format!("http://127.0.0.1:8080/booking/manage/{manage}")),
        "{}",
        m.body_text
    );
    assert!(attachment_types(&app, m.id).await.is_empty());
    confirm_code_of(&app, id).await;

    // Confirmed through the link: the invite with the calendar file and the reminder.
    let token = confirm_token_of(&app, id).await;
    for _ in 0..2 {
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
    }
    let start = instant(slot["start"].as_str().unwrap());
    let booked = mail_with_key(&app, &format!("booking:{id}:booked")).await;
    assert!(
        booked.subject.starts_with("Your appointment"),
        "{}",
        booked.subject
    );
    assert!(
        booked
            .body_text
            .contains(&format!("/booking/manage/{manage}")),
        "the manage link survives confirmation: {}",
        booked.body_text
    );
    assert_eq!(
        attachment_types(&app, booked.id).await,
        ["text/calendar; charset=utf-8; method=REQUEST"]
    );
    let reminder_key = format!("booking:{id}:reminder:{}", start.timestamp());
    let reminder = mail_with_key(&app, &reminder_key).await;
    assert_eq!(reminder.status, "queued");
    assert_eq!(
        reminder.next_attempt_at,
        start - chrono::Duration::hours(24)
    );
    assert_eq!(
        mails(&app, id).await.len(),
        3,
        "confirming twice mails once"
    );

    // Moved: the old reminder is withdrawn, a notice and a new reminder are queued.
    let target = &all[40];
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/bookings/{manage}/reschedule"),
            &json!({"start": target["start"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let new_start = instant(target["start"].as_str().unwrap());
    let list = mails(&app, id).await;
    let old = list.iter().find(|m| m.id == reminder.id).unwrap();
    assert_eq!(old.status, "withdrawn");
    let moved = mail_with_key(
        &app,
        &format!("booking:{id}:rescheduled:{}", new_start.timestamp()),
    )
    .await;
    assert!(
        moved.subject.starts_with("Appointment moved"),
        "{}",
        moved.subject
    );
    assert_eq!(attachment_types(&app, moved.id).await.len(), 1);
    let new_reminder = mail_with_key(
        &app,
        &format!("booking:{id}:reminder:{}", new_start.timestamp()),
    )
    .await;
    assert_eq!(new_reminder.status, "queued");
    assert_eq!(
        new_reminder.next_attempt_at,
        new_start - chrono::Duration::hours(24)
    );

    // Cancelled: the reminder is withdrawn and the notice removes the calendar event.
    let r = app
        .json(
            Method::DELETE,
            &format!("/api/v1/bookings/{manage}"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cancelled = assert_cancellation_mailed(&app, id).await;
    assert_eq!(cancelled.lang, "en");
    app.finish().await;
}

/// The cancellation notice went out with the calendar file that removes the event, and no
/// reminder is left to send.
pub(crate) async fn assert_cancellation_mailed(app: &TestApp, id: i64) -> mail_outbox::Model {
    let cancelled = mail_with_key(app, &format!("booking:{id}:cancelled")).await;
    assert_eq!(
        attachment_types(app, cancelled.id).await,
        ["text/calendar; charset=utf-8; method=CANCEL"]
    );
    let queued_reminders = mails(app, id)
        .await
        .into_iter()
        .filter(|m| m.dedupe_key.contains(":reminder:") && m.status == "queued")
        .count();
    assert_eq!(queued_reminders, 0);
    cancelled
}

async fn confirm_by_code_on_page_and_api(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;

    // API: a wrong code is 422 on the `code` field, the right one confirms.
    let r = book(
        &app,
        &email_request(office, &service, &all[0], "a@example.com", "uk"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (id, manage) = (
        r.json()["id"].as_i64().unwrap(),
        r.json()["manage_token"].as_str().unwrap().to_string(),
    );
    let code = confirm_code_of(&app, id).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let url = format!("/api/v1/bookings/{manage}/confirm");
    let r = app
        .json(Method::POST, &url, &json!({"code": wrong}), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "code", "{}", r.body);
    let r = app
        .json(Method::POST, &url, &json!({"code": code}), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "confirmed");
    mail_with_key(&app, &format!("booking:{id}:booked")).await;

    // Page: the manage page of a pending booking has the code form.
    let r = book(
        &app,
        &email_request(office, &service, &all[30], "b@example.com", "uk"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (id, manage) = (
        r.json()["id"].as_i64().unwrap(),
        r.json()["manage_token"].as_str().unwrap().to_string(),
    );
    let page = format!("/booking/manage/{manage}");
    let r = app.get_with(&page, &[("accept", "text/html")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("name=\"code\""), "{}", r.body);
    let csrf = r.cookie("cherga_csrf").expect("csrf cookie");
    let cookies = format!("cherga_csrf={csrf}");
    let code = confirm_code_of(&app, id).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let post = format!("{page}/confirm");
    for _ in 0..5 {
        let r = app
            .form(&post, &[("csrf", &csrf), ("code", wrong)], &cookies)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("Перевірте код"), "{}", r.body);
    }
    // Five wrong codes: the code no longer works, only the link does.
    let r = app
        .form(&post, &[("csrf", &csrf), ("code", &code)], &cookies)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Забагато невдалих спроб"), "{}", r.body);
    let r = app.get_with(&page, &[("accept", "text/html")]).await;
    assert!(r.body.contains("очікує підтвердження"), "{}", r.body);
    let token = confirm_token_of(&app, id).await;
    let r = app
        .form(
            &format!("/booking/confirm/{token}"),
            &[("csrf", &csrf)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Запис підтверджено"), "{}", r.body);

    // A third one is confirmed by its code on the page at the first try.
    let r = book(
        &app,
        &email_request(office, &service, &all[60], "c@example.com", "uk"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (id, manage) = (
        r.json()["id"].as_i64().unwrap(),
        r.json()["manage_token"].as_str().unwrap().to_string(),
    );
    let code = confirm_code_of(&app, id).await;
    let r = app
        .form(
            &format!("/booking/manage/{manage}/confirm"),
            &[("csrf", &csrf), ("code", &format!(" {code} "))],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app.get(&format!("/api/v1/bookings/{manage}")).await;
    assert_eq!(r.json()["status"], "confirmed", "{}", r.body);
    app.finish().await;
}

async fn manage_page_reschedules_without_javascript(backend: Backend) {
    let app = spawn(backend).await;
    let html = [("accept", "text/html")];
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    let first = all[0]["start"].as_str().unwrap().to_string();
    let r = book(&app, &request(office, &service, &first, "0671234567")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let manage = r.json()["manage_token"].as_str().unwrap().to_string();
    let page = format!("/booking/manage/{manage}");
    let r = app.get_with(&page, &html).await;
    assert!(
        r.body.contains(&format!("href=\"{page}/reschedule\"")),
        "{}",
        r.body
    );
    assert!(r.body.contains("Перенести на інший час"), "{}", r.body);
    let csrf = r.cookie("cherga_csrf").expect("csrf cookie");
    let cookies = format!("cherga_csrf={csrf}");

    let r = app.get_with(&format!("{page}/reschedule"), &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A whole day later on (today may be nearly over).
    let day = &all[all.len() / 2]["start"].as_str().unwrap()[..10];
    assert!(
        r.body.contains(&format!("reschedule?day={day}")),
        "{}",
        r.body
    );
    let r = app
        .get_with(&format!("{page}/reschedule?day={day}"), &html)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Оберіть новий час"), "{}", r.body);
    assert!(!r.body.contains("<script"), "no JavaScript needed");
    let starts: Vec<String> = r
        .body
        .split("name=\"start\" value=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().replace("&#43;", "+"))
        .collect();
    assert!(starts.len() > 10, "{}", r.body);
    let en = app
        .get_with(
            &format!("{page}/reschedule"),
            &[("accept", "text/html"), ("accept-language", "en")],
        )
        .await;
    assert!(en.body.contains("Choose the new time"), "{}", en.body);

    // Another resident takes one of the offered times (far from this booking's own, which
    // its specialist could move within); moving there is 409 with the times.
    let taken = starts[starts.len() - 1].clone();
    let free = slots(&app, office, &service, None).await;
    let slot = free.iter().find(|s| s["start"] == taken.as_str()).unwrap();
    for spec in slot["specialists"].as_array().unwrap() {
        let mut body = request(office, &service, &taken, "");
        body["phone"] = json!(format!("067{:07}", spec.as_i64().unwrap()));
        body["specialist"] = spec.clone();
        let r = book(&app, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = app
        .form(
            &format!("{page}/reschedule"),
            &[("csrf", &csrf), ("start", &taken)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("щойно зайняли"), "{}", r.body);

    let target = starts[starts.len() / 2].clone();
    let r = app
        .form(
            &format!("{page}/reschedule"),
            &[("csrf", &csrf), ("start", &target)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some(format!("{page}?moved=1").as_str()));
    let r = app.get(&format!("/api/v1/bookings/{manage}")).await;
    assert_eq!(r.json()["start"], target.as_str(), "{}", r.body);
    let r = app.get_with(&format!("{page}?moved=1"), &html).await;
    assert!(r.body.contains("Запис перенесено"), "{}", r.body);
    // Without the CSRF token nothing moves.
    let r = app
        .form(
            &format!("{page}/reschedule"),
            &[("csrf", "x"), ("start", &first)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    app.finish().await;
}

/// A request as if it came from `ip` (the limiter reads the socket's address).
async fn from_ip(
    app: &TestApp,
    ip: &str,
    mut req: axum::http::Request<axum::body::Body>,
) -> crate::support::Reply {
    let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    app.send(req).await
}

async fn page_routes_are_rate_limited_and_record_the_ip(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 1;
        c.booking.availability_rate_per_minute = 2;
    })
    .await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    let ip = "203.0.113.7";
    let times = format!("/booking/times?service={service}&channel=visit&office={office}");
    let get = || {
        axum::http::Request::get(times.as_str())
            .header("accept", "text/html")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    for _ in 0..2 {
        let r = from_ip(&app, ip, get()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = from_ip(&app, ip, get()).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.headers.get("retry-after").is_some());
    // The API shares the budget: this address has used its availability requests.
    let r = from_ip(
        &app,
        ip,
        axum::http::Request::get(format!(
            "/api/v1/offices/{office}/availability?service={service}&from={}&to={}",
            days_ahead(0),
            days_ahead(1)
        ))
        .body(axum::body::Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);

    let r = app
        .get_with(
            &format!(
                "/booking/details?office={office}&service={service}&start={}",
                form_urlencoded::byte_serialize(all[0]["start"].as_str().unwrap().as_bytes())
                    .collect::<String>()
            ),
            &[("accept", "text/html")],
        )
        .await;
    let csrf = r.cookie("cherga_csrf").expect("csrf cookie");
    let post = |start: &str, phone: &str| {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf.as_str()),
                ("office", office.to_string().as_str()),
                ("service", service.as_str()),
                ("start", start),
                ("name", "Олена"),
                ("phone", phone),
            ])
            .finish();
        axum::http::Request::post("/booking/details")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .header("cookie", format!("cherga_csrf={csrf}"))
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let r = from_ip(
        &app,
        ip,
        post(all[0]["start"].as_str().unwrap(), "0671234567"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = from_ip(
        &app,
        ip,
        post(all[30]["start"].as_str().unwrap(), "0677654321"),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM booking WHERE client_ip = '203.0.113.7'"
        )
        .await,
        1,
        "the page records the client's address"
    );
    // Another address is not limited by this one.
    let r = from_ip(&app, "198.51.100.9", get()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.finish().await;
}

/// Visit services the first specialist of the demo office handles.
async fn first_specialists_visit_services(app: &TestApp, office: i64) -> Vec<String> {
    let specs = app
        .get(&format!("/api/v1/offices/{office}/specialists"))
        .await
        .json();
    let services = app.get("/api/v1/services").await.json();
    specs[0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
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
        .collect()
}

async fn caps_hold_under_a_race(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let visit = first_specialists_visit_services(&app, office).await;
    assert!(visit.len() >= 4, "{visit:?}");
    // Four services, three far-apart times each, one phone typed three ways: 12 at once.
    let mut bodies = Vec::new();
    for (i, code) in visit.iter().take(4).enumerate() {
        let s = slots(&app, office, code, None).await;
        for j in 0..3 {
            let phone = ["+38 067 777 00 11", "0677770011", "380677770011"][j];
            let k = (i * 3 + j) * 12;
            bodies.push(request(
                office,
                code,
                s[k]["start"].as_str().unwrap(),
                phone,
            ));
        }
    }
    let mut ok = 0;
    for (status, body) in post_at_once(std::slice::from_ref(&app.router), bodies).await {
        match status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => assert!(
                body.contains("too_many_bookings")
                    || body.contains("already_booked")
                    || body.contains("slot_taken"),
                "{body}"
            ),
            s => panic!("{s}: {body}"),
        }
    }
    let active = count(
        &app,
        "SELECT COUNT(*) FROM booking WHERE phone_norm = '380677770011' AND status IN ('pending', 'confirmed')",
    )
    .await;
    assert_eq!(active, ok, "every 201 is one active booking");
    assert!((1..=3).contains(&ok), "the cap of 3 held: {ok}");
    let per_service = count(
        &app,
        "SELECT COUNT(*) FROM (SELECT service_id FROM booking WHERE phone_norm = '380677770011' \
         AND status IN ('pending', 'confirmed') GROUP BY service_id HAVING COUNT(*) > 1) t",
    )
    .await;
    assert_eq!(per_service, 0, "one booking per service");
    no_batch_undone();
    app.finish().await;
}

async fn caps_by_email_and_by_account(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let visit = first_specialists_visit_services(&app, office).await;
    assert!(visit.len() >= 4, "{visit:?}");
    // By email: pending bookings count too, however the address is typed.
    for (i, code) in visit.iter().take(3).enumerate() {
        let s = slots(&app, office, code, None).await;
        let mut body = request(office, code, s[i * 20]["start"].as_str().unwrap(), "");
        body.as_object_mut().unwrap().remove("phone");
        body["email"] = json!(if i == 1 {
            "Mykola@Example.com"
        } else {
            "mykola@example.com"
        });
        let r = book(&app, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["status"], "pending");
    }
    let s = slots(&app, office, &visit[3], None).await;
    let mut body = request(office, &visit[3], s[70]["start"].as_str().unwrap(), "");
    body.as_object_mut().unwrap().remove("phone");
    body["email"] = json!(" MYKOLA@example.com ");
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "too_many_bookings", "{}", r.body);

    // By account number: a different phone each time, the same account.
    for (i, code) in visit.iter().take(3).enumerate() {
        let s = slots(&app, office, code, None).await;
        let mut body = request(
            office,
            code,
            s[i * 20 + 100]["start"].as_str().unwrap(),
            &format!("06800000{i:02}"),
        );
        body["account"] = json!("1234567890");
        let r = book(&app, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let s = slots(&app, office, &visit[0], None).await;
    let mut body = request(
        office,
        &visit[0],
        s[150]["start"].as_str().unwrap(),
        "0689999999",
    );
    body["account"] = json!("1234567890");
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "already_booked", "{}", r.body);
    let s = slots(&app, office, &visit[3], None).await;
    let mut body = request(
        office,
        &visit[3],
        s[150]["start"].as_str().unwrap(),
        "0689999999",
    );
    body["account"] = json!("1234567890");
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "too_many_bookings", "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 6);
    app.finish().await;
}

async fn cancelled_slot_stays_blocked_during_the_release_delay(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 0;
        c.booking.availability_rate_per_minute = 0;
        c.booking.booking_release_delay_minutes = 30;
    })
    .await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    let spec = all[5]["specialists"][0].as_i64().unwrap();
    let start = all[5]["start"].as_str().unwrap().to_string();
    let mut body = request(office, &service, &start, "0671234567");
    body["specialist"] = json!(spec);
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let manage = r.json()["manage_token"].as_str().unwrap().to_string();
    let r = app
        .json(
            Method::DELETE,
            &format!("/api/v1/bookings/{manage}"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "cancelled");
    // Still blocked: not offered, and booking it loses.
    let mine = slots(&app, office, &service, Some(spec)).await;
    assert!(
        !mine.iter().any(|s| s["start"] == start.as_str()),
        "still held"
    );
    let mut other = body.clone();
    other["phone"] = json!("0670000002");
    let r = book(&app, &other).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "slot_taken", "{}", r.body);
    // Once the delay has passed the worker returns it.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "UPDATE booking SET release_at = '2000-01-01 00:00:00+00:00' WHERE status = 'cancelled'",
        )
        .await
        .unwrap();
    cherga::holds::run_once(&app.db).await.unwrap();
    let mine = slots(&app, office, &service, Some(spec)).await;
    assert!(
        mine.iter().any(|s| s["start"] == start.as_str()),
        "released"
    );
    let r = book(&app, &other).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.finish().await;
}

async fn reschedule_to_a_taken_time_is_409(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    let first = all[0]["start"].as_str().unwrap().to_string();
    let r = book(&app, &request(office, &service, &first, "0671234567")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let manage = r.json()["manage_token"].as_str().unwrap().to_string();
    // Every specialist free at the target time gets booked by someone else.
    let target = &all[20];
    for spec in target["specialists"].as_array().unwrap() {
        let mut body = request(
            office,
            &service,
            target["start"].as_str().unwrap(),
            &format!("066{:07}", spec.as_i64().unwrap()),
        );
        body["specialist"] = spec.clone();
        let r = book(&app, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/bookings/{manage}/reschedule"),
            &json!({"start": target["start"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "slot_taken", "{}", r.body);
    assert!(
        !r.json()["next"].as_array().unwrap().is_empty(),
        "{}",
        r.body
    );
    // The booking keeps its time and its minutes.
    let r = app.get(&format!("/api/v1/bookings/{manage}")).await;
    assert_eq!(r.json()["start"], first.as_str(), "{}", r.body);
    assert_eq!(r.json()["status"], "confirmed");
    let mine = slots(&app, office, &service, r.json()["specialist"].as_i64()).await;
    assert!(
        !mine.iter().any(|s| s["start"] == first.as_str()),
        "still held"
    );
    app.finish().await;
}

async fn website_only_service_offers_no_booking(backend: Backend) {
    let app = spawn(backend).await;
    let bearer = app.admin_bearer().await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = slots(&app, office, &service, None).await;
    let r = app
        .json(
            Method::PATCH,
            &format!("/api/v1/services/{service}"),
            &json!({"channels": ["website"]}),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let html = [("accept", "text/html")];
    // The list says it is answered online and where, with no booking link for it.
    let r = app.get_with("/booking/", &html).await;
    assert!(
        !r.body
            .contains(&format!("service={service}&amp;channel=visit")),
        "{}",
        r.body
    );
    assert!(r.body.contains("Цю послугу отримують онлайн"), "{}", r.body);
    // Its booking page says where to read the answer and offers no office or time.
    let r = app
        .get_with(
            &format!("/booking/times?service={service}&channel=visit"),
            &html,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Цю послугу отримують онлайн"), "{}", r.body);
    assert!(r.body.contains("Відкрити відповідь онлайн"), "{}", r.body);
    assert!(!r.body.contains("/booking/details"), "{}", r.body);
    assert!(!r.body.contains("Оберіть центр"), "{}", r.body);
    // The API refuses it.
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
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM booking").await, 0);
    app.finish().await;
}
