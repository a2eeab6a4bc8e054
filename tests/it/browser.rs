//! A real headless Chromium (Debian `chromium` + `chromium-driver`) opens the home page, finds
//! the catalog, and switches to English; the choice survives a reload.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};

use crate::support::{Backend, TestApp};

mod case;

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("CHERGA_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Headless Chromium through its own chromedriver, one session.
pub struct Browser {
    pub client: fantoccini::Client,
    _driver: Driver,
}

impl Browser {
    /// `None` (the test is skipped) when Chromium, ChromeDriver or one of the `tools` (run with
    /// `-v`) is not installed here; under CI that is a failure instead.
    pub async fn open(lang: &str, window: Option<(u32, u32)>, tools: &[&str]) -> Option<Browser> {
        let driver_bin =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut missing: Vec<String> = [&driver_bin, &chromium]
            .into_iter()
            .filter(|p| !std::path::Path::new(p).exists())
            .cloned()
            .collect();
        missing.extend(
            tools
                .iter()
                .filter(|t| {
                    Command::new(t)
                        .arg("-v")
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_err()
                })
                .map(|t| t.to_string()),
        );
        if !missing.is_empty() {
            assert!(!required(), "not installed: {missing:?}");
            eprintln!("skipped: not installed: {missing:?}");
            return None;
        }
        let port = free_port();
        let driver = Driver(
            Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        // why: without the background-networking flags Chromium keeps dialling out, and this
        // machine's closed network refuses it, many times a second.
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ]
        .map(String::from)
        .into();
        args.push(format!("--lang={lang}"));
        args.push(format!("--accept-lang={lang}"));
        if let Some((w, h)) = window {
            args.push(format!("--window-size={w},{h}"));
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": args,
                "prefs": {"intl.accept_languages": lang}
            }),
        );
        for _ in 0..50 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        _driver: driver,
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("connect to chromedriver");
    }
}

/// Serves the app's router on a free port, with the peer's address as the binary does: the base
/// URL and the server's task.
pub async fn serve(app: &TestApp) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = app.router.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    (base, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_finds_the_catalog_and_switches_language() {
    let Some(browser) = Browser::open("uk", None, &[]).await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (base, server) = serve(&app).await;
    let c = browser.client.clone();

    let result = async {
        c.goto(&base).await?;
        let services = c.find_all(Locator::Css("li.service")).await?;
        assert_eq!(services.len(), 34);
        let heading = c.find(Locator::Css("main h1")).await?.text().await?;
        assert_eq!(heading, "Послуги центру");
        // Categories are collapsed: open the first one.
        c.find(Locator::Css("#cat-payments summary"))
            .await?
            .click()
            .await?;
        let first = c
            .find(Locator::Css("#svc-payment-search h3"))
            .await?
            .text()
            .await?;
        assert!(first.contains("розшук платежу"), "{first}");

        c.find(Locator::Css(".lang-switch a[lang=en]"))
            .await?
            .click()
            .await?;
        let heading = c.find(Locator::Css("main h1")).await?.text().await?;
        assert_eq!(heading, "Services of the center");
        c.refresh().await?;
        let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
        assert_eq!(lang.as_deref(), Some("en"), "the choice is remembered");

        // On a 390 px phone: nothing wider than the screen (the e-mail used to overflow), and
        // the search filters as one types.
        c.set_window_size(390, 844).await?;
        c.goto(&format!("{base}/lang/uk?next=%2F")).await?;
        let overflow = c
            .execute(
                "const w = document.documentElement.clientWidth;\
                 const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1).map(e => e.tagName + '.' + e.className + ':' + e.textContent.slice(0, 40));\
                 return [w, document.documentElement.scrollWidth, wide.join(' | ')];",
                vec![],
            )
            .await?;
        let (w, sw) = (overflow[0].as_i64(), overflow[1].as_i64());
        assert!(w.is_some() && w <= Some(390), "{overflow}");
        assert_eq!(sw, w, "horizontal overflow at 390 px: {overflow}");
        let email = c.find(Locator::Css(".contact-list a[href^=mailto]")).await?;
        assert_eq!(email.text().await?, "cks.kiev@gmail.com");
        c.find(Locator::Css("#q")).await?.send_keys("довідка").await?;
        let shown = c
            .execute(
                "return [...document.querySelectorAll('li.service')].filter(li => li.offsetParent !== null).length;",
                vec![],
            )
            .await?;
        let found = c
            .find(Locator::Css("#catalog"))
            .await?
            .attr("data-found")
            .await?;
        assert_eq!(found.as_deref(), Some(shown.to_string().as_str()));
        let shown = shown.as_u64().unwrap_or(0);
        assert!((3..34).contains(&shown), "instant filter shows {shown}");
        let status = c.find(Locator::Css("#search-status")).await?.text().await?;
        assert_eq!(status, format!("Знайдено послуг: {shown}"));
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    server.abort();
    app.finish().await;
    result.expect("browser steps");
}

mod booking;
mod calculators;
mod queue;
