//! The case module's guarantees under repetition and concurrency: an absence overlapping one
//! already recalculated credits each day once, operations that touch other accounts lock them
//! all, an idempotency key answers only its own request, and documents of one office get
//! distinct numbers; on SQLite and PostgreSQL.

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

use crate::case::{
    balance, entry_count, get, ledger, money, months_back, open_case, operate, staff_bearer, today,
};
use crate::on_both_databases;
use crate::support::{Backend, Reply, TestApp, count, exec};

on_both_databases!(
    a_shifted_absence_credits_only_the_days_not_yet_credited,
    shifted_absences_at_once_credit_each_day_once,
    multi_account_operations_lock_every_account,
    an_idempotency_key_answers_only_its_own_request,
    twenty_certificates_at_once_get_twenty_numbers,
);

const ACCOUNT: &str = "1000000001";
const DOCS: [&str; 3] = ["application", "passports", "foreign_passport"];

/// A documented absence abroad of one person, `from`–`to`, applied for three days after it.
fn absence(from: NaiveDate, to: NaiveDate) -> Value {
    json!({
        "rule_set": "ua-zaporizhzhia-2023",
        "application_date": (to + Days::new(3)).to_string(),
        "absence": {"from": from.to_string(), "to": to.to_string(), "ground": "abroad"},
        "certificate_issued": (to + Days::new(1)).to_string(),
        "absent_persons": 1,
        "documents": DOCS,
    })
}

/// The first absence: the whole month four months back and half of the next.
fn first_range() -> (NaiveDate, NaiveDate) {
    (
        months_back(4).first_day(),
        months_back(3).first_day() + Days::new(14),
    )
}

/// The second, shifted one: from the 21st of that month to the 25th of the next.
fn shifted_range() -> (NaiveDate, NaiveDate) {
    (
        months_back(4).first_day() + Days::new(20),
        months_back(3).first_day() + Days::new(24),
    )
}

/// The account's charges of the two months, per service, as the store sees them.
async fn charges(app: &TestApp, auth: &str) -> Vec<Charge> {
    let account = get(app, &format!("/api/v1/accounts/{ACCOUNT}"), auth)
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
    for e in ledger(app, auth, ACCOUNT).await {
        let p = e["period"].as_str().unwrap().to_string();
        if e["kind"] == "charge" && (p == m1 || p == m2) {
            let slot = sums
                .entry((p, e["service"].as_str().unwrap().to_string()))
                .or_default();
            *slot = *slot + money(&e["amount"]);
        }
    }
    sums.iter()
        .map(|((p, s), m)| Charge {
            month: YearMonth::parse(p).unwrap(),
            service: Service::parse(s).unwrap(),
            amount: *m,
            metered: !norm.contains(s),
        })
        .collect()
}

/// What one absence `from`–`to` alone reduces, per (month, service).
fn reduction(
    charges: &[Charge],
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<(String, String), Money> {
    let registry = RuleSetRegistry::embedded().unwrap();
    let r = absence::calculate(
        registry.get("ua-zaporizhzhia-2023").unwrap(),
        &AbsenceInput {
            application_date: to + Days::new(3),
            from,
            to,
            ground: Ground::Abroad,
            certificate_issued: Some(to + Days::new(1)),
            documents_seen: Some(DOCS.iter().map(|d| d.to_string()).collect()),
            registered_persons: 3,
            absent_persons: 1,
            charges: charges.to_vec(),
        },
    )
    .unwrap();
    assert!(r.eligible, "{:?}", r.reasons);
    r.lines
        .iter()
        .filter(|l| l.amount > Money::ZERO)
        .map(|l| ((l.month.to_string(), l.service.id().to_string()), l.amount))
        .collect()
}

/// The credits an operation's reply posted, per (month, service), as positive amounts.
fn credits(r: &Reply) -> BTreeMap<(String, String), Money> {
    let mut out = BTreeMap::new();
    for e in r.json()["entries"].as_array().unwrap() {
        assert_eq!(e["kind"], "adjustment", "{}", r.body);
        let slot: &mut Money = out
            .entry((
                e["period"].as_str().unwrap().to_string(),
                e["service"].as_str().unwrap().to_string(),
            ))
            .or_default();
        *slot = *slot + (Money::ZERO - money(&e["amount"]));
    }
    out
}

async fn a_shifted_absence_credits_only_the_days_not_yet_credited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let charges = charges(&app, &auth).await;
    let c1 = open_case(&app, &auth, ACCOUNT, "temporary-absence-recalculation").await;
    let c2 = open_case(&app, &auth, ACCOUNT, "temporary-absence-recalculation").await;
    let c3 = open_case(&app, &auth, ACCOUNT, "temporary-absence-recalculation").await;
    let (f1, t1) = first_range();
    let (f2, t2) = shifted_range();
    let r = operate(&app, &auth, c1, "temporary_absence", absence(f1, t1)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(credits(&r), reduction(&charges, f1, t1));

    // The shifted absence reduces only the days after the first one: the 16th to the 25th of
    // the later month; its earlier month was wholly reduced already.
    let before = entry_count(&app).await;
    let r = operate(&app, &auth, c2, "temporary_absence", absence(f2, t2)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = credits(&r);
    let m3 = months_back(3);
    assert!(!second.is_empty(), "{}", r.body);
    assert!(
        second.keys().all(|(p, _)| *p == m3.to_string()),
        "only the later month: {}",
        r.body
    );
    // Each later-month line reduces the 10 new days (16th–25th) alone: charge × 1/3 × 10/D,
    // rounded half-up (those days alone would be too short an absence to ask the calculator).
    let d = m3.days();
    for ((p, s), amount) in &second {
        let charge = charges
            .iter()
            .find(|c| c.month.to_string() == *p && c.service.id() == s)
            .unwrap()
            .amount;
        let exact = charge.to_decimal() * rust_decimal::Decimal::from(10)
            / (rust_decimal::Decimal::from(3) * rust_decimal::Decimal::from(d));
        let expected = Money::reduction_capped(exact, charge);
        assert_eq!(*amount, expected, "{p} {s}: {}", r.body);
    }
    let explanations: Vec<String> = r.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["explanation"].as_str().unwrap().to_string())
        .collect();
    assert!(
        explanations
            .iter()
            .all(|e| e.contains(&format!("10/{d}")) && e.contains(&format!("№{c1}"))),
        "{explanations:?}"
    );
    assert_eq!(
        entry_count(&app).await,
        before + r.json()["entries"].as_array().unwrap().len() as u64
    );

    // An absence all of whose days were reduced is refused, naming the earlier cases, and
    // writes nothing.
    let before = entry_count(&app).await;
    let docs = count(&app, "SELECT COUNT(*) FROM case_document").await;
    let inside = absence(f1 + Days::new(2), t2 - Days::new(2));
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/cases/{c3}/operations"),
            &json!({"kind": "temporary_absence", "params": inside, "documents": DOCS}),
            &[("authorization", &auth), ("accept-language", "en")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("already reduced") && message.contains(&format!("case #{c1}")),
        "{message}"
    );
    assert!(message.contains(&format!("case #{c2}")), "{message}");
    let r = operate(&app, &auth, c3, "temporary_absence", absence(f1, t1)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("вже зменшено"),
        "{}",
        r.body
    );
    assert_eq!(entry_count(&app).await, before);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM case_document").await,
        docs
    );
    balance(&app, &auth, ACCOUNT).await;
    app.finish().await;
}

async fn shifted_absences_at_once_credit_each_day_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let charges = charges(&app, &auth).await;
    let c1 = open_case(&app, &auth, ACCOUNT, "temporary-absence-recalculation").await;
    let c2 = open_case(&app, &auth, ACCOUNT, "temporary-absence-recalculation").await;
    let (f1, t1) = first_range();
    let (f2, t2) = shifted_range();
    let before = entry_count(&app).await;
    let (a, b) = tokio::join!(
        operate(&app, &auth, c1, "temporary_absence", absence(f1, t1)),
        operate(&app, &auth, c2, "temporary_absence", absence(f2, t2)),
    );
    // Whichever runs second still has days of its own to reduce.
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
    let posted = a.json()["entries"].as_array().unwrap().len()
        + b.json()["entries"].as_array().unwrap().len();
    assert_eq!(entry_count(&app).await, before + posted as u64);
    // Together they reduce each day of the union once: what one absence over the union
    // reduces, give or take the rounding of a month split in two lines.
    let union = reduction(&charges, f1, t2);
    let (ca, cb) = (credits(&a), credits(&b));
    for (k, whole) in &union {
        let got = ca.get(k).copied().unwrap_or_default() + cb.get(k).copied().unwrap_or_default();
        let diff = (got - *whole).kopiykas().abs();
        assert!(diff <= 1, "{k:?}: {got} against {whole}");
    }
    assert!(ca.keys().chain(cb.keys()).all(|k| union.contains_key(k)));
    balance(&app, &auth, ACCOUNT).await;
    app.finish().await;
}

async fn version(app: &TestApp, number: &str) -> i64 {
    count(
        app,
        &format!("SELECT CAST(version AS BIGINT) FROM account WHERE number = '{number}'"),
    )
    .await
}

/// The id of the account's latest payment.
async fn a_payment(app: &TestApp, auth: &str, number: &str) -> i64 {
    ledger(app, auth, number)
        .await
        .iter()
        .filter(|e| e["kind"] == "payment")
        .map(|e| e["id"].as_i64().unwrap())
        .max()
        .expect("a payment")
}

async fn multi_account_operations_lock_every_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let month = YearMonth::of(today()).to_string();
    let heat = json!({"rule_set": "ua-zaporizhzhia-2023", "month": month, "heat_gcal": "3.2", "tariff_per_gcal": "3870.00"});

    // The heat allocation of …01's building locks …04 too (its version moves), and a second one
    // from …04's case at the same moment waits for it and finds the month charged.
    let h1 = open_case(&app, &auth, "1000000001", "apartment-heat-calculation").await;
    let h4 = open_case(&app, &auth, "1000000004", "apartment-heat-calculation").await;
    let (v1, v4) = (
        version(&app, "1000000001").await,
        version(&app, "1000000004").await,
    );
    let before = entry_count(&app).await;
    let (a, b) = tokio::join!(
        operate(&app, &auth, h1, "heat_allocation", heat.clone()),
        operate(&app, &auth, h4, "heat_allocation", heat.clone()),
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
    let won = if a.status == StatusCode::CREATED {
        &a
    } else {
        &b
    };
    assert_eq!(
        won.json()["entries"].as_array().unwrap().len(),
        2,
        "{}",
        won.body
    );
    assert_eq!(entry_count(&app).await, before + 2);
    // Both operations locked both accounts (the refused one too, before it was refused; its
    // rollback undid its bumps).
    assert_eq!(version(&app, "1000000001").await, v1 + 1);
    assert_eq!(version(&app, "1000000004").await, v4 + 1);
    balance(&app, &auth, "1000000001").await;
    balance(&app, &auth, "1000000004").await;

    // Two cases attach each other's payment at once: each locks both accounts in one order, so
    // neither deadlocks; both move, once.
    let p1 = a_payment(&app, &auth, "1000000001").await;
    let p5 = a_payment(&app, &auth, "1000000005").await;
    let s1 = open_case(&app, &auth, "1000000001", "payment-search").await;
    let s5 = open_case(&app, &auth, "1000000005", "payment-search").await;
    let (v1, v5) = (
        version(&app, "1000000001").await,
        version(&app, "1000000005").await,
    );
    let (bal1, bal5) = (
        balance(&app, &auth, "1000000001").await,
        balance(&app, &auth, "1000000005").await,
    );
    let before = entry_count(&app).await;
    let (a, b) = tokio::join!(
        operate(&app, &auth, s1, "attach_payment", json!({"payment_id": p5})),
        operate(&app, &auth, s5, "attach_payment", json!({"payment_id": p1})),
    );
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
    assert_eq!(entry_count(&app).await, before + 4);
    assert_eq!(version(&app, "1000000001").await, v1 + 2);
    assert_eq!(version(&app, "1000000005").await, v5 + 2);
    let moved = |r: &Reply| -> Money {
        r.json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| money(&e["amount"]))
            .find(|m| *m < Money::ZERO)
            .unwrap()
    };
    // …01 received p5 (a payment: negative) and gave p1 back as a correction (positive).
    let (got1, got5) = (moved(&a), moved(&b));
    assert_eq!(balance(&app, &auth, "1000000001").await, bal1 + got1 - got5);
    assert_eq!(balance(&app, &auth, "1000000005").await, bal5 + got5 - got1);
    // The same payment attached from two cases at once moves once.
    let x = open_case(&app, &auth, "1000000002", "payment-search").await;
    let y = open_case(&app, &auth, "1000000003", "payment-search").await;
    let p4 = a_payment(&app, &auth, "1000000004").await;
    let before = entry_count(&app).await;
    let (a, b) = tokio::join!(
        operate(&app, &auth, x, "attach_payment", json!({"payment_id": p4})),
        operate(&app, &auth, y, "attach_payment", json!({"payment_id": p4})),
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
    assert_eq!(entry_count(&app).await, before + 2);
    for n in ["1000000002", "1000000003", "1000000004"] {
        balance(&app, &auth, n).await;
    }
    app.finish().await;
}

/// An operation with every checklist document ticked, under `key`, in `lang`.
async fn keyed(
    app: &TestApp,
    auth: &str,
    case: i64,
    kind: &str,
    params: Value,
    key: &str,
    lang: &str,
) -> Reply {
    let documents = get(app, &format!("/api/v1/cases/{case}"), auth)
        .await
        .json()["checklist"]
        .clone();
    app.json(
        Method::POST,
        &format!("/api/v1/cases/{case}/operations"),
        &json!({"kind": kind, "params": params, "documents": documents}),
        &[
            ("authorization", auth),
            ("idempotency-key", key),
            ("accept-language", lang),
        ],
    )
    .await
}

async fn an_idempotency_key_answers_only_its_own_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let c1 = open_case(&app, &auth, "1000000005", "no-debt-certificate").await;
    let c2 = open_case(&app, &auth, "1000000005", "no-debt-certificate").await;
    let writes = || async {
        (
            entry_count(&app).await,
            count(&app, "SELECT COUNT(*) FROM case_document").await,
            count(&app, "SELECT COUNT(*) FROM case_audit").await,
            count(&app, "SELECT COUNT(*) FROM idempotency_key").await,
        )
    };

    // The same request again: the first result, nothing written.
    let first = keyed(
        &app,
        &auth,
        c1,
        "no_debt_certificate",
        json!({}),
        "k-1",
        "uk",
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let after_first = writes().await;
    let again = keyed(
        &app,
        &auth,
        c1,
        "no_debt_certificate",
        json!({}),
        "k-1",
        "en",
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.json()["document"], first.json()["document"]);
    assert_eq!(writes().await, after_first);

    // The key on another case: refused (422), not the first case's certificate.
    let r = keyed(
        &app,
        &auth,
        c2,
        "no_debt_certificate",
        json!({}),
        "k-1",
        "en",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid", "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key was already used for another request"),
        "{}",
        r.body
    );
    assert!(r.json().get("document").is_none(), "{}", r.body);
    let r = keyed(
        &app,
        &auth,
        c2,
        "no_debt_certificate",
        json!({}),
        "k-1",
        "uk",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("вже використано для іншого запиту"),
        "{}",
        r.body
    );
    assert_eq!(writes().await, after_first);
    // With its own key, the other case gets its own certificate.
    let own = keyed(
        &app,
        &auth,
        c2,
        "no_debt_certificate",
        json!({}),
        "k-2",
        "uk",
    )
    .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.body);
    assert_ne!(own.json()["document"], first.json()["document"]);

    // Same case, another kind or other params under one key: refused too.
    let s = open_case(&app, &auth, "1000000001", "payment-search").await;
    let search = json!({"payer": "Ткаченко"});
    let r = keyed(
        &app,
        &auth,
        s,
        "payment_search",
        search.clone(),
        "k-3",
        "uk",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let payment = r.json()["facts"]["payments"][0]["id"].clone();
    let after = writes().await;
    let r = keyed(
        &app,
        &auth,
        s,
        "payment_search",
        json!({"payer": "Інший"}),
        "k-3",
        "uk",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = keyed(
        &app,
        &auth,
        s,
        "attach_payment",
        json!({"payment_id": payment}),
        "k-3",
        "uk",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(writes().await, after);
    // The same search again is the same request.
    let r = keyed(&app, &auth, s, "payment_search", search, "k-3", "uk").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(writes().await, after);
    app.finish().await;
}

async fn twenty_certificates_at_once_get_twenty_numbers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let auth = staff_bearer(&app, "spec1", Role::Specialist).await;
    let mut cases = Vec::new();
    for i in 0..20 {
        let number = format!("20000000{i:02}");
        exec(
            &app,
            &format!(
                "INSERT INTO account (number, owner_name, address, total_area_cm2, \
                 heated_area_cm2, registered_residents, created_at, version) VALUES \
                 ('{number}', 'Власник {i}', 'вул. Тестова, {i}', 500000, 500000, 1, \
                 '2026-01-01 00:00:00+00:00', 0)"
            ),
        )
        .await;
        cases.push(open_case(&app, &auth, &number, "no-debt-certificate").await);
    }
    let offices = count(
        &app,
        "SELECT COUNT(DISTINCT office_id) FROM visit_case WHERE office_id IS NOT NULL",
    )
    .await;
    assert_eq!(offices, 1, "one office");
    let mut tasks = Vec::new();
    for case in cases {
        let router = app.router.clone();
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let body = json!({"kind": "no_debt_certificate", "documents": ["passport"]});
            let req = axum::http::Request::post(format!("/api/v1/cases/{case}/operations"))
                .header("content-type", "application/json")
                .header("authorization", auth)
                .body(axum::body::Body::from(body.to_string()))
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
    let mut numbers = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        numbers.insert(v["document"]["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 20, "{numbers:?}");
    let year = today().year();
    let mut n: Vec<i64> = numbers
        .iter()
        .map(|s| {
            let (n, y) = s.split_once('/').unwrap();
            assert_eq!(y, year.to_string());
            n.parse().unwrap()
        })
        .collect();
    n.sort();
    assert_eq!(n, (1..=20).collect::<Vec<i64>>(), "consecutive from 1");
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT number) FROM case_document").await,
        20
    );
    app.finish().await;
}

/// The operations' request body is documented kind by kind: every kind, its fixed `kind`, and
/// its params' schema (the one `parse_operation` reads), so a client knows what to send.
#[tokio::test]
async fn the_operations_body_is_documented_kind_by_kind() {
    use cherga::domain::procedure::OperationKind;
    use cherga::web::api::case::{params_schema, parse_operation};
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = app.get("/api/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    let body = &doc["paths"]["/api/v1/cases/{id}/operations"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(
        body["$ref"], "#/components/schemas/OperationRequest",
        "{body}"
    );
    let request = &schemas["OperationRequest"];
    let one_of = request["oneOf"].as_array().expect("oneOf");
    assert_eq!(one_of.len(), OperationKind::ALL.len(), "{request}");
    assert_eq!(
        request["discriminator"]["propertyName"], "kind",
        "{request}"
    );
    let mapping = request["discriminator"]["mapping"].as_object().unwrap();
    for k in OperationKind::ALL {
        let code = k.code();
        let target = mapping[code].as_str().expect(code);
        assert!(
            one_of.iter().any(|r| r["$ref"] == target),
            "{code} is one of the bodies"
        );
        let name = target.trim_start_matches("#/components/schemas/");
        let schema = &schemas[name];
        assert_eq!(
            schema["properties"]["kind"]["enum"],
            json!([code]),
            "{schema}"
        );
        let params = &schema["properties"]["params"];
        match params_schema(k) {
            Some(p) => {
                assert_eq!(
                    params["$ref"],
                    format!("#/components/schemas/{p}"),
                    "{code}"
                );
                let props = schemas[p]["properties"].as_object().expect(p);
                assert!(!props.is_empty(), "{p}");
                assert!(
                    schema["required"]
                        .as_array()
                        .unwrap()
                        .contains(&json!("params")),
                    "{code}"
                );
                // The documented schema is the one the parser reads: without the fields it
                // requires, the params are refused.
                if schemas[p]["required"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty())
                {
                    assert!(parse_operation(code, json!({})).is_err(), "{code}");
                }
            }
            None => {
                assert!(params.get("$ref").is_none(), "{code}: {params}");
                assert!(parse_operation(code, json!({})).is_ok(), "{code}");
            }
        }
    }
    let absence = &schemas["TemporaryAbsenceParams"]["properties"];
    for field in ["rule_set", "application_date", "absence", "absent_persons"] {
        assert!(absence.get(field).is_some(), "{field}: {absence}");
    }
    assert!(
        schemas["HeatAllocationParams"]["properties"]
            .get("heat_gcal")
            .is_some()
    );
    assert!(schemas["ErrorDto"]["properties"].get("case").is_some());
    app.finish().await;
}
