//! The calculator pages in a real headless Chromium: result tables line up with their headers,
//! rows are added by a button, and the page jumps to the result.

use fantoccini::{Client, Locator};

use super::{Browser, serve};
use crate::support::{Backend, TestApp};

/// A running app and a browser at a phone's width; `None` when Chromium is not installed here.
struct Session {
    client: Client,
    base: String,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    app: TestApp,
    _browser: Browser,
}

impl Session {
    async fn start(lang: &str) -> Option<Session> {
        let browser = Browser::open(lang, Some((390, 844)), &[]).await?;
        let app = TestApp::spawn(Backend::Sqlite).await;
        let (base, server) = serve(&app).await;
        Some(Session {
            client: browser.client.clone(),
            base,
            server,
            app,
            _browser: browser,
        })
    }

    async fn finish(self) {
        let _ = self.client.close().await;
        self.server.abort();
        self.app.finish().await;
    }
}

/// For every table in the result: the header's column count and each body or footer row's cell
/// count (colspans counted), as "path: header N, row i M" for every row that differs, and every
/// column heading that does not start with a capital letter.
const MISALIGNED_ROWS: &str = r#"
const out = [];
const tables = document.querySelectorAll('.calc-result table');
tables.forEach((t, ti) => {
  const width = row => Array.from(row.cells).reduce((n, c) => n + (c.colSpan || 1), 0);
  const head = t.tHead ? width(t.tHead.rows[0]) : 0;
  const rows = Array.from(t.querySelectorAll('tbody tr, tfoot tr'));
  rows.forEach((r, i) => { if (width(r) !== head) out.push(`table ${ti}: header ${head}, row ${i} ${width(r)}`); });
  // Column headings start with a capital letter, as headings do (some were lower-case).
  if (t.tHead) Array.from(t.tHead.rows[0].cells).forEach(c => {
    const first = c.textContent.trim().charAt(0);
    if (first !== first.toLocaleUpperCase()) out.push(`table ${ti}: heading "${c.textContent.trim()}"`);
  });
});
return [tables.length, out];
"#;

async fn check_tables(lang: &str) {
    let Some(s) = Session::start(lang).await else {
        return;
    };
    let result = async {
        for path in [
            "/calculators/temporary-absence",
            "/calculators/hot-water-quality",
            "/calculators/heat-allocation",
        ] {
            s.client
                .goto(&format!("{}{path}?example=1&lang={lang}", s.base))
                .await?;
            s.client
                .find(Locator::Css("#calc-form button[type=submit]"))
                .await?
                .click()
                .await?;
            s.client
                .wait()
                .for_element(Locator::Css(".calc-result"))
                .await?;
            let v = s.client.execute(MISALIGNED_ROWS, vec![]).await?;
            let tables = v[0].as_u64().unwrap_or(0);
            assert!(tables >= 1, "{path} ({lang}): no result table: {v}");
            assert_eq!(v[1], serde_json::json!([]), "{path} ({lang}): {v}");
        }
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    s.finish().await;
    result.expect("browser steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_tables_have_as_many_cells_as_headers_uk() {
    check_tables("uk").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_tables_have_as_many_cells_as_headers_en() {
    check_tables("en").await;
}

/// Item 9 of issue 9: a resident adds a row with the button, fills it with date and number
/// inputs, and after sending the phone shows the result, not the top of the form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_added_by_a_button_and_the_page_jumps_to_the_result() {
    let Some(s) = Session::start("uk").await else {
        return;
    };
    let result = async {
        let c = &s.client;
        c.goto(&format!("{}/calculators/heat-allocation?lang=uk", s.base))
            .await?;
        let before = c
            .find_all(Locator::Css("#premises fieldset.row"))
            .await?
            .len();
        assert_eq!(before, 3, "three empty rows on a blank form");
        let add = c
            .find(Locator::Css("button[data-add-row=premises]"))
            .await?;
        assert!(
            add.is_displayed().await?,
            "the button shows with JavaScript"
        );
        add.click().await?;
        let after = c
            .find_all(Locator::Css("#premises fieldset.row"))
            .await?
            .len();
        assert_eq!(after, 4);
        // The new row has its own labelled inputs.
        let label = c
            .find(Locator::Css("label[for='premises-4-area_m2']"))
            .await?
            .text()
            .await?;
        assert!(label.contains("Площа"), "{label}");
        c.find(Locator::Id("heat_gcal"))
            .await?
            .send_keys("12")
            .await?;
        c.find(Locator::Id("tariff_per_gcal"))
            .await?
            .send_keys("1523,17")
            .await?;
        for (n, (id, area)) in [(1, ("A", "60")), (4, ("D", "40"))] {
            c.find(Locator::Id(&format!("premises-{n}-id")))
                .await?
                .send_keys(id)
                .await?;
            c.find(Locator::Id(&format!("premises-{n}-area_m2")))
                .await?
                .send_keys(area)
                .await?;
            c.execute(
                &format!("document.getElementById('premises-{n}-connected').value = 'yes';"),
                vec![],
            )
            .await?;
        }
        c.find(Locator::Css("#calc-form button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("#result")).await?;
        let url = c.current_url().await?;
        assert_eq!(url.fragment(), Some("result"), "{url}");
        let v = c
            .execute(
                "const r = document.getElementById('result').getBoundingClientRect(); \
                 return [window.scrollY, r.top, window.innerHeight];",
                vec![],
            )
            .await?;
        let scroll = v[0].as_f64().unwrap_or(0.0);
        let top = v[1].as_f64().unwrap_or(1e9);
        assert!(scroll > 0.0, "the page scrolled to the result: {v}");
        let height = v[2].as_f64().unwrap_or(0.0);
        assert!(
            (-1.0..height / 2.0).contains(&top),
            "the result's heading is on screen: {v}"
        );
        let total = c.find(Locator::Css("#result")).await?.text().await?;
        assert!(total.contains("18278.04"), "{total}");
        // The added row came back in its place, so "row 4" still names it.
        let d = c
            .find(Locator::Id("premises-4-id"))
            .await?
            .prop("value")
            .await?;
        assert_eq!(d.as_deref(), Some("D"));
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    s.finish().await;
    result.expect("browser steps");
}
