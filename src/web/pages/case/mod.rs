//! Staff pages of the case module: find an account, see it with its ledger and debt, open a case,
//! perform its operations, print their documents, close it; and the public `/verify/{token}` page.
//! Everything works without JavaScript: plain forms, each with a one-time token so a repeated
//! submission returns the first result.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::lang::Lang;
use crate::domain::money::Money;
use crate::domain::procedure::{self, OperationKind};
use crate::domain::rules::grounds::Need;
use crate::error::{AppError, AppResult};
use crate::store::case as store;
use crate::web::api::case::{parse_operation, parse_outcome};
use crate::web::auth::Staff;
use crate::web::context::{RequestContext, check_csrf};
use crate::web::i18n::Tr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/", get(find_accounts))
        .route("/accounts/{number}", get(account))
        .route("/cases/", get(cases).post(open_case))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/account", post(attach_account))
        .route("/cases/from-ticket", post(open_from_ticket))
        .route("/cases/from-booking", post(open_from_booking))
        .route("/cases/charge-runs", get(charge_runs).post(run_charges))
        .route("/cases/{id}/operations", post(operate))
        .route("/cases/{id}/close", post(close))
        .route("/cases/documents/{token}", get(document))
        .route("/verify/{token}", get(verify))
}

fn desk(staff: &Staff) -> AppResult<()> {
    if staff.user.role.is_staff_desk() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn see_other(to: String) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn one<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn area(cm2: i64) -> String {
    Money::from_kopiykas(cm2 / 100).to_string()
}

// ---- accounts ------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct FindQuery {
    #[serde(default)]
    number: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    owner: String,
}

#[derive(Template)]
#[template(path = "case/accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    q: FindQuery,
    searched: bool,
    found: Vec<store::AccountSummary>,
}

async fn find_accounts(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Query(q): Query<FindQuery>,
) -> AppResult<Response> {
    desk(&staff)?;
    let searched =
        !(q.number.trim().is_empty() && q.address.trim().is_empty() && q.owner.trim().is_empty());
    let found = if searched {
        store::find_accounts(&state.db, Some(&q.number), Some(&q.address), Some(&q.owner)).await?
    } else {
        Vec::new()
    };
    render(&AccountsPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        q,
        searched,
        found,
    })
}

pub struct EntryRow {
    pub period: String,
    pub service: String,
    pub kind: String,
    pub amount: String,
    pub explanation: String,
    pub case_id: Option<i32>,
}

fn entry_row(e: &store::EntryRecord, t: Tr) -> EntryRow {
    EntryRow {
        period: e.period.clone(),
        service: service_label(&e.service, t.0),
        kind: crate::domain::ledger::EntryKind::parse(&e.kind)
            .map(|k| t.pick(&k.name()).to_string())
            .unwrap_or_else(|| e.kind.clone()),
        amount: e.amount.to_string(),
        explanation: e
            .explanation
            .as_ref()
            .map(|x| t.pick(x).to_string())
            .unwrap_or_default(),
        case_id: e.case_id,
    }
}

fn service_label(id: &str, lang: Lang) -> String {
    match crate::domain::rules::services::Service::parse(id) {
        Some(s) => s.name().get(lang).to_string(),
        None => id.to_string(),
    }
}

pub struct ServiceOption {
    pub code: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "case/account.html")]
struct AccountPage {
    chrome: Chrome,
    a: store::AccountRecord,
    total_area: String,
    heated_area: String,
    debt: Vec<(String, String, String)>,
    entries: Vec<EntryRow>,
    services: Vec<ServiceOption>,
    bases: Vec<(String, String)>,
}

async fn account(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(number): Path<String>,
) -> AppResult<Response> {
    desk(&staff)?;
    let t = Tr(ctx.lang);
    let a = store::find_account(&state.db, &number)
        .await?
        .ok_or_else(AppError::not_found)?;
    let entries = store::list_entries(&state.db, &number, None, None)
        .await?
        .unwrap_or_default();
    let services = crate::store::catalog::list_services(&state.db, false)
        .await?
        .into_iter()
        .map(|s| ServiceOption {
            title: t.pick(&s.title).to_string(),
            code: s.code,
        })
        .collect();
    render(&AccountPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        total_area: area(a.total_area_cm2),
        heated_area: area(a.heated_area_cm2),
        debt: a
            .debt
            .iter()
            .map(|d| {
                (
                    d.period.clone(),
                    service_label(&d.service, ctx.lang),
                    d.amount.to_string(),
                )
            })
            .collect(),
        bases: a
            .services
            .iter()
            .map(|s| {
                (
                    service_label(&s.service, ctx.lang),
                    t.get(&format!("case.basis.{}", s.basis)),
                )
            })
            .collect(),
        entries: entries.iter().rev().map(|e| entry_row(e, t)).collect(),
        services,
        a,
    })
}

// ---- cases ---------------------------------------------------------------------------------------

pub struct CaseRow {
    pub id: i32,
    pub account: String,
    pub service: String,
    pub status: String,
    pub opened: String,
}

#[derive(Template)]
#[template(path = "case/cases.html")]
struct CasesPage {
    chrome: Chrome,
    cases: Vec<CaseRow>,
    /// Admin or supervisor: links the charge run.
    lead: bool,
}

async fn cases(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
) -> AppResult<Response> {
    desk(&staff)?;
    let t = Tr(ctx.lang);
    let list = store::list_cases(&state.db, &staff.user).await?;
    render(&CasesPage {
        lead: lead(&staff).is_ok(),
        chrome: Chrome::new(&ctx, Some(&staff)),
        cases: list
            .into_iter()
            .map(|c| CaseRow {
                id: c.id,
                account: if c.account_id.is_some() {
                    c.account_number
                } else {
                    t.get("case.no_account")
                },
                service: c.service_code,
                status: t.get(&format!("case.status.{}", c.status)),
                opened: c.opened_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
            .collect(),
    })
}

async fn open_case(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    body: Bytes,
) -> AppResult<Response> {
    desk(&staff)?;
    let f = form_pairs(&body);
    check_csrf(&ctx, one(&f, "csrf"))?;
    let opened = store::open_case(
        &state.db,
        procedure::bundled(),
        &staff.user,
        store::OpenCase {
            account: one(&f, "account"),
            service: one(&f, "service"),
            ticket: one(&f, "ticket").parse().ok(),
            booking: one(&f, "booking").parse().ok(),
            notes: one(&f, "notes"),
        },
    )
    .await;
    let id = match opened {
        Ok(c) => c.id,
        // why: the ticket or booking has its case already; the clerk goes on there.
        Err(AppError::CaseExists { case, .. }) => case,
        Err(e) => return Err(e),
    };
    Ok(see_other(format!("/cases/{id}")))
}

pub struct DocCheck {
    pub id: String,
    pub name: String,
    pub need: String,
}

/// A document of the service's checklist, ticked when already seen.
pub struct SeenCheck {
    pub id: String,
    pub name: String,
    pub seen: bool,
}

/// One part of the facts an operation or consultation shows: a single value, or a table.
pub struct FactSection {
    pub title: String,
    pub value: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub struct VisitView {
    pub ticket: String,
    pub window: String,
    pub specialist: String,
    pub called: String,
    pub started: String,
    pub finished: String,
    pub outcome: String,
    pub booking: String,
}

pub struct GroundView {
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "case/case.html")]
struct CasePage {
    chrome: Chrome,
    c: store::CaseRecord,
    service_title: String,
    balance: Option<String>,
    /// Without an account: the number to prefill the attach form with (the booking's).
    attach_prefill: String,
    checklist: Vec<SeenCheck>,
    visit: Option<VisitView>,
    operations: Vec<(String, String)>,
    has_absence: bool,
    grounds: Vec<GroundView>,
    documents_checklist: Vec<DocCheck>,
    rule_sets: Vec<(String, String)>,
    docs: Vec<(String, String, String)>,
    status_label: String,
    outcome_label: Option<String>,
    token: String,
    notice: Option<String>,
    facts: Vec<FactSection>,
    today: String,
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    notice: Option<String>,
    /// The form token of the operation just performed: its stored result is shown.
    result: Option<String>,
}

fn fact_label(t: Tr, key: &str) -> String {
    let k = format!("case.fact.{key}");
    let s = t.get(&k);
    if s.ends_with(&k) {
        key.replace('_', " ")
    } else {
        s
    }
}

/// A scalar or bilingual text as a cell; anything else compactly.
fn fact_text(t: Tr, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => {
            if *b {
                "✓".into()
            } else {
                "—".into()
            }
        }
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| fact_text(t, x))
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Object(o) => {
            if let (Some(uk), Some(en)) = (o.get("uk"), o.get("en")) {
                return fact_text(t, if t.0 == Lang::En { en } else { uk });
            }
            o.iter()
                .map(|(k, x)| format!("{}: {}", fact_label(t, k), fact_text(t, x)))
                .collect::<Vec<_>>()
                .join("; ")
        }
    }
}

/// The facts as sections: a list of records becomes a table, anything else one value.
fn fact_sections(t: Tr, facts: &serde_json::Value) -> Vec<FactSection> {
    let serde_json::Value::Object(map) = facts else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, v) in map {
        if key == "topic" {
            continue;
        }
        let title = fact_label(t, key);
        match v {
            serde_json::Value::Array(items) if items.first().is_some_and(|i| i.is_object()) => {
                let mut columns: Vec<String> = Vec::new();
                for i in items {
                    if let serde_json::Value::Object(o) = i {
                        for k in o.keys() {
                            if !columns.contains(k) {
                                columns.push(k.clone());
                            }
                        }
                    }
                }
                let rows = items
                    .iter()
                    .map(|i| columns.iter().map(|c| fact_text(t, &i[c])).collect())
                    .collect();
                out.push(FactSection {
                    title,
                    value: String::new(),
                    columns: columns.iter().map(|c| fact_label(t, c)).collect(),
                    rows,
                });
            }
            serde_json::Value::Array(items) if items.is_empty() => out.push(FactSection {
                title,
                value: t.get("case.fact.none"),
                columns: Vec::new(),
                rows: Vec::new(),
            }),
            other => out.push(FactSection {
                title,
                value: fact_text(t, other),
                columns: Vec::new(),
                rows: Vec::new(),
            }),
        }
    }
    out
}

fn time_of(d: Option<chrono::DateTime<chrono::Utc>>) -> String {
    d.map(|d| {
        d.with_timezone(&chrono_tz::Europe::Kyiv)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    })
    .unwrap_or_default()
}

async fn case_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    Query(q): Query<CaseQuery>,
) -> AppResult<Response> {
    desk(&staff)?;
    let t = Tr(ctx.lang);
    let c = store::find_case(&state.db, &staff.user, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let account = match c.account_id {
        Some(_) => store::find_account(&state.db, &c.account_number).await?,
        None => None,
    };
    let p = procedure::bundled().get(&c.service_code);
    let checklist = p
        .map(|p| {
            p.checklist
                .iter()
                .map(|id| SeenCheck {
                    name: t.pick(&procedure::document_name(id)).to_string(),
                    seen: c.documents_seen.contains(id),
                    id: id.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    // A consultation shows its facts at once; an operation's result is shown after it.
    let mut facts = Vec::new();
    if let Some(key) = q.result.as_deref().filter(|k| !k.is_empty())
        && let Some(r) = store::find_operation_result(&state.db, &staff.user, key).await?
    {
        facts = fact_sections(t, &r.facts);
    }
    if facts.is_empty()
        && let Some(p) = p.filter(|p| p.kind == procedure::ProcedureKind::Consultation)
        && let Some(f) = store::case_facts(&state.db, p, c.account_id).await?
    {
        facts = fact_sections(t, &f);
    }
    let visit = c.visit.as_ref().map(|v| VisitView {
        ticket: v.ticket_number.clone().unwrap_or_default(),
        window: v.window.clone().unwrap_or_default(),
        specialist: v.specialist.clone().unwrap_or_default(),
        called: time_of(v.called_at),
        started: time_of(v.started_at),
        finished: time_of(v.finished_at),
        outcome: v
            .ticket_outcome
            .as_ref()
            .map(|o| t.get(&format!("queue.outcome.{o}")))
            .unwrap_or_default(),
        booking: v.booking_code.clone().unwrap_or_default(),
    });
    let attach_prefill = c
        .visit
        .as_ref()
        .and_then(|v| v.booking_account.clone())
        .unwrap_or_default();
    let operations: Vec<(String, String)> = p
        .map(|p| {
            p.operations
                .iter()
                .map(|o| (o.code().to_string(), t.pick(&o.name()).to_string()))
                .collect()
        })
        .unwrap_or_default();
    let has_absence = p.is_some_and(|p| p.allows(OperationKind::TemporaryAbsence));
    let rs = state.rules.get("ua-zaporizhzhia-2023").ok();
    let (grounds, documents_checklist) = match rs {
        Some(rs) => {
            let docs = &rs.absence.documents;
            let grounds = docs
                .grounds()
                .map(|g| GroundView {
                    id: g.id().to_string(),
                    name: t.pick(&g.name()).to_string(),
                })
                .collect();
            let mut seen = std::collections::BTreeSet::new();
            let mut checklist = Vec::new();
            for g in docs.grounds() {
                for item in docs.checklist(g) {
                    if seen.insert(item.document.id.clone()) {
                        checklist.push(DocCheck {
                            name: t.pick(&item.document.name).to_string(),
                            need: match item.need {
                                Need::Required => "required",
                                Need::OneOf => "one_of",
                                Need::IfNeeded => "if_needed",
                            }
                            .to_string(),
                            id: item.document.id.clone(),
                        });
                    }
                }
            }
            (grounds, checklist)
        }
        None => (Vec::new(), Vec::new()),
    };
    let docs = store::list_case_documents(&state.db, id).await?;
    let service_title = crate::store::catalog::list_services(&state.db, true)
        .await?
        .into_iter()
        .find(|s| s.code == c.service_code)
        .map(|s| t.pick(&s.title).to_string())
        .unwrap_or_else(|| c.service_code.clone());
    render(&CasePage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        service_title,
        balance: account.map(|a| a.balance.to_string()),
        attach_prefill,
        checklist,
        visit,
        operations,
        has_absence,
        grounds,
        documents_checklist,
        rule_sets: state
            .rules
            .iter()
            .map(|r| (r.id.clone(), t.pick(&r.title).to_string()))
            .collect(),
        docs: docs
            .into_iter()
            .map(|d| (d.token, t.get(&format!("case.doc.{}", d.kind)), d.number))
            .collect(),
        status_label: t.get(&format!("case.status.{}", c.status)),
        outcome_label: c
            .outcome
            .as_ref()
            .map(|o| t.get(&format!("case.outcome.{o}"))),
        token: crate::security::random_token()[..24].to_string(),
        notice: q.notice,
        facts,
        today: chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Kyiv)
            .date_naive()
            .to_string(),
        c,
    })
}

/// The form's fields as the API's `params`: absence fields nest under `absence`, repeated
/// `documents` become a list, numbers stay numbers.
fn form_params(kind: &str, f: &[(String, String)]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    let mut absence = serde_json::Map::new();
    let mut documents = Vec::new();
    for (k, v) in f {
        if matches!(k.as_str(), "csrf" | "kind" | "token" | "seen") || v.trim().is_empty() {
            continue;
        }
        match k.as_str() {
            "documents" => documents.push(serde_json::Value::String(v.clone())),
            "from" | "to" | "ground" if kind == "temporary_absence" => {
                absence.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
            "absent_persons" | "months" | "payment_id" | "residents" => {
                map.insert(
                    k.clone(),
                    v.trim()
                        .parse::<i64>()
                        .map(serde_json::Value::from)
                        .unwrap_or_else(|_| serde_json::Value::String(v.clone())),
                );
            }
            _ => {
                let value =
                    lines_field(k, v).unwrap_or_else(|| serde_json::Value::String(v.clone()));
                map.insert(k.clone(), value);
            }
        }
    }
    if kind == "temporary_absence" {
        map.insert("absence".into(), serde_json::Value::Object(absence));
        map.insert("documents".into(), serde_json::Value::Array(documents));
    }
    serde_json::Value::Object(map)
}

/// A textarea of the forms of `sealed_meter_fix`, `hot_water_quality`, `account_opening` and
/// `account_split` as the API's list: one item a line, its parts split by spaces (owners by `;`).
/// A malformed line is passed on as it is, for the API's parser to name the field at fault.
fn lines_field(key: &str, text: &str) -> Option<serde_json::Value> {
    use serde_json::{Value, json};
    let separators: &[char] = if matches!(key, "services" | "moved") {
        &['\n', ',']
    } else {
        &['\n']
    };
    let lines = text
        .split(separators)
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let item = |l: &str| -> Value {
        let w = words(l);
        let at = |i: usize| w.get(i).cloned().filter(|s| s != "-");
        match key {
            "readings" if l.contains('T') => {
                json!({"hour": at(0), "temperature_c": at(1), "pressure_mpa": at(2)})
            }
            "readings" => json!({"date": at(0), "value": at(1)}),
            "interruptions" => json!({"start": at(0), "end": at(1), "kind": at(2)}),
            "owners" | "remaining_owners" => {
                let (name, share) = l.rsplit_once(';').unwrap_or((l, "1/1"));
                json!({"name": name.trim(), "share": share.trim()})
            }
            "services" if w.len() == 2 => json!({"service": at(0), "basis": at(1)}),
            "meters" => {
                json!({"service": at(0), "serial": at(1), "sealed_on": at(2), "value": at(3)})
            }
            _ => Value::String(l.to_string()),
        }
    };
    match key {
        "readings" | "interruptions" | "owners" | "remaining_owners" | "services" | "moved"
        | "meters" | "signatories" => Some(Value::Array(lines.map(item).collect())),
        _ => None,
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Goes to the case of a ticket at the desk, opening it first (with the booking's account when
/// the ticket has a booking that names one).
async fn open_from_ticket(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    body: Bytes,
) -> AppResult<Response> {
    let ticket = case_source(&ctx, &staff, &body, "ticket")?;
    go_to_case(&state, &staff, Some(ticket), None).await
}

/// Goes to the case of a booking, opening it first (with the booking's account).
async fn open_from_booking(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    body: Bytes,
) -> AppResult<Response> {
    let booking = case_source(&ctx, &staff, &body, "booking")?;
    go_to_case(&state, &staff, None, Some(booking)).await
}

/// The id of the ticket or booking (form field `name`) a desk form opens a case from.
fn case_source(ctx: &RequestContext, staff: &Staff, body: &Bytes, name: &str) -> AppResult<i32> {
    desk(staff)?;
    let f = form_pairs(body);
    check_csrf(ctx, one(&f, "csrf"))?;
    one(&f, name)
        .trim()
        .parse()
        .map_err(|_| AppError::not_found())
}

/// A redirect to the case already opened for the ticket or booking, else to a new one.
async fn go_to_case(
    state: &AppState,
    staff: &Staff,
    ticket: Option<i32>,
    booking: Option<i32>,
) -> AppResult<Response> {
    let existing = match (ticket, booking) {
        (Some(t), _) => store::find_case_of_ticket(&state.db, t).await?,
        (None, Some(b)) => store::find_case_of_booking(&state.db, b).await?,
        (None, None) => None,
    };
    let id = match existing {
        Some(id) => id,
        None => {
            let opened = store::open_case(
                &state.db,
                procedure::bundled(),
                &staff.user,
                store::OpenCase {
                    account: "",
                    service: "",
                    ticket,
                    booking,
                    notes: "",
                },
            )
            .await;
            match opened {
                Ok(c) => c.id,
                // why: the ticket's booking (or a second click) already has its case: go there.
                Err(AppError::CaseExists { case, .. }) => case,
                Err(e) => return Err(e),
            }
        }
    };
    Ok(see_other(format!("/cases/{id}")))
}

async fn attach_account(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    body: Bytes,
) -> AppResult<Response> {
    desk(&staff)?;
    let f = form_pairs(&body);
    check_csrf(&ctx, one(&f, "csrf"))?;
    store::attach_account(&state.db, &staff.user, id, one(&f, "account")).await?;
    Ok(see_other(format!("/cases/{id}")))
}

async fn operate(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    body: Bytes,
) -> AppResult<Response> {
    desk(&staff)?;
    let f = form_pairs(&body);
    check_csrf(&ctx, one(&f, "csrf"))?;
    let kind = one(&f, "kind");
    let op = parse_operation(kind, form_params(kind, &f))?;
    let token = one(&f, "token");
    let seen: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "seen")
        .map(|(_, v)| v.clone())
        .collect();
    let r = store::perform_seen(
        &state.db,
        &state.rules,
        procedure::bundled(),
        &staff.user,
        id,
        op,
        &seen,
        (!token.is_empty()).then_some(token),
    )
    .await?;
    let t = Tr(ctx.lang);
    let total: Money = r.entries.iter().map(|e| e.amount).sum();
    let notice = format!(
        "{}: {} {}, {} {}",
        kind,
        r.entries.len(),
        t.get("case.entries_posted"),
        t.get("case.total"),
        total
    );
    // why: the result stays in the database under the form's one-time token (the idempotency
    // row); the page reads it back from there, so no facts travel in the URL.
    let facts = if r.facts.is_null() || token.is_empty() {
        String::new()
    } else {
        format!("&result={}", enc(token))
    };
    let to = match &r.document {
        Some(d) => format!("/cases/{id}?notice={}{facts}#doc-{}", enc(&notice), d.token),
        None => format!("/cases/{id}?notice={}{facts}", enc(&notice)),
    };
    Ok(see_other(to))
}

async fn close(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    body: Bytes,
) -> AppResult<Response> {
    desk(&staff)?;
    let f = form_pairs(&body);
    check_csrf(&ctx, one(&f, "csrf"))?;
    let outcome = parse_outcome(one(&f, "outcome"), Some(one(&f, "reason")))?;
    store::close_case(&state.db, &staff.user, id, outcome).await?;
    Ok(see_other(format!("/cases/{id}")))
}

// ---- the monthly charge run ---------------------------------------------------------------------

fn lead(staff: &Staff) -> AppResult<()> {
    if matches!(
        staff.user.role,
        crate::domain::staff::Role::Admin | crate::domain::staff::Role::Supervisor
    ) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub struct RunRow {
    pub period: String,
    pub status: String,
    pub posted: i64,
    pub started: String,
    pub finished: String,
}

#[derive(Template)]
#[template(path = "case/charge_runs.html")]
struct ChargeRunsPage {
    chrome: Chrome,
    runs: Vec<RunRow>,
    month: String,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct RunsQuery {
    notice: Option<String>,
}

/// Admin and supervisor: the month's charge run, and the runs so far.
async fn charge_runs(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Query(q): Query<RunsQuery>,
) -> AppResult<Response> {
    lead(&staff)?;
    let t = Tr(ctx.lang);
    let runs = store::list_charge_runs(&state.db)
        .await?
        .into_iter()
        .map(|r| RunRow {
            status: t.get(&format!("case.run.{}", r.status)),
            period: r.period,
            posted: r.posted,
            started: time_of(Some(r.started_at)),
            finished: time_of(r.finished_at),
        })
        .collect();
    render(&ChargeRunsPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        runs,
        month: crate::domain::rules::calendar::YearMonth::of(
            chrono::Utc::now()
                .with_timezone(&chrono_tz::Europe::Kyiv)
                .date_naive(),
        )
        .to_string(),
        notice: q.notice,
    })
}

async fn run_charges(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    body: Bytes,
) -> AppResult<Response> {
    lead(&staff)?;
    let f = form_pairs(&body);
    check_csrf(&ctx, one(&f, "csrf"))?;
    let month = crate::domain::rules::calendar::YearMonth::parse(one(&f, "month").trim())
        .map_err(|t| AppError::invalid_fields(vec![crate::error::FieldError::new("month", t)]))?;
    let r = store::charge_run(&state.db, month, crate::web::api::case::CHARGE_RUN_BATCH).await?;
    let t = Tr(ctx.lang);
    let notice = format!(
        "{} {}: {} {}",
        t.get("case.run.done_for"),
        r.period,
        r.posted_now,
        t.get("case.entries_posted")
    );
    Ok(see_other(format!(
        "/cases/charge-runs?notice={}",
        enc(&notice)
    )))
}

// ---- documents -----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "case/document.html")]
struct DocumentPage {
    chrome: Chrome,
    d: store::DocumentRecord,
    title: String,
    office: String,
    lines: Vec<String>,
    amounts: Vec<(String, String)>,
    total: Option<String>,
    qr_svg: String,
    verify_url: String,
}

fn qr_svg(text: &str) -> String {
    use qrcode::QrCode;
    use qrcode::render::svg;
    match QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color>()
            .min_dimensions(120, 120)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn document(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Response> {
    desk(&staff)?;
    let t = Tr(ctx.lang);
    let d = store::find_document(&state.db, &token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let verify_url = format!("http://{host}/verify/{}", d.token);
    render(&DocumentPage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        title: t.pick(&d.body.title).to_string(),
        office: t.pick(&d.office_name).to_string(),
        lines: d.body.lines.iter().map(|l| t.pick(l).to_string()).collect(),
        amounts: d
            .body
            .amounts
            .iter()
            .map(|(l, m)| (t.pick(l).to_string(), m.to_string()))
            .collect(),
        total: d.body.total.map(|m| m.to_string()),
        qr_svg: qr_svg(&verify_url),
        verify_url,
        d,
    })
}

#[derive(Template)]
#[template(path = "case/verify.html")]
struct VerifyPage {
    chrome: Chrome,
    number: String,
    issued_on: String,
}

/// Public: confirms a document exists, showing only its number and date.
async fn verify(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let d = store::find_document(&state.db, &token)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(crate::domain::lang::Text::new(
                "Такого документа не видавали.",
                "No such document was issued.",
            ))
        })?;
    render(&VerifyPage {
        chrome: Chrome::new(&ctx, None),
        number: d.number,
        issued_on: d.issued_on.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::procedure::Operation;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn textareas_become_the_api_lists() {
        let f = pairs(&[
            ("kind", "account_opening"),
            ("number", "1000000077"),
            ("address", "вул. Нова, 1"),
            ("total_area", "50.00"),
            ("heated_area", "45.00"),
            ("residents", "2"),
            ("owners", "Коваль Олена; 1/2\r\nКоваль Іван; 1/2"),
            ("services", "cold_water per_person\ngas per_meter"),
            ("meters", "gas G-1 2026-01-10 0.000"),
        ]);
        let Operation::AccountOpening(a) =
            parse_operation("account_opening", form_params("account_opening", &f)).unwrap()
        else {
            panic!("not an opening");
        };
        assert_eq!(a.owners.len(), 2);
        assert_eq!(a.owners[1].name, "Коваль Іван");
        assert_eq!(a.services.len(), 2);
        assert_eq!(a.meters[0].serial, "G-1");
        assert_eq!(a.residents, 2);

        let f = pairs(&[
            ("month", "2026-04"),
            ("readings", "2026-04-02T14:00 54 -\n2026-04-02T15:00 - 0.5"),
            (
                "interruptions",
                "2026-04-03T08:00 2026-04-03T15:00 accident",
            ),
            ("signatories", "Інспектор\nМешканець"),
        ]);
        let Operation::HotWaterQuality {
            readings,
            interruptions,
            signatories,
            ..
        } = parse_operation("hot_water_quality", form_params("hot_water_quality", &f)).unwrap()
        else {
            panic!("not a quality claim");
        };
        assert_eq!(readings.len(), 2);
        assert!(readings[0].pressure_mpa.is_none() && readings[1].temperature_c.is_none());
        assert_eq!(interruptions.len(), 1);
        assert_eq!(signatories.len(), 2);

        let f = pairs(&[
            ("number", "1000000078"),
            ("address", "кв. 1а"),
            ("total_area", "10.00"),
            ("heated_area", "10.00"),
            ("residents", "1"),
            ("owners", "А; 1/1"),
            ("remaining_owners", "Б; 1/1"),
            ("services", "waste, maintenance"),
            ("moved", "waste"),
        ]);
        let Operation::AccountSplit(s) =
            parse_operation("account_split", form_params("account_split", &f)).unwrap()
        else {
            panic!("not a split");
        };
        assert_eq!(s.services.len(), 2);
        assert_eq!(s.moved.len(), 1);

        let f = pairs(&[
            ("rule_set", "ua-zaporizhzhia-2023"),
            ("service", "gas"),
            ("serial", "G-9"),
            ("seal_date", "2026-03-11"),
            ("readings", "2026-03-11 100.000\n2026-03-31 104.500"),
        ]);
        let Operation::SealedMeterFix { readings, .. } =
            parse_operation("sealed_meter_fix", form_params("sealed_meter_fix", &f)).unwrap()
        else {
            panic!("not a correction");
        };
        assert_eq!(readings[1].value_milli, 104_500);
    }
}
