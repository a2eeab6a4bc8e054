//! One visit as one story, through the public and staff APIs only: booked online with a personal
//! account → checked in with the booking code → called at a desk → served in a case on that
//! account → its document printed and verifiable → finished, the booking done; on SQLite and
//! PostgreSQL.

use axum::http::StatusCode;
use serde_json::{Value, json};

use cherga::domain::staff::Role;

use crate::case::{get, operate, post, staff_bearer};
use crate::on_both_databases;
use crate::queue::{
    booking_status, check_in, move_booking, office_by_code, open_all_day, spawn_for_bookings,
};

on_both_databases!(a_visit_from_booking_to_printed_document);

const OFFICE: &str = "pecherskyi";
const SERVICE: &str = "family-payments-certificate-f2";
const ACCOUNT: &str = "1000000002";

async fn a_visit_from_booking_to_printed_document(backend: super::support::Backend) {
    let app = spawn_for_bookings(backend).await;
    open_all_day(&app).await;
    let office = office_by_code(&app, OFFICE).await;
    let desks = app
        .get(&format!("/api/v1/offices/{OFFICE}/desks"))
        .await
        .json();
    let desk: Value = desks
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["services"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == SERVICE)
        })
        .unwrap_or_else(|| panic!("a desk for {SERVICE}: {desks}"))
        .clone();
    let specialists = app
        .get(&format!("/api/v1/offices/{office}/specialists"))
        .await
        .json();
    let specialist = specialists
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == desk["specialist"])
        .unwrap_or_else(|| panic!("the desk's specialist: {specialists}"))["id"]
        .as_i64()
        .unwrap();

    // 1. Booked online, with the personal account.
    let from = chrono::Utc::now().date_naive();
    let to = from + chrono::Duration::days(14);
    let r = app
        .get(&format!(
            "/api/v1/offices/{office}/availability?service={SERVICE}&from={from}&to={to}&specialist={specialist}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let start = r.json()["slots"][0]["start"].clone();
    assert!(start.is_string(), "a free time: {}", r.body);
    let r = app
        .json(
            axum::http::Method::POST,
            "/api/v1/bookings",
            &json!({"office": office, "service": SERVICE, "start": start, "specialist": specialist,
                "name": "Ганна Сидоренко", "phone": "067 222 33 44", "account": ACCOUNT, "lang": "uk"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let booking = r.json();
    assert_eq!(booking["status"], "confirmed", "{booking}");
    let code = booking["code"].as_str().unwrap().to_string();

    // 2. On the day, within the check-in window: the code at the kiosk gives a ticket.
    move_booking(&app, &booking, 2).await;
    let r = check_in(&app, OFFICE, &code, "uk").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ticket = r.json();
    let token = ticket["token"].as_str().unwrap().to_string();

    // 3. Called at the desk by its specialist; the resident's page names the window.
    let auth = staff_bearer(&app, "journey", Role::Specialist).await;
    let desk_id = desk["id"].as_i64().unwrap();
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk_id}/sign-in"),
        json!({}),
        &auth,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk_id}/call-next"),
        json!({}),
        &auth,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["number"], ticket["number"], "{}", r.body);
    let mine = app.get(&format!("/api/v1/tickets/{token}")).await.json();
    assert_eq!(mine["window"], desk["window"], "{mine}");
    let act = |a: &str| format!("/api/v1/desks/{desk_id}/tickets/{}/{a}", ticket["id"]);
    let r = post(&app, &act("start"), json!({}), &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // 4. Served in a case opened from the ticket, on the booked account.
    let r = post(
        &app,
        "/api/v1/cases",
        json!({"ticket": ticket["id"]}),
        &auth,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let case = r.json();
    assert_eq!(case["account"], ACCOUNT, "{case}");
    assert_eq!(case["service"], SERVICE, "{case}");
    let case_id = case["id"].as_i64().unwrap();
    let r = operate(&app, &auth, case_id, "certificate_f2", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let document = r.json()["document"].clone();
    let number = document["number"].as_str().unwrap().to_string();

    // 5. Printed: the document holds the account and its number; its QR link verifies it to
    // anyone, with no personal data.
    let page = app
        .get_with(
            document["url"].as_str().unwrap(),
            &[("authorization", &auth), ("accept", "text/html")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(ACCOUNT) && page.body.contains(&number),
        "{}",
        page.body
    );
    let verify = document["verify_url"].as_str().unwrap();
    let verify = &verify[verify.find("/verify/").expect("a /verify/ link")..];
    let public = app.get_with(verify, &[("accept", "text/html")]).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    assert!(public.body.contains(&number), "{}", public.body);
    assert!(
        !public.body.contains(ACCOUNT),
        "no personal data: {}",
        public.body
    );

    // Finished: the case is the visit's one case, the booking is done.
    let r = post(&app, &act("finish"), json!({"outcome": "done"}), &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cases = get(&app, "/api/v1/cases", &auth).await.json();
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    let case = get(&app, &format!("/api/v1/cases/{case_id}"), &auth)
        .await
        .json();
    assert_eq!(case["ticket"], ticket["id"], "{case}");
    assert_eq!(case["outcome"], "done", "{case}");
    assert_eq!(booking_status(&app, &booking).await, "done");
    app.finish().await;
}
