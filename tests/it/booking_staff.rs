//! Staff move and cancel a resident's booking from the day's list (a specialist off sick, a
//! schedule change that left bookings outside bookable time); the resident is told by mail,
//! and their own manage link keeps working.

use axum::http::{Method, StatusCode};

use crate::booking::{
    assert_cancellation_mailed, attachment_types, book, confirm_token_of, email_request, far,
    instant, mail_with_key, office_id, slots, spawn, visit_service,
};
use crate::on_both_databases;
use crate::support::{ADMIN_PASSWORD, Backend, Reply, TestApp, csrf_of};

on_both_databases!(staff_move_and_cancel_a_booking_and_the_resident_is_told,);

async fn cancel(app: &TestApp, id: i64, csrf: &str, cookies: &str) -> Reply {
    app.form(
        &format!("/booking/staff/{id}/cancel"),
        &[("csrf", csrf)],
        cookies,
    )
    .await
}

async fn staff_move_and_cancel_a_booking_and_the_resident_is_told(backend: Backend) {
    let app = spawn(backend).await;
    let office = office_id(&app, "office").await;
    let service = visit_service(&app, office, 1).await;
    let all = far(&slots(&app, office, &service, None).await);
    assert!(all.len() > 40, "{}", all.len());
    let mut body = email_request(office, &service, &all[0], "olena@example.com", "uk");
    body["phone"] = "0671234567".into();
    let r = book(&app, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let manage = r.json()["manage_token"].as_str().unwrap().to_string();
    assert_eq!(r.json()["status"], "pending");
    // Confirmed by the resident, so the changes below are mailed with calendar updates.
    let token = confirm_token_of(&app, id).await;
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings/confirm",
            &serde_json::json!({"token": token}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Not signed in: staff's actions are refused and change nothing.
    let r = cancel(&app, id, "x", "").await;
    assert!(
        !r.status.is_success() && r.location() != Some("/booking/staff"),
        "{}: {}",
        r.status,
        r.body
    );
    let r = app.get(&format!("/booking/staff/{id}/reschedule")).await;
    assert!(!r.status.is_success(), "{}", r.status);

    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let csrf = csrf_of(&cookies);
    let day = &all[0]["start"].as_str().unwrap()[..10];
    let list = app
        .get_with(
            &format!("/booking/staff?office={office}&date={day}"),
            &[("cookie", &cookies)],
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(
        list.body
            .contains(&format!("/booking/staff/{id}/reschedule")),
        "{}",
        list.body
    );
    assert!(list.body.contains(&format!("/booking/staff/{id}/cancel")));

    // Move: staff's page offers the free times under staff's path.
    let target = &all[30];
    let target_start = target["start"].as_str().unwrap();
    let target_day = &target_start[..10];
    let page = app
        .get_with(
            &format!("/booking/staff/{id}/reschedule?day={target_day}"),
            &[("cookie", &cookies)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("action=\"/booking/staff/{id}/reschedule\"")),
        "{}",
        page.body
    );
    let r = app
        .form(
            &format!("/booking/staff/{id}/reschedule"),
            &[("csrf", &csrf), ("start", target_start)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        Some(format!("/booking/staff?office={office}&date={target_day}").as_str())
    );
    let new_start = instant(target_start);
    let moved = mail_with_key(
        &app,
        &format!("booking:{id}:rescheduled:{}", new_start.timestamp()),
    )
    .await;
    assert_eq!(moved.recipient, "olena@example.com");
    assert!(
        !moved.body_text.contains("/booking/manage/"),
        "staff never hold the manage link: {}",
        moved.body_text
    );
    assert_eq!(
        attachment_types(&app, moved.id).await,
        ["text/calendar; charset=utf-8; method=REQUEST"]
    );
    // The resident's own link shows the new time.
    let r = app.get(&format!("/api/v1/bookings/{manage}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(instant(r.json()["start"].as_str().unwrap()), new_start);

    // Cancel: back to the day's list, the resident gets the calendar cancellation.
    let r = cancel(&app, id, &csrf, &cookies).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        Some(format!("/booking/staff?office={office}&date={target_day}").as_str())
    );
    let cancelled = assert_cancellation_mailed(&app, id).await;
    assert_eq!(cancelled.recipient, "olena@example.com");
    let r = app.get(&format!("/api/v1/bookings/{manage}")).await;
    assert_eq!(r.json()["status"], "cancelled", "{}", r.body);
    // Twice: the booking is no longer active, said in the staff member's language.
    let r = cancel(&app, id, &csrf, &cookies).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // An unknown booking is 404, not a 500.
    let r = cancel(&app, 999_999, &csrf, &cookies).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    app.finish().await;
}
