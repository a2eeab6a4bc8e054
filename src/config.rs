//! Settings from command-line flags and environment variables. A flag wins over its variable.

use std::net::SocketAddr;

use clap::builder::BoolishValueParser;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "cherga",
    version,
    about = "cherga: electronic queue and appointment system for communal service centers"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the web service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load a catalog file (TOML, the format of data/catalog.toml) into the database and exit.
    /// Services are matched by code, so bookings and history keep pointing at them.
    ImportCatalog {
        /// Path to the catalog file.
        file: std::path::PathBuf,
    },
    /// Compute every account's charges for a month (once per month; a repeated or resumed run
    /// posts only what is missing) and exit.
    ChargeRun {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
    },
    /// Write the catalog in the database (with the admin's edits) in the same format, to FILE or
    /// to standard output. Importing it unchanged changes nothing.
    ExportCatalog {
        /// Path to write; standard output when left out.
        file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CHERGA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://cherga.db")]
    pub database_url: String,

    /// Maximum database connections. Default: 4 for a SQLite file (WAL lets readers run beside
    /// the one writer; more connections only queue on the write lock), 1 for in-memory SQLite,
    /// 10 for PostgreSQL.
    #[arg(long, env = "CHERGA_DB_POOL")]
    pub db_pool: Option<u32>,

    /// Load demo data (an office, specialists, accounts) into an empty database.
    #[arg(long, env = "CHERGA_DEMO", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub demo: bool,

    /// Skip the demo data (the catalog is still loaded). Same as `--demo false`.
    #[arg(long)]
    pub no_demo: bool,

    /// Password for the `admin` account created on first start. Without it a random one is
    /// generated and printed once.
    #[arg(long, env = "CHERGA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Slot grid in minutes for offices created by default and for planned booking lengths.
    #[arg(long, env = "CHERGA_SLOT_MINUTES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub slot_minutes: u32,

    /// Planned length of an open-ended service ("від 10 хв") as a multiple of its lower bound.
    #[arg(long, env = "CHERGA_OPEN_ENDED_FACTOR", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub open_ended_factor: u32,

    /// Mark cookies `Secure` (set when served over HTTPS).
    #[arg(long, env = "CHERGA_SECURE_COOKIES", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Staff session lifetime in hours.
    #[arg(long, env = "CHERGA_SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_hours: u32,

    /// Log format.
    #[arg(long, env = "CHERGA_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// SMTP server for outgoing mail, in lettre's URL format: `smtp://host:25`,
    /// `smtp://user:pass@host:587?tls=required`, `smtps://user:pass@host:465`. Without it,
    /// mail stays in the outbox and is readable at /admin/outbox.
    #[arg(long, env = "CHERGA_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of outgoing mail, `Name <address>` or `address`.
    #[arg(
        long,
        env = "CHERGA_MAIL_FROM",
        default_value = "cherga <noreply@localhost>"
    )]
    pub mail_from: String,

    /// Public base URL of this service, for links in mail (manage, confirm).
    /// Default: `http://` + the listen address.
    #[arg(long, env = "CHERGA_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Hours before an appointment its reminder is sent.
    #[arg(long, env = "CHERGA_REMINDER_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=336))]
    pub reminder_hours: u32,

    /// Delivery attempts of one mail before it is marked failed (retries back off from 30 s,
    /// doubling, up to one hour apart).
    #[arg(long, env = "CHERGA_MAIL_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub mail_max_attempts: u32,
    /// Priority classes a ticket may carry (people entitled to priority service), comma-separated
    /// codes; their names are in locales/queue.yml (`queue.priority.<code>`).
    #[arg(
        long,
        env = "CHERGA_PRIORITY_CLASSES",
        default_value = "disabled,veteran,pregnant,elderly"
    )]
    pub priority_classes: String,

    /// Call-next: an appointment is due this many minutes before its slot.
    #[arg(long, env = "CHERGA_QUEUE_GRACE_MINUTES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=120))]
    pub queue_grace_minutes: u32,

    /// Call-next: priority tickets called in a row before a normal one gets its turn.
    #[arg(long, env = "CHERGA_QUEUE_PRIORITY_RATIO", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub queue_priority_ratio: u32,

    /// Call-next: anyone who has waited this many minutes goes first (nobody starves).
    #[arg(long, env = "CHERGA_QUEUE_MAX_WAIT_MINUTES", default_value_t = 45, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub queue_max_wait_minutes: u32,

    /// Recalls of a called ticket before the next recall marks it a no-show.
    #[arg(long, env = "CHERGA_QUEUE_MAX_RECALLS", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub queue_max_recalls: u32,

    /// Check-in: a booking may be checked in this many minutes before its start.
    #[arg(long, env = "CHERGA_QUEUE_CHECKIN_EARLY_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=720))]
    pub queue_checkin_early_minutes: u32,

    /// Check-in: … and up to this many minutes after it (later: a walk-in ticket is offered).
    #[arg(long, env = "CHERGA_QUEUE_CHECKIN_LATE_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u32).range(0..=720))]
    pub queue_checkin_late_minutes: u32,

    /// Tickets an anonymous address may take per hour at the public kiosk API (kiosk and staff
    /// tokens are exempt).
    #[arg(long, env = "CHERGA_KIOSK_TICKETS_PER_HOUR", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub kiosk_tickets_per_hour: u32,

    /// Directory of static assets, overriding the ones embedded in the binary.
    #[arg(long, env = "CHERGA_STATIC_DIR")]
    pub static_dir: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub booking: BookingSettings,
}

impl Config {
    pub fn demo_enabled(&self) -> bool {
        self.demo && !self.no_demo
    }

    /// The base of links in mail, without a trailing slash.
    pub fn public_base_url(&self) -> String {
        match self.public_url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_string(),
            _ => format!("http://{}", self.addr),
        }
    }

    /// Settings for tests and embedding: defaults with the given database.
    pub fn for_database(database_url: &str) -> Config {
        let mut cli = Cli::parse_from(["cherga"]);
        cli.config.database_url = database_url.to_string();
        cli.config
    }
}

/// Limits of online booking (issue 6). Each has a flag and a variable; the README lists them.
#[derive(Debug, Clone, clap::Args)]
pub struct BookingSettings {
    /// Minutes between now and the earliest bookable start.
    #[arg(long, env = "CHERGA_BOOKING_MIN_NOTICE_MINUTES", default_value_t = 60)]
    pub booking_min_notice_minutes: u32,

    /// How many days ahead residents may book.
    #[arg(long, env = "CHERGA_BOOKING_HORIZON_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=366))]
    pub booking_horizon_days: u32,

    /// Minutes a pending booking holds its time awaiting email confirmation.
    #[arg(long, env = "CHERGA_BOOKING_HOLD_MINUTES", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub booking_hold_minutes: u32,

    /// Ask residents who give an email to confirm their booking through it.
    #[arg(long, env = "CHERGA_BOOKING_EMAIL_CONFIRMATION", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub booking_email_confirmation: bool,

    /// Active bookings one person (phone, email or account number) may hold; 0: no cap.
    #[arg(long, env = "CHERGA_BOOKING_MAX_ACTIVE", default_value_t = 3)]
    pub booking_max_active: u32,

    /// No-shows within the window that block online booking; 0: never block.
    #[arg(long, env = "CHERGA_BOOKING_NO_SHOW_LIMIT", default_value_t = 3)]
    pub booking_no_show_limit: u32,

    /// The window (days) in which no-shows count.
    #[arg(long, env = "CHERGA_BOOKING_NO_SHOW_DAYS", default_value_t = 30)]
    pub booking_no_show_days: u32,

    /// Minutes before a cancelled time returns to availability.
    #[arg(
        long,
        env = "CHERGA_BOOKING_RELEASE_DELAY_MINUTES",
        default_value_t = 15
    )]
    pub booking_release_delay_minutes: u32,

    /// Booking requests (create, reschedule) per client IP per minute; 0: no limit.
    #[arg(long, env = "CHERGA_BOOKING_RATE_PER_MINUTE", default_value_t = 10)]
    pub booking_rate_per_minute: u32,

    /// Availability requests per client IP per minute; 0: no limit.
    #[arg(
        long,
        env = "CHERGA_AVAILABILITY_RATE_PER_MINUTE",
        default_value_t = 120
    )]
    pub availability_rate_per_minute: u32,
}

impl Config {
    /// What booking mails need: the link base, the organizer address, the reminder's lead.
    pub fn booking_mail(&self) -> crate::mail::booking::MailSettings {
        crate::mail::booking::MailSettings {
            public_url: self.public_base_url(),
            organizer_email: crate::mail::booking::address_of(&self.mail_from),
            reminder_hours: self.reminder_hours,
        }
    }

    /// The booking rules as the domain reads them.
    pub fn booking_policy(&self) -> crate::domain::booking::Policy {
        let b = &self.booking;
        crate::domain::booking::Policy {
            min_notice_minutes: i64::from(b.booking_min_notice_minutes),
            horizon_days: i64::from(b.booking_horizon_days),
            hold_minutes: i64::from(b.booking_hold_minutes),
            email_confirmation: b.booking_email_confirmation,
            max_active_per_person: b.booking_max_active,
            no_show_limit: b.booking_no_show_limit,
            no_show_window_days: i64::from(b.booking_no_show_days),
            release_delay_minutes: i64::from(b.booking_release_delay_minutes),
            open_ended_factor: self.open_ended_factor,
        }
    }
}

#[cfg(test)]
mod mail_settings_tests {
    use super::*;

    #[test]
    fn public_url_defaults_to_the_listen_address_and_drops_a_trailing_slash() {
        let mut c = Config::for_database("sqlite::memory:");
        assert_eq!(c.public_base_url(), "http://127.0.0.1:8080");
        c.public_url = Some("https://cherga.example.org/".into());
        assert_eq!(c.public_base_url(), "https://cherga.example.org");
        assert_eq!(c.reminder_hours, 24);
        assert_eq!(c.smtp_url, None);
        assert_eq!(c.mail_max_attempts, 10);
    }
}
