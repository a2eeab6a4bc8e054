//! The home page: the center's contacts, offices, and the catalog grouped by category.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::catalog::Channel;
use crate::domain::rules::jurisdiction::{OnlineAnswer, online_answer};
use crate::error::AppResult;
use crate::store;
use crate::web::auth::Staff;
use crate::web::context::RequestContext;
use crate::web::i18n::Tr;

pub struct ChannelView {
    pub code: &'static str,
    pub label: String,
    pub action: String,
    pub href: Option<String>,
    pub note: String,
}

pub struct ServiceView {
    pub code: String,
    pub title: String,
    /// The Ukrainian title as published, shown beside the translation on English pages.
    pub original: Option<String>,
    pub duration: String,
    pub channels: Vec<ChannelView>,
    /// An online calculator for the question, whatever the published channels.
    pub calculator: Option<&'static str>,
}

pub struct CategoryView {
    pub code: String,
    pub letter: String,
    pub title: String,
    pub original: Option<String>,
    pub services: Vec<ServiceView>,
}

pub struct OfficeView {
    pub name: String,
    pub address: String,
    pub hours: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    center: std::sync::Arc<crate::domain::staff::center::CenterContacts>,
    center_hours: String,
    center_name: String,
    center_address: String,
    phone_href: String,
    offices: Vec<OfficeView>,
    categories: Vec<CategoryView>,
    service_count: usize,
}

/// Today in Kyiv, the day a rule set must be in force on for a service to link to it.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Kyiv)
        .date_naive()
}

fn channel_view(t: Tr, answer: Option<OnlineAnswer>, channel: Channel) -> ChannelView {
    let (href, note) = match channel {
        Channel::Visit => (None, t.get("next.visit_pending")),
        Channel::ContactCenter => (None, t.get("next.callback_pending")),
        Channel::Website => match answer {
            Some(OnlineAnswer::Calculator(c)) => {
                (Some(c.path().to_string()), t.get("next.calculator"))
            }
            // why: a calculator under other rules than the service names would mislead.
            Some(OnlineAnswer::NotYet(_)) => (None, t.get("calc.not_yet")),
            None => (None, t.get("next.website_pending")),
        },
    };
    let action = if href.is_some() {
        t.get("next.calculator")
    } else {
        t.pick(&channel.action()).to_string()
    };
    ChannelView {
        code: channel.code(),
        label: t.pick(&channel.label()).to_string(),
        action,
        href,
        note,
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let english = ctx.lang == crate::domain::lang::Lang::En;
    let center = state.center.get(&state.db).await?;
    let services = store::catalog::list_services(&state.db, false).await?;
    let categories = store::catalog::list_categories(&state.db).await?;
    let service_count = services.len();
    let today = today();
    let categories: Vec<CategoryView> = categories
        .into_iter()
        .map(|c| {
            let services = services
                .iter()
                .filter(|s| s.category.id == c.id)
                .map(|s| (s, online_answer(&s.code, &state.rules, today)))
                .map(|(s, answer)| ServiceView {
                    code: s.code.clone(),
                    title: t.pick(&s.title).to_string(),
                    original: english.then(|| s.title.uk.clone()),
                    duration: s.duration.display(ctx.lang),
                    channels: s
                        .channels
                        .iter()
                        .map(|&ch| channel_view(t, answer, ch))
                        .collect(),
                    calculator: answer.and_then(OnlineAnswer::href),
                })
                .collect();
            CategoryView {
                code: c.code,
                letter: c.letter,
                title: t.pick(&c.title).to_string(),
                original: english.then(|| c.title.uk.clone()),
                services,
            }
        })
        .filter(|c| !c.services.is_empty())
        .collect();
    let offices = store::offices::list(&state.db)
        .await?
        .into_iter()
        .map(|o| OfficeView {
            name: t.pick(&o.name).to_string(),
            address: t.pick(&o.address).to_string(),
            hours: o
                .hours
                .iter()
                .map(|h| {
                    format!(
                        "{} {}–{}",
                        t.get(&format!("weekday.{}", h.weekday)),
                        h.opens,
                        h.closes
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let page = HomePage {
        center_name: t.pick(&center.name).to_string(),
        chrome: Chrome::new(&ctx, staff.as_ref()),
        center_address: t.pick(&center.address).to_string(),
        center_hours: t.pick(&center.hours).to_string(),
        phone_href: center.phone_href(),
        center,
        offices,
        categories,
        service_count,
    };
    render(&page)
}
