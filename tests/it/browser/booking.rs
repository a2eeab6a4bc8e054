//! Headless Chromium books like a resident, in Ukrainian: home → service and channel → office
//! → day → time → details → done (the code) → the confirmation link from the mail → the
//! manage page → cancel (SQLite; the flow's database work is covered on both elsewhere).

use std::time::Duration;

use fantoccini::Locator;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::support::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_books_confirms_and_cancels() {
    let Some(browser) = super::Browser::open("uk", None, &[]).await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    // A visit service the demo office's first specialist handles.
    let offices = app.get("/api/v1/offices").await.json();
    let office = offices
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "office")
        .expect("an office")["id"]
        .as_i64()
        .unwrap();
    let specs = app
        .get(&format!("/api/v1/offices/{office}/specialists"))
        .await
        .json();
    let services = app.get("/api/v1/services").await.json();
    let service = specs[0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .find(|c| {
            services.as_array().unwrap().iter().any(|s| {
                s["code"] == c.as_str()
                    && s["channels"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x == "visit")
            })
        })
        .expect("a visit service");

    let (base, server) = super::serve(&app).await;
    let c = browser.client.clone();

    let result = async {
        // Home: the service's visit channel leads to booking.
        c.goto(&format!("{base}/")).await?;
        c.execute(
            "document.querySelectorAll('details').forEach(d => d.open = true);",
            vec![],
        )
        .await?;
        c.find(Locator::Css(&format!("#svc-{service} li.channel-visit a")))
            .await?
            .click()
            .await?;
        let url = c.current_url().await?;
        assert!(url.path().starts_with("/booking/times"), "{url}");
        // Office, day, time.
        c.wait()
            .for_element(Locator::Css("ul.booking-choices:not(.days):not(.times) a"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("ul.days a")).await?;
        let days = c.find_all(Locator::Css("ul.days a")).await?;
        assert!(!days.is_empty(), "free days are offered");
        let label = days[0].text().await?;
        assert!(
            ["(Пн)", "(Вт)", "(Ср)", "(Чт)", "(Пт)", "(Сб)", "(Нд)"]
                .iter()
                .any(|d| label.ends_with(d)),
            "Ukrainian weekday: {label}"
        );
        days[0].clone().click().await?;
        c.find(Locator::Css("ul.times a")).await?.click().await?;
        // Details.
        c.wait()
            .for_element(Locator::Id("name"))
            .await?
            .send_keys("Олена Браузер")
            .await?;
        c.find(Locator::Id("phone"))
            .await?
            .send_keys("067 321 54 76")
            .await?;
        c.find(Locator::Id("email"))
            .await?
            .send_keys("olena.browser@example.com")
            .await?;
        c.find(Locator::Css("form.booking-form button[type=submit]"))
            .await?
            .click()
            .await?;
        // Done: the code and what to do next.
        // why: waits, not finds, after each click that loads a page: a find right after the
        // click may run on the old page.
        let code = c
            .wait()
            .for_element(Locator::Css(".booking-code"))
            .await?
            .text()
            .await?;
        assert_eq!(code.len(), 6, "{code}");
        let notice = c.find(Locator::Css("p.notice")).await?.text().await?;
        assert!(notice.contains("Підтвердьте запис"), "{notice}");
        let done = c.current_url().await?;
        assert!(done.path().starts_with("/booking/manage/"), "{done}");
        let manage = format!("{base}{}", done.path());

        // The confirmation link from the mail in the outbox.
        use cherga::store::entities::mail_outbox;
        let mail = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::DedupeKey.ends_with(":confirm"))
            .order_by_desc(mail_outbox::Column::Id)
            .one(&app.db)
            .await
            .expect("outbox")
            .expect("a confirmation mail");
        assert_eq!(mail.recipient, "olena.browser@example.com");
        assert!(mail.body_text.contains(&code), "{}", mail.body_text);
        let path = mail
            .body_text
            .split("/booking/confirm/")
            .nth(1)
            .map(|r| {
                r.chars()
                    .take_while(char::is_ascii_hexdigit)
                    .collect::<String>()
            })
            .expect("confirmation link");
        c.goto(&format!("{base}/booking/confirm/{path}")).await?;
        c.find(Locator::Css("main form button[type=submit]"))
            .await?
            .click()
            .await?;
        let confirmed = c
            .wait()
            .for_element(Locator::Css("p.notice"))
            .await?
            .text()
            .await?;
        assert_eq!(confirmed, "Запис підтверджено.");

        // The manage page, then cancel.
        c.goto(&manage).await?;
        let card = c.find(Locator::Css(".booking-card")).await?.text().await?;
        assert!(card.contains("підтверджено"), "{card}");
        assert!(card.contains(&code), "{card}");
        c.find(Locator::Css("form[action$='/cancel'] button"))
            .await?
            .click()
            .await?;
        // why: the old page's card is there until the answer replaces it; wait for the new one.
        let card = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(
                "//*[contains(@class, 'booking-card')][contains(., 'скасовано')]",
            ))
            .await?
            .text()
            .await?;
        assert!(card.contains(&code), "{card}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    server.abort();
    let status = {
        use sea_orm::{ConnectionTrait, Statement};
        app.db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT status FROM booking ORDER BY id DESC LIMIT 1",
            ))
            .await
            .ok()
            .flatten()
            .and_then(|r| r.try_get_by_index::<String>(0).ok())
    };
    app.finish().await;
    result.expect("browser steps");
    assert_eq!(status.as_deref(), Some("cancelled"));
}
