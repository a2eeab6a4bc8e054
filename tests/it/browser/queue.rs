//! Headless Chromium: the kiosk issues a ticket, a desk calls it through the API, and the
//! board page shows it (SQLite; the board's socket and page need no second database).

use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};

use super::{Driver, free_port, required};
use crate::support::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_ticket_is_called_and_shown_on_the_board() {
    let driver_bin =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&driver_bin).exists() || !std::path::Path::new(&chromium).exists() {
        assert!(!required(), "Chromium or ChromeDriver missing");
        eprintln!("skipped: chromium/chromedriver not installed");
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("DELETE FROM office_hours")
        .await
        .unwrap();
    for d in 0..7 {
        app.db
            .execute_unprepared(&format!(
                "INSERT INTO office_hours (office_id, weekday, opens, closes) \
                 SELECT id, {d}, '00:00', '24:00' FROM office WHERE code = 'pecherskyi'"
            ))
            .await
            .unwrap();
    }
    let admin = app.admin_bearer().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let port = free_port();
    let _driver = Driver(
        Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking", "--lang=uk"],
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("connect to chromedriver");
    let desk = crate::support::TestApp::get(&app, "/api/v1/offices/pecherskyi/desks")
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();

    let result = async {
        // The kiosk: a category, then a service of desk 1.
        c.goto(&format!("{base}/kiosk/pecherskyi")).await?;
        c.find(Locator::Css("a.kiosk-button[data-category=payments]"))
            .await?
            .click()
            .await?;
        c.find(Locator::Css("button.kiosk-button"))
            .await?
            .click()
            .await?;
        let number = c.find(Locator::Css("#ticket-number")).await?.text().await?;
        assert!(number.ends_with("-001"), "{number}");

        // The board connects and shows the snapshot, then the call.
        c.goto(&format!("{base}/board/pecherskyi")).await?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let r = app
            .json(
                axum::http::Method::POST,
                &format!("/api/v1/desks/{desk}/call-next"),
                &serde_json::json!({}),
                &[("authorization", &admin)],
            )
            .await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
        let mut shown = String::new();
        for _ in 0..50 {
            if let Ok(e) = c.find(Locator::Css("#board-calls li .board-ticket")).await {
                shown = e.text().await?;
                if shown == number {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(shown, number, "the board shows the called ticket");
        let window = c
            .find(Locator::Css("#board-calls li .board-window"))
            .await?
            .text()
            .await?;
        assert_eq!(window, "1");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    server.abort();
    app.finish().await;
    result.expect("browser steps");
}
