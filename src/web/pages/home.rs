//! The home page: the center's contacts, offices, and the catalog grouped by category, with a
//! search that works without JavaScript (`?q=`) and instantly with it (`static/catalog.js`).

use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, render};
use crate::app::AppState;
use crate::domain::catalog::{Channel, SearchQuery, fold_for_search};
use crate::domain::lang::Lang;
use crate::domain::rules::RuleSetRegistry;
use crate::domain::rules::jurisdiction::{OnlineAnswer, online_answer};
use crate::domain::staff::center::CenterContacts;
use crate::error::AppResult;
use crate::store;
use crate::web::auth::Staff;
use crate::web::context::RequestContext;
use crate::web::i18n::Tr;

pub struct ChannelView {
    pub code: &'static str,
    pub label: String,
    /// Where the channel answers online: a calculator, or the center's website.
    pub link: Option<(String, String)>,
    /// A word on what the channel cannot do here yet (no calculator under the service's rules).
    pub note: Option<String>,
}

/// One service as the home page shows it (`templates/catalog/_service.html`).
pub struct ServiceView {
    pub code: String,
    pub title: String,
    /// The Ukrainian title as published, shown beside the translation on English pages.
    pub original: Option<String>,
    pub duration: String,
    pub channels: Vec<ChannelView>,
    /// An online calculator for a question whose published channels do not include the website.
    pub calculator: Option<&'static str>,
    /// Folded words the instant filter searches (titles in both languages, the category).
    pub search: String,
    /// False when a search is under way and the service does not match it.
    pub shown: bool,
}

pub struct CategoryView {
    pub code: String,
    pub letter: String,
    pub title: String,
    pub original: Option<String>,
    pub services: Vec<ServiceView>,
    pub shown_count: usize,
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
    center: Arc<CenterContacts>,
    center_hours: String,
    center_name: String,
    center_address: String,
    phone_href: String,
    offices: Vec<OfficeView>,
    /// The rendered catalog (`catalog/_categories.html`).
    catalog_html: Arc<String>,
    /// The search as typed (cleaned), empty when there is none.
    query: String,
    found: usize,
    /// The script's URL, with its content hash.
    script: String,
}

/// What the catalog fragment needs of the page chrome: the translator.
struct FragmentChrome {
    t: Tr,
}

#[derive(Template)]
#[template(path = "catalog/_categories.html")]
struct CatalogFragment {
    chrome: FragmentChrome,
    categories: Vec<CategoryView>,
    service_count: usize,
    query: String,
    found: usize,
}

/// The catalog rendered without a search, and what it was rendered from. Holding the snapshot
/// itself, not its address, so a reloaded snapshot can never be taken for an old one.
struct RenderedCatalog {
    catalog: Arc<store::catalog::CatalogSnapshot>,
    lang: Lang,
    /// Links depend on the rule sets in force that day and on the center's website.
    day: chrono::NaiveDate,
    website: String,
    html: Arc<String>,
    found: usize,
}

// why: the catalog part of the home page is the same for every visitor in a language until the
// catalog changes; rendering it once per snapshot (a reload makes a new one) keeps the page cheap (issue 9, item 10).
static RENDERED: Mutex<Vec<RenderedCatalog>> = Mutex::new(Vec::new());

/// Today in Kyiv, the day a rule set must be in force on for a service to link to it.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Kyiv)
        .date_naive()
}

fn channel_view(
    t: Tr,
    code: &str,
    answer: Option<OnlineAnswer>,
    channel: Channel,
    website: &str,
) -> ChannelView {
    let (link, note) = match channel {
        Channel::Website => match answer {
            Some(OnlineAnswer::Calculator(c)) => {
                (Some((c.path().to_string(), t.get("next.calculator"))), None)
            }
            // why: a calculator under other rules than the service names would mislead.
            Some(OnlineAnswer::NotYet(_)) => (
                Some((
                    format!("https://{website}"),
                    t.pick(&channel.action()).to_string(),
                )),
                Some(t.get("calc.not_yet")),
            ),
            None => (
                Some((
                    format!("https://{website}"),
                    t.pick(&channel.action()).to_string(),
                )),
                None,
            ),
        },
        Channel::Visit | Channel::ContactCenter => (
            Some((
                format!(
                    "/booking/times?service={}&channel={}",
                    form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>(),
                    channel.code()
                ),
                t.pick(&channel.action()).to_string(),
            )),
            None,
        ),
    };
    ChannelView {
        code: channel.code(),
        label: t.pick(&channel.label()).to_string(),
        link: link.filter(|(href, _)| href != "https://"),
        note,
    }
}

#[derive(Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    q: String,
}

pub async fn page(
    State(state): State<AppState>,
    ctx: RequestContext,
    staff: Option<Staff>,
    Query(HomeQuery { q }): Query<HomeQuery>,
) -> AppResult<Response> {
    let t = Tr(ctx.lang);
    let query = SearchQuery::parse(&q);
    let catalog = store::catalog::snapshot(&state.caches, &state.db).await?;
    let center = store::center::cached(&state.caches, &state.db).await?;
    let day = today();
    let cached = if query.is_empty() {
        RENDERED.lock().ok().and_then(|r| {
            r.iter()
                .find(|r| {
                    Arc::ptr_eq(&r.catalog, &catalog)
                        && r.lang == ctx.lang
                        && r.day == day
                        && r.website == center.website
                })
                .map(|r| (r.html.clone(), r.found))
        })
    } else {
        None
    };
    let (catalog_html, found) = match cached {
        Some(hit) => hit,
        None => {
            let (html, found) = render_catalog(
                &catalog,
                &query,
                &state.rules,
                day,
                &center.website,
                ctx.lang,
            )?;
            let html = Arc::new(html);
            if query.is_empty()
                && let Ok(mut r) = RENDERED.lock()
            {
                // Keep only the current snapshot's renderings.
                r.retain(|r| Arc::ptr_eq(&r.catalog, &catalog) && r.day == day);
                r.push(RenderedCatalog {
                    catalog: catalog.clone(),
                    lang: ctx.lang,
                    day,
                    website: center.website.clone(),
                    html: html.clone(),
                    found,
                });
            }
            (html, found)
        }
    };
    let offices = offices(&state, t).await?;
    let page = HomePage {
        center_name: t.pick(&center.name).to_string(),
        chrome: Chrome::new(&ctx, staff.as_ref()),
        center_address: t.pick(&center.address).to_string(),
        center_hours: t.pick(&center.hours).to_string(),
        phone_href: center.phone_href(),
        center,
        offices,
        catalog_html,
        query: query.text(),
        found,
        script: crate::web::assets::url("catalog.js"),
    };
    render(&page)
}

fn render_catalog(
    catalog: &store::catalog::CatalogSnapshot,
    query: &SearchQuery,
    rules: &RuleSetRegistry,
    day: chrono::NaiveDate,
    website: &str,
    lang: Lang,
) -> AppResult<(String, usize)> {
    let t = Tr(lang);
    let english = lang == Lang::En;
    let service_count = catalog.active_services().count();
    let mut found = 0;
    let categories: Vec<CategoryView> = catalog
        .categories
        .iter()
        .map(|c| {
            let services: Vec<ServiceView> = catalog
                .active_services()
                .filter(|s| s.category.id == c.id)
                .map(|s| {
                    let texts = [
                        s.title.uk.as_str(),
                        s.title.en.as_str(),
                        c.title.uk.as_str(),
                        c.title.en.as_str(),
                    ];
                    let answer = online_answer(&s.code, rules, day);
                    let channels: Vec<ChannelView> = s
                        .channels
                        .iter()
                        .map(|&ch| channel_view(t, &s.code, answer, ch, website))
                        .collect();
                    ServiceView {
                        code: s.code.clone(),
                        title: t.pick(&s.title).to_string(),
                        original: english.then(|| s.title.uk.clone()),
                        duration: s.duration.display(lang),
                        calculator: answer
                            .and_then(OnlineAnswer::href)
                            .filter(|_| !s.has_channel(Channel::Website)),
                        channels,
                        search: fold_for_search(&texts.join(" ")),
                        shown: query.matches(&texts),
                    }
                })
                .collect();
            let shown_count = services.iter().filter(|s| s.shown).count();
            found += shown_count;
            CategoryView {
                code: c.code.clone(),
                letter: c.letter.clone(),
                title: t.pick(&c.title).to_string(),
                original: english.then(|| c.title.uk.clone()),
                services,
                shown_count,
            }
        })
        .filter(|c| !c.services.is_empty())
        .collect();
    let html = CatalogFragment {
        chrome: FragmentChrome { t },
        categories,
        service_count,
        query: query.text(),
        found,
    }
    .render()
    .map_err(crate::error::AppError::internal)?;
    Ok((html, found))
}

async fn offices(state: &AppState, t: Tr) -> AppResult<Vec<OfficeView>> {
    Ok(state
        .caches
        .offices
        .get(
            &state.db,
            |db| async move { store::offices::list(&db).await },
        )
        .await?
        .iter()
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
        .collect())
}
