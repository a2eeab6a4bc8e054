//! The case of a visit: finishing a ticket at a desk opens its case (or completes the one opened
//! from the desk), a case without an account waits for one, the service's checklist gates its
//! operations, consultations show the facts of their topic, free text has limits, and the
//! charge run resumes a half-done month; on SQLite and PostgreSQL.

use axum::http::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, Statement};
use serde_json::{Value, json};

use cherga::domain::staff::Role;
use cherga::store::entities::booking;

use crate::case::{months_back, staff_bearer};
use crate::on_both_databases;
use crate::queue::open_all_day;
use crate::support::{Backend, Reply, TestApp, count, csrf_of, exec};

const OFFICE: &str = "pecherskyi";

on_both_databases!(
    finishing_a_visit_opens_exactly_one_case,
    no_show_opens_no_case,
    a_bookings_account_is_carried_to_the_case,
    a_case_opened_at_the_desk_is_completed_by_finish,
    operations_need_the_checklist_ticked,
    consultations_show_the_facts_of_their_topic,
    free_text_has_limits,
    a_half_done_charge_run_resumes_and_charges_once,
    the_visit_case_migration_keeps_cases_and_adds_keys,
    one_booking_has_one_case_even_at_once,
);

async fn post(app: &TestApp, path: &str, auth: &str, body: Value) -> Reply {
    app.json(Method::POST, path, &body, &[("authorization", auth)])
        .await
}

async fn get(app: &TestApp, path: &str, auth: &str) -> Reply {
    app.get_with(path, &[("authorization", auth)]).await
}

/// A specialist signed in at the first desk, with a walk-in service that desk serves.
struct Desk {
    auth: String,
    user_id: i64,
    desk: i64,
    service: String,
}

async fn desk(app: &TestApp, username: &str) -> Desk {
    open_all_day(app).await;
    let auth = staff_bearer(app, username, Role::Specialist).await;
    let desks = app
        .get(&format!("/api/v1/offices/{OFFICE}/desks"))
        .await
        .json();
    let d = &desks[0];
    let desk = d["id"].as_i64().unwrap();
    let r = post(
        app,
        &format!("/api/v1/desks/{desk}/sign-in"),
        &auth,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let services = app.get("/api/v1/services").await.json();
    let service = d["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .find(|code| {
            services.as_array().unwrap().iter().any(|s| {
                s["code"] == *code
                    && s["channels"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c == "visit")
            })
        })
        .expect("a walk-in service of the desk")
        .to_string();
    let user_id = count(
        app,
        &format!("SELECT CAST(id AS BIGINT) FROM staff_user WHERE username = '{username}'"),
    )
    .await;
    Desk {
        auth,
        user_id,
        desk,
        service,
    }
}

async fn issue(app: &TestApp, service: &str) -> Value {
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/offices/{OFFICE}/tickets"),
            &json!({"service": service}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn act(app: &TestApp, d: &Desk, ticket: &Value, action: &str, body: Value) -> Reply {
    post(
        app,
        &format!("/api/v1/desks/{}/tickets/{}/{action}", d.desk, ticket["id"]),
        &d.auth,
        body,
    )
    .await
}

async fn cases_of_ticket(app: &TestApp, ticket: &Value) -> i64 {
    count(
        app,
        &format!(
            "SELECT COUNT(*) FROM visit_case WHERE ticket_id = {}",
            ticket["id"]
        ),
    )
    .await
}

async fn finishing_a_visit_opens_exactly_one_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = desk(&app, "spec1").await;
    let t = issue(&app, &d.service).await;
    let r = post(
        &app,
        &format!("/api/v1/desks/{}/call-next", d.desk),
        &d.auth,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(cases_of_ticket(&app, &t).await, 0);
    let r = act(&app, &d, &t, "start", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = act(
        &app,
        &d,
        &t,
        "finish",
        json!({"outcome": "served", "notes": "asked about the benefit"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(cases_of_ticket(&app, &t).await, 1);

    let list = get(&app, "/api/v1/cases", &d.auth).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_i64().unwrap();
    let c = get(&app, &format!("/api/v1/cases/{id}"), &d.auth)
        .await
        .json();
    assert_eq!(c["ticket"], t["id"], "{c}");
    assert_eq!(c["service"], d.service.as_str(), "{c}");
    assert_eq!(c["staff_id"].as_i64(), Some(d.user_id), "{c}");
    assert_eq!(c["outcome"], "done", "{c}");
    assert_eq!(c["status"], "open", "{c}");
    assert_eq!(c["notes"], "asked about the benefit", "{c}");
    assert!(c["account"].is_null(), "{c}");
    assert_eq!(c["visit"]["ticket_number"], t["number"], "{c}");
    assert_eq!(c["visit"]["ticket_outcome"], "served", "{c}");
    assert!(c["visit"]["window"].is_string(), "{c}");
    assert!(c["visit"]["started_at"].is_string(), "{c}");
    assert!(c["visit"]["finished_at"].is_string(), "{c}");

    // A second finish is a wrong state, and opens nothing more.
    let r = act(&app, &d, &t, "finish", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(cases_of_ticket(&app, &t).await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 1);

    // Without an account, operations are refused until one is attached.
    let op = json!({"kind": "consultation"});
    let path = format!("/api/v1/cases/{id}/operations");
    let r = app
        .json(
            Method::POST,
            &path,
            &op,
            &[("authorization", &d.auth), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("attach the account"), "{}", r.body);
    // The page offers to attach the account instead of the operations.
    let cookies = app.browser_sign_in("spec1", "correct horse 1").await;
    let page = app
        .get_with(
            &format!("/cases/{id}"),
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(r#"id="attach-account""#),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(r#"class="case-op" id="absence-form""#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(t["number"].as_str().unwrap()),
        "{}",
        page.body
    );
    let attach = format!("/api/v1/cases/{id}/account");
    let r = post(&app, &attach, &d.auth, json!({"account": "9999999999"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "account", "{}", r.body);
    let r = post(&app, &attach, &d.auth, json!({"account": "1000000001"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["account"], "1000000001", "{}", r.body);
    let r = post(&app, &attach, &d.auth, json!({"account": "1000000002"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post(&app, &path, &d.auth, op).await;
    assert!(!r.body.contains("рахунок"), "{}", r.body);
    app.finish().await;
}

async fn no_show_opens_no_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = desk(&app, "spec1").await;
    let t = issue(&app, &d.service).await;
    let r = act(&app, &d, &t, "call", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = act(&app, &d, &t, "no-show", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "no_show", "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 0);
    // Nor can one be opened from it.
    let r = post(&app, "/api/v1/cases", &d.auth, json!({"ticket": t["id"]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 0);
    app.finish().await;
}

/// A confirmed booking for the ticket's service, naming `account`.
async fn booking_for(app: &TestApp, ticket: &Value, account: &str) -> i32 {
    let now = chrono::Utc::now();
    let ids = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT office_id, service_id FROM ticket WHERE id = {}",
                ticket["id"]
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let office_id: i32 = ids.try_get_by_index(0).unwrap();
    let service_id: i32 = ids.try_get_by_index(1).unwrap();
    let specialist_id = count(
        app,
        &format!("SELECT CAST(MIN(id) AS BIGINT) FROM specialist WHERE office_id = {office_id}"),
    )
    .await;
    let b = booking::ActiveModel {
        code: Set("TESTCODE".into()),
        office_id: Set(office_id),
        service_id: Set(service_id),
        specialist_id: Set(i32::try_from(specialist_id).unwrap()),
        channel: Set("visit".into()),
        starts_at: Set(now),
        ends_at: Set(now + chrono::Duration::minutes(20)),
        status: Set("confirmed".into()),
        name: Set("Resident".into()),
        account: Set(Some(account.into())),
        lang: Set("uk".into()),
        manage_token_hash: Set("test-manage-hash".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("booking");
    exec(
        app,
        &format!(
            "UPDATE ticket SET booking_id = {} WHERE id = {}",
            b.id, ticket["id"]
        ),
    )
    .await;
    b.id
}

async fn a_bookings_account_is_carried_to_the_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = desk(&app, "spec1").await;
    let t = issue(&app, &d.service).await;
    let booking = booking_for(&app, &t, "1000000002").await;
    act(&app, &d, &t, "call", json!({})).await;
    act(&app, &d, &t, "start", json!({})).await;
    let r = act(&app, &d, &t, "finish", json!({"outcome": "referred"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = get(&app, "/api/v1/cases", &d.auth).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let id = list[0]["id"].as_i64().unwrap();
    let c = get(&app, &format!("/api/v1/cases/{id}"), &d.auth)
        .await
        .json();
    assert_eq!(c["account"], "1000000002", "{c}");
    assert_eq!(c["booking"], booking, "{c}");
    assert_eq!(c["outcome"], "referred", "{c}");
    assert_eq!(c["visit"]["booking_code"], "TESTCODE", "{c}");
    // The staff bookings page links the booking to its case, which is this one.
    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let r = app
        .form(
            "/cases/from-booking",
            &[
                ("csrf", &csrf_of(&cookies)),
                ("booking", &booking.to_string()),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/cases/{id}")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 1);
    app.finish().await;
}

async fn a_case_opened_at_the_desk_is_completed_by_finish(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = desk(&app, "spec1").await;
    let other = staff_bearer(&app, "spec2", Role::Specialist).await;
    let t = issue(&app, &d.service).await;
    let waiting = issue(&app, &d.service).await;
    booking_for(&app, &t, "1000000003").await;
    // Only a ticket being served opens a case, and only by whoever serves it.
    let r = post(&app, "/api/v1/cases", &d.auth, json!({"ticket": t["id"]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    act(&app, &d, &t, "call", json!({})).await;
    let r = post(&app, "/api/v1/cases", &other, json!({"ticket": t["id"]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post(&app, "/api/v1/cases", &d.auth, json!({"ticket": 999_999})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "ticket", "{}", r.body);
    let r = post(
        &app,
        "/api/v1/cases",
        &d.auth,
        json!({"booking": 999_999, "account": "1000000001", "service": d.service}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "booking", "{}", r.body);
    let r = post(
        &app,
        "/api/v1/cases",
        &d.auth,
        json!({"ticket": waiting["id"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // In service, the desk's button opens the case, prefilled with the booking's account.
    act(&app, &d, &t, "start", json!({})).await;
    let page = app
        .get_with(
            &format!("/desk/{}", d.desk),
            &[("authorization", &d.auth), ("accept", "text/html")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("/cases/from-ticket"), "{}", page.body);
    let r = post(
        &app,
        "/api/v1/cases",
        &d.auth,
        json!({"ticket": t["id"], "notes": "opened at the desk"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["account"], "1000000003", "{}", r.body);
    assert_eq!(r.json()["service"], d.service.as_str(), "{}", r.body);
    let r = post(&app, "/api/v1/cases", &d.auth, json!({"ticket": t["id"]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains(&format!("{id}")), "{}", r.body);
    // The console's "Open case" button now goes to that case instead of opening another.
    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let r = app
        .form(
            "/cases/from-ticket",
            &[
                ("csrf", &csrf_of(&cookies)),
                ("ticket", &t["id"].to_string()),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/cases/{id}")
    );

    let r = act(
        &app,
        &d,
        &t,
        "finish",
        json!({"outcome": "served", "notes": "paid in full"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(cases_of_ticket(&app, &t).await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 1);
    let c = get(&app, &format!("/api/v1/cases/{id}"), &d.auth)
        .await
        .json();
    assert_eq!(c["outcome"], "done", "{c}");
    assert_eq!(c["notes"], "opened at the desk\npaid in full", "{c}");
    assert!(
        c["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "visit_finished"),
        "{c}"
    );
    app.finish().await;
}

async fn open(app: &TestApp, auth: &str, account: &str, service: &str) -> i64 {
    let r = post(
        app,
        "/api/v1/cases",
        auth,
        json!({"account": account, "service": service}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

async fn operations_need_the_checklist_ticked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let id = open(&app, &auth, "1000000001", "owner-change").await;
    let c = get(&app, &format!("/api/v1/cases/{id}"), &auth)
        .await
        .json();
    assert_eq!(
        c["checklist"],
        json!(["application", "passport", "ownership_document"]),
        "{c}"
    );
    let path = format!("/api/v1/cases/{id}/operations");
    let params = json!({"owners": [{"name": "Нова Власниця", "share": "1/1"}]});
    let entries = count(&app, "SELECT COUNT(*) FROM case_audit").await;
    let r = app
        .json(
            Method::POST,
            &path,
            &json!({"kind": "owner_change", "params": params, "documents": ["application"]}),
            &[("authorization", &auth), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "documents", "{}", r.body);
    assert!(
        r.body.contains("Passport, Ownership document"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("Application"), "{}", r.body);
    // Refused: nothing recorded, the owner unchanged.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM case_audit").await,
        entries
    );
    let c = get(&app, &format!("/api/v1/cases/{id}"), &auth)
        .await
        .json();
    assert_eq!(c["documents_seen"], json!([]), "{c}");
    let r = post(
        &app,
        &path,
        &auth,
        json!({"kind": "owner_change", "params": params, "documents": ["application", "passport", "ownership_document"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let c = get(&app, &format!("/api/v1/cases/{id}"), &auth)
        .await
        .json();
    assert_eq!(
        c["documents_seen"],
        json!(["application", "passport", "ownership_document"]),
        "{c}"
    );
    let a = get(&app, "/api/v1/accounts/1000000001", &auth).await.json();
    assert_eq!(a["owners"][0]["name"], "Нова Власниця", "{a}");
    // Seen once, the documents stand for the case's later operations.
    let r = post(
        &app,
        &path,
        &auth,
        json!({"kind": "owner_change", "params": params}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // The page shows the service's checklist, ticked as seen.
    let cookies = app.browser_sign_in("spec1", "correct horse 1").await;
    let page = app
        .get_with(
            &format!("/cases/{id}"),
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(r#"name="seen" value="ownership_document" checked"#),
        "{}",
        page.body
    );
    app.finish().await;
}

async fn consultations_show_the_facts_of_their_topic(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    // benefit-charges-explanation: the benefit lines of the last charge, nothing else.
    let id = open(&app, &auth, "1000000001", "benefit-charges-explanation").await;
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/operations"),
        &auth,
        json!({"kind": "consultation"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = &r.json()["facts"];
    assert_eq!(f["topic"], "benefits", "{f}");
    let lines = f["benefit_lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "{f}");
    let period = f["period"].as_str().unwrap();
    assert!(
        lines
            .iter()
            .all(|l| l["kind"] == "benefit" && l["period"] == period),
        "{f}"
    );
    let ledger = get(&app, "/api/v1/accounts/1000000001/ledger", &auth)
        .await
        .json();
    let last_charge = ledger
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "charge")
        .map(|e| e["period"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    assert_eq!(period, last_charge);
    assert!(
        f.get("payments").is_none() && f.get("tariffs").is_none(),
        "{f}"
    );

    // recalculation-explanation: past adjustments with their explanations.
    let area = open(&app, &auth, "1000000002", "area-change").await;
    let from = months_back(2).to_string();
    let r = post(
        &app,
        &format!("/api/v1/cases/{area}/operations"),
        &auth,
        json!({"kind": "area_change", "params": {"from": from, "total_area": "70.00", "heated_area": "60.00"}, "documents": ["application", "technical_passport"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let posted = r.json()["entries"].as_array().unwrap().len();
    assert!(posted > 0, "{}", r.body);
    let id = open(&app, &auth, "1000000002", "recalculation-explanation").await;
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/operations"),
        &auth,
        json!({"kind": "consultation"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = &r.json()["facts"];
    assert_eq!(f["topic"], "adjustments", "{f}");
    let adj = f["adjustments"].as_array().unwrap();
    assert_eq!(adj.len(), posted, "{f}");
    assert!(
        adj.iter()
            .all(|a| a["kind"] == "adjustment" && a["explanation"].is_object()),
        "{f}"
    );
    assert!(
        f.get("benefit_lines").is_none() && f.get("payments").is_none(),
        "{f}"
    );

    // The page renders the facts as tables, and no JSON travels in the redirect.
    let cookies = app.browser_sign_in("spec1", "correct horse 1").await;
    let page = app
        .get_with(
            &format!("/cases/{id}"),
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"id="case-facts""#), "{}", page.body);
    assert!(page.body.contains("Перерахунки"), "{}", page.body);
    let r = app
        .form(
            &format!("/cases/{id}/operations"),
            &[
                ("csrf", &csrf_of(&cookies)),
                ("kind", "consultation"),
                ("token", "tok-consult-1"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers["location"].to_str().unwrap().to_string();
    assert!(!to.contains("facts=") && !to.contains("%7B"), "{to}");
    assert!(to.contains("result=tok-consult-1"), "{to}");
    let page = app
        .get_with(&to, &[("cookie", &cookies), ("accept", "text/html")])
        .await;
    assert!(page.body.contains(r#"id="case-facts""#), "{}", page.body);
    app.finish().await;
}

async fn free_text_has_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let r = post(
        &app,
        "/api/v1/cases",
        &auth,
        json!({"account": "1000000001", "service": "owner-change", "notes": "x".repeat(2001)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "notes", "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 0);
    let id = open(&app, &auth, "1000000001", "owner-change").await;
    let long_name = "Я".repeat(201);
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/operations"),
        &auth,
        json!({"kind": "owner_change", "params": {"owners": [{"name": long_name, "share": "1/1"}]}, "documents": ["application", "passport", "ownership_document"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.json()["fields"][0]["field"],
        "owners[0].name",
        "{}",
        r.body
    );
    // A wrong share quotes the name cut to 40 characters.
    let name = "Ж".repeat(150);
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/operations"),
        &auth,
        json!({"kind": "owner_change", "params": {"owners": [{"name": name, "share": "3/2"}]}, "documents": ["application", "passport", "ownership_document"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(&format!("{}…", "Ж".repeat(40))),
        "{}",
        r.body
    );
    assert!(!r.body.contains(&"Ж".repeat(41)), "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/close"),
        &auth,
        json!({"outcome": "refused", "reason": "r".repeat(501)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "reason", "{}", r.body);
    let c = get(&app, &format!("/api/v1/cases/{id}"), &auth)
        .await
        .json();
    assert_eq!(c["status"], "open", "{c}");
    app.finish().await;
}

async fn a_half_done_charge_run_resumes_and_charges_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_bearer().await;
    // A month the demo has not charged.
    let mut month = months_back(0);
    for _ in 0..2 {
        month = month.next();
    }
    let m = month.to_string();
    // The full run, as a reference of what every account owes once.
    let r = post(&app, "/api/v1/charge-runs", &admin, json!({"month": m})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let total = r.json()["posted"].as_i64().unwrap();
    assert!(total > 0, "{}", r.body);
    let per_account = |app: &TestApp| {
        let sql = format!(
            "SELECT COUNT(*) FROM ledger_entry WHERE period = '{m}' AND unique_key IS NOT NULL"
        );
        let app = app.db.clone();
        async move {
            let row = app
                .query_one_raw(Statement::from_string(app.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(per_account(&app).await, total);
    // A crash after the batch that ended with the second account: the later batches never
    // committed, and the lease of the crashed process has expired.
    let second = count(
        &app,
        "SELECT CAST(id AS BIGINT) FROM account ORDER BY id LIMIT 1 OFFSET 1",
    )
    .await;
    let lost = count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM ledger_entry WHERE period = '{m}' AND account_id > {second}"
        ),
    )
    .await;
    assert!(lost > 0);
    exec(
        &app,
        &format!("DELETE FROM ledger_entry WHERE period = '{m}' AND account_id > {second}"),
    )
    .await;
    let kept = total - lost;
    exec(
        &app,
        &format!(
            "UPDATE charge_run SET status = 'running', last_account_id = {second}, posted = {kept}, \
             finished_at = NULL, locked_until = '2000-01-01 00:00:00+00:00' WHERE period = '{m}'"
        ),
    )
    .await;
    // The admin page's button resumes it.
    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let page = app
        .get_with(
            "/cases/charge-runs",
            &[("cookie", &cookies), ("accept", "text/html")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(r#"id="charge-run-form""#),
        "{}",
        page.body
    );
    let r = app
        .form(
            "/cases/charge-runs",
            &[("csrf", &csrf_of(&cookies)), ("month", &m)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers["location"].to_str().unwrap().to_string();
    let notice = urlencoding_free(&to);
    assert!(notice.contains(&format!(": {lost} ")), "{notice}");
    assert_eq!(per_account(&app).await, total);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM charge_run WHERE period = '{m}' AND status = 'done' AND posted = {total}")).await,
        1
    );
    // Exactly once per account and service.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM (SELECT account_id, unique_key FROM ledger_entry WHERE period = '{m}' \
                 AND unique_key IS NOT NULL GROUP BY account_id, unique_key HAVING COUNT(*) > 1) d"
            ),
        )
        .await,
        0
    );
    // Running it again posts nothing; a specialist may not run it.
    let r = post(&app, "/api/v1/charge-runs", &admin, json!({"month": m})).await;
    assert_eq!(r.json()["posted_now"], 0, "{}", r.body);
    let spec = staff_bearer(&app, "spec1", Role::Specialist).await;
    let r = get(&app, "/cases/charge-runs", &spec).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    app.finish().await;
}

/// The notice of a redirect's query, decoded.
fn urlencoding_free(location: &str) -> String {
    let q = location.split_once('?').map(|x| x.1).unwrap_or("");
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "notice")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The migration run again over a database with cases, their audit rows and documents (on
/// SQLite it rebuilds the table under them): nothing is lost, and the new keys hold.
async fn the_visit_case_migration_keeps_cases_and_adds_keys(backend: Backend) {
    use migration::MigratorTrait;
    let app = TestApp::spawn(backend).await;
    let d = desk(&app, "spec1").await;
    let id = open(&app, &d.auth, "1000000005", "no-debt-certificate").await;
    let r = post(
        &app,
        &format!("/api/v1/cases/{id}/operations"),
        &d.auth,
        json!({"kind": "no_debt_certificate", "documents": ["passport"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t = issue(&app, &d.service).await;
    act(&app, &d, &t, "call", json!({})).await;
    act(&app, &d, &t, "start", json!({})).await;
    let r = act(&app, &d, &t, "finish", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = get(&app, &format!("/api/v1/cases/{id}"), &d.auth)
        .await
        .json();
    let audit = count(&app, "SELECT COUNT(*) FROM case_audit").await;
    let docs = count(&app, "SELECT COUNT(*) FROM case_document").await;
    assert!(audit >= 3 && docs == 1, "{audit} {docs}");

    // Back to before the visit-case migration, whatever came after it.
    let all = migration::Migrator::migrations();
    let since = all
        .iter()
        .position(|m| m.name().contains("000004_visit_case"))
        .expect("the visit-case migration");
    migration::Migrator::down(&app.db, Some((all.len() - since) as u32))
        .await
        .expect("down");
    migration::Migrator::up(&app.db, None)
        .await
        .expect("up again");

    let after = get(&app, &format!("/api/v1/cases/{id}"), &d.auth)
        .await
        .json();
    assert_eq!(after, before);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM case_audit").await, audit);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM case_document").await,
        docs
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 2);
    let insert = |ticket: String| {
        format!(
            "INSERT INTO visit_case (account_id, service_code, staff_id, ticket_id, status, \
             documents_seen, notes, opened_at) VALUES (NULL, 'owner-change', 1, {ticket}, 'open', \
             '[]', '', '2026-01-01 00:00:00+00:00')"
        )
    };
    // A second case of the ticket, and a case of a ticket that does not exist, are refused.
    assert!(
        app.db
            .execute_unprepared(&insert(t["id"].to_string()))
            .await
            .is_err()
    );
    assert!(
        app.db
            .execute_unprepared(&insert("999999".into()))
            .await
            .is_err()
    );
    // Without a ticket and without an account, many may exist.
    exec(&app, &insert("NULL".into())).await;
    exec(&app, &insert("NULL".into())).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 4);
    app.finish().await;
}

async fn one_booking_has_one_case_even_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let d = desk(&app, "spec1").await;
    let t = issue(&app, &d.service).await;
    let booking = booking_for(&app, &t, "1000000002").await;
    let of_booking = format!("SELECT COUNT(*) FROM visit_case WHERE booking_id = {booking}");

    // Two requests at once for one booking: one case, and the other is told which one.
    let body = json!({"booking": booking});
    let (a, b) = tokio::join!(
        post(&app, "/api/v1/cases", &d.auth, body.clone()),
        post(&app, "/api/v1/cases", &d.auth, body.clone()),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{} / {}",
        a.body,
        b.body
    );
    let (won, lost) = if a.status == StatusCode::CREATED {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let id = won.json()["id"].as_i64().unwrap();
    assert_eq!(won.json()["booking"], booking, "{}", won.body);
    assert_eq!(lost.json()["error"], "conflict", "{}", lost.body);
    assert_eq!(lost.json()["case"], id, "{}", lost.body);
    assert_eq!(count(&app, &of_booking).await, 1);

    // Asked again later, in either language: 409 naming the case.
    for (lang, words) in [
        ("uk", format!("справу вже відкрито: №{id}")),
        (
            "en",
            format!("already opened for booking #{booking}: #{id}"),
        ),
    ] {
        let r = app
            .json(
                Method::POST,
                "/api/v1/cases",
                &json!({"booking": booking, "account": "1000000001", "service": d.service}),
                &[("authorization", &d.auth), ("accept-language", lang)],
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(r.json()["case"], id, "{}", r.body);
        assert!(
            r.json()["message"].as_str().unwrap().contains(&words),
            "{lang}: {}",
            r.body
        );
    }

    // The booking's ticket, served: the API names the booking's case, and the desk's button
    // (and the bookings page's) lead to it.
    act(&app, &d, &t, "call", json!({})).await;
    act(&app, &d, &t, "start", json!({})).await;
    let r = post(&app, "/api/v1/cases", &d.auth, json!({"ticket": t["id"]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["case"], id, "{}", r.body);
    let cookies = app.browser_sign_in("spec1", "correct horse 1").await;
    for (path, field, value) in [
        ("/cases/from-ticket", "ticket", t["id"].to_string()),
        ("/cases/from-booking", "booking", booking.to_string()),
        ("/cases/", "booking", booking.to_string()),
    ] {
        let r = app
            .form(
                path,
                &[("csrf", &csrf_of(&cookies)), (field, &value)],
                &cookies,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        assert_eq!(
            r.location(),
            Some(format!("/cases/{id}").as_str()),
            "{path}"
        );
    }
    // Finishing the visit completes that case with the ticket; still one case.
    let r = act(&app, &d, &t, "finish", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM visit_case").await, 1);
    let c = get(&app, &format!("/api/v1/cases/{id}"), &d.auth)
        .await
        .json();
    assert_eq!(c["ticket"], t["id"], "{c}");
    assert_eq!(c["booking"], booking, "{c}");

    // The database itself refuses a second case of the booking, whatever writes it.
    assert!(
        app.db
            .execute_unprepared(&format!(
                "INSERT INTO visit_case (account_id, service_code, staff_id, booking_id, status, \
                 documents_seen, notes, opened_at) VALUES (NULL, 'owner-change', 1, {booking}, \
                 'open', '[]', '', '2026-01-01 00:00:00+00:00')"
            ))
            .await
            .is_err()
    );
    assert_eq!(count(&app, &of_booking).await, 1);
    app.finish().await;
}
