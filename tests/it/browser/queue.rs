//! Headless Chromium: the kiosk issues a ticket, a desk calls it through the API, and the
//! board page shows it (SQLite; the board's socket and page need no second database).

use std::time::Duration;

use fantoccini::Locator;

use crate::support::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_ticket_is_called_and_shown_on_the_board() {
    let Some(browser) = super::Browser::open("uk", None, &[]).await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    crate::queue::open_all_day(&app).await;
    let admin = app.admin_bearer().await;
    let (base, server) = super::serve(&app).await;
    let c = browser.client.clone();
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
        // why: waits, not finds: each click loads a page, and a find right after it may run
        // before the new page is there.
        c.wait()
            .for_element(Locator::Css("button.kiosk-button"))
            .await?
            .click()
            .await?;
        let number = c
            .wait()
            .for_element(Locator::Css("#ticket-number"))
            .await?
            .text()
            .await?;
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
