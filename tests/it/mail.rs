//! The mail outbox and its worker. `smtp_*` scenarios deliver to a real SMTP server: Debian's
//! `python3-aiosmtpd`, started per test on a free port with a Maildir (skipped when missing,
//! failing under `CI=true`); `.ci/run` fails when none of them ran.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use mail_parser::{MessageParser, MimeHeaders};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait, TransactionTrait};

use cherga::domain::lang::Lang;
use cherga::mail::booking::{self, BookingMail};
use cherga::mail::worker::{MailWorker, Pass};
use cherga::mail::{Enqueued, MailStatus, OutgoingMail};
use cherga::store::entities::{mail_attachment, mail_outbox};

use crate::on_both_databases;
use crate::support::{ADMIN_PASSWORD, Backend, TestApp, csrf_of};

const FROM: &str = "cherga <noreply@cherga.test>";

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("CHERGA_REQUIRE_SMTP").is_ok_and(|v| v == "1")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A Python that has aiosmtpd: `$AIOSMTPD_PYTHON`, Debian's `/usr/bin/python3`, or `python3`.
fn aiosmtpd_python() -> Option<String> {
    let candidates = std::env::var("AIOSMTPD_PYTHON")
        .ok()
        .into_iter()
        .chain(["/usr/bin/python3".to_string(), "python3".to_string()]);
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(py);
        }
    }
    None
}

/// An aiosmtpd server storing every message it accepts in a Maildir; killed on drop.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    /// Starts on `port`; `None` (the test skips) when aiosmtpd is not installed outside CI.
    async fn start(port: u16, dir: &Path) -> Option<SmtpServer> {
        let Some(py) = aiosmtpd_python() else {
            assert!(!required(), "python3-aiosmtpd is not installed");
            eprintln!("skipped: python3-aiosmtpd is not installed");
            return None;
        };
        // aiosmtpd creates the Maildir itself, but only its last level.
        let maildir = dir.join("maildir");
        let child = Command::new(py)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let server = SmtpServer { child, maildir };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start listening on {port}");
    }

    /// The raw messages delivered so far.
    fn messages(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                for e in entries.flatten() {
                    out.push(std::fs::read(e.path()).expect("read delivered mail"));
                }
            }
        }
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kyiv(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Tz> {
    chrono_tz::Europe::Kyiv
        .from_local_datetime(
            &NaiveDate::from_ymd_opt(y, m, d)
                .and_then(|d| d.and_hms_opt(h, min, 0))
                .expect("valid date"),
        )
        .single()
        .expect("unambiguous local time")
}

fn sample(id: i64, lang: Lang, start: DateTime<Tz>) -> BookingMail {
    BookingMail {
        booking_id: id,
        lang,
        to: "olena@example.com".into(),
        name: "Олена Петренко".into(),
        code: "K7Q2".into(),
        service_title: "Перерахунок за відсутності".into(),
        office_name: "ЦНАП Центральний".into(),
        office_address: "вул. Хрещатик, 1".into(),
        window: Some("3".into()),
        specialist: None,
        end: start + chrono::Duration::minutes(20),
        start,
        manage_url: Some(format!("http://cherga.test/booking/manage/token{id}")),
        site_url: "http://cherga.test".into(),
        confirm_url: None,
        confirm_code: None,
        changed_at: Utc::now(),
        organizer_email: "noreply@cherga.test".into(),
    }
}

fn plain(key: &str) -> OutgoingMail {
    OutgoingMail {
        dedupe_key: key.into(),
        to: "resident@example.com".into(),
        subject: format!("Test {key}"),
        text: format!("Body of {key}"),
        html: None,
        lang: Lang::En,
        attachments: Vec::new(),
        not_before: None,
    }
}

fn smtp_url(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}")
}

async fn row(app: &TestApp, id: i32) -> mail_outbox::Model {
    mail_outbox::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query outbox")
        .expect("outbox row")
}

async fn enqueue_new(app: &TestApp, mail: OutgoingMail) -> i32 {
    match cherga::mail::enqueue(&app.db, mail).await.expect("enqueue") {
        Enqueued::New(id) => id,
        Enqueued::Duplicate => panic!("expected a new message"),
    }
}

async fn smtp_delivers_booking_mail_with_ics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let Some(server) = SmtpServer::start(port, dir.path()).await else {
        return app.finish().await;
    };
    // 2027-03-28 is the spring DST day in Kyiv: 10:00 local is 07:00 UTC.
    let b = sample(7, Lang::En, kyiv(2027, 3, 28, 10, 0));
    let id = enqueue_new(&app, booking::booked(&b)).await;
    let worker = MailWorker::new(app.db.clone(), Some(&smtp_url(port)), FROM, 5).expect("worker");
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Sent(id));
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Idle);

    let r = row(&app, id).await;
    assert_eq!(r.status, "sent");
    assert_eq!(r.attempts, 1);
    assert!(r.sent_at.is_some());
    assert_eq!(r.locked_until, None);

    let delivered = server.messages();
    assert_eq!(delivered.len(), 1, "one message delivered");
    let msg = MessageParser::default()
        .parse(&delivered[0])
        .expect("delivered mail parses");
    assert_eq!(
        msg.subject(),
        Some("Your appointment: Перерахунок за відсутності, 28 Mar 2027 at 10:00")
    );
    assert_eq!(
        msg.to().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("olena@example.com")
    );
    assert_eq!(
        msg.from().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("noreply@cherga.test")
    );
    assert_eq!(
        msg.message_id(),
        Some(format!("cherga-mail-{id}@cherga.test").as_str())
    );
    assert_eq!(
        msg.header_raw("Content-Language").map(str::trim),
        Some("en")
    );
    let text = msg.body_text(0).expect("text body").into_owned();
    assert!(text.starts_with("Hello, Олена Петренко!"), "{text}");
    assert!(text.contains("K7Q2"), "{text}");
    assert!(
        text.contains("http://cherga.test/booking/manage/token7"),
        "{text}"
    );

    let ics_part = msg
        .attachments()
        .find(|a| a.attachment_name() == Some("invite.ics"))
        .expect("invite.ics attached");
    let ct = ics_part.content_type().expect("content type");
    assert_eq!(ct.ctype(), "text");
    assert_eq!(ct.subtype(), Some("calendar"));
    let ics = String::from_utf8(ics_part.contents().to_vec()).expect("utf-8 ICS");
    let cal: icalendar::Calendar = ics.parse().unwrap_or_else(|e| panic!("{e}: {ics}"));
    assert_eq!(cal.property_value("METHOD"), Some("REQUEST"), "{ics}");
    let event = cal
        .components
        .iter()
        .find_map(|c| match c {
            icalendar::CalendarComponent::Event(e) => Some(e.clone()),
            _ => None,
        })
        .expect("VEVENT");
    use icalendar::Component;
    assert_eq!(
        event.get_start(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::Utc(Utc.with_ymd_and_hms(2027, 3, 28, 7, 0, 0).unwrap())
        )),
        "{ics}"
    );
    assert_eq!(event.get_uid(), Some("booking-7@cherga.test"), "{ics}");
    app.finish().await;
}

async fn smtp_outage_keeps_the_message_until_the_server_is_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let id = enqueue_new(&app, plain("outage:1")).await;
    let worker = MailWorker::new(app.db.clone(), Some(&smtp_url(port)), FROM, 5).expect("worker");

    // Nothing listens on the port yet.
    let before = Utc::now();
    assert_eq!(worker.run_once().await.expect("pass"), Pass::WillRetry(id));
    let r = row(&app, id).await;
    assert_eq!(r.status, "queued");
    assert_eq!(r.attempts, 1);
    assert_eq!(r.locked_until, None);
    assert!(
        r.next_attempt_at >= before + chrono::Duration::seconds(29),
        "next attempt {} was moved by the backoff",
        r.next_attempt_at
    );
    assert!(
        r.last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("SMTP")),
        "{:?}",
        r.last_error
    );
    // Not due yet: the worker leaves it alone.
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Idle);

    let Some(server) = SmtpServer::start(port, dir.path()).await else {
        return app.finish().await;
    };
    assert!(
        cherga::store::mail::retry_now(&app.db, id)
            .await
            .expect("retry")
    );
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Sent(id));
    let r = row(&app, id).await;
    assert_eq!(r.status, "sent");
    assert_eq!(r.attempts, 2);
    assert_eq!(server.messages().len(), 1);
    app.finish().await;
}

async fn smtp_a_dead_workers_claim_expires_and_the_message_is_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let Some(server) = SmtpServer::start(port, dir.path()).await else {
        return app.finish().await;
    };
    let id = enqueue_new(&app, plain("crash:1")).await;
    let worker = MailWorker::new(app.db.clone(), Some(&smtp_url(port)), FROM, 5).expect("worker");

    // Another instance claims the message for a long time: nobody else may send it.
    let held = cherga::store::mail::claim_due(&app.db, Utc::now(), chrono::Duration::minutes(5))
        .await
        .expect("claim")
        .expect("a due message");
    assert_eq!(held.id, id);
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Idle);
    assert!(server.messages().is_empty());

    // That instance died mid-send; five minutes pass and its lease is over.
    let mut stale: mail_outbox::ActiveModel = row(&app, id).await.into();
    stale.locked_until = Set(Some(cherga::store::now() - chrono::Duration::seconds(1)));
    stale.update(&app.db).await.expect("age the lease");
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Sent(id));
    assert_eq!(server.messages().len(), 1);
    let r = row(&app, id).await;
    assert_eq!(r.status, "sent");
    assert_eq!(r.attempts, 1);
    // A late report from the dead instance changes nothing.
    assert!(
        !cherga::store::mail::mark_sent(&app.db, &held, Utc::now())
            .await
            .expect("mark")
    );
    assert!(
        cherga::store::mail::mark_failed_attempt(&app.db, &held, "late", Utc::now(), 5)
            .await
            .is_ok()
    );
    let r = row(&app, id).await;
    assert_eq!(r.status, "sent");
    assert_eq!(r.last_error, None);
    app.finish().await;
}

async fn smtp_two_workers_deliver_each_message_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let Some(server) = SmtpServer::start(port, dir.path()).await else {
        return app.finish().await;
    };
    const N: usize = 12;
    for i in 0..N {
        enqueue_new(&app, plain(&format!("pair:{i}"))).await;
    }
    // Two instances: each its own connection pool to the one database.
    let second_db =
        cherga::store::connect(&cherga::config::Config::for_database(&app.database_url))
            .await
            .expect("second connection");
    let url = smtp_url(port);
    let a = MailWorker::new(app.db.clone(), Some(&url), FROM, 5).expect("worker a");
    let b = MailWorker::new(second_db.clone(), Some(&url), FROM, 5).expect("worker b");
    let drain = |w: MailWorker| async move {
        let mut sent = Vec::new();
        loop {
            match w.run_once().await.expect("pass") {
                Pass::Sent(id) => sent.push(id),
                Pass::Idle => break,
                other => panic!("unexpected pass {other:?}"),
            }
        }
        sent
    };
    let (sa, sb) = tokio::join!(tokio::spawn(drain(a)), tokio::spawn(drain(b)));
    let (sa, sb) = (sa.expect("worker a"), sb.expect("worker b"));
    let mut all: Vec<i32> = sa.iter().chain(sb.iter()).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(sa.len() + sb.len(), N, "a sent {sa:?}, b sent {sb:?}");
    assert_eq!(all.len(), N, "no message claimed twice: {sa:?} / {sb:?}");
    let delivered = server.messages();
    assert_eq!(delivered.len(), N);
    let mut ids: Vec<String> = delivered
        .iter()
        .map(|m| {
            MessageParser::default()
                .parse(m)
                .and_then(|p| p.message_id().map(str::to_string))
                .expect("message id")
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N, "each message delivered once");
    let sent = cherga::store::mail::list_outbox(&app.db, Some(MailStatus::Sent), 100)
        .await
        .expect("list");
    assert_eq!(sent.len(), N);
    assert!(sent.iter().all(|r| r.attempts == 1));
    let _ = second_db.close().await;
    app.finish().await;
}

async fn outbox_enqueue_is_transactional_and_deduplicated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = sample(9, Lang::Uk, kyiv(2027, 10, 31, 9, 30));

    // Rolled back: nothing, not even the attachment.
    let txn = app.db.begin().await.expect("begin");
    let r = cherga::mail::enqueue(&txn, booking::booked(&b))
        .await
        .expect("enqueue");
    assert!(matches!(r, Enqueued::New(_)));
    txn.rollback().await.expect("rollback");
    assert_eq!(
        mail_outbox::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        mail_attachment::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        0
    );

    // Committed, then the same event again in another transaction: one message.
    let txn = app.db.begin().await.expect("begin");
    let first = cherga::mail::enqueue(&txn, booking::booked(&b))
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");
    let Enqueued::New(id) = first else {
        panic!("first enqueue is new")
    };
    let txn = app.db.begin().await.expect("begin");
    let again = cherga::mail::enqueue(&txn, booking::booked(&b))
        .await
        .expect("enqueue");
    // The duplicate must not have broken the transaction (PostgreSQL aborts on errors).
    let other = cherga::mail::enqueue(&txn, booking::cancelled(&b))
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");
    assert_eq!(again, Enqueued::Duplicate);
    assert!(matches!(other, Enqueued::New(_)));
    assert_eq!(
        mail_outbox::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        2
    );
    assert_eq!(
        mail_attachment::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        2
    );
    let m = cherga::store::mail::find_message(&app.db, id)
        .await
        .expect("find")
        .expect("message");
    assert_eq!(m.record.status, MailStatus::Queued);
    assert_eq!(m.record.lang, Lang::Uk);
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].filename, "invite.ics");
    assert!(
        String::from_utf8_lossy(&m.attachments[0].content).contains("DTSTART:20271031T073000Z")
    );

    // A reminder waits for its time and can be withdrawn; a withdrawn one is never claimed.
    let now = Utc::now();
    let soon = sample(
        10,
        Lang::Uk,
        (now + chrono::Duration::days(3)).with_timezone(&chrono_tz::Europe::Kyiv),
    );
    let rem = booking::reminder(&soon, 24, now).expect("reminder later");
    let rem_id = enqueue_new(&app, rem).await;
    let worker =
        MailWorker::new(app.db.clone(), Some("smtp://127.0.0.1:9"), FROM, 5).expect("worker");
    // The two due messages fail (port 9 is closed); the reminder is not due.
    for _ in 0..2 {
        assert!(matches!(
            worker.run_once().await.expect("pass"),
            Pass::WillRetry(_)
        ));
    }
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Idle);
    assert_eq!(row(&app, rem_id).await.attempts, 0);
    let key = booking::reminder_key(10, &soon.start);
    assert!(
        cherga::mail::withdraw(&app.db, &key)
            .await
            .expect("withdraw")
    );
    assert!(
        !cherga::mail::withdraw(&app.db, &key)
            .await
            .expect("withdraw")
    );
    assert_eq!(row(&app, rem_id).await.status, "withdrawn");
    app.finish().await;
}

async fn outbox_without_smtp_is_read_and_retried_in_the_admin_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let b = sample(11, Lang::Uk, kyiv(2027, 3, 28, 10, 0));
    let id = enqueue_new(&app, booking::booked(&b)).await;

    // No SMTP configured: the worker does nothing and the message stays queued.
    let off = MailWorker::new(app.db.clone(), None, FROM, 5).expect("worker");
    assert_eq!(off.run_once().await.expect("pass"), Pass::Disabled);
    assert_eq!(row(&app, id).await.status, "queued");

    // Staff must sign in; the page is for administrators.
    let anon = app
        .get_with("/admin/outbox", &[("accept", "text/html")])
        .await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER, "{}", anon.body);

    let cookies = app.browser_sign_in("admin", ADMIN_PASSWORD).await;
    let page = app
        .get_with(
            "/admin/outbox",
            &[("accept", "text/html"), ("cookie", &cookies)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("CHERGA_SMTP_URL"), "{}", page.body);
    assert!(
        page.body.contains("Ви записані: Перерахунок"),
        "{}",
        page.body
    );
    assert!(page.body.contains("у черзі"), "{}", page.body);

    let one = app
        .get_with(
            &format!("/admin/outbox/{id}"),
            &[("accept", "text/html"), ("cookie", &cookies)],
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert!(
        one.body.contains("Добрий день, Олена Петренко!"),
        "{}",
        one.body
    );
    assert!(one.body.contains("K7Q2"), "{}", one.body);
    assert!(one.body.contains("invite.ics"), "{}", one.body);

    let ics = app
        .get_with(
            &format!("/admin/outbox/{id}/attachments/0"),
            &[("cookie", &cookies)],
        )
        .await;
    assert_eq!(ics.status, StatusCode::OK, "{}", ics.body);
    assert!(
        ics.body.contains("DTSTART:20270328T070000Z"),
        "{}",
        ics.body
    );
    let missing = app
        .get_with(
            &format!("/admin/outbox/{id}/attachments/5"),
            &[("cookie", &cookies)],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // A message that failed for good: shown as failed, then "retry now" queues it again.
    let failing =
        MailWorker::new(app.db.clone(), Some("smtp://127.0.0.1:9"), FROM, 1).expect("worker");
    assert_eq!(failing.run_once().await.expect("pass"), Pass::Failed(id));
    let r = row(&app, id).await;
    assert_eq!(r.status, "failed");
    assert_eq!(r.attempts, 1);
    let list = app
        .get_with(
            "/admin/outbox?status=failed",
            &[("accept", "text/html"), ("cookie", &cookies)],
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains(&format!("data-id=\"{id}\"")),
        "{}",
        list.body
    );
    assert!(list.body.contains("SMTP"), "{}", list.body);

    let bad = app
        .form(
            &format!("/admin/outbox/{id}/retry"),
            &[("csrf", "wrong")],
            &cookies,
        )
        .await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN, "{}", bad.body);
    assert_eq!(row(&app, id).await.status, "failed");

    let csrf = csrf_of(&cookies);
    let retried = app
        .form(
            &format!("/admin/outbox/{id}/retry"),
            &[("csrf", &csrf)],
            &cookies,
        )
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.body);
    assert_eq!(
        retried.location(),
        Some(format!("/admin/outbox/{id}?notice=retried").as_str())
    );
    let r = row(&app, id).await;
    assert_eq!(r.status, "queued");
    assert!(r.next_attempt_at <= Utc::now());

    // English interface.
    let en = app
        .get_with(
            &format!("/admin/outbox/{id}?notice=retried"),
            &[
                ("accept", "text/html"),
                ("cookie", &format!("{cookies}; cherga_lang=en")),
            ],
        )
        .await;
    assert_eq!(en.status, StatusCode::OK);
    assert!(
        en.body.contains("The message has been queued for sending."),
        "{}",
        en.body
    );
    app.finish().await;
}

on_both_databases!(
    smtp_delivers_booking_mail_with_ics,
    smtp_booking_over_http_sends_the_confirmation_and_the_invite,
    smtp_outage_keeps_the_message_until_the_server_is_back,
    smtp_a_dead_workers_claim_expires_and_the_message_is_sent,
    smtp_two_workers_deliver_each_message_once,
    outbox_enqueue_is_transactional_and_deduplicated,
    outbox_without_smtp_is_read_and_retried_in_the_admin_page,
);

/// The calendar event of a delivered mail's `.ics` part: (METHOD, DTSTART, DTEND, UID).
fn invite_of(raw: &[u8]) -> (String, DateTime<Utc>, DateTime<Utc>, String) {
    use icalendar::Component;
    let msg = MessageParser::default().parse(raw).expect("mail parses");
    let part = msg
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".ics")))
        .expect("an .ics attachment");
    let ics = String::from_utf8(part.contents().to_vec()).expect("utf-8 ICS");
    let cal: icalendar::Calendar = ics.parse().unwrap_or_else(|e| panic!("{e}: {ics}"));
    let event = cal
        .components
        .iter()
        .find_map(|c| match c {
            icalendar::CalendarComponent::Event(e) => Some(e.clone()),
            _ => None,
        })
        .expect("VEVENT");
    let utc = |d: Option<icalendar::DatePerhapsTime>| match d {
        Some(icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(t))) => t,
        other => panic!("not a UTC time: {other:?} in {ics}"),
    };
    (
        cal.property_value("METHOD").unwrap_or_default().to_string(),
        utc(event.get_start()),
        utc(event.get_end()),
        event.get_uid().unwrap_or_default().to_string(),
    )
}

fn subject_of(raw: &[u8]) -> String {
    MessageParser::default()
        .parse(raw)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

/// Books over HTTP with an email and receives, on a real SMTP server, the confirmation (link
/// and code), then after confirming the invite with a valid calendar file, then after moving
/// the booking an update of the same event.
async fn smtp_booking_over_http_sends_the_confirmation_and_the_invite(backend: Backend) {
    use axum::http::Method;
    let app = TestApp::spawn_with(backend, |c| {
        c.public_url = Some("https://cherga.test/".into());
        c.mail_from = FROM.into();
        c.booking.booking_rate_per_minute = 0;
        c.booking.availability_rate_per_minute = 0;
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let Some(server) = SmtpServer::start(port, dir.path()).await else {
        return app.finish().await;
    };
    let worker = MailWorker::new(app.db.clone(), Some(&smtp_url(port)), FROM, 5).expect("worker");

    // A free time of the demo office's first specialist.
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
    let spec = specs[0]["id"].as_i64().unwrap();
    let today = Utc::now().date_naive();
    let (mut service, mut slots) = (String::new(), Vec::new());
    for code in specs[0]["services"].as_array().unwrap() {
        let r = app
            .get(&format!(
                "/api/v1/offices/{office}/availability?service={}&from={today}&to={}&specialist={spec}",
                code.as_str().unwrap(),
                today + chrono::Duration::days(14)
            ))
            .await;
        if r.status == StatusCode::OK && r.json()["slots"].as_array().unwrap().len() > 20 {
            service = code.as_str().unwrap().to_string();
            slots = r.json()["slots"].as_array().unwrap().clone();
            break;
        }
    }
    assert!(!service.is_empty(), "a bookable service");
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings",
            &serde_json::json!({"office": office, "service": service, "start": slots[0]["start"],
                "name": "Olena", "email": "olena@example.com", "lang": "en", "specialist": spec}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["status"], "pending");
    let id = r.json()["id"].as_i64().unwrap();
    let manage = r.json()["manage_token"].as_str().unwrap().to_string();
    let parse = |s: &serde_json::Value| {
        DateTime::parse_from_rfc3339(s.as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    let (start, end) = (parse(&r.json()["start"]), parse(&r.json()["end"]));

    // The confirmation request: link and code, no calendar file yet.
    assert!(matches!(
        worker.run_once().await.expect("pass"),
        Pass::Sent(_)
    ));
    assert_eq!(worker.run_once().await.expect("pass"), Pass::Idle);
    let delivered = server.messages();
    assert_eq!(delivered.len(), 1);
    let msg = MessageParser::default()
        .parse(&delivered[0])
        .expect("mail parses");
    assert!(
        msg.subject().unwrap_or("").starts_with("Please confirm"),
        "{:?}",
        msg.subject()
    );
    assert_eq!(msg.attachments().count(), 0);
    let text = msg.body_text(0).expect("text").into_owned();
    assert!(
        text.contains(&format!("https://cherga.test/booking/manage/{manage}")),
        "{text}"
    );
    let token: String = text
        .split("https://cherga.test/booking/confirm/")
        .nth(1)
        .expect("confirmation link")
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 64, "{text}");

    // Confirmed through the link: the invite arrives with the right UTC times.
    let r = app
        .json(
            Method::POST,
            "/api/v1/bookings/confirm",
            &serde_json::json!({"token": token}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(matches!(
        worker.run_once().await.expect("pass"),
        Pass::Sent(_)
    ));
    assert_eq!(
        worker.run_once().await.expect("pass"),
        Pass::Idle,
        "the reminder waits for its time"
    );
    let delivered = server.messages();
    assert_eq!(delivered.len(), 2);
    let invite = delivered
        .iter()
        .find(|m| subject_of(m).starts_with("Your appointment"))
        .expect("the invite");
    let (method, dtstart, dtend, uid) = invite_of(invite);
    assert_eq!(method, "REQUEST");
    assert_eq!((dtstart, dtend), (start, end));
    assert_eq!(uid, format!("booking-{id}@cherga.test"));

    // Moved: an update of the same event (same UID) at the new time.
    let r = app
        .json(
            Method::POST,
            &format!("/api/v1/bookings/{manage}/reschedule"),
            &serde_json::json!({"start": slots[20]["start"]}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let new_start = parse(&r.json()["start"]);
    assert!(matches!(
        worker.run_once().await.expect("pass"),
        Pass::Sent(_)
    ));
    let delivered = server.messages();
    let update = delivered
        .iter()
        .find(|m| subject_of(m).starts_with("Appointment moved"))
        .expect("the reschedule notice");
    let (method, dtstart, _, uid2) = invite_of(update);
    assert_eq!(method, "REQUEST");
    assert_eq!(dtstart, new_start);
    assert_eq!(uid2, uid, "the same calendar event");
    app.finish().await;
}
