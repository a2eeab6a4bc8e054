//! The mails of a booking, as pure functions of a [`BookingMail`]: confirmation request,
//! booked (with the ICS), reminder, cancellation and reschedule notices, in the resident's
//! language. The booking store builds the `BookingMail` and calls [`crate::mail::enqueue`] with
//! the result inside the booking's transaction.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};

use super::{AttachedFile, OutgoingMail};
use crate::domain::lang::Lang;

/// What the mails of one booking say.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingMail {
    /// The booking's id: the dedupe keys and the calendar event's UID are built from it.
    pub booking_id: i64,
    pub lang: Lang,
    /// The resident's mail address.
    pub to: String,
    pub name: String,
    /// The short booking code shown at the kiosk.
    pub code: String,
    pub service_title: String,
    pub office_name: String,
    pub office_address: String,
    /// Desk or window, when known.
    pub window: Option<String>,
    pub specialist: Option<String>,
    /// Start and end in the office's time zone.
    pub start: DateTime<Tz>,
    pub end: DateTime<Tz>,
    /// The private manage link (view, cancel, reschedule), absolute. `None` when staff changed
    /// the booking: only the resident holds its token, so staff's mails cannot carry it.
    pub manage_url: Option<String>,
    /// The site's public base (`CHERGA_PUBLIC_URL`): the calendar event's UID is built on its
    /// host, the same in every mail of the booking.
    pub site_url: String,
    /// The confirmation link and code, when the booking awaits confirmation.
    pub confirm_url: Option<String>,
    pub confirm_code: Option<String>,
    /// When the booking last changed. Calendar clients apply an update only when its
    /// SEQUENCE grows, so SEQUENCE is derived from this instant: every later change of the
    /// booking (reschedule, cancellation) carries a higher one without a counter to keep.
    pub changed_at: DateTime<Utc>,
    /// The organizer address of the calendar event (the `CHERGA_MAIL_FROM` address).
    pub organizer_email: String,
}

/// What the booking mails need from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The base of links in mails (`CHERGA_PUBLIC_URL`), without a trailing slash.
    pub public_url: String,
    /// The organizer address of calendar events (the `CHERGA_MAIL_FROM` address).
    pub organizer_email: String,
    /// Hours before the start the reminder is sent (`CHERGA_REMINDER_HOURS`).
    pub reminder_hours: u32,
}

impl MailSettings {
    /// The manage link of a booking.
    pub fn manage_url(&self, manage_token: &str) -> String {
        format!("{}/booking/manage/{manage_token}", self.public_url)
    }

    /// The confirmation link of a pending booking.
    pub fn confirm_url(&self, confirm_token: &str) -> String {
        format!("{}/booking/confirm/{confirm_token}", self.public_url)
    }
}

/// The address inside `Name <address>`, or the whole string when it is a bare address.
pub fn address_of(from: &str) -> String {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim().to_string(),
        _ => from.trim().to_string(),
    }
}

/// Whether the calendar file asks to add/update the event or to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcsMethod {
    Request,
    Cancel,
}

fn t(lang: Lang, key: &str) -> String {
    rust_i18n::t!(key, locale = lang.code()).into_owned()
}

/// A local time for people: `28.03.2027 о 10:00` / `28 Mar 2027 at 10:00`.
pub fn human_time(lang: Lang, at: &DateTime<Tz>) -> String {
    match lang {
        Lang::Uk => format!("{} о {}", at.format("%d.%m.%Y"), at.format("%H:%M")),
        Lang::En => format!("{} at {}", at.format("%-d %b %Y"), at.format("%H:%M")),
    }
}

impl BookingMail {
    fn when(&self) -> String {
        human_time(self.lang, &self.start)
    }

    /// `booking-<id>@<host of the site>`: the same event for every mail of the booking.
    pub fn uid(&self) -> String {
        let rest = self
            .site_url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.site_url);
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = if host.is_empty() { "cherga" } else { host };
        format!("booking-{}@{host}", self.booking_id)
    }

    fn sequence(&self) -> u32 {
        // Minutes since 2026-01-01 UTC: grows with every change, fits u32 for 8,000 years.
        const EPOCH: i64 = 1_767_225_600;
        u32::try_from(((self.changed_at.timestamp() - EPOCH) / 60).max(0)).unwrap_or(u32::MAX)
    }

    fn subject(&self, key: &str) -> String {
        rust_i18n::t!(
            key,
            locale = self.lang.code(),
            service = self.service_title,
            when = self.when()
        )
        .into_owned()
    }

    /// The lines every mail of the booking shares: code, service, time, place, manage link.
    fn details(&self) -> String {
        let l = self.lang;
        let mut s = String::new();
        let mut line = |key: &str, value: &str| {
            s.push_str(&t(l, key));
            s.push_str(": ");
            s.push_str(value);
            s.push('\n');
        };
        line("mail.field.code", &self.code);
        line("mail.field.service", &self.service_title);
        line(
            "mail.field.when",
            &format!(
                "{}–{} ({})",
                self.when(),
                self.end.format("%H:%M"),
                self.start.timezone().name()
            ),
        );
        line("mail.field.office", &self.office_name);
        if !self.office_address.is_empty() {
            line("mail.field.address", &self.office_address);
        }
        if let Some(w) = &self.window {
            line("mail.field.window", w);
        }
        if let Some(p) = &self.specialist {
            line("mail.field.specialist", p);
        }
        s
    }

    fn body(&self, intro: &str, middle: &str, calendar: bool) -> String {
        let l = self.lang;
        let mut s =
            rust_i18n::t!("mail.greeting", locale = l.code(), name = self.name).into_owned();
        s.push_str("\n\n");
        s.push_str(intro);
        s.push_str("\n\n");
        s.push_str(middle);
        s.push_str(&self.details());
        s.push('\n');
        if let Some(url) = &self.manage_url {
            s.push_str(&t(l, "mail.manage"));
            s.push('\n');
            s.push_str(url);
            s.push_str("\n\n");
        }
        if calendar {
            s.push_str(&t(l, "mail.calendar_hint"));
            s.push_str("\n\n");
        }
        s.push_str("-- \n");
        s.push_str(&t(l, "mail.footer"));
        s.push('\n');
        s
    }

    fn mail(&self, key: String, subject: String, text: String) -> OutgoingMail {
        OutgoingMail {
            dedupe_key: key,
            to: self.to.clone(),
            subject,
            text,
            html: None,
            lang: self.lang,
            attachments: Vec::new(),
            not_before: None,
        }
    }

    fn with_ics(&self, mut mail: OutgoingMail, method: IcsMethod) -> OutgoingMail {
        let (m, name) = match method {
            IcsMethod::Request => ("REQUEST", "invite.ics"),
            IcsMethod::Cancel => ("CANCEL", "cancel.ics"),
        };
        mail.attachments.push(AttachedFile {
            filename: name.to_string(),
            content_type: format!("text/calendar; charset=utf-8; method={m}"),
            content: ics(self, method).into_bytes(),
        });
        mail
    }
}

/// The dedupe key of a booking's reminder for the given start, to [`crate::mail::withdraw`]
/// it when the booking is cancelled or moved.
pub fn reminder_key(booking_id: i64, start: &DateTime<Tz>) -> String {
    format!("booking:{booking_id}:reminder:{}", start.timestamp())
}

/// Asks the resident to confirm a pending booking (link and code).
pub fn confirmation(b: &BookingMail) -> OutgoingMail {
    let l = b.lang;
    let mut middle = String::new();
    if let Some(url) = &b.confirm_url {
        middle.push_str(&t(l, "mail.confirm.link"));
        middle.push('\n');
        middle.push_str(url);
        middle.push_str("\n\n");
    }
    if let Some(code) = &b.confirm_code {
        middle.push_str(&rust_i18n::t!(
            "mail.confirm.code",
            locale = l.code(),
            code = code
        ));
        middle.push_str("\n\n");
    }
    let text = b.body(&t(l, "mail.confirm.intro"), &middle, false);
    b.mail(
        format!("booking:{}:confirm", b.booking_id),
        b.subject("mail.confirm.subject"),
        text,
    )
}

/// The booking counts: details and the calendar event.
pub fn booked(b: &BookingMail) -> OutgoingMail {
    let text = b.body(&t(b.lang, "mail.booked.intro"), "", true);
    let mail = b.mail(
        format!("booking:{}:booked", b.booking_id),
        b.subject("mail.booked.subject"),
        text,
    );
    b.with_ics(mail, IcsMethod::Request)
}

/// The reminder, due `hours` before the start. `None` when that moment is already past at
/// `now` (a booking made for tomorrow morning needs no reminder beside its confirmation).
pub fn reminder(b: &BookingMail, hours: u32, now: DateTime<Utc>) -> Option<OutgoingMail> {
    let due = b.start.with_timezone(&Utc) - Duration::hours(i64::from(hours));
    if due <= now {
        return None;
    }
    let text = b.body(&t(b.lang, "mail.reminder.intro"), "", false);
    let mut mail = b.mail(
        reminder_key(b.booking_id, &b.start),
        b.subject("mail.reminder.subject"),
        text,
    );
    mail.not_before = Some(due);
    Some(mail)
}

/// The booking was cancelled: the calendar event is removed.
pub fn cancelled(b: &BookingMail) -> OutgoingMail {
    let text = b.body(&t(b.lang, "mail.cancelled.intro"), "", true);
    let mail = b.mail(
        format!("booking:{}:cancelled", b.booking_id),
        b.subject("mail.cancelled.subject"),
        text,
    );
    b.with_ics(mail, IcsMethod::Cancel)
}

/// The booking moved from `old_start` to `b.start`: the same calendar event is updated.
pub fn rescheduled(b: &BookingMail, old_start: &DateTime<Tz>) -> OutgoingMail {
    let intro = rust_i18n::t!(
        "mail.rescheduled.intro",
        locale = b.lang.code(),
        old = human_time(b.lang, old_start)
    )
    .into_owned();
    let text = b.body(&intro, "", true);
    let mail = b.mail(
        format!(
            "booking:{}:rescheduled:{}",
            b.booking_id,
            b.start.timestamp()
        ),
        b.subject("mail.rescheduled.subject"),
        text,
    );
    b.with_ics(mail, IcsMethod::Request)
}

/// The iCalendar file of the booking. Times are UTC instants (`DTSTART:20270328T070000Z`),
/// which every client shows in its own zone; `X-WR-TIMEZONE` names the office's zone.
pub fn ics(b: &BookingMail, method: IcsMethod) -> String {
    let summary = rust_i18n::t!(
        "mail.ics.summary",
        locale = b.lang.code(),
        service = b.service_title
    )
    .into_owned();
    let location = if b.office_address.is_empty() {
        b.office_name.clone()
    } else {
        format!("{}, {}", b.office_name, b.office_address)
    };
    let mut event = icalendar::Event::new();
    event
        .uid(&b.uid())
        .summary(&summary)
        .description(&b.details())
        .location(&location)
        .starts(b.start.with_timezone(&Utc))
        .ends(b.end.with_timezone(&Utc))
        .timestamp(b.changed_at)
        .sequence(b.sequence())
        .status(match method {
            IcsMethod::Request => EventStatus::Confirmed,
            IcsMethod::Cancel => EventStatus::Cancelled,
        })
        .append_property(
            Property::new("ORGANIZER", format!("mailto:{}", b.organizer_email))
                .add_parameter("CN", &b.office_name)
                .done(),
        )
        .append_property(
            Property::new("ATTENDEE", format!("mailto:{}", b.to))
                .add_parameter("CN", &b.name)
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .done(),
        );
    if let Some(url) = &b.manage_url {
        event.url(url);
    }
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//cherga//booking//UK"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new(
            "METHOD",
            match method {
                IcsMethod::Request => "REQUEST",
                IcsMethod::Cancel => "CANCEL",
            },
        ))
        .timezone(b.start.timezone().name())
        .push(event.done());
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use icalendar::{CalendarComponent, CalendarDateTime, DatePerhapsTime};

    use super::*;

    fn kyiv(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Tz> {
        chrono_tz::Europe::Kyiv
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(y, m, d)
                    .unwrap()
                    .and_hms_opt(h, min, 0)
                    .unwrap(),
            )
            .single()
            .unwrap()
    }

    fn sample(lang: Lang, start: DateTime<Tz>) -> BookingMail {
        BookingMail {
            booking_id: 42,
            lang,
            to: "olena@example.com".into(),
            name: "Олена Петренко".into(),
            code: "K7Q2".into(),
            service_title: "Перерахунок за відсутності".into(),
            office_name: "ЦНАП Центральний".into(),
            office_address: "вул. Хрещатик, 1".into(),
            window: Some("3".into()),
            specialist: Some("Ірина".into()),
            end: start + Duration::minutes(20),
            start,
            manage_url: Some("https://cherga.example.org/booking/manage/abc123".into()),
            site_url: "https://cherga.example.org".into(),
            confirm_url: Some(
                "https://cherga.example.org/booking/confirm/abc123?code=582913".into(),
            ),
            confirm_code: Some("582913".into()),
            changed_at: Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap(),
            organizer_email: "noreply@cherga.example.org".into(),
        }
    }

    /// Parses the ICS back and returns (METHOD, DTSTART, DTEND, UID, SEQUENCE, STATUS).
    fn parse(ics: &str) -> (String, DateTime<Utc>, DateTime<Utc>, String, u32, String) {
        let cal: Calendar = ics
            .parse()
            .unwrap_or_else(|e| panic!("ICS does not parse: {e}\n{ics}"));
        let method = cal.property_value("METHOD").unwrap_or_default().to_string();
        let event = cal
            .components
            .iter()
            .find_map(|c| match c {
                CalendarComponent::Event(e) => Some(e.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no VEVENT in {ics}"));
        let utc = |d: Option<DatePerhapsTime>| match d {
            Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => t,
            other => panic!("not a UTC date-time: {other:?} in {ics}"),
        };
        (
            method,
            utc(event.get_start()),
            utc(event.get_end()),
            event.get_uid().unwrap_or_default().to_string(),
            event.get_sequence().unwrap_or(0),
            event
                .property_value("STATUS")
                .unwrap_or_default()
                .to_string(),
        )
    }

    #[test]
    fn ics_start_is_right_on_the_spring_dst_day() {
        // 2027-03-28: Kyiv moves from +02:00 to +03:00 at 03:00. 10:00 local is 07:00 UTC.
        let b = sample(Lang::Uk, kyiv(2027, 3, 28, 10, 0));
        let (method, start, end, uid, _, status) = parse(&ics(&b, IcsMethod::Request));
        assert_eq!(method, "REQUEST");
        assert_eq!(start, Utc.with_ymd_and_hms(2027, 3, 28, 7, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 3, 28, 7, 20, 0).unwrap());
        assert_eq!(uid, "booking-42@cherga.example.org");
        assert_eq!(status, "CONFIRMED");
        // Before the switch the same wall time is two hours from UTC.
        let early = sample(Lang::Uk, kyiv(2027, 3, 27, 10, 0));
        let (_, start, ..) = parse(&ics(&early, IcsMethod::Request));
        assert_eq!(start, Utc.with_ymd_and_hms(2027, 3, 27, 8, 0, 0).unwrap());
    }

    #[test]
    fn ics_start_is_right_on_the_autumn_dst_day() {
        // 2027-10-31: Kyiv returns to +02:00 at 04:00. 09:30 local is 07:30 UTC.
        let b = sample(Lang::En, kyiv(2027, 10, 31, 9, 30));
        let (_, start, ..) = parse(&ics(&b, IcsMethod::Request));
        assert_eq!(start, Utc.with_ymd_and_hms(2027, 10, 31, 7, 30, 0).unwrap());
        assert!(ics(&b, IcsMethod::Request).contains("X-WR-TIMEZONE:Europe/Kyiv"));
    }

    #[test]
    fn a_reschedule_updates_the_same_event_with_a_higher_sequence() {
        let b = sample(Lang::Uk, kyiv(2027, 3, 28, 10, 0));
        let mut moved = b.clone();
        moved.start = kyiv(2027, 3, 29, 11, 0);
        moved.end = moved.start + Duration::minutes(20);
        moved.changed_at = b.changed_at + Duration::minutes(3);
        let (_, _, _, uid1, seq1, _) = parse(&ics(&b, IcsMethod::Request));
        let mail = rescheduled(&moved, &b.start);
        let ics2 = String::from_utf8(mail.attachments[0].content.clone()).unwrap();
        let (method, start, _, uid2, seq2, _) = parse(&ics2);
        assert_eq!(uid1, uid2);
        assert!(seq2 > seq1, "{seq2} > {seq1}");
        assert_eq!(method, "REQUEST");
        assert_eq!(start, Utc.with_ymd_and_hms(2027, 3, 29, 8, 0, 0).unwrap());
        assert!(mail.text.contains("28.03.2027 о 10:00"), "{}", mail.text);
        assert_ne!(mail.dedupe_key, booked(&b).dedupe_key);
    }

    #[test]
    fn a_cancellation_cancels_the_event() {
        let b = sample(Lang::En, kyiv(2027, 3, 28, 10, 0));
        let mail = cancelled(&b);
        assert_eq!(mail.attachments.len(), 1);
        assert_eq!(
            mail.attachments[0].content_type,
            "text/calendar; charset=utf-8; method=CANCEL"
        );
        let text = String::from_utf8(mail.attachments[0].content.clone()).unwrap();
        let (method, _, _, uid, _, status) = parse(&text);
        assert_eq!(method, "CANCEL");
        assert_eq!(status, "CANCELLED");
        assert_eq!(uid, "booking-42@cherga.example.org");
        assert!(
            mail.subject.starts_with("Appointment cancelled"),
            "{}",
            mail.subject
        );
    }

    #[test]
    fn every_message_comes_in_both_languages() {
        let start = kyiv(2027, 3, 28, 10, 0);
        let now = Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap();
        for lang in Lang::ALL {
            let b = sample(lang, start);
            let mails = [
                confirmation(&b),
                booked(&b),
                reminder(&b, 24, now).expect("reminder is due later"),
                cancelled(&b),
                rescheduled(&b, &kyiv(2027, 3, 27, 9, 0)),
            ];
            for m in &mails {
                assert_eq!(m.lang, lang);
                assert!(!m.subject.contains("mail."), "untranslated: {}", m.subject);
                assert!(!m.text.contains("mail."), "untranslated: {}", m.text);
                assert!(!m.text.contains("%{"), "uninterpolated: {}", m.text);
                assert!(m.text.contains("K7Q2"), "{}", m.text);
                assert!(
                    m.text.contains(b.manage_url.as_deref().unwrap_or("?")),
                    "{}",
                    m.text
                );
            }
            let greeting = match lang {
                Lang::Uk => "Добрий день, Олена Петренко!",
                Lang::En => "Hello, Олена Петренко!",
            };
            assert!(mails[1].text.starts_with(greeting), "{}", mails[1].text);
        }
        let uk = booked(&sample(Lang::Uk, start));
        assert_eq!(
            uk.subject,
            "Ви записані: Перерахунок за відсутності, 28.03.2027 о 10:00"
        );
        let en = booked(&sample(Lang::En, start));
        assert_eq!(
            en.subject,
            "Your appointment: Перерахунок за відсутності, 28 Mar 2027 at 10:00"
        );
    }

    #[test]
    fn confirmation_carries_link_and_code() {
        let b = sample(Lang::Uk, kyiv(2027, 3, 28, 10, 0));
        let m = confirmation(&b);
        assert!(
            m.text
                .contains("https://cherga.example.org/booking/confirm/abc123?code=582913")
        );
        assert!(m.text.contains("582913"));
        assert!(m.attachments.is_empty());
        assert_eq!(m.dedupe_key, "booking:42:confirm");
    }

    #[test]
    fn organizer_address_is_read_from_the_sender() {
        assert_eq!(
            address_of("cherga <noreply@localhost>"),
            "noreply@localhost"
        );
        assert_eq!(address_of(" a@b.ua "), "a@b.ua");
    }

    #[test]
    fn reminder_is_due_hours_before_and_skipped_when_too_late() {
        let b = sample(Lang::Uk, kyiv(2027, 3, 28, 10, 0));
        let now = Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap();
        let m = reminder(&b, 24, now).expect("due later");
        assert_eq!(
            m.not_before,
            Some(Utc.with_ymd_and_hms(2027, 3, 27, 7, 0, 0).unwrap())
        );
        assert_eq!(m.dedupe_key, reminder_key(42, &b.start));
        let late = Utc.with_ymd_and_hms(2027, 3, 27, 8, 0, 0).unwrap();
        assert_eq!(reminder(&b, 24, late), None);
    }
}
