//! The case module's operations end to end: the four added last (hot-water quality, sealed-meter
//! correction, account opening and split), every catalog service's procedure performed on the demo
//! accounts (table-driven), and random operation sequences through the store that keep the ledger
//! summing to the balance; on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Value, json};

use cherga::domain::account::{NewAccount, OwnerShare, Reading, Split};
use cherga::domain::ledger::Basis;
use cherga::domain::money::Money;
use cherga::domain::procedure::{self, Operation};
use cherga::domain::rules::RuleSetRegistry;
use cherga::domain::rules::calendar::YearMonth;
use cherga::domain::rules::grounds::Ground;
use cherga::domain::rules::services::Service;
use cherga::domain::staff::Role;
use cherga::error::AppError;
use cherga::store::case as store;
use cherga::store::staff::StaffUser;

use crate::case::{
    balance, entry_count, get, ledger, money, months_back, open_case, operate, post, staff_bearer,
    today,
};
use crate::on_both_databases;
use crate::support::{Backend, TestApp};

on_both_databases!(
    hot_water_quality_posts_what_the_calculator_computes,
    sealed_meter_fix_corrects_norm_charges_to_the_meter,
    account_opening_creates_the_account,
    account_split_moves_residents_area_and_services,
    every_service_performs_each_of_its_operations,
    random_operation_sequences_keep_the_ledger_balanced,
);

fn hour(day: NaiveDate, h: u32) -> String {
    format!("{day}T{h:02}:00")
}

/// Hours of poor hot water in `month`: 10 day hours at 54 °C, 4 night hours at 49 °C, 5 hours below
/// 40 °C, 3 hours of low pressure, and one hour at 54 °C on the first day, before the violation was
/// registered (it must not count).
fn quality_readings(month: YearMonth) -> (Vec<Value>, Value) {
    let d = |n: u64| month.first_day() + Days::new(n);
    let mut counted = Vec::new();
    for h in 10..20 {
        counted.push(json!({"hour": hour(d(1), h), "temperature_c": "54"}));
    }
    for h in 1..5 {
        counted.push(json!({"hour": hour(d(2), h), "temperature_c": 49}));
    }
    for h in 12..17 {
        counted.push(json!({"hour": hour(d(3), h), "temperature_c": "35.5"}));
    }
    for h in 9..12 {
        counted.push(json!({"hour": hour(d(4), h), "pressure_mpa": "0.025"}));
    }
    let early = json!({"hour": hour(d(0), 12), "temperature_c": "54"});
    (counted, early)
}

fn quality_params(month: YearMonth) -> Value {
    let (mut readings, early) = quality_readings(month);
    readings.insert(0, early);
    let d5 = month.first_day() + Days::new(5);
    json!({
        "month": month.to_string(),
        "readings": readings,
        "interruptions": [{"start": hour(d5, 6), "end": hour(d5, 12), "kind": "accident"}],
        "registered_at": hour(month.first_day() + Days::new(1), 8),
        "restored_at": hour(month.first_day() + Days::new(20), 8),
        "signatories": ["Інспектор Коваль", "Мешканець Сидоренко"],
    })
}

async fn hot_water_quality_posts_what_the_calculator_computes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let number = "1000000002";
    let month = months_back(2);
    let before = balance(&app, &auth, number).await;
    let charge: Money = ledger(&app, &auth, number)
        .await
        .iter()
        .filter(|e| {
            e["kind"] == "charge" && e["service"] == "hot_water" && e["period"] == month.to_string()
        })
        .map(|e| money(&e["amount"]))
        .sum();
    assert!(charge > Money::ZERO);
    let case = open_case(&app, &auth, number, "quality-check-procedure").await;
    let r = operate(
        &app,
        &auth,
        case,
        "hot_water_quality",
        quality_params(month),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = r.json();
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", r.body);
    let e = &entries[0];
    assert_eq!(e["kind"], "adjustment");
    assert_eq!(e["service"], "hot_water");
    assert_eq!(e["period"], month.to_string());
    assert_eq!(e["rule_set"], "ru-354");
    assert_eq!(e["rule_set_version"], 1, "{}", r.body);
    let facts = &body["facts"];
    assert_eq!(money(&facts["charge"]), charge, "the ledger's own charge");

    // The calculator, given the same charge, tariffs, volume and the counted hours, says the same.
    let (counted, _) = quality_readings(month);
    let d5 = month.first_day() + Days::new(5);
    let calc = app
        .json(
            axum::http::Method::POST,
            "/api/v1/calculators/hot-water-quality",
            &json!({
                "rule_set": "ru-354",
                "month": month.to_string(),
                "charge": facts["charge"],
                "hot_tariff": facts["hot_tariff"],
                "cold_tariff": facts["cold_tariff"],
                "volume_m3": facts["volume_m3"],
                "readings": counted,
                "interruptions": [{"start": hour(d5, 6), "end": hour(d5, 12), "kind": "accident"}],
            }),
            &[],
        )
        .await;
    assert_eq!(calc.status, StatusCode::OK, "{}", calc.body);
    let total = money(&calc.json()["total"]);
    assert!(total > Money::ZERO);
    assert_eq!(
        money(&e["amount"]),
        Money::ZERO - total,
        "{} / {}",
        r.body,
        calc.body
    );
    // The hour before the registration would have added to the temperature line.
    let mut with_early = quality_params(month);
    with_early["registered_at"] = json!(null);
    let calc_all = app
        .json(
            axum::http::Method::POST,
            "/api/v1/calculators/hot-water-quality",
            &json!({
                "rule_set": "ru-354", "month": month.to_string(), "charge": facts["charge"],
                "hot_tariff": facts["hot_tariff"], "cold_tariff": facts["cold_tariff"],
                "volume_m3": facts["volume_m3"], "readings": with_early["readings"],
                "interruptions": with_early["interruptions"],
            }),
            &[],
        )
        .await;
    assert!(
        money(&calc_all.json()["total"]) > total,
        "{}",
        calc_all.body
    );
    assert_eq!(balance(&app, &auth, number).await, before - total);

    // The statement prints the amount and the act's signatories.
    let doc = &body["document"];
    let page = app
        .get_with(doc["url"].as_str().unwrap(), &[("authorization", &auth)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&total.to_string()), "{}", page.body);
    assert!(page.body.contains("Інспектор Коваль"), "{}", page.body);

    // The same month cannot be recalculated twice, by this case or another.
    let count = entry_count(&app).await;
    let r = operate(
        &app,
        &auth,
        case,
        "hot_water_quality",
        quality_params(month),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let other = open_case(&app, &auth, number, "quality-check-procedure").await;
    let r = operate(
        &app,
        &auth,
        other,
        "hot_water_quality",
        quality_params(month),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Normal water is refused with a reason; a month without a hot-water charge too.
    let r = operate(
        &app,
        &auth,
        other,
        "hot_water_quality",
        json!({"month": months_back(3).to_string(), "readings": [{"hour": hour(months_back(3).first_day(), 12), "temperature_c": 65}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = operate(
        &app,
        &auth,
        other,
        "hot_water_quality",
        json!({"month": "2001-01", "readings": []}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "month", "{}", r.body);
    let r = operate(
        &app,
        &auth,
        other,
        "hot_water_quality",
        json!({"month": month.to_string(), "readings": [{"hour": "noon"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.json()["fields"][0]["field"],
        "readings[0].hour",
        "{}",
        r.body
    );
    assert_eq!(entry_count(&app).await, count);
    app.finish().await;
}

/// Account …05 is charged cold water by the norm; its meter was sealed three months ago.
fn sealed_fix_params() -> Value {
    let seal = months_back(3).first_day() + Days::new(10);
    json!({
        "rule_set": "ua-zaporizhzhia-2023",
        "service": "cold_water",
        "serial": "ХВ-777",
        "seal_date": seal.to_string(),
        "readings": [
            {"date": seal.to_string(), "value": "10.000"},
            {"date": months_back(3).last_day().to_string(), "value": "14.000"},
            {"date": months_back(2).last_day().to_string(), "value": "20.500"},
            {"date": months_back(1).last_day().to_string(), "value": "26.000"},
        ],
    })
}

async fn sealed_meter_fix_corrects_norm_charges_to_the_meter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let number = "1000000005";
    let before = balance(&app, &auth, number).await;
    let entries = ledger(&app, &auth, number).await;
    let charge = |m: YearMonth| -> Money {
        entries
            .iter()
            .filter(|e| {
                e["kind"] == "charge"
                    && e["service"] == "cold_water"
                    && e["period"] == m.to_string()
            })
            .map(|e| money(&e["amount"]))
            .sum()
    };
    let case = open_case(&app, &auth, number, "sealed-meter-invoice-fix").await;
    let r = operate(&app, &auth, case, "sealed_meter_fix", sealed_fix_params()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = r.json();
    let posted = body["entries"].as_array().unwrap();
    // The seal month's credit, its metered part, and the two later months.
    assert_eq!(posted.len(), 4, "{}", r.body);
    let s = months_back(3);
    let p = charge(s);
    let d = i64::from(s.days());
    let days = d - 11 + 1;
    let credit = (p.kopiykas() * days * 2 + d) / (2 * d);
    assert_eq!(posted[0]["kind"], "adjustment");
    assert_eq!(
        money(&posted[0]["amount"]),
        Money::from_kopiykas(-credit),
        "{}",
        r.body
    );
    // 32.50 a m³ since the tariff rise three months ago.
    let price = 3_250;
    assert_eq!(posted[1]["kind"], "correction");
    assert_eq!(money(&posted[1]["amount"]), Money::from_kopiykas(4 * price));
    let m2 = months_back(2);
    assert_eq!(posted[2]["period"], m2.to_string());
    assert_eq!(
        money(&posted[2]["amount"]),
        Money::from_kopiykas(6 * price + price / 2) - charge(m2),
        "{}",
        r.body
    );
    assert_eq!(
        money(&posted[3]["amount"]),
        Money::from_kopiykas(55 * price / 10) - charge(months_back(1)),
    );
    assert!(
        posted
            .iter()
            .all(|e| e["rule_set"] == "ua-zaporizhzhia-2023" && e["case"] == case)
    );
    let total: Money = posted.iter().map(|e| money(&e["amount"])).sum();
    assert_eq!(balance(&app, &auth, number).await, before + total);
    assert!(body["document"]["number"].is_string(), "{}", r.body);
    // From now on charged by the meter, which is on the account with its readings.
    let a = get(&app, &format!("/api/v1/accounts/{number}"), &auth)
        .await
        .json();
    assert!(
        a["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["service"] == "cold_water" && s["basis"] == "per_meter"),
        "{a}"
    );
    assert!(
        a["meters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["serial"] == "ХВ-777" && m["last_reading"][1] == "26.000"),
        "{a}"
    );
    // Replayed, nothing more is posted.
    let count = entry_count(&app).await;
    let r = operate(&app, &auth, case, "sealed_meter_fix", sealed_fix_params()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // A reading lower than the one before is refused by name.
    let mut bad = sealed_fix_params();
    bad["readings"] = json!([{"date": today().to_string(), "value": "1.000"}]);
    let r = operate(&app, &auth, case, "sealed_meter_fix", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "readings[0]", "{}", r.body);
    let mut other = sealed_fix_params();
    other["serial"] = json!("NEW-1");
    other["seal_date"] = json!(null);
    let r = operate(&app, &auth, case, "sealed_meter_fix", other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "seal_date", "{}", r.body);
    assert_eq!(entry_count(&app).await, count);
    app.finish().await;
}

fn opening_params(number: &str) -> Value {
    json!({
        "number": number,
        "address": "вул. Прикладна, 12, кв. 9",
        "building": "вул. Прикладна, 12",
        "total_area": "61.20",
        "heated_area": "58.00",
        "residents": 2,
        "owners": [{"name": "Коваленко Олена", "share": "2/3"}, {"name": "Коваленко Андрій", "share": "1/3"}],
        "services": [
            {"service": "cold_water", "basis": "per_person"},
            {"service": "gas", "basis": "per_meter"},
            {"service": "maintenance", "basis": "per_area"},
        ],
        "meters": [{"service": "gas", "serial": "ГАЗ-9", "sealed_on": months_back(1).first_day().to_string(), "value": "0.000"}],
    })
}

async fn account_opening_creates_the_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let admin = app.admin_bearer().await;
    let count = entry_count(&app).await;
    // why: the case is opened on the originating account (here the building's other premises) and
    // the new account's number is the operation's parameter.
    let case = open_case(&app, &auth, "1000000002", "account-opening").await;
    let r = operate(
        &app,
        &auth,
        case,
        "account_opening",
        opening_params("1000000021"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = r.json();
    assert_eq!(body["facts"]["account"], "1000000021", "{}", r.body);
    assert!(body["entries"].as_array().unwrap().is_empty());
    assert_eq!(entry_count(&app).await, count, "opening posts nothing");
    let a = get(&app, "/api/v1/accounts/1000000021", &auth).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = a.json();
    assert_eq!(a["total_area"], "61.20");
    assert_eq!(a["registered_residents"], 2);
    assert_eq!(a["building"], "вул. Прикладна, 12");
    assert_eq!(a["owners"][0]["share"], "2/3", "{a}");
    assert_eq!(a["services"].as_array().unwrap().len(), 3, "{a}");
    assert_eq!(a["meters"][0]["last_reading"][1], "0.000", "{a}");
    assert_eq!(a["balance"], "0.00");
    // The document is the new account's; the case's trail records the opening.
    let page = app
        .get_with(
            body["document"]["url"].as_str().unwrap(),
            &[("authorization", &auth)],
        )
        .await;
    assert!(page.body.contains("1000000021"), "{}", page.body);
    let c = get(&app, &format!("/api/v1/cases/{case}"), &auth)
        .await
        .json();
    let trail: Vec<String> = c["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["action"].as_str().unwrap(),
                a["detail"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        trail
            .iter()
            .any(|t| t.starts_with("account_opened account 1000000021")),
        "{trail:?}"
    );
    // The next charge run charges it.
    let r = post(
        &app,
        "/api/v1/charge-runs",
        json!({"month": YearMonth::of(today()).to_string()}),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(
        ledger(&app, &auth, "1000000021")
            .await
            .iter()
            .any(|e| e["kind"] == "charge" && e["service"] == "maintenance")
    );
    balance(&app, &auth, "1000000021").await;
    // A taken number is a conflict; a malformed one, bad shares, a metered service without a
    // meter are named.
    let r = operate(
        &app,
        &auth,
        case,
        "account_opening",
        opening_params("1000000001"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let mut bad = opening_params("12ab");
    bad["owners"] = json!([{"name": "X", "share": "1/2"}]);
    bad["meters"] = json!([]);
    let r = operate(&app, &auth, case, "account_opening", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields: Vec<String> = r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        vec!["number", "owners", "services[1].basis"],
        "{}",
        r.body
    );
    let mut bad = opening_params("1000000022");
    bad["building"] = json!("вул. Неіснуюча, 1");
    let r = operate(&app, &auth, case, "account_opening", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = get(&app, "/api/v1/accounts/1000000022", &auth).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "nothing half-made: {}",
        r.body
    );
    app.finish().await;
}

fn split_params() -> Value {
    json!({
        "number": "1000000031",
        "address": "вул. Прикладна, 10, кв. 5а",
        "residents": 1,
        "total_area": "20.00",
        "heated_area": "18.00",
        "owners": [{"name": "Іваненко Ольга Петрівна", "share": "1/1"}],
        "remaining_owners": [{"name": "Іваненко Петро Васильович", "share": "1/1"}],
        "services": ["waste", "maintenance", "electricity"],
        "moved": ["electricity"],
    })
}

async fn account_split_moves_residents_area_and_services(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let old = get(&app, "/api/v1/accounts/1000000001", &auth).await.json();
    let old_balance = balance(&app, &auth, "1000000001").await;
    let count = entry_count(&app).await;
    let case = open_case(&app, &auth, "1000000001", "account-split").await;
    // A metered service can only move with its meter.
    let mut kept = split_params();
    kept["moved"] = json!([]);
    let r = operate(&app, &auth, case, "account_split", kept).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["fields"][0]["field"], "services[2]", "{}", r.body);
    let r = operate(&app, &auth, case, "account_split", split_params()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.json()["entries"].as_array().unwrap().is_empty());
    assert_eq!(entry_count(&app).await, count, "nothing retroactive");
    assert_eq!(balance(&app, &auth, "1000000001").await, old_balance);
    let a = get(&app, "/api/v1/accounts/1000000001", &auth).await.json();
    let n = get(&app, "/api/v1/accounts/1000000031", &auth).await.json();
    assert_eq!(
        a["registered_residents"].as_i64().unwrap() + 1,
        old["registered_residents"].as_i64().unwrap()
    );
    assert_eq!(old["total_area"], "54.30");
    assert_eq!(a["total_area"], "34.30", "{a}");
    assert_eq!(n["total_area"], "20.00");
    assert_eq!(n["registered_residents"], 1);
    assert_eq!(a["owner"], "Іваненко Петро Васильович");
    assert_eq!(n["owners"][0]["name"], "Іваненко Ольга Петрівна");
    assert_eq!(n["building"], old["building"]);
    let services = |x: &Value| -> BTreeSet<String> {
        x["services"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["active"] == true)
            .map(|s| s["service"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!services(&a).contains("electricity"), "{a}");
    assert!(services(&a).contains("waste"), "{a}");
    assert_eq!(services(&n).len(), 3, "{n}");
    assert_eq!(n["meters"][0]["service"], "electricity", "{n}");
    assert!(a["meters"].as_array().unwrap().is_empty(), "{a}");
    // Both accounts are in the case's trail.
    let c = get(&app, &format!("/api/v1/cases/{case}"), &auth)
        .await
        .json();
    let details: Vec<&str> = c["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["detail"].as_str().unwrap())
        .collect();
    assert!(
        details.iter().any(|d| d.starts_with("account 1000000001:")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("account 1000000031 split from 1000000001")),
        "{details:?}"
    );
    // More residents than the account has, or all of its area, are refused.
    let mut bad = split_params();
    bad["number"] = json!("1000000032");
    bad["residents"] = json!(9);
    bad["total_area"] = json!("34.30");
    let r = operate(&app, &auth, case, "account_split", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let mut again = split_params();
    again["services"] = json!(["waste"]);
    again["moved"] = json!([]);
    let r = operate(&app, &auth, case, "account_split", again).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "the number is taken now: {}",
        r.body
    );
    app.finish().await;
}

// ---- every procedure -----------------------------------------------------------------------------

/// The demo account a case of `code` is opened on.
fn account_for(code: &str) -> &'static str {
    match code {
        "payment-search" | "no-debt-certificate" | "sealed-meter-invoice-fix" => "1000000005",
        "electricity-charges-stop-meter"
        | "debt-period-and-amount"
        | "debt-settlement-advice"
        | "debt-restructuring-agreement"
        | "instalment-agreement-pending-case"
        | "instalment-agreement-court-order" => "1000000003",
        "temporary-absence-recalculation"
        | "quality-check-procedure"
        | "area-change"
        | "account-opening" => "1000000002",
        "meter-readings" | "owner-change" => "1000000004",
        _ => "1000000001",
    }
}

/// Valid parameters of `kind` in a case of `code`.
async fn params_for(app: &TestApp, auth: &str, code: &str, kind: &str) -> Value {
    match kind {
        "temporary_absence" => crate::case::absence_params(),
        "payment_search" => json!({"payer": "Сидоренко"}),
        "attach_payment" => {
            let id = ledger(app, auth, "1000000002")
                .await
                .iter()
                .find(|e| e["kind"] == "payment")
                .and_then(|e| e["id"].as_i64())
                .expect("a payment");
            json!({"payment_id": id})
        }
        "invoice_duplicate" => json!({"month": months_back(2).to_string()}),
        "area_change" => {
            json!({"from": months_back(2).to_string(), "total_area": "60.00", "heated_area": "50.00"})
        }
        "owner_change" => {
            json!({"owners": [{"name": "Бондар Марія", "share": "1/2"}, {"name": "Бондар Іван", "share": "1/2"}]})
        }
        "meter_reading" => {
            let a = get(app, "/api/v1/accounts/1000000004", auth).await.json();
            let m = &a["meters"][0];
            let last: rust_decimal::Decimal =
                m["last_reading"][1].as_str().unwrap().parse().unwrap();
            json!({"serial": m["serial"], "date": today().to_string(), "value": (last + rust_decimal::Decimal::ONE).to_string()})
        }
        "meter_seal_stop" => {
            let service = if code.starts_with("gas") {
                "gas"
            } else {
                "electricity"
            };
            json!({"rule_set": "ua-zaporizhzhia-2023", "service": service, "serial": format!("SEAL-{service}"),
                   "seal_date": (months_back(1).first_day() + Days::new(10)).to_string()})
        }
        "sealed_meter_fix" => sealed_fix_params(),
        "hot_water_quality" => quality_params(months_back(2)),
        "heat_allocation" => {
            json!({"rule_set": "ua-zaporizhzhia-2023", "month": YearMonth::of(today()).to_string(), "heat_gcal": "3.2", "tariff_per_gcal": "3870.00"})
        }
        "restructuring" => json!({"months": 6, "first_due": (today() + Days::new(30)).to_string()}),
        "quality_claim_act" => {
            json!({"service": "hot_water", "from": months_back(1).first_day().to_string(),
                                      "to": (months_back(1).first_day() + Days::new(3)).to_string(), "description": "Вода ледь тепла"})
        }
        "account_opening" => opening_params("1000000041"),
        "account_split" => split_params(),
        _ => json!({}),
    }
}

/// What an operation must leave behind.
fn posts(kind: &str) -> bool {
    matches!(
        kind,
        "temporary_absence"
            | "attach_payment"
            | "area_change"
            | "meter_seal_stop"
            | "sealed_meter_fix"
            | "hot_water_quality"
            | "heat_allocation"
    )
}

fn prints(kind: &str) -> bool {
    matches!(
        kind,
        "temporary_absence"
            | "invoice_duplicate"
            | "debt"
            | "no_debt_certificate"
            | "certificate_f2"
            | "benefit_use_certificate"
            | "restructuring"
            | "quality_claim_act"
            | "sealed_meter_fix"
            | "hot_water_quality"
            | "account_opening"
            | "account_split"
    )
}

async fn every_service_performs_each_of_its_operations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let procedures = procedure::bundled();
    assert_eq!(procedures.procedures.len(), 34);
    let mut kinds_done = BTreeSet::new();
    for p in &procedures.procedures {
        let number = account_for(&p.code);
        let case = open_case(&app, &auth, number, &p.code).await;
        for op in &p.operations {
            let kind = op.code();
            let params = params_for(&app, &auth, &p.code, kind).await;
            let count = entry_count(&app).await;
            let r = operate(&app, &auth, case, kind, params).await;
            assert_eq!(
                r.status,
                StatusCode::CREATED,
                "{} {kind}: {}",
                p.code,
                r.body
            );
            let body = r.json();
            assert_eq!(body["kind"], kind);
            let entries = body["entries"].as_array().unwrap();
            assert_eq!(
                entry_count(&app).await,
                count + entries.len() as u64,
                "{} {kind}: the entries returned are the ones posted",
                p.code
            );
            assert!(entries.iter().all(|e| e["case"] == case), "{}", r.body);
            assert_eq!(
                posts(kind),
                !entries.is_empty(),
                "{} {kind}: {}",
                p.code,
                r.body
            );
            if prints(kind) {
                let n = body["document"]["number"].as_str().unwrap_or_default();
                assert!(
                    n.ends_with(&format!("/{}", today().year())),
                    "{} {kind}: {}",
                    p.code,
                    r.body
                );
                let page = app
                    .get_with(
                        body["document"]["url"].as_str().unwrap(),
                        &[("authorization", &auth)],
                    )
                    .await;
                assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            } else {
                assert!(body["document"].is_null(), "{} {kind}: {}", p.code, r.body);
            }
            if !posts(kind) && !prints(kind) {
                assert!(
                    !body["facts"].is_null(),
                    "{} {kind}: the facts shown: {}",
                    p.code,
                    r.body
                );
            }
            // Every account touched still sums to its balance.
            let mut touched: BTreeSet<String> = BTreeSet::from([number.to_string()]);
            if let Some(a) = body["facts"]["account"].as_str() {
                touched.insert(a.to_string());
            }
            if kind == "attach_payment" || kind == "heat_allocation" {
                touched.extend(["1000000002".to_string(), "1000000004".to_string()]);
            }
            for a in &touched {
                balance(&app, &auth, a).await;
            }
            kinds_done.insert(kind.to_string());
        }
        let r = post(
            &app,
            &format!("/api/v1/cases/{case}/close"),
            json!({"outcome": "done"}),
            &auth,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(kinds_done.len(), 20, "every operation kind: {kinds_done:?}");
    app.finish().await;
}

// ---- random sequences through the store ---------------------------------------------------------

/// A small deterministic generator (xorshift64*), so a failing seed replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const ACCOUNTS: [&str; 5] = [
    "1000000001",
    "1000000002",
    "1000000003",
    "1000000004",
    "1000000005",
];

async fn check_all_balanced(app: &TestApp, step: &str) {
    for a in store::find_accounts(&app.db, Some("1"), None, None)
        .await
        .expect("accounts")
    {
        let acc = store::find_account(&app.db, &a.number)
            .await
            .expect("account")
            .expect("exists");
        let entries = store::list_entries(&app.db, &a.number, None, None)
            .await
            .expect("entries")
            .expect("exists");
        let sum: Money = entries.iter().map(|e| e.amount).sum();
        assert_eq!(acc.balance, sum, "{step}: account {}", a.number);
        let debt: Money = acc.debt.iter().map(|d| d.amount).sum();
        if acc.balance > Money::ZERO {
            assert!(
                debt > Money::ZERO && debt <= acc.balance,
                "{step}: {}",
                a.number
            );
        } else {
            assert_eq!(debt, Money::ZERO, "{step}: {}", a.number);
        }
    }
}

fn random_operation(rng: &mut Rng, step: u64) -> (&'static str, Operation) {
    let month = months_back(1 + rng.below(5) as u32);
    let day =
        |m: YearMonth, rng: &mut Rng| m.first_day() + Days::new(rng.below(u64::from(m.days())));
    match rng.below(8) {
        0 => {
            let total = 300_000 + 10_000 * rng.below(40) as i64;
            (
                "area-change",
                Operation::AreaChange {
                    from: month,
                    total_area_cm2: total,
                    heated_area_cm2: total - 10_000 * rng.below(10) as i64,
                },
            )
        }
        1 => {
            let from = month.first_day();
            let to = from + Days::new(30 + rng.below(40));
            (
                "temporary-absence-recalculation",
                Operation::TemporaryAbsence {
                    rule_set: "ua-zaporizhzhia-2023".into(),
                    application_date: to + Days::new(2),
                    from,
                    to,
                    ground: Ground::Abroad,
                    certificate_issued: Some(to + Days::new(1)),
                    absent_persons: 1,
                    documents: vec![
                        "application".into(),
                        "passports".into(),
                        "foreign_passport".into(),
                    ],
                },
            )
        }
        2 => (
            "gas-charges-stop-meter",
            Operation::MeterSealStop {
                rule_set: "ua-zaporizhzhia-2023".into(),
                service: *rng.pick(&[Service::Gas, Service::Electricity, Service::ColdWater]),
                serial: format!("R-{step}"),
                seal_date: day(month, rng),
            },
        ),
        3 => (
            "apartment-heat-calculation",
            Operation::HeatAllocation {
                rule_set: "ua-zaporizhzhia-2023".into(),
                month: YearMonth::of(today()),
                heat_gcal: rust_decimal::Decimal::new(10 + rng.below(50) as i64, 1),
                tariff_per_gcal: Money::from_kopiykas(387_000),
            },
        ),
        4 => {
            let seal = day(month, rng);
            let mut v = 1_000 * rng.below(100) as i64;
            let mut readings = vec![Reading {
                on: seal,
                value_milli: v,
            }];
            let mut m = month;
            while m < YearMonth::of(today()) {
                v += 1_000 * (1 + rng.below(20) as i64);
                readings.push(Reading {
                    on: m.last_day(),
                    value_milli: v,
                });
                m = m.next();
            }
            (
                "sealed-meter-invoice-fix",
                Operation::SealedMeterFix {
                    rule_set: "ua-zaporizhzhia-2023".into(),
                    service: *rng.pick(&[Service::ColdWater, Service::Gas, Service::HotWater]),
                    serial: format!("F-{step}"),
                    seal_date: Some(seal),
                    readings,
                },
            )
        }
        5 => (
            "quality-check-procedure",
            Operation::HotWaterQuality {
                rule_set: "ru-354".into(),
                month,
                readings: (0..1 + rng.below(30))
                    .map(|h| cherga::domain::rules::hot_water::Reading {
                        hour: (month.first_day() + Days::new(h / 24))
                            .and_hms_opt((h % 24) as u32, 0, 0)
                            .expect("hour"),
                        temperature_c: Some(rust_decimal::Decimal::from(30 + rng.below(25))),
                        pressure_mpa: None,
                    })
                    .collect(),
                interruptions: Vec::new(),
                registered_at: None,
                restored_at: None,
                signatories: Vec::new(),
            },
        ),
        6 => (
            "account-opening",
            Operation::AccountOpening(NewAccount {
                number: format!("20000{:05}", step),
                address: format!("вул. Випадкова, {step}"),
                building: None,
                total_area_cm2: 400_000,
                heated_area_cm2: 400_000,
                residents: 1 + rng.below(4) as u32,
                owners: vec![OwnerShare {
                    name: "Випадковий Власник".into(),
                    numerator: 1,
                    denominator: 1,
                }],
                services: vec![
                    (Service::ColdWater, Basis::PerPerson),
                    (Service::Maintenance, Basis::PerArea),
                ],
                meters: Vec::new(),
            }),
        ),
        _ => (
            "account-split",
            Operation::AccountSplit(Split {
                number: format!("30000{:05}", step),
                address: format!("кв. {step}а"),
                residents: rng.below(2) as u32,
                total_area_cm2: 10_000 * (1 + rng.below(10) as i64),
                heated_area_cm2: 0,
                owners: vec![OwnerShare {
                    name: "Новий Власник".into(),
                    numerator: 1,
                    denominator: 1,
                }],
                remaining_owners: vec![OwnerShare {
                    name: "Старий Власник".into(),
                    numerator: 1,
                    denominator: 1,
                }],
                services: vec![Service::Maintenance],
                moved: Vec::new(),
            }),
        ),
    }
}

async fn random_operation_sequences_keep_the_ledger_balanced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let staff: StaffUser = cherga::store::staff::create_user(
        &app.db,
        "spec1",
        "spec1",
        Role::Specialist,
        "pw-1234567",
    )
    .await
    .expect("user");
    let rules = RuleSetRegistry::embedded().expect("rules");
    let procedures = procedure::bundled();
    check_all_balanced(&app, "demo").await;
    let mut done = 0;
    for seed in [7u64, 1_234_567, 0xDEAD_BEEF] {
        let mut rng = Rng(seed);
        for step in 0..12 {
            let number = *rng.pick(&ACCOUNTS);
            let label = format!("seed {seed} step {step}");
            let what = rng.below(10);
            let result = if what == 0 {
                // A payment of a random amount.
                let acc = store::find_account(&app.db, number).await.unwrap().unwrap();
                store::post_entry(
                    &app.db,
                    store::NewEntry {
                        account_id: acc.id,
                        period: YearMonth::of(today()).to_string(),
                        kind: "payment",
                        amount_kop: -(1 + rng.below(500_000) as i64),
                        payer: Some("Платник".into()),
                        paid_on: Some(today()),
                        ..Default::default()
                    },
                )
                .await
                .map(|_| ())
            } else if what == 1 {
                let month = YearMonth::of(today() - Days::new(40 * rng.below(2)));
                store::charge_run(&app.db, month, 2).await.map(|_| ())
            } else {
                let (service, op) = random_operation(&mut rng, seed % 1000 * 100 + step);
                let case = store::open_case(
                    &app.db,
                    procedures,
                    &staff,
                    store::OpenCase {
                        account: number,
                        service,
                        ticket: None,
                        booking: None,
                        notes: "",
                    },
                )
                .await
                .expect("case");
                store::perform(&app.db, &rules, procedures, &staff, case.id, op, None)
                    .await
                    .map(|_| ())
            };
            match result {
                Ok(()) => done += 1,
                // A refusal (already posted, not eligible, nothing to correct) is fine; a fault is not.
                Err(AppError::Conflict(_) | AppError::Invalid { .. }) => {}
                Err(e) => panic!("{label}: {e:?}"),
            }
            check_all_balanced(&app, &label).await;
        }
    }
    assert!(done >= 10, "enough steps did something: {done}");
    app.finish().await;
}
