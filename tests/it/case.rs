//! The case module through its API: accounts, the ledger, the charge run, cases and every
//! procedure's operation, on SQLite and PostgreSQL, against the demo data.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Value, json};

use cherga::domain::money::Money;
use cherga::domain::rules::RuleSetRegistry;
use cherga::domain::rules::absence::{self, AbsenceInput, Charge};
use cherga::domain::rules::calendar::YearMonth;
use cherga::domain::rules::grounds::Ground;
use cherga::domain::rules::services::Service;
use cherga::domain::staff::Role;

use crate::on_both_databases;
use crate::support::{Backend, Reply, TestApp};

on_both_databases!(
    accounts_need_staff_and_show_balance_and_debt,
    charge_run_twice_posts_once,
    temporary_absence_posts_what_the_calculator_computes,
    idempotent_replay_writes_nothing,
    two_concurrent_recalculations_post_once,
    ledger_cannot_be_edited_through_the_api,
    payment_search_and_attach,
    invoice_duplicate_and_debt,
    no_debt_certificate_refused_with_the_amount,
    certificate_f2_and_benefit_use,
    area_change_adjusts_area_charges,
    owner_change_checks_shares,
    meter_readings_are_checked,
    meter_seal_stop_credits_the_rest_of_the_month,
    restructuring_schedule_sums_to_the_debt,
    quality_claim_act_and_consultations,
    heat_allocation_posts_one_entry_per_premises,
    specialists_see_their_cases_and_closed_cases_take_nothing,
    bad_operations_are_refused_cleanly,
);

pub fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Kyiv)
        .date_naive()
}

pub fn months_back(n: u32) -> YearMonth {
    let mut m = YearMonth::of(today());
    for _ in 0..n {
        m = if m.month() == 1 {
            YearMonth::new(m.year() - 1, 12).unwrap()
        } else {
            YearMonth::new(m.year(), m.month() - 1).unwrap()
        };
    }
    m
}

pub async fn staff_bearer(app: &TestApp, username: &str, role: Role) -> String {
    cherga::store::staff::create_user(&app.db, username, username, role, "correct horse 1")
        .await
        .expect("user");
    app.bearer(username, "correct horse 1").await
}

pub async fn get(app: &TestApp, path: &str, auth: &str) -> Reply {
    app.get_with(path, &[("authorization", auth)]).await
}

pub async fn post(app: &TestApp, path: &str, body: Value, auth: &str) -> Reply {
    app.json(Method::POST, path, &body, &[("authorization", auth)])
        .await
}

pub async fn open_case(app: &TestApp, auth: &str, account: &str, service: &str) -> i64 {
    let r = post(
        app,
        "/api/v1/cases",
        json!({"account": account, "service": service}),
        auth,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

/// Performs an operation, with every document of the service's checklist ticked as seen.
pub async fn operate(app: &TestApp, auth: &str, case: i64, kind: &str, params: Value) -> Reply {
    let documents = get(app, &format!("/api/v1/cases/{case}"), auth)
        .await
        .json()["checklist"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    post(
        app,
        &format!("/api/v1/cases/{case}/operations"),
        json!({"kind": kind, "params": params, "documents": documents}),
        auth,
    )
    .await
}

pub fn money(v: &Value) -> Money {
    Money::parse(v.as_str().expect("money string")).expect("money")
}

pub async fn ledger(app: &TestApp, auth: &str, account: &str) -> Vec<Value> {
    let r = get(app, &format!("/api/v1/accounts/{account}/ledger"), auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json().as_array().expect("array").clone()
}

/// The balance the API reports equals the sum of the ledger, and the debt never exceeds it.
pub async fn balance(app: &TestApp, auth: &str, account: &str) -> Money {
    let r = get(app, &format!("/api/v1/accounts/{account}"), auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = r.json();
    let bal = money(&a["balance"]);
    let sum: Money = ledger(app, auth, account)
        .await
        .iter()
        .map(|e| money(&e["amount"]))
        .sum();
    assert_eq!(bal, sum, "balance is the ledger's sum: {}", r.body);
    let debt: Money = a["debt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| money(&d["amount"]))
        .sum();
    if bal > Money::ZERO {
        assert!(debt > Money::ZERO && debt <= bal, "{}", r.body);
    } else {
        assert_eq!(debt, Money::ZERO, "{}", r.body);
    }
    bal
}

pub async fn entry_count(app: &TestApp) -> u64 {
    cherga::store::case::count_entries(&app.db, None)
        .await
        .expect("count")
}

async fn accounts_need_staff_and_show_balance_and_debt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/api/v1/accounts?number=1000").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.json()["error"], "unauthorized", "{}", r.body);
    let r = app.get("/api/v1/accounts/1000000001").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let kiosk = staff_bearer(&app, "kiosk1", Role::Kiosk).await;
    let r = get(&app, "/api/v1/accounts?number=1000", &kiosk).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let r = get(&app, "/api/v1/accounts?number=1000", &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json().as_array().unwrap().len(), 5, "{}", r.body);
    let r = get(
        &app,
        "/api/v1/accounts?owner=%D0%9C%D0%B5%D0%BB%D1%8C%D0%BD%D0%B8%D0%BA",
        &auth,
    )
    .await;
    assert_eq!(r.json().as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(r.json()[0]["number"], "1000000003", "{}", r.body);

    let r = get(&app, "/api/v1/accounts/1000000001", &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = r.json();
    assert_eq!(a["total_area"], "54.30", "{}", r.body);
    assert_eq!(a["owners"][0]["share"], "1/1", "{}", r.body);
    assert_eq!(a["benefits"].as_array().unwrap().len(), 1, "{}", r.body);
    // Every basis is on some demo account.
    let mut bases = std::collections::BTreeSet::new();
    for n in 1..=5 {
        let r = get(&app, &format!("/api/v1/accounts/100000000{n}"), &auth).await;
        for s in r.json()["services"].as_array().unwrap() {
            bases.insert(s["basis"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(bases.len(), 5, "{bases:?}");

    // Six months of charges and payments; …03 owes, …05 paid ahead.
    let entries = ledger(&app, &auth, "1000000002").await;
    let periods: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "charge")
        .map(|e| e["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods.len(), 6, "{periods:?}");
    assert!(entries.iter().any(|e| e["kind"] == "subsidy"));
    assert!(balance(&app, &auth, "1000000003").await > Money::ZERO);
    assert!(balance(&app, &auth, "1000000005").await < Money::ZERO);
    let r = get(&app, "/api/v1/accounts/1000000003", &auth).await;
    assert!(
        !r.json()["debt"].as_array().unwrap().is_empty(),
        "{}",
        r.body
    );
    let from = months_back(2).to_string();
    let r = get(
        &app,
        &format!("/api/v1/accounts/1000000002/ledger?from={from}"),
        &auth,
    )
    .await;
    assert!(
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["period"].as_str().unwrap() >= from.as_str()),
        "{}",
        r.body
    );
    let r = get(
        &app,
        "/api/v1/accounts/1000000002/ledger?from=2026-13",
        &auth,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = get(&app, "/api/v1/accounts/9999999999", &auth).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // The OpenAPI document lists the case paths.
    let doc = app.get("/api/openapi.json").await.json();
    assert!(doc["paths"]["/api/v1/cases/{id}/operations"].is_object());
    assert!(doc["components"]["schemas"]["TemporaryAbsenceParams"].is_object());
    app.finish().await;
}

async fn charge_run_twice_posts_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_bearer().await;
    let spec = staff_bearer(&app, "spec1", Role::Specialist).await;
    let month = YearMonth::of(today()).to_string();
    let r = post(&app, "/api/v1/charge-runs", json!({"month": month}), &spec).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let before = entry_count(&app).await;
    let r = post(&app, "/api/v1/charge-runs", json!({"month": month}), &admin).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let posted = r.json()["posted_now"].as_i64().unwrap();
    assert!(posted > 10, "{}", r.body);
    assert_eq!(r.json()["status"], "done", "{}", r.body);
    let after = entry_count(&app).await;
    assert_eq!(after - before, posted as u64);
    let r = post(&app, "/api/v1/charge-runs", json!({"month": month}), &admin).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["posted_now"], 0, "{}", r.body);
    assert_eq!(r.json()["posted"], posted, "{}", r.body);
    assert_eq!(entry_count(&app).await, after);
    // A month already charged by the demo posts nothing either: the ledger's unique keys.
    let old = months_back(2).to_string();
    let r = post(&app, "/api/v1/charge-runs", json!({"month": old}), &admin).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["posted_now"], 0, "{}", r.body);
    assert_eq!(entry_count(&app).await, after);
    let r = post(
        &app,
        "/api/v1/charge-runs",
        json!({"month": "2026-1"}),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    balance(&app, &admin, "1000000001").await;
    app.finish().await;
}

/// A temporary absence covering the end of one month and the start of the next, documented.
pub fn absence_params() -> Value {
    let first = months_back(4).first_day();
    let to = months_back(3).first_day() + Days::new(14);
    json!({
        "rule_set": "ua-zaporizhzhia-2023",
        "application_date": (to + Days::new(3)).to_string(),
        "absence": {"from": first.to_string(), "to": to.to_string(), "ground": "abroad"},
        "certificate_issued": (to + Days::new(1)).to_string(),
        "absent_persons": 1,
        "documents": ["application", "passports", "foreign_passport"],
    })
}

async fn temporary_absence_posts_what_the_calculator_computes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let number = "1000000001";
    let before = balance(&app, &auth, number).await;
    let case = open_case(&app, &auth, number, "temporary-absence-recalculation").await;
    let params = absence_params();
    let r = operate(&app, &auth, case, "temporary_absence", params.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = r.json();
    let entries = body["entries"].as_array().unwrap().clone();

    // The calculator, given the account's own charges of those months, computes the same lines.
    let account = get(&app, &format!("/api/v1/accounts/{number}"), &auth)
        .await
        .json();
    let norm: Vec<String> = account["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["basis"] == "per_person")
        .map(|s| s["service"].as_str().unwrap().to_string())
        .collect();
    let (m1, m2) = (months_back(4).to_string(), months_back(3).to_string());
    let mut sums: BTreeMap<(String, String), Money> = BTreeMap::new();
    for e in ledger(&app, &auth, number).await {
        let p = e["period"].as_str().unwrap().to_string();
        if e["kind"] == "charge" && (p == m1 || p == m2) {
            let slot = sums
                .entry((p, e["service"].as_str().unwrap().to_string()))
                .or_default();
            *slot = *slot + money(&e["amount"]);
        }
    }
    let charges: Vec<Charge> = sums
        .iter()
        .map(|((p, s), m)| Charge {
            month: YearMonth::parse(p).unwrap(),
            service: Service::parse(s).unwrap(),
            amount: *m,
            metered: !norm.contains(s),
        })
        .collect();
    let d = |k: &str| NaiveDate::parse_from_str(params[k].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let da = |k: &str| {
        NaiveDate::parse_from_str(params["absence"][k].as_str().unwrap(), "%Y-%m-%d").unwrap()
    };
    let registry = RuleSetRegistry::embedded().unwrap();
    let expected = absence::calculate(
        registry.get("ua-zaporizhzhia-2023").unwrap(),
        &AbsenceInput {
            application_date: d("application_date"),
            from: da("from"),
            to: da("to"),
            ground: Ground::Abroad,
            certificate_issued: Some(d("certificate_issued")),
            documents_seen: Some(vec![
                "application".into(),
                "passports".into(),
                "foreign_passport".into(),
            ]),
            registered_persons: 3,
            absent_persons: 1,
            charges,
        },
    )
    .unwrap();
    assert!(expected.eligible, "{:?}", expected.reasons);
    let expected_lines: Vec<_> = expected
        .lines
        .iter()
        .filter(|l| l.amount > Money::ZERO)
        .collect();
    assert_eq!(entries.len(), expected_lines.len(), "{}", r.body);
    assert!(
        entries.len() >= 8,
        "two months × the norm-based services: {}",
        r.body
    );
    for (e, l) in entries.iter().zip(expected_lines) {
        assert_eq!(e["period"], l.month.to_string(), "{}", r.body);
        assert_eq!(e["service"], l.service.id(), "{}", r.body);
        assert_eq!(money(&e["amount"]), Money::ZERO - l.amount, "{}", r.body);
        assert_eq!(e["kind"], "adjustment");
        assert_eq!(e["rule_set"], "ua-zaporizhzhia-2023");
        assert_eq!(e["case"], case);
        assert!(e["explanation"].as_str().unwrap().len() > 10);
    }
    // Heating, maintenance and metered electricity are never reduced.
    assert!(
        entries
            .iter()
            .all(|e| !["heating", "maintenance", "electricity"]
                .contains(&e["service"].as_str().unwrap())),
        "{}",
        r.body
    );
    let total: Money = entries.iter().map(|e| money(&e["amount"])).sum();
    assert_eq!(total, Money::ZERO - expected.total);
    assert_eq!(balance(&app, &auth, number).await, before + total);
    let doc = &body["document"];
    assert!(
        doc["number"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{}", today().year())),
        "{}",
        r.body
    );
    // The statement prints with the account and the amount; the verify page shows no personal data.
    let page = app
        .get_with(doc["url"].as_str().unwrap(), &[("authorization", &auth)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(number), "{}", page.body);
    assert!(
        page.body.contains(&expected.total.to_string()),
        "{}",
        page.body
    );
    let verify = app.get(doc["verify_url"].as_str().unwrap()).await;
    assert_eq!(verify.status, StatusCode::OK, "{}", verify.body);
    assert!(
        verify.body.contains(doc["number"].as_str().unwrap()),
        "{}",
        verify.body
    );
    assert!(!verify.body.contains(number), "{}", verify.body);
    assert!(!verify.body.contains("Іваненко"), "{}", verify.body);
    let r = app.get("/verify/nonexistent").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // The case's audit trail has the operation.
    let c = get(&app, &format!("/api/v1/cases/{case}"), &auth)
        .await
        .json();
    let actions: Vec<&str> = c["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["open", "temporary_absence"], "{c}");
    assert_eq!(c["documents_seen"].as_array().unwrap().len(), 3, "{c}");

    // Without the ground's certificate documents, the application is refused and nothing posts.
    let count = entry_count(&app).await;
    let mut missing = absence_params();
    missing["documents"] = json!(["application"]);
    missing["absence"]["ground"] = json!("study");
    let case2 = open_case(&app, &auth, "1000000002", "temporary-absence-recalculation").await;
    let r = operate(&app, &auth, case2, "temporary_absence", missing).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(entry_count(&app).await, count);
    app.finish().await;
}

async fn idempotent_replay_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let case = open_case(&app, &auth, "1000000002", "temporary-absence-recalculation").await;
    let path = format!("/api/v1/cases/{case}/operations");
    let body = json!({"kind": "temporary_absence", "params": absence_params()});
    let headers = [("authorization", auth.as_str()), ("idempotency-key", "k-1")];
    let first = app.json(Method::POST, &path, &body, &headers).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let count = entry_count(&app).await;
    let trail = get(&app, &format!("/api/v1/cases/{case}"), &auth)
        .await
        .json()["audit"]
        .as_array()
        .unwrap()
        .len();
    let again = app.json(Method::POST, &path, &body, &headers).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.json(), first.json());
    assert_eq!(entry_count(&app).await, count);
    let trail2 = get(&app, &format!("/api/v1/cases/{case}"), &auth)
        .await
        .json()["audit"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(trail, trail2);
    // The same absence without the key is a conflict, not a second posting.
    let r = post(&app, &path, body.clone(), &auth).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"], "conflict", "{}", r.body);
    assert_eq!(entry_count(&app).await, count);
    // A document-only operation replayed keeps its first number.
    let case = open_case(&app, &auth, "1000000005", "no-debt-certificate").await;
    let path = format!("/api/v1/cases/{case}/operations");
    let body = json!({"kind": "no_debt_certificate", "documents": ["passport"]});
    let headers = [("authorization", auth.as_str()), ("idempotency-key", "k-2")];
    let a = app.json(Method::POST, &path, &body, &headers).await;
    let b = app.json(Method::POST, &path, &body, &headers).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.json()["document"], b.json()["document"]);
    app.finish().await;
}

async fn two_concurrent_recalculations_post_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let c1 = open_case(&app, &auth, "1000000001", "temporary-absence-recalculation").await;
    let c2 = open_case(&app, &auth, "1000000001", "temporary-absence-recalculation").await;
    let count = entry_count(&app).await;
    let (a, b) = tokio::join!(
        operate(&app, &auth, c1, "temporary_absence", absence_params()),
        operate(&app, &auth, c2, "temporary_absence", absence_params()),
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
    let posted = if a.status == StatusCode::CREATED {
        &a
    } else {
        &b
    };
    let n = posted.json()["entries"].as_array().unwrap().len() as u64;
    assert_eq!(entry_count(&app).await, count + n);
    balance(&app, &auth, "1000000001").await;
    app.finish().await;
}

async fn ledger_cannot_be_edited_through_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = app.admin_bearer().await;
    let entries = ledger(&app, &auth, "1000000001").await;
    let id = entries[0]["id"].as_i64().unwrap();
    let amount = entries[0]["amount"].clone();
    let count = entry_count(&app).await;
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        for path in [
            format!("/api/v1/accounts/1000000001/ledger/{id}"),
            "/api/v1/accounts/1000000001/ledger".to_string(),
        ] {
            let r = app
                .json(
                    method.clone(),
                    &path,
                    &json!({"amount": "0.00"}),
                    &[("authorization", &auth)],
                )
                .await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {} {}",
                r.status,
                r.body
            );
        }
    }
    let after = ledger(&app, &auth, "1000000001").await;
    assert_eq!(after[0]["amount"], amount);
    assert_eq!(entry_count(&app).await, count);
    app.finish().await;
}

async fn payment_search_and_attach(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let case = open_case(&app, &auth, "1000000001", "payment-search").await;
    let r = operate(
        &app,
        &auth,
        case,
        "payment_search",
        json!({"payer": "Ткаченко", "from": months_back(6).first_day().to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let found = r.json()["facts"]["payments"].as_array().unwrap().clone();
    assert!(!found.is_empty(), "{}", r.body);
    assert!(
        found.iter().all(|p| p["account"] == "1000000005"),
        "{}",
        r.body
    );
    assert!(r.json()["entries"].as_array().unwrap().is_empty());
    let p = &found[0];
    let amount = money(&p["amount"]);
    // Search by the exact amount finds it too.
    let r = operate(
        &app,
        &auth,
        case,
        "payment_search",
        json!({"amount": amount.to_string()}),
    )
    .await;
    assert!(
        r.json()["facts"]["payments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == p["id"]),
        "{}",
        r.body
    );
    let here = balance(&app, &auth, "1000000001").await;
    let there = balance(&app, &auth, "1000000005").await;
    let r = operate(
        &app,
        &auth,
        case,
        "attach_payment",
        json!({"payment_id": p["id"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.json()["entries"].as_array().unwrap().len(),
        2,
        "{}",
        r.body
    );
    assert_eq!(balance(&app, &auth, "1000000001").await, here - amount);
    assert_eq!(balance(&app, &auth, "1000000005").await, there + amount);
    let r = operate(
        &app,
        &auth,
        case,
        "attach_payment",
        json!({"payment_id": p["id"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = operate(
        &app,
        &auth,
        case,
        "attach_payment",
        json!({"payment_id": 999999}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    app.finish().await;
}

async fn invoice_duplicate_and_debt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let case = open_case(&app, &auth, "1000000003", "invoice-duplicate").await;
    let month = months_back(1).to_string();
    let r = operate(
        &app,
        &auth,
        case,
        "invoice_duplicate",
        json!({"month": month}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let n1 = r.json()["document"]["number"].as_str().unwrap().to_string();
    // The amount to pay is the balance up to and including the month.
    let to_pay = money(&r.json()["facts"]["to_pay"]);
    let upto: Money = ledger(&app, &auth, "1000000003")
        .await
        .iter()
        .filter(|e| e["period"].as_str().unwrap() <= month.as_str())
        .map(|e| money(&e["amount"]))
        .sum();
    assert_eq!(to_pay, upto, "{}", r.body);
    let r = operate(
        &app,
        &auth,
        case,
        "invoice_duplicate",
        json!({"month": "2001-01"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = operate(&app, &auth, case, "debt", json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not this service's operation: {}",
        r.body
    );

    let case = open_case(&app, &auth, "1000000003", "debt-period-and-amount").await;
    let r = operate(&app, &auth, case, "debt", Value::Null).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = &r.json()["facts"];
    let bal = balance(&app, &auth, "1000000003").await;
    assert_eq!(money(&f["debt"]), bal, "{}", r.body);
    assert!(f["from"].as_str().unwrap() <= f["to"].as_str().unwrap());
    let n2 = r.json()["document"]["number"].as_str().unwrap().to_string();
    assert_ne!(n1, n2, "document numbers are unique per office and year");
    let (a, b) = (
        n1.split('/').next().unwrap().parse::<u32>().unwrap(),
        n2.split('/').next().unwrap().parse::<u32>().unwrap(),
    );
    assert_eq!(b, a + 1);
    app.finish().await;
}

async fn no_debt_certificate_refused_with_the_amount(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let owed = balance(&app, &auth, "1000000003").await;
    let case = open_case(&app, &auth, "1000000003", "no-debt-certificate").await;
    let count = entry_count(&app).await;
    let r = operate(&app, &auth, case, "no_debt_certificate", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains(&owed.to_string()), "{}", r.body);
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/cases/{case}/operations"),
            &json!({"kind": "no_debt_certificate", "documents": ["passport"]}),
            &[("authorization", &auth), ("accept-language", "en")],
        )
        .await;
    assert!(r.body.contains("owes UAH"), "{}", r.body);
    assert_eq!(entry_count(&app).await, count);
    let case = open_case(&app, &auth, "1000000005", "no-debt-certificate").await;
    let r = operate(&app, &auth, case, "no_debt_certificate", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        r.json()["document"]["url"]
            .as_str()
            .unwrap()
            .starts_with("/cases/documents/")
    );
    app.finish().await;
}

async fn certificate_f2_and_benefit_use(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let case = open_case(&app, &auth, "1000000002", "family-payments-certificate-f2").await;
    let r = operate(&app, &auth, case, "certificate_f2", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let page = app
        .get_with(
            r.json()["document"]["url"].as_str().unwrap(),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Сидоренко Іван Петрович"),
        "{}",
        page.body
    );
    let case = open_case(&app, &auth, "1000000001", "benefit-use-certificate").await;
    let r = operate(&app, &auth, case, "benefit_use_certificate", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let case = open_case(&app, &auth, "1000000003", "benefit-use-certificate").await;
    let r = operate(&app, &auth, case, "benefit_use_certificate", json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no benefits: {}",
        r.body
    );
    app.finish().await;
}

async fn area_change_adjusts_area_charges(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let before = balance(&app, &auth, "1000000002").await;
    let case = open_case(&app, &auth, "1000000002", "area-change").await;
    let from = months_back(2).to_string();
    let r = operate(
        &app,
        &auth,
        case,
        "area_change",
        json!({"from": from, "total_area": "80.00", "heated_area": "70.00"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let entries = r.json()["entries"].as_array().unwrap().clone();
    // maintenance (per m²) and heating (per heated m²) for the two months since `from`.
    assert_eq!(entries.len(), 4, "{}", r.body);
    assert!(entries.iter().all(|e| money(&e["amount"]) > Money::ZERO));
    let added: Money = entries.iter().map(|e| money(&e["amount"])).sum();
    assert_eq!(balance(&app, &auth, "1000000002").await, before + added);
    let a = get(&app, "/api/v1/accounts/1000000002", &auth).await.json();
    assert_eq!(a["total_area"], "80.00");
    assert_eq!(a["heated_area"], "70.00");
    let r = operate(
        &app,
        &auth,
        case,
        "area_change",
        json!({"from": from, "total_area": "50.00", "heated_area": "70.00"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    app.finish().await;
}

async fn owner_change_checks_shares(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let case = open_case(&app, &auth, "1000000001", "owner-change").await;
    let r = operate(
        &app,
        &auth,
        case,
        "owner_change",
        json!({"owners": [{"name": "А", "share": "1/2"}, {"name": "Б", "share": "1/3"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = operate(
        &app,
        &auth,
        case,
        "owner_change",
        json!({"owners": [{"name": "А", "share": "half"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.json()["fields"][0]["field"],
        "owners[0].share",
        "{}",
        r.body
    );
    let r = operate(
        &app,
        &auth,
        case,
        "owner_change",
        json!({"owners": [{"name": "Коваль Анна", "share": "2/3"}, {"name": "Коваль Борис", "share": "1/3"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = get(&app, "/api/v1/accounts/1000000001", &auth).await.json();
    assert_eq!(a["owners"].as_array().unwrap().len(), 2, "{a}");
    assert_eq!(a["owner"], "Коваль Анна, Коваль Борис");
    app.finish().await;
}

async fn meter_readings_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let a = get(&app, "/api/v1/accounts/1000000003", &auth).await.json();
    let m = &a["meters"][0];
    let serial = m["serial"].as_str().unwrap();
    let (last_day, last_value) = (
        m["last_reading"][0].as_str().unwrap().to_string(),
        m["last_reading"][1].as_str().unwrap().to_string(),
    );
    let last_day = NaiveDate::parse_from_str(&last_day, "%Y-%m-%d").unwrap();
    let case = open_case(&app, &auth, "1000000003", "meter-readings").await;
    let next = (last_day + Days::new(10)).to_string();
    let lower = operate(
        &app,
        &auth,
        case,
        "meter_reading",
        json!({"serial": serial, "date": next, "value": "1.000"}),
    )
    .await;
    assert_eq!(
        lower.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        lower.body
    );
    let value = Money::parse(&last_value[..last_value.len() - 1]).unwrap(); // 3 decimals → 2
    let huge = operate(
        &app,
        &auth,
        case,
        "meter_reading",
        json!({"serial": serial, "date": next, "value": format!("{}", value + Money::from_kopiykas(1_000_000))}),
    )
    .await;
    assert_eq!(
        huge.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        huge.body
    );
    let ok = operate(
        &app,
        &auth,
        case,
        "meter_reading",
        json!({"serial": serial, "date": next, "value": format!("{}", value + Money::from_kopiykas(350))}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.json()["facts"]["consumption"], "3.500", "{}", ok.body);
    let unknown = operate(
        &app,
        &auth,
        case,
        "meter_reading",
        json!({"serial": "NOPE", "date": next, "value": "1"}),
    )
    .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    app.finish().await;
}

async fn meter_seal_stop_credits_the_rest_of_the_month(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let month = months_back(1);
    let charge: Money = ledger(&app, &auth, "1000000001")
        .await
        .iter()
        .filter(|e| {
            e["kind"] == "charge" && e["service"] == "gas" && e["period"] == month.to_string()
        })
        .map(|e| money(&e["amount"]))
        .sum();
    assert!(charge > Money::ZERO);
    let seal = month.first_day() + Days::new(10);
    let case = open_case(&app, &auth, "1000000001", "gas-charges-stop-meter").await;
    let r = operate(
        &app,
        &auth,
        case,
        "meter_seal_stop",
        json!({"rule_set": "ua-zaporizhzhia-2023", "service": "gas", "serial": "GAS-1", "seal_date": seal.to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let e = &r.json()["entries"][0];
    // P × days from the seal day to the month's end / D, rounded half-up.
    let days = i64::from(month.days()) - 10;
    let exact = charge.kopiykas() * days;
    let d = i64::from(month.days());
    let expected = (exact * 2 + d) / (2 * d);
    assert_eq!(
        money(&e["amount"]),
        Money::from_kopiykas(-expected),
        "{}",
        r.body
    );
    let a = get(&app, "/api/v1/accounts/1000000001", &auth).await.json();
    assert!(
        a["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["service"] == "gas" && s["basis"] == "per_meter"),
        "{a}"
    );
    let r = operate(
        &app,
        &auth,
        case,
        "meter_seal_stop",
        json!({"rule_set": "ua-zaporizhzhia-2023", "service": "gas", "serial": "GAS-1", "seal_date": seal.to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    app.finish().await;
}

async fn restructuring_schedule_sums_to_the_debt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let owed = balance(&app, &auth, "1000000003").await;
    let case = open_case(&app, &auth, "1000000003", "debt-restructuring-agreement").await;
    let r = operate(
        &app,
        &auth,
        case,
        "restructuring",
        json!({"months": 7, "first_due": today().to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let schedule = r.json()["facts"]["schedule"].as_array().unwrap().clone();
    assert_eq!(schedule.len(), 7);
    let sum: Money = schedule.iter().map(|s| money(&s["amount"])).sum();
    assert_eq!(sum, owed, "{}", r.body);
    assert!(r.json()["document"]["number"].is_string());
    let r = operate(
        &app,
        &auth,
        case,
        "restructuring",
        json!({"months": 0, "first_due": today().to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let case = open_case(&app, &auth, "1000000005", "debt-restructuring-agreement").await;
    let r = operate(
        &app,
        &auth,
        case,
        "restructuring",
        json!({"months": 3, "first_due": today().to_string()}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no debt: {}",
        r.body
    );
    app.finish().await;
}

async fn quality_claim_act_and_consultations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let case = open_case(&app, &auth, "1000000002", "quality-check-procedure").await;
    let r = operate(
        &app,
        &auth,
        case,
        "quality_claim_act",
        json!({"service": "hot_water", "from": months_back(1).first_day().to_string(), "to": months_back(1).last_day().to_string(), "description": "Температура 38 °C"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let case = open_case(&app, &auth, "1000000001", "benefit-charges-explanation").await;
    let r = operate(&app, &auth, case, "consultation", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = &r.json()["facts"];
    assert!(
        !f["benefit_lines"].as_array().unwrap().is_empty(),
        "{}",
        r.body
    );
    assert!(
        f["benefit_lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["kind"] == "benefit")
    );
    // Only the facts of the topic: no tariffs for a benefit question.
    assert!(f.get("tariffs").is_none(), "{}", r.body);
    // After a recalculation, its explanation is what recalculation-explanation shows.
    let c2 = open_case(&app, &auth, "1000000001", "temporary-absence-recalculation").await;
    let r = operate(&app, &auth, c2, "temporary_absence", absence_params()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let c3 = open_case(&app, &auth, "1000000001", "recalculation-explanation").await;
    let r = operate(&app, &auth, c3, "consultation", json!({})).await;
    let adj = r.json()["facts"]["adjustments"].as_array().unwrap().clone();
    assert!(!adj.is_empty(), "{}", r.body);
    assert!(
        adj.iter().all(|a| a["explanation"].is_object()),
        "{}",
        r.body
    );
    app.finish().await;
}

async fn heat_allocation_posts_one_entry_per_premises(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let month = YearMonth::of(today()).to_string();
    let before1 = balance(&app, &auth, "1000000001").await;
    let before4 = balance(&app, &auth, "1000000004").await;
    let case = open_case(&app, &auth, "1000000001", "apartment-heat-calculation").await;
    let params = json!({"rule_set": "ua-zaporizhzhia-2023", "month": month, "heat_gcal": "3.2", "tariff_per_gcal": "3870.00"});
    let r = operate(&app, &auth, case, "heat_allocation", params.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let entries = r.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2, "two premises in the building: {}", r.body);
    let total: Money = entries.iter().map(|e| money(&e["amount"])).sum();
    assert_eq!(money(&r.json()["facts"]["total_charge"]), total);
    let after: Money =
        balance(&app, &auth, "1000000001").await + balance(&app, &auth, "1000000004").await;
    assert_eq!(after, before1 + before4 + total);
    let r = operate(&app, &auth, case, "heat_allocation", params).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    app.finish().await;
}

async fn specialists_see_their_cases_and_closed_cases_take_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s1 = staff_bearer(&app, "spec1", Role::Specialist).await;
    let s2 = staff_bearer(&app, "spec2", Role::Specialist).await;
    let sup = staff_bearer(&app, "super1", Role::Supervisor).await;
    let c1 = open_case(&app, &s1, "1000000001", "tariffs-info").await;
    let c2 = open_case(&app, &s2, "1000000002", "tariffs-info").await;
    let mine = get(&app, "/api/v1/cases", &s1).await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["id"], c1);
    let all = get(&app, "/api/v1/cases", &sup).await.json();
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let r = get(&app, &format!("/api/v1/cases/{c2}"), &s1).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = get(&app, &format!("/api/v1/cases/{c2}"), &sup).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/cases/{c1}/close"),
        json!({"outcome": "refused"}),
        &s1,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/cases/{c1}/close"),
        json!({"outcome": "done"}),
        &s1,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["status"], "closed");
    assert_eq!(r.json()["outcome"], "done");
    let actions: Vec<String> = r.json()["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, vec!["open", "close"], "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/cases/{c1}/close"),
        json!({"outcome": "done"}),
        &s1,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = operate(&app, &s1, c1, "consultation", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post(
        &app,
        &format!("/api/v1/cases/{c2}/close"),
        json!({"outcome": "referred", "reason": "до юриста"}),
        &s2,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["outcome_reason"], "до юриста");
    app.finish().await;
}

async fn bad_operations_are_refused_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let r = post(
        &app,
        "/api/v1/cases",
        json!({"account": "0000", "service": "tariffs-info"}),
        &auth,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "account", "{}", r.body);
    let r = post(
        &app,
        "/api/v1/cases",
        json!({"account": "1000000001", "service": "nope"}),
        &auth,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let case = open_case(&app, &auth, "1000000001", "temporary-absence-recalculation").await;
    let count = entry_count(&app).await;
    let r = operate(&app, &auth, case, "fly", json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = operate(
        &app,
        &auth,
        case,
        "temporary_absence",
        json!({"rule_set": 5}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut p = absence_params();
    p["rule_set"] = json!("no-such-rules");
    let r = operate(&app, &auth, case, "temporary_absence", p).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut p = absence_params();
    p["absence"]["ground"] = json!("holiday");
    let r = operate(&app, &auth, case, "temporary_absence", p).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // A short absence is refused with the reason, in English when asked.
    let mut p = absence_params();
    let from = months_back(3).first_day();
    p["absence"]["from"] = json!(from.to_string());
    p["absence"]["to"] = json!((from + Days::new(5)).to_string());
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/cases/{case}/operations"),
            &json!({"kind": "temporary_absence", "params": p}),
            &[("authorization", &auth), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("more than 30"),
        "{}",
        r.body
    );
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/cases/{case}/operations"),
            &json!({"kind": "temporary_absence", "params": absence_params()}),
            &[("authorization", &auth), ("idempotency-key", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = operate(&app, &auth, 999_999, "consultation", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(entry_count(&app).await, count);
    app.finish().await;
}
