//! `/desk`: the specialist's console. Works without JavaScript (every action is a form that
//! comes back to the console); static/desk.js only runs the timer against the norm.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::lang::Text;
use crate::domain::queue::Action;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::queue::{ActionInput, DeskRecord, TicketRecord};
use crate::web::auth::Staff;
use crate::web::context::{RequestContext, check_csrf};
use crate::web::pages::{Chrome, render};

pub struct DeskChoice {
    pub id: i32,
    pub office: String,
    pub window: String,
    pub specialist: String,
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "queue/desk_choose.html")]
struct ChoosePage {
    chrome: Chrome,
    desks: Vec<DeskChoice>,
}

pub struct TicketView {
    pub id: i32,
    pub number: String,
    pub service: String,
    pub status: &'static str,
    pub priority: String,
    pub arrived: String,
    pub since: String,
    pub norm: u32,
    pub recalls: u32,
}

pub struct ServiceLine {
    pub title: String,
    pub count: u32,
    pub longest: i64,
    pub norm: u32,
}

#[derive(Template)]
#[template(path = "queue/desk.html")]
struct ConsolePage {
    chrome: Chrome,
    desk: DeskRecord,
    current: Option<TicketView>,
    per_service: Vec<ServiceLine>,
    waiting: Vec<TicketView>,
    services: Vec<(String, String)>,
    outcomes: Vec<(&'static str, String)>,
    /// The configured priority classes a desk may grant: code, label.
    priorities: Vec<(String, String)>,
}

fn require_desk_role(staff: &Staff) -> AppResult<()> {
    if staff.user.role.is_staff_desk() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn choose(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
) -> AppResult<Response> {
    require_desk_role(&staff)?;
    let t = crate::web::i18n::Tr(ctx.lang);
    let mut desks = Vec::new();
    for o in store::offices::list(&state.db).await? {
        for d in store::queue::list_desks(&state.db, o.id).await? {
            desks.push(DeskChoice {
                id: d.id,
                office: t.pick(&o.name).to_string(),
                window: d.window,
                specialist: d.specialist.unwrap_or_default(),
                mine: d.user_id == Some(staff.user.id),
            });
        }
    }
    render(&ChoosePage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        desks,
    })
}

fn view(t: &crate::web::i18n::Tr, r: TicketRecord) -> TicketView {
    let since = r
        .started_at
        .or(r.called_at)
        .map(|s| s.to_rfc3339())
        .unwrap_or_default();
    TicketView {
        id: r.id,
        number: r.number,
        service: t.pick(&r.service_title).to_string(),
        status: r.status.code(),
        priority: r
            .priority_class
            .map(|p| t.get(&format!("queue.priority.{p}")))
            .unwrap_or_default(),
        arrived: r.arrived_at.format("%H:%M UTC").to_string(),
        since,
        norm: r.norm_minutes,
        recalls: r.recalls,
    }
}

pub async fn console(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    require_desk_role(&staff)?;
    let t = crate::web::i18n::Tr(ctx.lang);
    let q = store::queue::desk_queue(&state.db, id).await?;
    let services = store::catalog::list_services(&state.db, false)
        .await?
        .into_iter()
        .map(|s| (s.code.clone(), t.pick(&s.title).to_string()))
        .collect();
    render(&ConsolePage {
        chrome: Chrome::new(&ctx, Some(&staff)),
        desk: q.desk,
        current: q.current.map(|r| view(&t, r)),
        per_service: q
            .per_service
            .into_iter()
            .map(|s| ServiceLine {
                title: t.pick(&s.title).to_string(),
                count: s.count,
                longest: s.longest_wait_minutes,
                norm: s.norm_minutes,
            })
            .collect(),
        waiting: q.waiting.into_iter().map(|r| view(&t, r)).collect(),
        services,
        outcomes: ["served", "referred", "declined"]
            .into_iter()
            .map(|o| (o, t.get(&format!("queue.outcome.{o}"))))
            .collect(),
        priorities: crate::web::api::queue::priority_classes(&state)
            .into_iter()
            .map(|c| {
                let label = t.get(&format!("queue.priority.{c}"));
                (c, label)
            })
            .collect(),
    })
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn back(id: i32) -> Response {
    Redirect::to(&format!("/desk/{id}")).into_response()
}

pub async fn take(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    store::queue::sign_in_at_desk(&state.db, id, &staff.user).await?;
    Ok(back(id))
}

pub async fn call_next(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let policy = crate::web::api::queue::call_policy(&state);
    let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
    if let Some(c) =
        store::queue::call_next_ticket(&state.db, id, &staff.user, &policy, Some(&catalog)).await?
    {
        state.board.publish_frame(c.frame);
    }
    Ok(back(id))
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    ticket: i32,
    action: String,
    service: Option<String>,
    outcome: Option<String>,
    notes: Option<String>,
    priority: Option<String>,
}

pub async fn act(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    axum::Form(form): axum::Form<ActForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    if form.action == "priority" {
        let class = crate::web::api::queue::required_priority(&state, form.priority)?;
        let c = store::queue::grant_priority(&state.db, id, form.ticket, &class, &staff.user, None)
            .await?;
        state.board.publish_frame(c.frame);
        return Ok(back(id));
    }
    let action = Action::parse(&form.action)
        .ok_or_else(|| AppError::BadRequest(Text::new("Невідома дія.", "Unknown action.")))?;
    let input = ActionInput {
        service: form.service.filter(|s| !s.trim().is_empty()),
        desk: None,
        outcome: form.outcome,
        notes: form.notes,
    };
    let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
    let c = store::queue::act_on_ticket(
        &state.db,
        id,
        form.ticket,
        action,
        &input,
        &staff.user,
        store::queue::ActRules {
            max_recalls: state.config.queue_max_recalls,
            catalog: Some(&catalog),
        },
    )
    .await?;
    state.board.publish_frame(c.frame);
    Ok(back(id))
}

#[derive(Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    csrf: String,
    reason: Option<String>,
}

pub async fn pause(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Staff,
    Path(id): Path<i32>,
    axum::Form(form): axum::Form<PauseForm>,
) -> AppResult<Response> {
    check_csrf(&ctx, &form.csrf)?;
    let (_, frame) = store::queue::pause_desk(&state.db, id, form.reason, &staff.user).await?;
    state.board.publish_frame(frame);
    Ok(back(id))
}
