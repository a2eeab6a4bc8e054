//! Booking admin pages: offices, closed days, specialists, weekly schedules and exceptions,
//! edited through the forms and seen at once in availability.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::on_both_databases;
use crate::support::{ADMIN_PASSWORD, Backend, Reply, TestApp, count, csrf_of};

on_both_databases!(
    admin_builds_an_office_whose_slots_show,
    bad_input_is_422_and_writes_nothing,
    only_admins_edit_offices,
    changes_that_strand_bookings_ask_first_and_keep_them,
    desks_and_closed_days_are_checked,
    one_desk_one_active_specialist_even_at_once,
);

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 0;
        c.booking.availability_rate_per_minute = 0;
    })
    .await
}

fn days_ahead(n: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(n))
        .format("%Y-%m-%d")
        .to_string()
}

async fn page(app: &TestApp, path: &str, cookies: &str) -> Reply {
    app.get_with(path, &[("accept", "text/html"), ("cookie", cookies)])
        .await
}

/// The id at the end of a `…/{id}?saved=1` redirect.
fn saved_id(r: &Reply) -> i64 {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let loc = r.location().expect("location");
    let path = loc.strip_suffix("?saved=1").expect("saved notice");
    path.rsplit('/').next().unwrap().parse().expect("id")
}

fn office_form<'a>(csrf: &'a str, code: &'a str, timezone: &'a str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("csrf", csrf),
        ("code", code),
        ("name", "Західний центр"),
        ("name_en", "West office"),
        ("address", "вул. Тестова, 1"),
        ("address_en", "1 Test St"),
        ("kind", "office"),
        ("timezone", timezone),
        ("slot_minutes", "15"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for d in 0..7 {
        f.push((format!("opens_{d}"), "09:00".into()));
        f.push((format!("closes_{d}"), "17:00".into()));
    }
    f
}

async fn post(app: &TestApp, path: &str, fields: &[(String, String)], cookies: &str) -> Reply {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.form(path, &pairs, cookies).await
}

fn week_form(csrf: &str, breaks: &str) -> Vec<(String, String)> {
    let mut f = vec![("csrf".to_string(), csrf.to_string())];
    for d in 0..7 {
        f.push((format!("starts_{d}"), "09:00".into()));
        f.push((format!("ends_{d}"), "17:00".into()));
        f.push((format!("breaks_{d}"), breaks.into()));
        f.push((format!("walk_in_{d}"), "16:00-17:00".into()));
    }
    f
}

/// A visit service of the catalog.
async fn visit_service(app: &TestApp) -> String {
    let services = app.get("/api/v1/services").await.json();
    services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["channels"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "visit")
        })
        .expect("a visit service")["code"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn starts(app: &TestApp, office: i64, service: &str, from: &str, to: &str) -> Vec<String> {
    let r = app
        .get(&format!(
            "/api/v1/offices/{office}/availability?service={service}&from={from}&to={to}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect()
}

async fn admin_builds_an_office_whose_slots_show(backend: Backend) {
    let app = spawn(backend).await;
    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let service = visit_service(&app).await;

    let r = post(
        &app,
        "/admin/offices",
        &office_form(&csrf, "west-9", "Europe/Kyiv"),
        &cookies,
    )
    .await;
    let office = saved_id(&r);
    let r = page(&app, &format!("/admin/offices/{office}?saved=1"), &cookies).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("value=\"west-9\""), "{}", r.body);
    let r = app.get("/api/v1/offices").await;
    assert!(r.body.contains("\"west-9\""), "{}", r.body);

    let skill = format!("skill_{service}");
    let spec_form: Vec<(String, String)> = [
        ("csrf", csrf.as_str()),
        ("name", "Оксана Тестова"),
        ("window_label", "W-9"),
        ("active", "on"),
        (skill.as_str(), "on"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = post(
        &app,
        &format!("/admin/offices/{office}/specialists"),
        &spec_form,
        &cookies,
    )
    .await;
    let spec = saved_id(&r);
    let base = format!("/admin/offices/{office}/specialists/{spec}");

    // No schedule yet: nothing to book.
    let (d1, d7) = (days_ahead(1), days_ahead(7));
    assert!(starts(&app, office, &service, &d1, &d7).await.is_empty());

    let r = post(
        &app,
        &format!("{base}/week"),
        &week_form(&csrf, "12:00-12:30, 12:30-13:00"),
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM schedule_break WHERE specialist_id = {spec}")
        )
        .await,
        14
    );
    let r = page(&app, &base, &cookies).await;
    assert!(
        r.body.contains("value=\"12:00-12:30, 12:30-13:00\""),
        "{}",
        r.body
    );

    // Slots show at once, from opening on the grid, never in a break or the walk-in hour.
    let all = starts(&app, office, &service, &d1, &d7).await;
    assert!(!all.is_empty());
    for s in &all {
        let hh = &s[11..13];
        assert!(
            hh != "12" && hh != "16" && ("09".."17").contains(&hh),
            "{s}"
        );
        assert!(["00", "15", "30", "45"].contains(&&s[14..16]), "{s}");
    }
    assert!(all.iter().any(|s| &s[11..16] == "09:00"), "{all:?}");

    // Leave on day 3 removes that day; other days stay.
    let d3 = days_ahead(3);
    assert!(!starts(&app, office, &service, &d3, &d3).await.is_empty());
    let r = app
        .form(
            &format!("{base}/exceptions"),
            &[("csrf", &csrf), ("from", &d3), ("kind", "leave")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(starts(&app, office, &service, &d3, &d3).await.is_empty());
    let d4 = days_ahead(4);
    assert!(!starts(&app, office, &service, &d4, &d4).await.is_empty());

    // A holiday closes day 4; removing it opens the day again.
    let r = app
        .form(
            &format!("/admin/offices/{office}/closures"),
            &[
                ("csrf", &csrf),
                ("day", &d4),
                ("reason", "Свято"),
                ("reason_en", "Holiday"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(starts(&app, office, &service, &d4, &d4).await.is_empty());
    let closure = count(
        &app,
        &format!("SELECT CAST(id AS BIGINT) FROM office_closure WHERE office_id = {office}"),
    )
    .await;
    let remove = format!("/admin/offices/{office}/closures/{closure}/delete");
    let page = app
        .get_with(&format!("/admin/offices/{office}"), &[("cookie", &cookies)])
        .await;
    assert!(
        page.body.contains(&format!("action=\"{remove}\"")),
        "the page offers the removal: {}",
        page.body
    );
    let r = app.form(&remove, &[("csrf", &csrf)], &cookies).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!starts(&app, office, &service, &d4, &d4).await.is_empty());

    // Closing the office on Mondays..Sundays (hours emptied) leaves nothing.
    let mut form = office_form(&csrf, "west-9", "Europe/Kyiv");
    for (k, v) in form.iter_mut() {
        if k.starts_with("opens_") || k.starts_with("closes_") {
            v.clear();
        }
    }
    let r = post(&app, &format!("/admin/offices/{office}"), &form, &cookies).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(starts(&app, office, &service, &d1, &d7).await.is_empty());
    app.finish().await;
}

async fn bad_input_is_422_and_writes_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let offices = count(&app, "SELECT COUNT(*) FROM office").await;
    let hours = count(&app, "SELECT COUNT(*) FROM office_hours").await;

    let mut form = office_form(&csrf, "west-9", "Mars/Olympus");
    form.push(("opens_0".into(), "18:00".into()));
    form.retain(|(k, v)| !(k == "opens_0" && v == "09:00"));
    let r = post(&app, "/admin/offices", &form, &cookies).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Невідомий часовий пояс «Mars/Olympus»"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("час закінчення 17:00 має бути пізніше за початок 18:00"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"Mars/Olympus\""), "{}", r.body);
    let r = post(
        &app,
        "/admin/offices",
        &form,
        &format!("{cookies}; cherga_lang=en"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Unknown time zone &#34;Mars/Olympus&#34;")
            || r.body
                .contains("Unknown time zone &quot;Mars/Olympus&quot;"),
        "{}",
        r.body
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM office").await, offices);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM office_hours").await,
        hours
    );

    // A code another office has is a 409, nothing written.
    let demo_code: String = {
        let r = app.get("/api/v1/offices").await.json();
        r[0]["code"].as_str().unwrap().to_string()
    };
    let r = post(
        &app,
        "/admin/offices",
        &office_form(&csrf, &demo_code, "Europe/Kyiv"),
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("уже має інший центр"), "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM office").await, offices);

    // Overlapping breaks: 422, the stored week untouched.
    let office = count(
        &app,
        "SELECT CAST(MIN(office_id) AS BIGINT) FROM specialist",
    )
    .await;
    let spec = count(
        &app,
        &format!("SELECT CAST(MIN(id) AS BIGINT) FROM specialist WHERE office_id = {office}"),
    )
    .await;
    let week_sql = format!(
        "SELECT COUNT(*) FROM work_schedule WHERE specialist_id = {spec} AND starts = '09:00'"
    );
    let before = count(&app, &week_sql).await;
    let walk_ins = count(&app, "SELECT COUNT(*) FROM walk_in_period").await;
    let r = post(
        &app,
        &format!("/admin/offices/{office}/specialists/{spec}/week"),
        &week_form(&csrf, "12:00-12:45, 12:30-13:00"),
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("перерви перекриваються"), "{}", r.body);
    assert!(
        r.body.contains("value=\"12:00-12:45, 12:30-13:00\""),
        "{}",
        r.body
    );
    assert_eq!(count(&app, &week_sql).await, before);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM schedule_break").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM walk_in_period").await,
        walk_ins
    );

    // An extra shift without hours, and a skill the catalog does not have.
    let exceptions = count(&app, "SELECT COUNT(*) FROM specialist_exception").await;
    let r = app
        .form(
            &format!("/admin/offices/{office}/specialists/{spec}/exceptions"),
            &[("csrf", &csrf), ("from", &days_ahead(2)), ("kind", "extra")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Для додаткової зміни вкажіть її години."),
        "{}",
        r.body
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM specialist_exception").await,
        exceptions
    );
    let r = app
        .form(
            &format!("/admin/offices/{office}/specialists/{spec}"),
            &[
                ("csrf", &csrf),
                ("name", "Хтось"),
                ("window_label", "1"),
                ("skill_no-such-service", "on"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("no-such-service"), "{}", r.body);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM specialist WHERE name = 'Хтось'").await,
        0
    );
    app.finish().await;
}

async fn only_admins_edit_offices(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin_bearer().await;
    for (user, role) in [("sup.one", "supervisor"), ("spec.one", "specialist")] {
        let r = app
            .json(
                Method::POST,
                "/api/v1/staff-users",
                &json!({"username": user, "display_name": user, "role": role, "password": "long-enough-password"}),
                &[("authorization", &admin)],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let office = count(&app, "SELECT CAST(MIN(id) AS BIGINT) FROM office").await;
    let closures = count(&app, "SELECT COUNT(*) FROM office_closure").await;
    let offices = count(&app, "SELECT COUNT(*) FROM office").await;

    // Not signed in: to the sign-in page.
    let r = app
        .get_with("/admin/offices", &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // A specialist may neither look nor edit.
    let cookies = app
        .browser_sign_in("spec.one", "long-enough-password")
        .await;
    let csrf = csrf_of(&cookies);
    let r = page(&app, "/admin/offices", &cookies).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = post(
        &app,
        "/admin/offices",
        &office_form(&csrf, "west-9", "Europe/Kyiv"),
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // The staff navigation leads supervisors and admins to the offices, not specialists.
    let r = page(&app, "/booking/staff", &cookies).await;
    assert!(
        !r.body.contains("<a href=\"/admin/offices\">"),
        "{}",
        r.body
    );

    // A supervisor may look, read-only, but not edit.
    let cookies = app.browser_sign_in("sup.one", "long-enough-password").await;
    let csrf = csrf_of(&cookies);
    let r = page(&app, "/booking/staff", &cookies).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("<a href=\"/admin/offices\">Центри</a>"),
        "{}",
        r.body
    );
    let r = page(
        &app,
        "/booking/staff",
        &format!("{cookies}; cherga_lang=en"),
    )
    .await;
    assert!(
        r.body.contains("<a href=\"/admin/offices\">Offices</a>"),
        "{}",
        r.body
    );
    let r = page(&app, "/admin/offices", &cookies).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("/admin/offices/new"), "{}", r.body);
    let r = page(&app, &format!("/admin/offices/{office}"), &cookies).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("disabled"), "{}", r.body);
    assert!(
        !r.body.contains("/active\""),
        "no retire button: {}",
        r.body
    );
    let r = post(
        &app,
        &format!("/admin/offices/{office}"),
        &office_form(&csrf, "west-9", "Europe/Kyiv"),
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .form(
            &format!("/admin/offices/{office}/closures"),
            &[("csrf", &csrf), ("day", &days_ahead(5))],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM office").await, offices);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM office_closure").await,
        closures
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM office WHERE code = 'west-9'").await,
        0
    );
    app.finish().await;
}

/// The booking ids a warning asks to confirm (the hidden `ack` of the warned form).
fn ack_of(r: &Reply) -> String {
    let at = r
        .body
        .find("name=\"ack\" value=\"")
        .unwrap_or_else(|| panic!("no ack in {}", r.body));
    let rest = &r.body[at + "name=\"ack\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn with(mut form: Vec<(String, String)>, k: &str, v: &str) -> Vec<(String, String)> {
    form.push((k.to_string(), v.to_string()));
    form
}

/// An office open 09:00–17:00 every day with one specialist working the same hours (break
/// 12:00–12:30, walk-ins 16:00–17:00): (office, specialist, service).
async fn office_with_specialist(app: &TestApp, cookies: &str, code: &str) -> (i64, i64, String) {
    let csrf = csrf_of(cookies);
    let service = visit_service(app).await;
    let r = post(
        app,
        "/admin/offices",
        &office_form(&csrf, code, "Europe/Kyiv"),
        cookies,
    )
    .await;
    let office = saved_id(&r);
    let skill = format!("skill_{service}");
    let spec_form: Vec<(String, String)> = [
        ("csrf", csrf.as_str()),
        ("name", "Оксана Тестова"),
        ("window_label", "W-9"),
        ("active", "on"),
        (skill.as_str(), "on"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = post(
        app,
        &format!("/admin/offices/{office}/specialists"),
        &spec_form,
        cookies,
    )
    .await;
    let spec = saved_id(&r);
    let r = post(
        app,
        &format!("/admin/offices/{office}/specialists/{spec}/week"),
        &week_form(&csrf, "12:00-12:30"),
        cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (office, spec, service)
}

async fn changes_that_strand_bookings_ask_first_and_keep_them(backend: Backend) {
    let app = spawn(backend).await;
    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let (office, spec, service) = office_with_specialist(&app, &cookies, "west-9").await;
    let base = format!("/admin/offices/{office}/specialists/{spec}");

    // A resident books the first time on day 2: 09:00 local.
    let d2 = days_ahead(2);
    let first = starts(&app, office, &service, &d2, &d2).await[0].clone();
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings",
            &json!({"office": office, "service": service, "start": first, "name": "Олена Тест",
                    "phone": "067 123 45 67", "specialist": spec}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let booking = r.json();
    let code = booking["code"].as_str().unwrap().to_string();
    let id = booking["id"].as_i64().unwrap_or_else(|| {
        panic!("no id in {booking}");
    });
    let status_sql =
        format!("SELECT COUNT(*) FROM booking WHERE id = {id} AND status = 'confirmed'");
    assert_eq!(count(&app, &status_sql).await, 1);
    let shows_booking = |r: &Reply| {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains(&code), "{}", r.body);
        assert!(r.body.contains("Олена Тест"), "{}", r.body);
        assert!(r.body.contains(&d2), "{}", r.body);
        assert!(r.body.contains("09:00–"), "{}", r.body);
        assert!(
            r.body
                .contains(&format!("/booking/staff?office={office}&amp;date={d2}"))
                || r.body
                    .contains(&format!("/booking/staff?office={office}&#38;date={d2}")),
            "{}",
            r.body
        );
        assert!(r.body.contains("ці записи залишаться як є"), "{}", r.body);
        assert_eq!(ack_of(r), id.to_string());
    };

    // A closed day on it: the warning, nothing written.
    let closures = count(&app, "SELECT COUNT(*) FROM office_closure").await;
    let r = app
        .form(
            &format!("/admin/offices/{office}/closures"),
            &[("csrf", &csrf), ("day", &d2), ("reason", "Свято")],
            &cookies,
        )
        .await;
    shows_booking(&r);
    assert!(
        r.body.contains("На цей вихідний день уже є записи"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Усе одно зберегти"), "{}", r.body);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM office_closure").await,
        closures
    );

    // A sick day on it, in English: the warning, nothing written.
    let exceptions = count(&app, "SELECT COUNT(*) FROM specialist_exception").await;
    let r = app
        .form(
            &format!("{base}/exceptions"),
            &[("csrf", &csrf), ("from", &d2), ("kind", "sick")],
            &format!("{cookies}; cherga_lang=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains(&code), "{}", r.body);
    assert!(
        r.body.contains("these bookings stay as they are"),
        "{}",
        r.body
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM specialist_exception").await,
        exceptions
    );

    // The office opening at 10:00: the warning, the hours untouched.
    let opens_nine =
        format!("SELECT COUNT(*) FROM office_hours WHERE office_id = {office} AND opens = '09:00'");
    let mut later = office_form(&csrf, "west-9", "Europe/Kyiv");
    for (k, v) in later.iter_mut() {
        if k.starts_with("opens_") {
            *v = "10:00".into();
        }
    }
    let r = post(&app, &format!("/admin/offices/{office}"), &later, &cookies).await;
    shows_booking(&r);
    assert!(
        r.body.contains("value=\"10:00\""),
        "the sent hours come back: {}",
        r.body
    );
    assert_eq!(count(&app, &opens_nine).await, 7);

    // The specialist starting at 10:00: warned; a confirmation naming other bookings is not
    // one; the right one saves, and the booking stays as it was.
    let mut week = week_form(&csrf, "12:00-12:30");
    for (k, v) in week.iter_mut() {
        if k.starts_with("starts_") {
            *v = "10:00".into();
        }
    }
    let starts_ten = format!(
        "SELECT COUNT(*) FROM work_schedule WHERE specialist_id = {spec} AND starts = '10:00'"
    );
    let r = post(&app, &format!("{base}/week"), &week, &cookies).await;
    shows_booking(&r);
    assert!(r.body.contains("Новий графік залишає"), "{}", r.body);
    assert_eq!(count(&app, &starts_ten).await, 0);
    let r = post(
        &app,
        &format!("{base}/week"),
        &with(week.clone(), "ack", "999999"),
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(count(&app, &starts_ten).await, 0);
    let r = post(
        &app,
        &format!("{base}/week"),
        &with(week, "ack", &id.to_string()),
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location().unwrap().to_string();
    assert!(to.ends_with("?saved=1&kept=1"), "{to}");
    assert_eq!(count(&app, &starts_ten).await, 7);
    assert_eq!(count(&app, &status_sql).await, 1, "the booking stays");
    let r = page(&app, &to, &cookies).await;
    assert!(
        r.body
            .contains("Записи, яких це стосується (1), залишилися як є"),
        "{}",
        r.body
    );

    // Taking the booked service off the specialist's skills: warned, skills untouched.
    let skills_sql = format!("SELECT COUNT(*) FROM specialist_skill WHERE specialist_id = {spec}");
    let r = app
        .form(
            &base,
            &[
                ("csrf", &csrf),
                ("name", "Оксана Тестова"),
                ("window_label", "W-9"),
            ],
            &cookies,
        )
        .await;
    shows_booking(&r);
    assert!(
        r.body.contains("які ви знімаєте з його навичок"),
        "{}",
        r.body
    );
    assert_eq!(count(&app, &skills_sql).await, 1);

    // Retiring the specialist lists the booking first; confirmed, they are not offered any more.
    let active_sql = format!("SELECT COUNT(*) FROM specialist WHERE id = {spec} AND active");
    let r = app
        .form(
            &format!("{base}/active"),
            &[("csrf", &csrf), ("active", "0")],
            &cookies,
        )
        .await;
    shows_booking(&r);
    assert!(r.body.contains("Усе одно вивести з роботи"), "{}", r.body);
    assert_eq!(count(&app, &active_sql).await, 1);
    let r = app
        .form(
            &format!("{base}/active"),
            &[("csrf", &csrf), ("active", "0"), ("ack", &id.to_string())],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(&app, &active_sql).await, 0);
    assert_eq!(count(&app, &status_sql).await, 1, "the booking stays");
    let (d1, d7) = (days_ahead(1), days_ahead(7));
    assert!(starts(&app, office, &service, &d1, &d7).await.is_empty());
    let r = page(&app, &base, &cookies).await;
    assert!(r.body.contains("Повернути до роботи"), "{}", r.body);

    // The office closes: its bookings are listed first; then residents no longer see it.
    let office_active = format!("SELECT COUNT(*) FROM office WHERE id = {office} AND active");
    let r = app
        .form(
            &format!("/admin/offices/{office}/active"),
            &[("csrf", &csrf), ("active", "0")],
            &cookies,
        )
        .await;
    shows_booking(&r);
    let r = app
        .form(
            &format!("/admin/offices/{office}/active"),
            &[("csrf", &csrf), ("active", "0"), ("ack", &id.to_string())],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(&app, &office_active).await, 0);
    assert!(!app.get("/api/v1/offices").await.body.contains("\"west-9\""));
    let r = page(&app, "/admin/offices", &cookies).await;
    assert!(r.body.contains("Виведено з роботи"), "{}", r.body);
    assert_eq!(count(&app, &status_sql).await, 1, "the booking stays");

    // A specialist of a closed office cannot come back before it reopens.
    let r = app
        .form(
            &format!("{base}/active"),
            &[("csrf", &csrf), ("active", "1")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Центр закрито"), "{}", r.body);
    assert_eq!(count(&app, &active_sql).await, 0);
    for path in [
        format!("/admin/offices/{office}/active"),
        format!("{base}/active"),
    ] {
        let r = app
            .form(&path, &[("csrf", &csrf), ("active", "1")], &cookies)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    assert_eq!(count(&app, &office_active).await, 1);
    assert_eq!(count(&app, &active_sql).await, 1);
    assert!(app.get("/api/v1/offices").await.body.contains("\"west-9\""));
    app.finish().await;
}

async fn desks_and_closed_days_are_checked(backend: Backend) {
    let app = spawn(backend).await;
    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let (office, spec, _) = office_with_specialist(&app, &cookies, "west-9").await;
    let specialists = count(&app, "SELECT COUNT(*) FROM specialist").await;

    // A desk another active specialist of the office has: 409, nothing written.
    let r = app
        .form(
            &format!("/admin/offices/{office}/specialists"),
            &[
                ("csrf", &csrf),
                ("name", "Друга"),
                ("window_label", "W-9"),
                ("active", "on"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("Вікно «W-9» уже закріплене за спеціалістом Оксана Тестова"),
        "{}",
        r.body
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM specialist").await,
        specialists
    );
    let r = app
        .form(
            &format!("/admin/offices/{office}/specialists"),
            &[
                ("csrf", &csrf),
                ("name", "Друга"),
                ("window_label", "W-10"),
                ("active", "on"),
            ],
            &cookies,
        )
        .await;
    let second = saved_id(&r);
    let r = app
        .form(
            &format!("/admin/offices/{office}/specialists/{second}"),
            &[("csrf", &csrf), ("name", "Друга"), ("window_label", "W-9")],
            &format!("{cookies}; cherga_lang=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("already belongs to Оксана Тестова"),
        "{}",
        r.body
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM specialist WHERE id = {second} AND window_label = 'W-10'"
            )
        )
        .await,
        1
    );

    // A break outside working hours: 422, the stored week untouched.
    let mut week = week_form(&csrf, "17:00-17:30");
    week.retain(|(k, _)| !k.starts_with("walk_in_"));
    let breaks = count(
        &app,
        &format!("SELECT COUNT(*) FROM schedule_break WHERE specialist_id = {spec}"),
    )
    .await;
    let r = post(
        &app,
        &format!("/admin/offices/{office}/specialists/{spec}/week"),
        &week,
        &cookies,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("перерви мають бути в межах робочого часу"),
        "{}",
        r.body
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM schedule_break WHERE specialist_id = {spec} AND starts = '12:00'")).await,
        breaks
    );

    // A closed day in the past: 422; twice the same day: 409, one row.
    let closure_sql = format!("SELECT COUNT(*) FROM office_closure WHERE office_id = {office}");
    let r = app
        .form(
            &format!("/admin/offices/{office}/closures"),
            &[("csrf", &csrf), ("day", &days_ahead(-3))],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("уже минув"), "{}", r.body);
    assert_eq!(count(&app, &closure_sql).await, 0);
    let d5 = days_ahead(5);
    for expected in [StatusCode::SEE_OTHER, StatusCode::CONFLICT] {
        let r = app
            .form(
                &format!("/admin/offices/{office}/closures"),
                &[("csrf", &csrf), ("day", &d5), ("reason", "Свято")],
                &cookies,
            )
            .await;
        assert_eq!(r.status, expected, "{}", r.body);
    }
    assert_eq!(count(&app, &closure_sql).await, 1);

    // An office with working specialists cannot be closed: 409 naming them.
    let r = app
        .form(
            &format!("/admin/offices/{office}/active"),
            &[("csrf", &csrf), ("active", "0")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Оксана Тестова, Друга"), "{}", r.body);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM office WHERE id = {office} AND active")
        )
        .await,
        1
    );
    app.finish().await;
}

/// Eight admins give eight new specialists one desk at the same moment: the database keeps one
/// (a partial unique index, so PostgreSQL's concurrent saves cannot both pass the check), the
/// others get the desk's 409, and a retired specialist may keep the label.
async fn one_desk_one_active_specialist_even_at_once(backend: Backend) {
    use cherga::domain::booking::edit::SpecialistChange;
    use cherga::error::AppError;
    let app = TestApp::spawn(backend).await;
    let office = count(&app, "SELECT CAST(MIN(id) AS BIGINT) FROM office").await as i32;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = app.db.clone();
        tasks.push(tokio::spawn(async move {
            let change = SpecialistChange {
                name: format!("Спеціаліст {i}"),
                window_label: "RACE-1".into(),
                active: true,
                skills: Vec::new(),
            };
            cherga::store::offices::create_specialist(&db, office, &change).await
        }));
    }
    let (mut made, mut refused) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(id) => made.push(id),
            Err(AppError::Conflict(text)) => {
                assert!(
                    text.en.contains("Desk \"RACE-1\" already belongs to"),
                    "{}",
                    text.en
                );
                refused += 1;
            }
            Err(e) => panic!("neither made nor refused: {e:?}"),
        }
    }
    assert_eq!((made.len(), refused), (1, 7));
    let active = "SELECT COUNT(*) FROM specialist WHERE window_label = 'RACE-1' AND active";
    assert_eq!(count(&app, active).await, 1);
    // Retired, the first keeps the label and a new specialist may take the desk.
    cherga::store::offices::set_specialist_active(
        &app.db,
        office,
        made[0],
        false,
        &Default::default(),
    )
    .await
    .unwrap();
    let change = SpecialistChange {
        name: "Наступник".into(),
        window_label: "RACE-1".into(),
        active: true,
        skills: Vec::new(),
    };
    cherga::store::offices::create_specialist(&app.db, office, &change)
        .await
        .unwrap();
    let all = "SELECT COUNT(*) FROM specialist WHERE window_label = 'RACE-1'";
    assert_eq!(count(&app, all).await, 2);
    app.finish().await;
}
