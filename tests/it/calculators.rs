//! The three calculators through the JSON API and through the residents' pages. They do not touch
//! the database, so they run on SQLite only; the catalog's links to them (which read the catalog)
//! run on both databases.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::{Backend, TestApp};

on_both_databases!(catalog_links_a_calculator_only_under_the_rules_it_names);

const HOT_WATER: &str = "/api/v1/calculators/hot-water-quality";
const ABSENCE: &str = "/api/v1/calculators/temporary-absence";
const HEAT: &str = "/api/v1/calculators/heat-allocation";

const EN: (&str, &str) = ("accept-language", "en");
const UK: (&str, &str) = ("accept-language", "uk");

fn fields(r: &Value) -> Vec<String> {
    r["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn message_for<'a>(r: &'a Value, field: &str) -> &'a str {
    r["fields"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["field"] == field))
        .and_then(|f| f["message"].as_str())
        .unwrap_or_else(|| panic!("no error for {field}: {r}"))
}

// ---- API -------------------------------------------------------------------------------------------

/// RULES.md §5: April, P = 792.00, hot 220.00, cold 45.00, V = 3.6 m³.
fn worked_example() -> Value {
    let mut readings = Vec::new();
    // Day hours: 54 °C is 3 °C below the allowed 57 → 1 step each; 10 step-hours.
    for h in 10..20 {
        readings.push(json!({"hour": format!("2024-04-02T{h:02}:00"), "temperature_c": 54}));
    }
    // Night hours: 49 °C is 6 °C below the allowed 55 → 2 steps each; 8 step-hours.
    for h in 0..4 {
        readings.push(json!({"hour": format!("2024-04-03T{h:02}:00"), "temperature_c": "49"}));
    }
    // 36 hours below 40 °C.
    for day in 20..23 {
        for h in 6..18 {
            readings.push(json!({"hour": format!("2024-04-{day}T{h:02}:00"), "temperature_c": 30}));
        }
    }
    json!({
        "rule_set": "ru-354", "month": "2024-04", "charge": "792.00",
        "hot_tariff": "220.00", "cold_tariff": "45.00", "volume_m3": "3.6",
        "readings": readings
    })
}

#[tokio::test]
async fn hot_water_worked_example() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app
        .json(Method::POST, HOT_WATER, &worked_example(), &[EN])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = r.json();
    assert_eq!(out["rule_set"], "ru-354");
    assert_eq!(out["version"], 1);
    assert_eq!(out["charge"], "792.00");
    let kinds: Vec<&str> = out["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["temperature", "below_40", "pressure", "interruptions"]
    );
    // 18 step-hours × 0.1 % × 792.00 = 14.256 → 14.26.
    assert_eq!(out["lines"][0]["amount"], "14.26");
    // 3.6 × 36 / (24 × 30) × (220.00 − 45.00) = 31.50.
    assert_eq!(out["lines"][1]["amount"], "31.50");
    assert_eq!(out["lines"][2]["amount"], "0.00");
    assert_eq!(out["lines"][3]["amount"], "0.00");
    // 14.26 + 31.50 = 45.76
    assert_eq!(out["total"], "45.76");
    assert!(
        out["lines"][0]["explanation"]["en"]
            .as_str()
            .unwrap()
            .contains("14.26")
    );
    assert!(out["lines"][0]["explanation"]["uk"].is_string());
    app.finish().await;
}

#[tokio::test]
async fn hot_water_pressure_and_interruptions() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let body = json!({
        "rule_set": "ru-354", "month": "2024-06", "charge": "600.00",
        "hot_tariff": "100.00", "cold_tariff": "30.00", "volume_m3": "5",
        "readings": [
            // 0.50 MPa is 0.05 over 0.45, 11 % of the bound: two hours × 0.1 % × 600.00 = 1.20.
            {"hour": "2024-06-03T09:00", "temperature_c": 62, "pressure_mpa": "0.50"},
            {"hour": "2024-06-03T10:00", "temperature_c": 62, "pressure_mpa": "0.50"},
            // 0.02 MPa is 0.01 under 0.03, 33 % > 25 %: the whole day, 600.00 / 30 = 20.00.
            {"hour": "2024-06-10T09:00", "pressure_mpa": "0.02"}
        ],
        // One accident of 6 h: max(6 − 4, 6 − 8) = 2 excess hours × 0.15 % × 600.00 = 1.80.
        "interruptions": [{"start": "2024-06-20T08:00", "end": "2024-06-20T14:00", "kind": "accident"}]
    });
    let r = app.json(Method::POST, HOT_WATER, &body, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = r.json();
    assert_eq!(out["lines"][0]["amount"], "0.00");
    assert_eq!(out["lines"][1]["amount"], "0.00");
    // 1.20 + 20.00 = 21.20
    assert_eq!(out["lines"][2]["amount"], "21.20");
    assert_eq!(out["lines"][3]["amount"], "1.80");
    assert_eq!(out["total"], "23.00");
    app.finish().await;
}

fn absence(from: &str, to: &str) -> Value {
    json!({
        "rule_set": "ua-zaporizhzhia-2023",
        "application_date": "2024-06-15",
        "absence": {"from": from, "to": to, "ground": "inpatient"},
        "registered_persons": 4,
        "absent_persons": 1,
        "charges": [
            {"month": "2024-05", "service": "gas", "amount": "124.00", "metered": false},
            {"month": "2024-06", "service": "gas", "amount": "120.00", "metered": false},
            {"month": "2024-06", "service": "electricity", "amount": "300.00", "metered": true}
        ]
    })
}

#[tokio::test]
async fn absence_eligible_and_not() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // 1 May – 9 June, both dates counted: 31 + 9 = 40 days > 30.
    let r = app
        .json(
            Method::POST,
            ABSENCE,
            &absence("2024-05-01", "2024-06-09"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = r.json();
    assert_eq!(out["eligible"], true);
    assert_eq!(out["reasons"], json!([]));
    assert_eq!(out["counted_days"], 40);
    assert_eq!(out["rule_set"], "ua-zaporizhzhia-2023");
    assert_eq!(out["version"], 1);
    // May: 124.00 × 1/4 × 31/31 = 31.00.
    assert_eq!(out["lines"][0]["month"], "2024-05");
    assert_eq!(out["lines"][0]["service"], "gas");
    assert_eq!(out["lines"][0]["amount"], "31.00");
    // June: 120.00 × 1/4 × 9/30 = 9.00.
    assert_eq!(out["lines"][1]["amount"], "9.00");
    // Metered electricity is not reduced.
    assert_eq!(out["lines"][2]["amount"], "0.00");
    assert_eq!(out["total"], "40.00");

    // 1 – 30 May: exactly 30 days, not more than 30 → refused with the reason.
    let r = app
        .json(
            Method::POST,
            ABSENCE,
            &absence("2024-05-01", "2024-05-30"),
            &[EN],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = r.json();
    assert_eq!(out["eligible"], false);
    assert_eq!(out["counted_days"], 30);
    assert_eq!(out["total"], "0.00");
    let reasons = out["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    let en = reasons[0]["en"].as_str().unwrap();
    assert!(en.contains("30"), "{en}");
    assert!(reasons[0]["uk"].as_str().unwrap().contains("30"));
    app.finish().await;
}

#[tokio::test]
async fn heat_with_a_disconnected_premise_and_common_share() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let body = json!({
        "heat_gcal": "10", "tariff_per_gcal": "1523.17", "common_share": "0.2",
        "premises": [
            {"id": "1", "area_m2": "50", "connected": true},
            {"id": "2", "area_m2": 30, "connected": true},
            {"id": "3", "area_m2": "20", "connected": false}
        ]
    });
    let r = app.json(Method::POST, HEAT, &body, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = r.json();
    assert_eq!(out["rule_set"], "ua-zaporizhzhia-2023");
    assert_eq!(out["common_share"], "0.2");
    // ΣS = 100, ΣS connected = 80.
    // 1: 0.2 × 10 × 50/100 + 0.8 × 10 × 50/80 = 1 + 5 = 6 Gcal; 6 × 1523.17 = 9139.02.
    assert_eq!(out["premises"][0]["heat_gcal"], "6.0000");
    assert_eq!(out["premises"][0]["charge"], "9139.02");
    // 2: 0.6 + 3 = 3.6 Gcal; 3.6 × 1523.17 = 5483.412 → 5483.41.
    assert_eq!(out["premises"][1]["heat_gcal"], "3.6000");
    assert_eq!(out["premises"][1]["charge"], "5483.41");
    // 3 (disconnected): only the common part, 0.2 × 10 × 20/100 = 0.4 Gcal; 609.268 → 609.27.
    assert_eq!(out["premises"][2]["heat_gcal"], "0.4000");
    assert_eq!(out["premises"][2]["charge"], "609.27");
    assert_eq!(out["total_gcal"], "10.0000");
    // 9139.02 + 5483.41 + 609.27 = 15231.70
    assert_eq!(out["total_charge"], "15231.70");
    app.finish().await;
}

#[tokio::test]
async fn bad_input_is_422_with_field_names_in_the_users_language() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    // Unknown rule set and a month that does not exist.
    let mut body = worked_example();
    body["rule_set"] = json!("ru-999");
    body["month"] = json!("2024-13");
    let r = app.json(Method::POST, HOT_WATER, &body, &[EN]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let en = r.json();
    assert_eq!(en["error"], "invalid");
    assert_eq!(fields(&en), ["rule_set", "month"]);
    assert!(message_for(&en, "rule_set").contains("Unknown recalculation rule set"));
    assert!(message_for(&en, "rule_set").contains("ru-354"));
    let r = app.json(Method::POST, HOT_WATER, &body, &[UK]).await;
    let uk = r.json();
    assert_eq!(fields(&uk), ["rule_set", "month"]);
    assert!(message_for(&uk, "rule_set").contains("Невідомі правила"));
    assert_ne!(message_for(&uk, "month"), message_for(&en, "month"));
    assert_ne!(uk["message"], en["message"]);

    // More absent than registered, and a negative charge.
    let mut body = absence("2024-05-01", "2024-06-09");
    body["absent_persons"] = json!(5);
    body["charges"][1]["amount"] = json!("-120.00");
    let r = app.json(Method::POST, ABSENCE, &body, &[EN]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let out = r.json();
    let f = fields(&out);
    assert!(f.contains(&"charges[1].amount".to_string()), "{f:?}");
    // The parser rejects the negative amount first; the persons check runs once all fields parse.
    let mut body = absence("2024-05-01", "2024-06-09");
    body["absent_persons"] = json!(5);
    let r = app.json(Method::POST, ABSENCE, &body, &[UK]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let out = r.json();
    assert_eq!(fields(&out), ["absent_persons"]);
    assert!(
        message_for(&out, "absent_persons")
            .chars()
            .any(|c| ('а'..='я').contains(&c)),
        "{out}"
    );

    // Wrong JSON types: the whole body is refused, still 422, still in the user's language.
    let body = json!({"heat_gcal": "10", "tariff_per_gcal": "100", "premises": [{"id": "1", "area_m2": 50, "connected": "maybe"}]});
    let r = app.json(Method::POST, HEAT, &body, &[EN]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r.json()), ["premises[0].connected"], "{}", r.body);
    assert!(r.body.contains("true or false"), "{}", r.body);
    let r = app.json(Method::POST, HEAT, &body, &[UK]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("true або false"), "{}", r.body);
    assert!(r.body.contains("premises[0].connected"), "{}", r.body);
    let body = json!({"rule_set": "ua-zaporizhzhia-2023", "registered_persons": "three"});
    let r = app.json(Method::POST, ABSENCE, &body, &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    app.finish().await;
}

#[tokio::test]
async fn openapi_lists_the_calculators() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    for path in [HOT_WATER, ABSENCE, HEAT] {
        assert!(doc["paths"][path]["post"].is_object(), "{path} missing");
    }
    app.finish().await;
}

// ---- pages -----------------------------------------------------------------------------------------

const PAGES: [&str; 3] = [
    "/calculators/hot-water-quality",
    "/calculators/temporary-absence",
    "/calculators/heat-allocation",
];

#[tokio::test]
async fn pages_render_in_both_languages() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app
        .get_with("/calculators/", &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<html lang=\"uk\">"));
    assert!(r.body.contains("Калькулятори перерахунку"));
    for p in PAGES {
        assert!(r.body.contains(&format!("href=\"{p}\"")), "{p}");
    }
    // The catalog questions each calculator answers.
    assert!(r.body.contains("class=\"answered\""));
    let r = app
        .get_with("/calculators/", &[("accept", "text/html"), EN])
        .await;
    assert!(r.body.contains("<html lang=\"en\">"));
    assert!(r.body.contains("Recalculation calculators"));

    let r = app.get("/calculators").await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.location(), Some("/calculators/"));

    let titles = [
        ("Гаряча вода неналежної якості", "Hot water of poor quality"),
        (
            "Тимчасова відсутність мешканців",
            "Temporary absence of residents",
        ),
        ("Розподіл тепла", "Heat allocation"),
    ];
    for (path, (uk, en)) in PAGES.into_iter().zip(titles) {
        let r = app.get_with(path, &[("accept", "text/html"), UK]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.body.contains("<html lang=\"uk\">"));
        assert!(r.body.contains(uk), "{path}");
        assert!(r.body.contains("name=\"csrf\""));
        assert!(r.body.contains("<legend>"));
        assert!(!r.body.contains("src=\"http"));
        let r = app.get_with(path, &[("accept", "text/html"), EN]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.body.contains("<html lang=\"en\">"));
        assert!(r.body.contains(en), "{path}");
        // The example fills the form in.
        let r = app
            .get_with(&format!("{path}?example=1"), &[("accept", "text/html")])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(
            r.body.contains("2024") || r.body.contains("1523.17"),
            "{path}"
        );
    }
    // Services and grounds as identifiers with their names.
    let r = app.get_with(PAGES[1], &[("accept", "text/html"), EN]).await;
    assert!(
        r.body.contains("<option value=\"cold_water\">"),
        "{}",
        r.body
    );
    assert!(r.body.contains("cold water"));
    assert!(r.body.contains("value=\"inpatient\""));
    // Selects show names, not codes; the English example has no Ukrainian in its rows.
    assert!(!r.body.contains("(inpatient)"), "{}", r.body);
    let r = app
        .get_with(
            &format!("{}?example=1", PAGES[1]),
            &[("accept", "text/html"), EN],
        )
        .await;
    assert!(!r.body.contains("ні"), "{}", r.body);
    assert!(
        r.body.contains("<option value=\"no\" selected>no</option>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("type=\"month\""), "{}", r.body);
    let r = app
        .get_with(
            &format!("{}?example=1", PAGES[0]),
            &[("accept", "text/html"), UK],
        )
        .await;
    for machine in ["T10:00", "Europe/Kyiv</", ">planned<"] {
        assert!(!r.body.contains(machine), "{machine}: {}", r.body);
    }
    assert!(r.body.contains("type=\"time\""), "{}", r.body);
    assert!(r.body.contains("планова перерва"), "{}", r.body);
    assert!(r.body.contains("Київ, Україна"), "{}", r.body);
    app.finish().await;
}

/// A CSRF cookie from a page, and the cookie header that carries it back.
async fn csrf(app: &TestApp, path: &str) -> (String, String) {
    let page = app.get_with(path, &[("accept", "text/html")]).await;
    let token = page.cookie("cherga_csrf").expect("csrf cookie");
    let cookies = format!("cherga_csrf={token}");
    (token, cookies)
}

#[tokio::test]
async fn page_posts_compute_and_show_the_result() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, cookies) = csrf(&app, PAGES[2]).await;
    // 12 Gcal × 1523.17 = 18278.04 in all; C (disconnected, 10 of 100 m²) gets 0.25 × 12 × 0.1 = 0.3.
    let mut fields = pairs(&[
        ("csrf", &token),
        ("rule_set", "ua-zaporizhzhia-2023"),
        ("heat_gcal", "12"),
        ("tariff_per_gcal", "1523.17"),
        ("common_share", "0,25"),
    ]);
    fields.extend(rows(
        "premises",
        &["id", "area_m2", "connected"],
        &[
            &["A", "60", "yes"],
            &["B", "30", "yes"],
            &["", "", "no"],
            &["C", "10", "no"],
        ],
    ));
    let r = app
        .form(
            PAGES[2],
            &borrow(&fields),
            &format!("{cookies}; cherga_lang=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("18278.04"));
    assert!(r.body.contains("0.3000"));
    assert!(r.body.contains("ua-zaporizhzhia-2023"));
    assert!(r.body.contains("version 1"));
    assert!(r.body.contains("<th scope=\"row\">C</th>"));
    // The form stays filled in, row by row, with empty rows after it.
    assert!(
        r.body.contains(
            "id=\"premises-4-id\" name=\"premises.id\" type=\"text\" maxlength=\"100\" value=\"C\""
        ),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"premises-7-id\""), "{}", r.body);
    assert!(r.body.contains("id=\"result\""), "{}", r.body);
    assert!(
        r.body
            .contains("action=\"/calculators/heat-allocation#result\""),
        "{}",
        r.body
    );

    // Hot water, the worked example as rows of date, hour, temperature, pressure: total 45.76.
    let mut readings: Vec<Vec<String>> = Vec::new();
    for h in 10..20 {
        readings.push(vec![
            "2024-04-02".into(),
            format!("{h:02}:00"),
            "54".into(),
            "".into(),
        ]);
    }
    for h in 0..4 {
        readings.push(vec![
            "2024-04-03".into(),
            format!("{h:02}:00:00"),
            "49".into(),
            "".into(),
        ]);
    }
    for day in 20..23 {
        for h in 6..18 {
            readings.push(vec![
                format!("2024-04-{day}"),
                format!("{h:02}:00"),
                "30".into(),
                "0.3".into(),
            ]);
        }
    }
    let readings: Vec<Vec<&str>> = readings
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let readings: Vec<&[&str]> = readings.iter().map(Vec::as_slice).collect();
    let mut fields = pairs(&[
        ("csrf", &token),
        ("rule_set", "ru-354"),
        ("month", "2024-04"),
        ("timezone", "Europe/Kyiv"),
        ("charge", "792.00"),
        ("hot_tariff", "220.00"),
        ("cold_tariff", "45.00"),
        ("volume_m3", "3.6"),
    ]);
    fields.extend(rows(
        "readings",
        &["date", "time", "temperature_c", "pressure_mpa"],
        &readings,
    ));
    fields.extend(rows(
        "interruptions",
        &["start_date", "start_time", "end_date", "end_time", "kind"],
        &[&["", "", "", "", ""]],
    ));
    let r = app.form(PAGES[0], &borrow(&fields), &cookies).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("45.76"));
    assert!(r.body.contains("14.26"));
    assert!(r.body.contains("31.50"));
    assert!(r.body.contains("ru-354"));

    // Absence, refused for 30 days, with the reason.
    let mut fields = pairs(&[
        ("csrf", &token),
        ("rule_set", "ua-zaporizhzhia-2023"),
        ("application_date", "2024-06-15"),
        ("from", "2024-05-01"),
        ("to", "2024-05-30"),
        ("ground", "inpatient"),
        ("registered_persons", "4"),
        ("absent_persons", "1"),
    ]);
    fields.extend(rows(
        "charges",
        &["month", "service", "amount", "metered"],
        &[&["2024-05", "gas", "124.00", "no"]],
    ));
    let r = app
        .form(
            PAGES[1],
            &borrow(&fields),
            &format!("{cookies}; cherga_lang=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("No recalculation is possible"));
    assert!(r.body.contains("more than 30"));
    app.finish().await;
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A row list's inputs as a browser sends them: every column of every row, in order.
fn rows(list: &str, columns: &[&str], values: &[&[&str]]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in values {
        for (c, v) in columns.iter().zip(row.iter()) {
            out.push((format!("{list}.{c}"), v.to_string()));
        }
    }
    out
}

fn borrow(p: &[(String, String)]) -> Vec<(&str, &str)> {
    p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn page_post_with_a_malformed_row_is_422_with_the_error() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, cookies) = csrf(&app, PAGES[2]).await;
    let mut fields = pairs(&[
        ("csrf", token.as_str()),
        ("heat_gcal", "12"),
        ("tariff_per_gcal", "1523.17"),
    ]);
    fields.extend(rows(
        "premises",
        &["id", "area_m2", "connected"],
        &[&["A", "60", "yes"], &["B", "тридцять", "yes"]],
    ));
    let r = app.form(PAGES[2], &borrow(&fields), &cookies).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("role=\"alert\""));
    assert!(r.body.contains("рядок 2"), "{}", r.body);
    assert!(r.body.contains("href=\"#premises-row-2\""), "{}", r.body);
    assert!(r.body.contains("id=\"premises-row-2-err\""), "{}", r.body);
    // The form comes back as it was sent.
    assert!(r.body.contains("value=\"тридцять\""), "{}", r.body);
    let r = app
        .form(
            PAGES[2],
            &borrow(&fields),
            &format!("{cookies}; cherga_lang=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Premises, row 2"), "{}", r.body);

    // A calculator's own fault on a row is named by its row, blank rows counted.
    let mut fields = pairs(&[
        ("csrf", &token),
        ("rule_set", "ua-zaporizhzhia-2023"),
        ("application_date", "2024-06-15"),
        ("from", "2024-05-01"),
        ("to", "2024-06-09"),
        ("ground", "inpatient"),
        ("registered_persons", "4"),
        ("absent_persons", "1"),
    ]);
    fields.extend(rows(
        "charges",
        &["month", "service", "amount", "metered"],
        &[
            &["2024-05", "gas", "124.00", "no"],
            &["", "", "", "no"],
            &["2024-13", "gas", "5", "no"],
        ],
    ));
    let r = app
        .form(
            PAGES[1],
            &borrow(&fields),
            &format!("{cookies}; cherga_lang=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Charges, row 3: Month"), "{}", r.body);

    // A value over the length limit is refused, named, and not echoed in full.
    let long = "1".repeat(500);
    let fields = pairs(&[
        ("csrf", &token),
        ("heat_gcal", &long),
        ("tariff_per_gcal", "1"),
    ]);
    let r = app
        .form(
            PAGES[2],
            &borrow(&fields),
            &format!("{cookies}; cherga_lang=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("too long"), "{}", r.body);
    assert!(!r.body.contains(&"1".repeat(101)), "{}", r.body);
    app.finish().await;
}

#[tokio::test]
async fn page_post_without_csrf_is_403() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, cookies) = csrf(&app, PAGES[2]).await;
    for path in PAGES {
        let r = app
            .form(path, &[("heat_gcal", "12"), ("csrf", "")], &cookies)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        let r = app.form(path, &[("heat_gcal", "12")], "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    // A stale cookie: the form comes back with the data, a fresh token and the reason, not
    // "your role does not allow this action".
    let r = app
        .form(
            PAGES[2],
            &[
                ("csrf", &token),
                ("heat_gcal", "12.5"),
                ("tariff_per_gcal", "1523.17"),
            ],
            "cherga_csrf=1111111111111111111111111111111111111111111111111111111111111111",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("Форма застаріла"), "{}", r.body);
    assert!(!r.body.contains("Ваша роль"), "{}", r.body);
    assert!(r.body.contains("value=\"12.5\""), "{}", r.body);
    assert!(r.body.contains("value=\"1523.17\""), "{}", r.body);
    assert!(
        r.body
            .contains("value=\"1111111111111111111111111111111111111111111111111111111111111111\""),
        "the page carries the cookie's token: {}",
        r.body
    );
    // No cookie at all: a new one is set and the page carries it, in English when asked.
    let req = axum::http::Request::post(PAGES[2])
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("accept-language", "en")
        .body(axum::body::Body::from("csrf=abc&heat_gcal=7"))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let fresh = r.cookie("cherga_csrf").expect("a fresh csrf cookie");
    assert!(r.body.contains(&format!("value=\"{fresh}\"")), "{}", r.body);
    assert!(r.body.contains("The form has expired"), "{}", r.body);
    assert!(r.body.contains("value=\"7\""), "{}", r.body);
    // Sending it again with the fresh token computes.
    let r = app
        .form(
            PAGES[2],
            &[("csrf", &fresh), ("heat_gcal", "7")],
            &format!("cherga_csrf={fresh}"),
        )
        .await;
    assert_ne!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    app.finish().await;
}

/// Item 6 of issue 9: every API error is the project's own text, in the request's language,
/// naming the field; no serde English, no 309-digit echoes, 413 for a body over the limit.
#[tokio::test]
async fn api_errors_are_our_own_words() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let raw = |body: &'static str, lang: &'static str| {
        axum::http::Request::post(HEAT)
            .header("content-type", "application/json")
            .header("accept-language", lang)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    // Truncated JSON: 400, Ukrainian, no serde text.
    let r = app.send(raw("{\"heat_gcal\": ", "uk")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.json()["error"], "bad_request", "{}", r.body);
    assert!(r.body.contains("не є коректним JSON"), "{}", r.body);
    for leak in ["EOF", "Failed to parse", "serde", "expected"] {
        assert!(!r.body.contains(leak), "{leak}: {}", r.body);
    }
    // A number given as an object: 422 naming the field, not "untagged enum NumberInput".
    let r = app.send(raw("{\"heat_gcal\": {}}", "uk")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r.json()), ["heat_gcal"], "{}", r.body);
    assert!(r.body.contains("потрібне число"), "{}", r.body);
    assert!(!r.body.contains("untagged"), "{}", r.body);
    // An unknown field: 422 with `fields`.
    let r = app
        .send(raw("{\"heat_gcal\": 1, \"colour\": \"red\"}", "en"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r.json()), ["colour"], "{}", r.body);
    assert!(
        message_for(&r.json(), "colour").contains("no such field"),
        "{}",
        r.body
    );
    let r = app
        .send(raw(
            "{\"premises\": [{\"id\": \"A\", \"colour\": 1}]}",
            "uk",
        ))
        .await;
    assert_eq!(fields(&r.json()), ["premises[0].colour"], "{}", r.body);
    assert!(r.body.contains("такого поля немає"), "{}", r.body);
    // Too large a number: "too large", not "not a number", and no 309-digit echo.
    let r = app
        .send(raw(
            "{\"heat_gcal\": 1e308, \"tariff_per_gcal\": 1, \"premises\": [{\"id\": \"A\", \"area_m2\": 1, \"connected\": true}]}",
            "en",
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let m = message_for(&r.json(), "heat_gcal").to_string();
    assert!(m.contains("too large"), "{}", r.body);
    assert!(!m.contains("not a number"), "{}", r.body);
    assert!(m.len() < 100, "{}", r.body);
    assert!(!r.body.contains("0000000000000000000000"), "{}", r.body);
    let r = app.send(raw("{\"heat_gcal\": 1e400}", "uk")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r.json()), ["heat_gcal"], "{}", r.body);
    // Long text is quoted cut short, never echoed whole.
    let long = "x".repeat(5000);
    let mut body = worked_example();
    body["rule_set"] = json!(long);
    body["month"] = json!(long);
    body["readings"][0]["hour"] = json!(long);
    let r = app.json(Method::POST, HOT_WATER, &body, &[EN]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(!r.body.contains(&"x".repeat(41)), "{}", r.body);
    assert!(r.body.len() < 4000, "{}", r.body);
    // A body over the limit: 413 in the user's language.
    let big = format!("{{\"premises\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let req = axum::http::Request::post(HEAT)
        .header("content-type", "application/json")
        .header("accept-language", "uk")
        .body(axum::body::Body::from(big))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.json()["error"], "too_large", "{}", r.body);
    assert!(r.body.contains("завелике"), "{}", r.body);
    assert!(!r.body.contains("length limit"), "{}", r.body);
    // The OpenAPI text has no rustdoc link syntax.
    let r = app.get("/api/openapi.json").await;
    assert!(!r.body.contains("[`"), "rustdoc link in the OpenAPI text");
    app.finish().await;
}

/// `?lang=en` is honoured on any page and remembered in the cookie.
#[tokio::test]
async fn lang_query_switches_and_sticks() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in [
        "/calculators/?lang=en",
        "/?lang=en",
        "/calculators/temporary-absence?example=1&lang=en",
    ] {
        let r = app.get_with(path, &[("accept", "text/html"), UK]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.body.contains("<html lang=\"en\">"), "{path}: {}", r.body);
        assert_eq!(r.cookie("cherga_lang").as_deref(), Some("en"), "{path}");
    }
    let r = app
        .get_with(
            "/calculators/?lang=uk",
            &[("accept", "text/html"), ("cookie", "cherga_lang=en")],
        )
        .await;
    assert!(r.body.contains("<html lang=\"uk\">"), "{}", r.body);
    let r = app.get_with("/api/v1/nope?lang=en", &[UK]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("was not found"), "{}", r.body);
    app.finish().await;
}

#[tokio::test]
async fn rule_sets_list_grounds_and_document_checklists() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/api/v1/rule-sets").await;
    assert_eq!(r.status, StatusCode::OK);
    let sets = r.json();
    let ids: Vec<&str> = sets
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    // Sorted by id: a stable order for clients.
    assert_eq!(ids, ["ru-354", "ua-zaporizhzhia-2023"]);

    let z = app
        .get("/api/v1/rule-sets/ua-zaporizhzhia-2023")
        .await
        .json();
    assert_eq!(z["version"], 1);
    assert_eq!(z["absence_more_than_days"], 30);
    assert_eq!(z["certificate_valid_days"], 90);
    let grounds = z["grounds"].as_array().unwrap();
    // The nine grounds of the Zaporizhzhia procedure, each starting with the written application.
    assert_eq!(grounds.len(), 9);
    for g in grounds {
        let docs = g["documents"].as_array().unwrap();
        assert_eq!(docs[0]["id"], "application", "{}", g["ground"]);
        assert_eq!(docs[0]["need"], "required");
        assert!(!docs[0]["name"]["uk"].as_str().unwrap().is_empty());
    }
    let abroad = grounds.iter().find(|g| g["ground"] == "abroad").unwrap();
    let abroad_docs: Vec<&str> = abroad["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(abroad_docs.contains(&"foreign_passport"));
    // A death certificate does not expire like a certificate of absence does.
    let deceased = grounds.iter().find(|g| g["ground"] == "deceased").unwrap();
    assert_eq!(deceased["certificate_expires"], false);

    let ru = app.get("/api/v1/rule-sets/ru-354").await.json();
    assert!(
        ru["calculators"]
            .as_array()
            .unwrap()
            .contains(&json!("hot-water-quality"))
    );
    assert!(
        ru["grounds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["ground"] == "other")
    );

    let r = app.get_with("/api/v1/rule-sets/no-such-rules", &[EN]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "not_found");
    app.finish().await;
}

#[tokio::test]
async fn absence_page_lists_the_documents_to_prepare() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app
        .get_with(
            "/calculators/temporary-absence",
            &[("accept", "text/html"), UK],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Які документи підготувати"));
    assert!(r.body.contains("<summary>стаціонарне лікування</summary>"));
    assert!(r.body.contains("(обов&#39;язково)"), "need labels shown");
    let r = app
        .get_with(
            "/calculators/temporary-absence",
            &[("accept", "text/html"), EN],
        )
        .await;
    assert!(r.body.contains("<summary>inpatient treatment</summary>"));
    app.finish().await;
}

/// The section of the home page about one service.
fn service_section<'a>(html: &'a str, code: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"svc-{code}\""))
        .unwrap_or_else(|| panic!("no {code}: {html}"));
    let rest = &html[start..];
    // why: up to the next service, whatever markup the home page uses inside one.
    &rest[..rest[1..].find("id=\"svc-").map_or(rest.len(), |i| i + 1)]
}

/// Item 14 of issue 9: the Ukrainian hot-water procedure (КМУ № 630 та № 151) does not link to a
/// calculator of a Russian decree; it says no calculator for its rules exists yet.
async fn catalog_links_a_calculator_only_under_the_rules_it_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get_with("/", &[("accept", "text/html"), UK]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let quality = service_section(&r.body, "quality-check-procedure");
    assert!(
        !quality.contains("/calculators/hot-water-quality"),
        "{quality}"
    );
    let towel = service_section(&r.body, "towel-rail-hot-water-tariff");
    assert!(!towel.contains("/calculators/hot-water-quality"), "{towel}");
    assert!(towel.contains("Калькулятора за правилами"), "{towel}");
    let absence = service_section(&r.body, "temporary-absence-recalculation");
    assert!(
        absence.contains("/calculators/temporary-absence"),
        "{absence}"
    );
    // A service with a website channel and a calculator offers "Порахувати онлайн" once.
    for code in ["temporary-absence-recalculation", "heat-metering-info"] {
        let section = service_section(&r.body, code);
        assert_eq!(section.matches("Порахувати онлайн").count(), 1, "{section}");
    }
    let r = app.get_with("/?lang=en", &[("accept", "text/html")]).await;
    let towel = service_section(&r.body, "towel-rail-hot-water-tariff");
    assert!(towel.contains("not available yet"), "{towel}");
    // The calculators index says whose rules each computes by, and lists no service it does not answer.
    let r = app
        .get_with("/calculators/", &[("accept", "text/html"), UK])
        .await;
    assert!(r.body.contains("Російська Федерація"), "{}", r.body);
    assert!(r.body.contains("Це не право України"), "{}", r.body);
    assert!(!r.body.contains("Постанов КМУ"), "{}", r.body);
    app.finish().await;
}

/// Every calculator page and result says whose rules these are.
#[tokio::test]
async fn pages_and_results_say_whose_rules() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get_with(PAGES[0], &[("accept", "text/html"), EN]).await;
    assert!(r.body.contains("Russian Federation"), "{}", r.body);
    assert!(r.body.contains("not Ukrainian law"), "{}", r.body);
    let r = app.get_with(PAGES[1], &[("accept", "text/html"), UK]).await;
    assert!(r.body.contains("Україна, м. Запоріжжя"), "{}", r.body);
    let r = app.get_with(PAGES[2], &[("accept", "text/html"), UK]).await;
    assert!(r.body.contains("Україна, м. Запоріжжя"), "{}", r.body);
    let (token, cookies) = csrf(&app, PAGES[0]).await;
    let mut fields = pairs(&[
        ("csrf", &token),
        ("rule_set", "ru-354"),
        ("month", "2024-04"),
        ("charge", "792.00"),
        ("hot_tariff", "220.00"),
        ("cold_tariff", "45.00"),
        ("volume_m3", "3.6"),
    ]);
    fields.extend(rows(
        "readings",
        &["date", "time", "temperature_c", "pressure_mpa"],
        &[&["2024-04-02", "10:00", "54", ""]],
    ));
    let r = app.form(PAGES[0], &borrow(&fields), &cookies).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let result = &r.body[r.body.find("id=\"result\"").expect("a result")..];
    assert!(result.contains("class=\"jurisdiction\""), "{result}");
    assert!(result.contains("Це не право України"), "{result}");

    // The API says it too: each result, and each rule set with its jurisdiction in fields.
    let r = app
        .json(Method::POST, HOT_WATER, &worked_example(), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rules = &r.json()["rules"];
    assert!(
        rules["en"].as_str().unwrap().contains("not Ukrainian law"),
        "{}",
        r.body
    );
    let r = app
        .json(
            Method::POST,
            ABSENCE,
            &absence("2024-05-01", "2024-05-31"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()["rules"]["uk"]
            .as_str()
            .unwrap()
            .contains("Запоріжжя"),
        "{}",
        r.body
    );
    let r = app.get("/api/v1/rule-sets/ru-354").await;
    let j = &r.json()["jurisdiction"];
    assert_eq!(
        (j["country"].as_str(), j["status"].as_str()),
        (Some("RU"), Some("foreign")),
        "{}",
        r.body
    );
    let r = app.get("/api/v1/rule-sets/ua-zaporizhzhia-2023").await;
    let j = &r.json()["jurisdiction"];
    assert_eq!(
        (j["country"].as_str(), j["status"].as_str()),
        (Some("UA"), Some("in_force")),
        "{}",
        r.body
    );
    assert_eq!(j["city"]["uk"], "Запоріжжя", "{}", r.body);
    app.finish().await;
}
