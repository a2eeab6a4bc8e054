//! Headless Chromium through the case pages without JavaScript of our own: sign in, find an
//! account, open a case, perform a temporary-absence recalculation, print the statement to PDF
//! (WebDriver's print command), and read the account number and the amount back from the PDF.

use std::process::Command;
use std::time::Duration;

use fantoccini::Locator;
use fantoccini::wd::PrintConfiguration;

use crate::case::{absence_params, today};
use crate::support::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_recalculates_an_absence_and_prints_the_statement() {
    let Some(browser) = super::Browser::open("uk", None, &["pdftotext"]).await else {
        return;
    };

    let app = TestApp::spawn(Backend::Sqlite).await;
    cherga::store::staff::create_user(
        &app.db,
        "olena",
        "Олена",
        cherga::domain::staff::Role::Specialist,
        "correct horse 1",
    )
    .await
    .expect("user");
    let (base, server) = super::serve(&app).await;
    let c = browser.client.clone();
    let p = absence_params();

    let result = async {
        c.goto(&format!("{base}/login?next=/accounts/")).await?;
        c.find(Locator::Id("username"))
            .await?
            .send_keys("olena")
            .await?;
        c.find(Locator::Id("password"))
            .await?
            .send_keys("correct horse 1")
            .await?;
        c.find(Locator::Css("main form button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::Id("number"))
            .await?
            .send_keys("1000000001")
            .await?;
        c.find(Locator::Css("form.case-search button"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::Css("a.account-link"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("form.case-open")).await?;
        let h1 = c.find(Locator::Css("main h1")).await?.text().await?;
        assert!(h1.contains("1000000001"), "{h1}");
        c.execute(
            "document.getElementById('service').value = 'temporary-absence-recalculation';",
            vec![],
        )
        .await?;
        c.find(Locator::Css("form.case-open button"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Id("absence-submit")).await?;
        // Date inputs are set through the DOM: typing them depends on the browser's locale.
        c.execute(
            "const [app, from, to, cert] = arguments;
             document.getElementById('application_date').value = app;
             document.getElementById('from').value = from;
             document.getElementById('to').value = to;
             document.getElementById('certificate_issued').value = cert;
             document.getElementById('rule_set').value = 'ua-zaporizhzhia-2023';
             document.getElementById('ground').value = 'abroad';
             for (const id of ['application', 'passports', 'foreign_passport']) {
               document.querySelector(`input[name=documents][value=${id}]`).checked = true;
             }",
            vec![
                p["application_date"].clone(),
                p["absence"]["from"].clone(),
                p["absence"]["to"].clone(),
                p["certificate_issued"].clone(),
            ],
        )
        .await?;
        c.find(Locator::Id("absence-submit")).await?.click().await?;
        let Ok(notice) = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("notice"))
            .await
        else {
            let main = c.find(Locator::Css("main")).await?.text().await?;
            panic!("no notice after the recalculation: {main}");
        };
        let notice = notice.text().await?;
        assert!(notice.contains("temporary_absence"), "{notice}");
        c.wait()
            .for_element(Locator::Css("a.document-link"))
            .await?
            .click()
            .await?;
        let total = c
            .wait()
            .for_element(Locator::Id("doc-total"))
            .await?
            .text()
            .await?;
        let account = c.find(Locator::Id("doc-account")).await?.text().await?;
        assert_eq!(account, "1000000001");
        assert!(total.parse::<f64>().is_ok_and(|v| v > 0.0), "{total}");
        let pdf = c
            .print(PrintConfiguration::builder().build().expect("print config"))
            .await?;
        Ok::<_, fantoccini::error::CmdError>((pdf, total))
    }
    .await;
    let _ = c.close().await;
    server.abort();
    app.finish().await;
    let (pdf, total) = result.expect("browser steps");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("statement.pdf");
    std::fs::write(&file, &pdf).expect("write pdf");
    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1000000001"), "{text}");
    assert!(text.contains(&total), "{total} in {text}");
    assert!(text.contains(&today().format("%Y").to_string()), "{text}");
}
