//! The live queue: kiosk tickets, call-next, desk actions, the race of many desks over two
//! instances, and the boards' WebSocket over real TCP.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::on_both_databases;
use crate::support::{Backend, TestApp, count, exec};

const OFFICE: &str = "pecherskyi";

on_both_databases!(
    kiosk_issues_numbered_tickets,
    closed_office_says_when_it_opens,
    bad_ticket_input_is_refused,
    call_next_order_and_desk_actions,
    desk_permissions,
    twenty_desks_two_instances_call_each_ticket_once,
    board_snapshot_events_and_replay,
    board_events_reach_other_instances,
    kiosk_pages_issue_and_print_a_ticket,
    desk_console_serves_a_ticket,
    check_in_with_a_booking_code,
    check_in_windows_and_refusals,
    kiosk_check_in_page,
    call_backs_reach_the_contact_center_desks,
    desk_grants_priority,
    kiosk_refuses_on_closure_days,
);

/// The demo office opens around the clock, so the tests run at any hour.
pub async fn open_all_day(app: &TestApp) {
    exec(
        app,
        "DELETE FROM office_hours WHERE office_id = (SELECT id FROM office WHERE code = 'pecherskyi')",
    )
    .await;
    for d in 0..7 {
        exec(
            app,
            &format!(
                "INSERT INTO office_hours (office_id, weekday, opens, closes) \
             SELECT id, {d}, '00:00', '24:00' FROM office WHERE code = 'pecherskyi'"
            ),
        )
        .await;
    }
}

async fn desks(app: &TestApp) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/offices/{OFFICE}/desks")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json().as_array().expect("array").clone()
}

/// A service offered in person that `desk` serves and, when given, `other` does not.
async fn visit_service(app: &TestApp, desk: &Value, other: Option<&Value>) -> String {
    let services = app.get("/api/v1/services").await.json();
    let visit: HashSet<String> = services
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
        .collect();
    desk["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .find(|s| {
            visit.contains(s)
                && other.is_none_or(|o| !o["services"].as_array().unwrap().iter().any(|x| x == s))
        })
        .expect("a visit service of the desk")
}

async fn issue(app: &TestApp, service: &str, priority: Option<&str>) -> Value {
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/offices/{OFFICE}/tickets"),
            &json!({"service": service, "priority": priority}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn post(app: &TestApp, path: &str, auth: &str, body: Value) -> crate::support::Reply {
    app.json(Method::POST, path, &body, &[("authorization", auth)])
        .await
}

async fn kiosk_issues_numbered_tickets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let d = desks(&app).await;
    assert_eq!(d.len(), 3, "{d:?}");
    let service = visit_service(&app, &d[0], None).await;
    let mut numbers = Vec::new();
    for i in 1..=3u64 {
        let t = issue(&app, &service, None).await;
        assert_eq!(t["position"], i, "{t}");
        assert_eq!(t["status"], "waiting");
        assert!(t["url"].as_str().unwrap().starts_with("/t/"), "{t}");
        numbers.push(t["number"].as_str().unwrap().to_string());
        let r = app
            .get(&format!("/api/v1/tickets/{}", t["token"].as_str().unwrap()))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["position"], i, "{}", r.body);
        assert!(r.json()["window"].is_null(), "{}", r.body);
    }
    let letter = &numbers[0][..numbers[0].find('-').unwrap()];
    assert_eq!(
        numbers,
        vec![
            format!("{letter}-001"),
            format!("{letter}-002"),
            format!("{letter}-003")
        ]
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ticket").await, 3);
    // One board event per ticket, numbered 1, 2, 3, written with it.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM board_event WHERE kind = 'issued'"
        )
        .await,
        3
    );
    assert_eq!(count(&app, "SELECT MAX(seq) FROM board_event").await, 3);
    let r = app.get("/api/v1/tickets/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let doc = app.get("/api/openapi.json").await.json();
    for p in [
        "/api/v1/offices/{id}/desks",
        "/api/v1/offices/{id}/tickets",
        "/api/v1/tickets/{token}",
        "/api/v1/desks/{id}/call-next",
        "/api/v1/desks/{id}/tickets/{ticket}/{action}",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    app.finish().await;
}

async fn closed_office_says_when_it_opens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    exec(
        &app,
        "DELETE FROM office_hours WHERE office_id = (SELECT id FROM office WHERE code = 'pecherskyi')",
    )
    .await;
    let d = desks(&app).await;
    let service = visit_service(&app, &d[0], None).await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/offices/{OFFICE}/tickets"),
            &json!({"service": service}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.json()["message"].as_str().unwrap().contains("зачинено"),
        "{}",
        r.body
    );
    // An office open one hour a week says when.
    exec(&app, "INSERT INTO office_hours (office_id, weekday, opens, closes) SELECT id, 0, '03:00', '03:01' FROM office WHERE code = 'pecherskyi'").await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/offices/{OFFICE}/tickets"),
            &json!({"service": service}),
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.json()["message"].as_str().unwrap().contains("opens on"),
        "{}",
        r.body
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ticket").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM board_event").await, 0);
    app.finish().await;
}

async fn bad_ticket_input_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let path = format!("/api/v1/offices/{OFFICE}/tickets");
    let r = app
        .json(Method::POST, &path, &json!({"service": "no-such"}), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "service", "{}", r.body);
    let d = desks(&app).await;
    let service = visit_service(&app, &d[0], None).await;
    let r = app
        .json(
            Method::POST,
            &path,
            &json!({"service": service, "priority": "vip"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "priority", "{}", r.body);
    let r = app
        .json(Method::POST, &path, &json!({"nothing": 1}), &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .json(
            Method::POST,
            "/api/v1/offices/nowhere/tickets",
            &json!({"service": service}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ticket").await, 0);
    let t = issue(&app, &service, Some("veteran")).await;
    assert_eq!(t["priority"], "veteran");
    app.finish().await;
}

async fn call_next_order_and_desk_actions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let d = desks(&app).await;
    let desk = d[0]["id"].as_i64().unwrap();
    let service = visit_service(&app, &d[0], None).await;
    let other = visit_service(&app, &d[1], Some(&d[0])).await;
    let n1 = issue(&app, &service, None).await;
    let p1 = issue(&app, &service, Some("disabled")).await;
    let p2 = issue(&app, &service, Some("elderly")).await;
    let n2 = issue(&app, &service, None).await;
    let call = format!("/api/v1/desks/{desk}/call-next");
    let act = |t: &Value, a: &str| format!("/api/v1/desks/{desk}/tickets/{}/{a}", t["id"]);

    // Priority first (ratio 2 : 1).
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["number"], p1["number"], "{}", r.body);
    assert_eq!(r.json()["window"], d[0]["window"], "{}", r.body);
    // The desk is busy: 409 naming the ticket.
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains(p1["number"].as_str().unwrap()),
        "{}",
        r.body
    );
    // Finish before start is a wrong state.
    let r = post(&app, &act(&p1, "finish"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post(&app, &act(&p1, "start"), &admin, json!({})).await;
    assert_eq!(r.json()["status"], "in_service", "{}", r.body);
    let r = post(
        &app,
        &act(&p1, "finish"),
        &admin,
        json!({"outcome": "resolved", "notes": "done"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "finished", "{}", r.body);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM ticket WHERE id = {} AND outcome = 'resolved' AND notes = 'done' AND finished_at IS NOT NULL AND started_at IS NOT NULL AND desk_id = {desk} AND staff_user_id IS NOT NULL", p1["id"])).await,
        1
    );

    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.json()["number"], p2["number"], "{}", r.body);
    let r = post(&app, &act(&p2, "no-show"), &admin, json!({})).await;
    assert_eq!(r.json()["status"], "no_show", "{}", r.body);

    // After two priority tickets, a normal one.
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.json()["number"], n1["number"], "{}", r.body);
    let r = post(&app, &act(&n1, "return"), &admin, json!({})).await;
    assert_eq!(r.json()["status"], "waiting", "{}", r.body);
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(
        r.json()["number"],
        n1["number"],
        "returned keeps its arrival: {}",
        r.body
    );
    // Two recalls, then the third makes a no-show.
    for n in 1..=2 {
        let r = post(&app, &act(&n1, "recall"), &admin, json!({})).await;
        assert_eq!(r.json()["recalls"], n, "{}", r.body);
        assert_eq!(r.json()["status"], "called", "{}", r.body);
    }
    let r = post(&app, &act(&n1, "recall"), &admin, json!({})).await;
    assert_eq!(r.json()["status"], "no_show", "{}", r.body);
    let r = post(&app, &act(&n1, "recall"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // Transfer to another service keeps the arrival time.
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.json()["number"], n2["number"], "{}", r.body);
    let r = post(&app, &act(&n2, "transfer"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = post(
        &app,
        &act(&n2, "transfer"),
        &admin,
        json!({"service": other}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "waiting", "{}", r.body);
    assert_eq!(r.json()["service"], other.as_str(), "{}", r.body);
    assert_eq!(r.json()["arrived_at"], n2["issued_at"], "{}", r.body);
    // This desk does not serve it: nobody waits for it here.
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // The other desk calls it.
    let r = post(
        &app,
        &format!("/api/v1/desks/{}/call-next", d[1]["id"]),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.json()["number"], n2["number"], "{}", r.body);
    // Unknown action and another desk's ticket.
    let r = post(&app, &act(&n2, "dance"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = post(&app, &act(&n2, "start"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Pause stops calls until resumed.
    let pause = format!("/api/v1/desks/{desk}/pause");
    let r = post(&app, &pause, &admin, json!({"reason": "break"})).await;
    assert_eq!(r.json()["paused_reason"], "break", "{}", r.body);
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post(&app, &pause, &admin, json!({"reason": null})).await;
    assert!(r.json()["paused_reason"].is_null(), "{}", r.body);
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // Every change wrote one board event, numbered without gaps.
    let events = count(&app, "SELECT COUNT(*) FROM board_event").await;
    assert_eq!(
        count(&app, "SELECT MAX(seq) FROM board_event").await,
        events
    );
    app.finish().await;
}

async fn desk_permissions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    use cherga::domain::staff::Role;
    cherga::store::staff::create_user(&app.db, "kiosk1", "Kiosk", Role::Kiosk, "kiosk-password-1")
        .await
        .unwrap();
    cherga::store::staff::create_user(
        &app.db,
        "spec1",
        "Spec",
        Role::Specialist,
        "spec-password-1",
    )
    .await
    .unwrap();
    let d = desks(&app).await;
    let desk = d[0]["id"].as_i64().unwrap();
    let call = format!("/api/v1/desks/{desk}/call-next");
    let r = app.json(Method::POST, &call, &json!({}), &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let kiosk = app.bearer("kiosk1", "kiosk-password-1").await;
    let r = post(&app, &call, &kiosk, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let spec = app.bearer("spec1", "spec-password-1").await;
    let r = post(&app, &call, &spec, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk}/sign-in"),
        &spec,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(&app, &call, &spec, json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // The kiosk token is exempt from the per-address limit and may issue tickets.
    let service = visit_service(&app, &d[0], None).await;
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/offices/{OFFICE}/tickets"),
            &json!({"service": service}),
            &[("authorization", &kiosk)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.finish().await;
}

/// A second instance over the same database: its own router, pools and board hub.
async fn second_instance(app: &TestApp) -> axum::Router {
    let mut config = cherga::config::Config::for_database(&app.database_url);
    config.admin_password = Some(crate::support::ADMIN_PASSWORD.into());
    let (db, _) = cherga::app::prepare(&config).await.expect("prepare");
    let rules = cherga::app::bundled_rules().expect("rules");
    cherga::app::router(db, config, rules)
}

async fn twenty_desks_two_instances_call_each_ticket_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let d = desks(&app).await;
    let service = visit_service(&app, &d[0], None).await;
    // 20 desks staffed by the first demo specialist, so all serve the service.
    for i in 1..=20 {
        exec(&app, &format!(
            "INSERT INTO desk (office_id, window_label, specialist_id, priority_streak, updated_at) \
             SELECT office_id, 'R{i}', specialist_id, 0, updated_at FROM desk WHERE id = {}",
            d[0]["id"]
        ))
        .await;
    }
    let race: Vec<i64> = desks(&app)
        .await
        .iter()
        .filter(|x| x["window"].as_str().unwrap().starts_with('R'))
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(race.len(), 20);
    let mut issued = HashSet::new();
    for _ in 0..30 {
        issued.insert(issue(&app, &service, None).await["id"].as_i64().unwrap());
    }
    let other = second_instance(&app).await;
    let one = app.router.clone();
    let mut called: Vec<i64> = Vec::new();
    for round in 0..2 {
        let mut tasks = Vec::new();
        for (i, desk) in race.iter().enumerate() {
            let router = if i % 2 == 0 {
                one.clone()
            } else {
                other.clone()
            };
            let auth = admin.clone();
            let desk = *desk;
            tasks.push(tokio::spawn(async move {
                let req = axum::http::Request::post(format!("/api/v1/desks/{desk}/call-next"))
                    .header("authorization", auth)
                    .body(axum::body::Body::empty())
                    .unwrap();
                let resp = tower::ServiceExt::oneshot(router, req).await.unwrap();
                let status = resp.status();
                let bytes = http_body_util::BodyExt::collect(resp.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                (desk, status, String::from_utf8_lossy(&bytes).into_owned())
            }));
        }
        let mut ok = 0;
        for t in tasks {
            let (desk, status, body) = t.await.unwrap();
            match status {
                StatusCode::OK => {
                    ok += 1;
                    let v: Value = serde_json::from_str(&body).unwrap();
                    let id = v["id"].as_i64().unwrap();
                    called.push(id);
                    // Free the desk for the next round.
                    let r = post(
                        &app,
                        &format!("/api/v1/desks/{desk}/tickets/{id}/no-show"),
                        &admin,
                        json!({}),
                    )
                    .await;
                    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                }
                StatusCode::NO_CONTENT => {}
                other => panic!("round {round}: desk {desk} got {other}: {body}"),
            }
        }
        assert_eq!(ok, if round == 0 { 20 } else { 10 }, "round {round}");
    }
    let unique: HashSet<i64> = called.iter().copied().collect();
    assert_eq!(
        unique.len(),
        called.len(),
        "a ticket was called twice: {called:?}"
    );
    assert_eq!(unique, issued, "every ticket called exactly once");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM ticket WHERE status = 'waiting'").await,
        0
    );
    let events = count(&app, "SELECT COUNT(*) FROM board_event").await;
    assert_eq!(
        count(&app, "SELECT MAX(seq) FROM board_event").await,
        events
    );
    app.finish().await;
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    addr
}

async fn connect(addr: SocketAddr, query: &str) -> Ws {
    let (ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/boards/{OFFICE}{query}"))
            .await
            .expect("websocket connects");
    ws
}

/// The next message that is not a heartbeat.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a board message within 10 s")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] != "heartbeat" {
                return v;
            }
        }
    }
}

async fn board_snapshot_events_and_replay(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let d = desks(&app).await;
    let service = visit_service(&app, &d[0], None).await;
    let desk = d[0]["id"].as_i64().unwrap();
    let t1 = issue(&app, &service, None).await;
    let addr = serve(app.router.clone()).await;
    let mut ws = connect(addr, "").await;
    let snap = next(&mut ws).await;
    assert_eq!(snap["type"], "snapshot", "{snap}");
    assert_eq!(snap["seq"], 1, "{snap}");
    assert_eq!(snap["waiting"][0]["count"], 1, "{snap}");
    // Calls in quick succession arrive, all of them, in order.
    let t2 = issue(&app, &service, None).await;
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk}/call-next"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.json()["number"], t1["number"], "{}", r.body);
    let id1 = r.json()["id"].clone();
    post(
        &app,
        &format!("/api/v1/desks/{desk}/tickets/{id1}/no-show"),
        &admin,
        json!({}),
    )
    .await;
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk}/call-next"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.json()["number"], t2["number"], "{}", r.body);
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next(&mut ws).await);
    }
    let kinds: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["issued", "called", "no_show", "called"], "{seen:?}");
    let seqs: Vec<i64> = seen.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [2, 3, 4, 5]);
    assert_eq!(seen[1]["ticket"], t1["number"]);
    assert_eq!(seen[1]["window"], d[0]["window"]);
    assert!(
        seen[1]["spoken"].as_str().unwrap().starts_with("Талон "),
        "{}",
        seen[1]
    );
    // No personal data: a call carries the number, window, counts.
    assert!(seen[3].get("token").is_none(), "{}", seen[3]);
    drop(ws);
    // Reconnecting from seq 3 replays 4 and 5, in order, then goes on live.
    let mut ws = connect(addr, "?since=3").await;
    assert_eq!(next(&mut ws).await["seq"], 4);
    assert_eq!(next(&mut ws).await["seq"], 5);
    issue(&app, &service, None).await;
    let live = next(&mut ws).await;
    assert_eq!(
        (live["type"].as_str(), live["seq"].as_i64()),
        (Some("issued"), Some(6)),
        "{live}"
    );
    // A number from the future gets a snapshot.
    let mut ws2 = connect(addr, "?since=999").await;
    let s = next(&mut ws2).await;
    assert_eq!(
        (s["type"].as_str(), s["seq"].as_i64()),
        (Some("snapshot"), Some(6)),
        "{s}"
    );
    assert_eq!(s["calls"][0]["ticket"], t2["number"], "{s}");
    let _ = ws.close(None).await;
    let _ = ws2.send(Message::Close(None)).await;
    app.finish().await;
}

async fn board_events_reach_other_instances(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let d = desks(&app).await;
    let service = visit_service(&app, &d[0], None).await;
    let desk = d[0]["id"].as_i64().unwrap();
    // The board is connected to instance B; the desk works through instance A.
    let b = serve(second_instance(&app).await).await;
    let mut ws = connect(b, "").await;
    let snap = next(&mut ws).await;
    assert_eq!(snap["seq"], 0, "{snap}");
    let t = issue(&app, &service, None).await;
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk}/call-next"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let e1 = next(&mut ws).await;
    let e2 = next(&mut ws).await;
    assert_eq!(
        (e1["type"].as_str(), e1["seq"].as_i64()),
        (Some("issued"), Some(1)),
        "{e1}"
    );
    assert_eq!(
        (e2["type"].as_str(), e2["seq"].as_i64()),
        (Some("called"), Some(2)),
        "{e2}"
    );
    assert_eq!(e2["ticket"], t["number"]);
    app.finish().await;
}

async fn kiosk_pages_issue_and_print_a_ticket(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let html = [("accept", "text/html")];
    let r = app.get_with(&format!("/kiosk/{OFFICE}"), &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Оберіть тему звернення"), "{}", r.body);
    let csrf = r.cookie("cherga_csrf").expect("csrf cookie");
    let d = desks(&app).await;
    let service = visit_service(&app, &d[0], None).await;
    let services = app.get("/api/v1/services").await.json();
    let category = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == service.as_str())
        .unwrap()["category"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get_with(
            &format!("/kiosk/{OFFICE}?category={category}"),
            &[("accept", "text/html"), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Choose the service"), "{}", r.body);
    assert!(
        r.body.contains(&format!("value=\"{service}\"")),
        "{}",
        r.body
    );
    assert!(r.body.contains("Veteran"), "{}", r.body);
    let r = app
        .form(
            &format!("/kiosk/{OFFICE}"),
            &[
                ("csrf", &csrf),
                ("service", &service),
                ("priority", "veteran"),
            ],
            &format!("cherga_csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<svg"), "QR code: {}", r.body);
    assert!(r.body.contains("-001"), "{}", r.body);
    let token = r.body.split("/t/").nth(1).unwrap()[..24].to_string();
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM ticket WHERE priority_class = 'veteran'"
        )
        .await,
        1
    );
    let r = app.get_with(&format!("/t/{token}"), &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Очікуйте виклику"), "{}", r.body);
    assert!(r.body.contains("ticket-position\">1<"), "{}", r.body);
    let r = app.get_with(&format!("/board/{OFFICE}"), &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("/static/queue/board.js"), "{}", r.body);
    // Without the CSRF token nothing is issued.
    let r = app
        .form(&format!("/kiosk/{OFFICE}"), &[("service", &service)], "")
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ticket").await, 1);
    // Closed: the kiosk says so.
    exec(&app, "DELETE FROM office_hours").await;
    let r = app.get_with(&format!("/kiosk/{OFFICE}"), &html).await;
    assert!(r.body.contains("Центр зараз зачинено"), "{}", r.body);
    app.finish().await;
}

async fn desk_console_serves_a_ticket(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let d = desks(&app).await;
    let desk = d[0]["id"].as_i64().unwrap();
    let service = visit_service(&app, &d[0], None).await;
    let t = issue(&app, &service, None).await;
    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let csrf = crate::support::csrf_of(&cookies);
    let html = [("accept", "text/html"), ("cookie", cookies.as_str())];
    let r = app.get_with("/desk", &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(&format!("/desk/{desk}/take")), "{}", r.body);
    let r = app
        .form(&format!("/desk/{desk}/take"), &[("csrf", &csrf)], &cookies)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app.get_with(&format!("/desk/{desk}"), &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains(t["number"].as_str().unwrap()),
        "waiting list: {}",
        r.body
    );
    let r = app
        .form(
            &format!("/desk/{desk}/call-next"),
            &[("csrf", &csrf)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app.get_with(&format!("/desk/{desk}"), &html).await;
    assert!(r.body.contains("id=\"desk-current\""), "{}", r.body);
    let id = t["id"].to_string();
    for action in ["start", "finish"] {
        let r = app
            .form(
                &format!("/desk/{desk}/act"),
                &[
                    ("csrf", &csrf),
                    ("ticket", &id),
                    ("action", action),
                    ("outcome", "served"),
                    ("notes", "ok"),
                ],
                &cookies,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM ticket WHERE status = 'finished' AND outcome = 'served'"
        )
        .await,
        1
    );
    // A wrong state is a page with a message, not a 500.
    let r = app
        .form(
            &format!("/desk/{desk}/act"),
            &[("csrf", &csrf), ("ticket", &id), ("action", "start")],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = app.get_with("/desk", &[("accept", "text/html")]).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "anonymous goes to sign-in: {}",
        r.body
    );
    app.finish().await;
}

// ---------------------------------------------------------------- check-in

/// An app whose booking limits, rate limits and email confirmation are off.
pub async fn spawn_for_bookings(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.booking.booking_rate_per_minute = 0;
        c.booking.availability_rate_per_minute = 0;
        c.booking.booking_max_active = 0;
        c.booking.booking_no_show_limit = 0;
        c.booking.booking_email_confirmation = false;
    })
    .await
}

pub async fn office_by_code(app: &TestApp, code: &str) -> i64 {
    let r = app.get("/api/v1/offices").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == code)
        .unwrap_or_else(|| panic!("no office {code}: {}", r.body))["id"]
        .as_i64()
        .unwrap()
}

/// Moves a booking's start to `minutes` from now (the store's update, as staff would see it).
pub async fn move_booking(app: &TestApp, booking: &Value, minutes: i64) {
    use cherga::store::entities::booking;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let start = cherga::store::now() + chrono::Duration::minutes(minutes);
    booking::Entity::update_many()
        .col_expr(booking::Column::StartsAt, Expr::value(start))
        .col_expr(
            booking::Column::EndsAt,
            Expr::value(start + chrono::Duration::minutes(15)),
        )
        .filter(booking::Column::Id.eq(booking["id"].as_i64().unwrap() as i32))
        .exec(&app.db)
        .await
        .expect("move the booking");
}

pub async fn booking_status(app: &TestApp, booking: &Value) -> String {
    use cherga::store::entities::booking;
    use sea_orm::EntityTrait;
    booking::Entity::find_by_id(booking["id"].as_i64().unwrap() as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

pub async fn check_in(
    app: &TestApp,
    office: &str,
    code: &str,
    lang: &str,
) -> crate::support::Reply {
    app.json(
        Method::POST,
        &format!("/api/v1/offices/{office}/check-in"),
        &json!({ "code": code }),
        &[("accept-language", lang)],
    )
    .await
}

/// The desk of the booking's specialist at the demo office, and a service it serves.
async fn booked_desk(app: &TestApp) -> (Value, String) {
    let d = desks(app).await;
    let service = visit_service(app, &d[0], None).await;
    (d[0].clone(), service)
}

/// Books the service with the desk's specialist: other specialists' slots may come first, so
/// the test books until the desk's specialist holds one.
async fn book_with_desk(
    app: &TestApp,
    office: i64,
    desk: &Value,
    service: &str,
    phone: &str,
) -> Value {
    let from = chrono::Utc::now().date_naive();
    let to = from + chrono::Duration::days(14);
    let specs = app
        .get(&format!("/api/v1/offices/{office}/specialists"))
        .await
        .json();
    let spec = specs
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == desk["specialist"])
        .unwrap_or_else(|| panic!("the desk's specialist: {specs}"))["id"]
        .as_i64()
        .unwrap();
    let r = app
        .get(&format!(
            "/api/v1/offices/{office}/availability?service={service}&from={from}&to={to}&specialist={spec}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let slot = r.json()["slots"][0].clone();
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings",
            &json!({"office": office, "service": service, "start": slot["start"],
                "specialist": spec, "name": "Олена Тест", "phone": phone}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn check_in_with_a_booking_code(backend: Backend) {
    let app = spawn_for_bookings(backend).await;
    open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let office = office_by_code(&app, OFFICE).await;
    let (desk, service) = booked_desk(&app).await;
    let desk_id = desk["id"].as_i64().unwrap();
    let b = book_with_desk(&app, office, &desk, &service, "067 111 22 33").await;
    move_booking(&app, &b, 2).await;
    // Walk-ins and a priority ticket wait already.
    let n1 = issue(&app, &service, None).await;
    let p1 = issue(&app, &service, Some("veteran")).await;
    // Typed in lower case with a dash: still the code.
    let code = b["code"].as_str().unwrap();
    let typed = format!("{}-{}", &code[..3], &code[3..]).to_lowercase();
    let r = check_in(&app, OFFICE, &typed, "uk").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let t = r.json();
    assert!(t["appointment_at"].is_string(), "{}", r.body);
    assert_eq!(t["service"], service.as_str(), "{}", r.body);
    // Again: the same ticket, 200.
    let r = check_in(&app, OFFICE, code, "uk").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["id"], t["id"], "{}", r.body);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM ticket WHERE booking_id = {}", b["id"])
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM board_event WHERE kind = 'issued'"
        )
        .await,
        3,
        "one event per ticket, none for the repeated check-in"
    );
    // The due appointment goes before the earlier walk-in and priority tickets.
    let call = format!("/api/v1/desks/{desk_id}/call-next");
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["number"], t["number"], "{}", r.body);
    let act = |a: &str| format!("/api/v1/desks/{desk_id}/tickets/{}/{a}", t["id"]);
    let r = post(&app, &act("start"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(&app, &act("finish"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(booking_status(&app, &b).await, "done");
    // Then the others in their usual order.
    let r = post(&app, &call, &admin, json!({})).await;
    assert_eq!(r.json()["number"], p1["number"], "{}", r.body);
    let _ = n1;
    // The repeated check-in after the visit still names the same (finished) ticket.
    let r = check_in(&app, OFFICE, code, "uk").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "finished", "{}", r.body);
    let doc = app.get("/api/openapi.json").await.json();
    assert!(
        doc["paths"]["/api/v1/offices/{id}/check-in"].is_object(),
        "check-in missing from the OpenAPI document"
    );
    app.finish().await;
}

async fn check_in_windows_and_refusals(backend: Backend) {
    let app = spawn_for_bookings(backend).await;
    open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let office = office_by_code(&app, OFFICE).await;
    let (desk, service) = booked_desk(&app).await;
    let b = book_with_desk(&app, office, &desk, &service, "067 111 22 44").await;
    let code = b["code"].as_str().unwrap().to_string();
    let events = || count(&app, "SELECT COUNT(*) FROM board_event");
    let tickets = || count(&app, "SELECT COUNT(*) FROM ticket");

    // Too early (the default window opens 30 minutes before): says from when.
    move_booking(&app, &b, 120).await;
    let r = check_in(&app, OFFICE, &code, "en").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.json()["message"].as_str().unwrap().contains("opens at"),
        "{}",
        r.body
    );
    // Too late (15 minutes after the start): a walk-in ticket is offered.
    move_booking(&app, &b, -30).await;
    let r = check_in(&app, OFFICE, &code, "uk").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "too_late", "{}", r.body);
    assert_eq!(
        r.json()["walk_in"]["service"],
        service.as_str(),
        "{}",
        r.body
    );
    // Unknown code, and a code of another office.
    let r = check_in(&app, OFFICE, "ZZZZZZ", "uk").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = check_in(
        &app,
        cherga::store::booking::DEMO_CONTACT_CENTER_CODE,
        &code,
        "uk",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // Pending and cancelled bookings are refused, even when due.
    move_booking(&app, &b, 0).await;
    for (status, said) in [("pending", "Confirm"), ("cancelled", "cancelled")] {
        exec(
            &app,
            &format!(
                "UPDATE booking SET status = '{status}' WHERE id = {}",
                b["id"]
            ),
        )
        .await;
        let r = check_in(&app, OFFICE, &code, "en").await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{status}: {}", r.body);
        assert!(
            r.json()["message"].as_str().unwrap().contains(said),
            "{status}: {}",
            r.body
        );
    }
    // No refusal left a ticket or a board event.
    assert_eq!(tickets().await, 0);
    assert_eq!(events().await, 0);
    // The offered walk-in ticket.
    let t = issue(&app, &service, None).await;
    assert!(t["appointment_at"].is_null(), "{t}");

    // A due booking checked in, called and not come: the booking is a no-show.
    exec(
        &app,
        &format!(
            "UPDATE booking SET status = 'confirmed' WHERE id = {}",
            b["id"]
        ),
    )
    .await;
    let r = check_in(&app, OFFICE, &code, "uk").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let appt = r.json();
    let desk_id = desk["id"].as_i64().unwrap();
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk_id}/call-next"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.json()["number"], appt["number"], "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk_id}/tickets/{}/no-show", appt["id"]),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(booking_status(&app, &b).await, "no_show");
    app.finish().await;
}

async fn kiosk_check_in_page(backend: Backend) {
    let app = spawn_for_bookings(backend).await;
    open_all_day(&app).await;
    let office = office_by_code(&app, OFFICE).await;
    let (desk, service) = booked_desk(&app).await;
    let html = [("accept", "text/html")];
    let r = app.get_with(&format!("/kiosk/{OFFICE}"), &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Я маю запис"), "{}", r.body);
    assert!(
        r.body.contains(&format!("/kiosk/{OFFICE}/check-in")),
        "{}",
        r.body
    );
    let csrf = r.cookie("cherga_csrf").expect("csrf cookie");
    let cookies = format!("cherga_csrf={csrf}");
    // Both booked before either is moved: a moved booking keeps its claim on the old time.
    let b = book_with_desk(&app, office, &desk, &service, "067 111 22 55").await;
    let late = book_with_desk(&app, office, &desk, &service, "067 111 22 66").await;
    let code = b["code"].as_str().unwrap().to_string();
    move_booking(&app, &b, 5).await;
    let path = format!("/kiosk/{OFFICE}/check-in");
    let r = app
        .form(
            &path,
            &[("csrf", &csrf), ("code", &code.to_lowercase())],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Запис на"), "appointment time: {}", r.body);
    assert!(r.body.contains("<svg"), "QR code: {}", r.body);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM ticket WHERE booking_id = {}", b["id"])
        )
        .await,
        1
    );
    // Too late: the message and a walk-in button for the same service.
    move_booking(&app, &late, -60).await;
    let r = app
        .form(
            &path,
            &[("csrf", &csrf), ("code", late["code"].as_str().unwrap())],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Час вашого запису минув"), "{}", r.body);
    assert!(
        r.body.contains(&format!("value=\"{service}\"")),
        "{}",
        r.body
    );
    let r = app
        .form(
            &format!("/kiosk/{OFFICE}"),
            &[("csrf", &csrf), ("service", &service)],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "walk-in ticket: {}", r.body);
    assert!(!r.body.contains("Запис на"), "{}", r.body);
    // An unknown code is said on the kiosk, not as an error page.
    let r = app
        .form(&path, &[("csrf", &csrf), ("code", "ZZZZZZ")], &cookies)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(r.body.contains("checkin-message"), "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ticket").await, 2);
    app.finish().await;
}

async fn call_backs_reach_the_contact_center_desks(backend: Backend) {
    let app = spawn_for_bookings(backend).await;
    let admin = app.admin_bearer().await;
    let cc = cherga::store::booking::DEMO_CONTACT_CENTER_CODE;
    let r = app.get(&format!("/api/v1/offices/{cc}/desks")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cc_desks = r.json().as_array().unwrap().clone();
    assert_eq!(cc_desks.len(), 2, "one desk per operator: {}", r.body);
    let office = office_by_code(&app, cc).await;
    let service = cc_desks[0]["services"][0].as_str().unwrap().to_string();
    let due = book_with_desk(&app, office, &cc_desks[0], &service, "067 222 33 44").await;
    let later = book_with_desk(&app, office, &cc_desks[0], &service, "067 222 33 55").await;
    move_booking(&app, &due, 10).await;
    move_booking(&app, &later, 180).await;
    let window = cherga::domain::queue::checkin::CheckInWindow {
        early_minutes: 30,
        late_minutes: 15,
    };
    assert_eq!(
        cherga::callbacks::run_once(&app.db, window, None).await,
        Ok(true)
    );
    assert_eq!(
        cherga::callbacks::run_once(&app.db, window, None).await,
        Ok(false),
        "nothing else is due"
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM ticket WHERE booking_id = {}",
                due["id"]
            )
        )
        .await,
        1
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ticket").await, 1);
    // The booked operator's desk calls it.
    let desk_id = cc_desks[0]["id"].as_i64().unwrap();
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk_id}/call-next"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["appointment_at"].is_string(), "{}", r.body);
    assert_eq!(r.json()["window"], cc_desks[0]["window"], "{}", r.body);
    app.finish().await;
}

async fn desk_grants_priority(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let d = desks(&app).await;
    let desk = d[0]["id"].as_i64().unwrap();
    let service = visit_service(&app, &d[0], None).await;
    let n1 = issue(&app, &service, None).await;
    let n2 = issue(&app, &service, None).await;
    let grant = |t: &Value| format!("/api/v1/desks/{desk}/tickets/{}/priority", t["id"]);
    let r = post(&app, &grant(&n2), &admin, json!({"priority": "vip"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "priority", "{}", r.body);
    let r = post(&app, &grant(&n2), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = post(&app, &grant(&n2), &admin, json!({"priority": "veteran"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["priority"], "veteran", "{}", r.body);
    // Call-next now takes the later ticket with priority first.
    let r = post(
        &app,
        &format!("/api/v1/desks/{desk}/call-next"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(r.json()["number"], n2["number"], "{}", r.body);
    // Not on a ticket already called.
    let r = post(&app, &grant(&n2), &admin, json!({"priority": "elderly"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The console: a form per waiting ticket without priority.
    let cookies = app
        .browser_sign_in("admin", crate::support::ADMIN_PASSWORD)
        .await;
    let csrf = crate::support::csrf_of(&cookies);
    let html = [("accept", "text/html"), ("cookie", cookies.as_str())];
    let r = app.get_with(&format!("/desk/{desk}"), &html).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Надати пріоритет"), "{}", r.body);
    let n1_id = n1["id"].to_string();
    let r = app
        .form(
            &format!("/desk/{desk}/act"),
            &[
                ("csrf", &csrf),
                ("ticket", &n1_id),
                ("action", "priority"),
                ("priority", "pregnant"),
            ],
            &cookies,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM ticket WHERE id = {n1_id} AND priority_class = 'pregnant'"
            )
        )
        .await,
        1
    );
    app.finish().await;
}

async fn kiosk_refuses_on_closure_days(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    open_all_day(&app).await;
    let d = desks(&app).await;
    let service = visit_service(&app, &d[0], None).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Kyiv)
        .date_naive();
    for day in [today, today + chrono::Duration::days(1)] {
        exec(
            &app,
            &format!(
                "INSERT INTO office_closure (office_id, day, reason, reason_en) \
                 SELECT id, '{day}', 'Свято', 'Holiday' FROM office WHERE code = '{OFFICE}'"
            ),
        )
        .await;
    }
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/offices/{OFFICE}/tickets"),
            &json!({"service": service}),
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let opens = (today + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        r.json()["message"].as_str().unwrap().contains(&opens),
        "opens after the closure days ({opens}): {}",
        r.body
    );
    let r = app
        .get_with(&format!("/kiosk/{OFFICE}"), &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("kiosk-closed"), "{}", r.body);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ticket").await, 0);
    app.finish().await;
}
