//! The real binary: starts on port 0, serves the home page, prints the admin password once,
//! and shuts down cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Running {
    child: Child,
    addr: String,
    lines: Vec<String>,
}

fn start(dir: &std::path::Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cherga"))
        .current_dir(dir)
        .env("CHERGA_ADDR", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .env_remove("CHERGA_ADMIN_PASSWORD")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cherga");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    let addr = loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read stdout");
        assert!(n > 0, "cherga exited before listening: {lines:?}");
        if let Some(a) = line.trim().strip_prefix("cherga: listening on ") {
            break a.to_string();
        }
        lines.push(line.trim().to_string());
    };
    Running { child, addr, lines }
}

fn terminate(mut r: Running) -> std::process::ExitStatus {
    let pid = r.child.id() as libc::pid_t;
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    for _ in 0..100 {
        if let Some(status) = r.child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = r.child.kill();
    panic!("cherga did not stop within 10 s of SIGTERM");
}

#[tokio::test]
async fn binary_serves_the_home_page_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = start(dir.path());
    assert!(
        run.lines
            .iter()
            .any(|l| l.contains("created staff account `admin` with password: ")),
        "{:?}",
        run.lines
    );
    assert!(
        dir.path().join("cherga.db").exists(),
        "default SQLite file in the working dir"
    );
    let html = reqwest::Client::new()
        .get(&run.addr)
        .header("accept-language", "uk")
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("body");
    assert!(html.contains("Послуги центру"));
    assert_eq!(html.matches("class=\"service\"").count(), 34);
    let status = terminate(run);
    assert!(status.success(), "exit status {status:?}");

    // The second start finds the database ready: no new password, same data.
    let run = start(dir.path());
    assert!(
        !run.lines.iter().any(|l| l.contains("password")),
        "{:?}",
        run.lines
    );
    let services: serde_json::Value = reqwest::get(format!("{}/api/v1/services", run.addr))
        .await
        .expect("GET services")
        .json()
        .await
        .expect("json");
    assert_eq!(services.as_array().map(Vec::len), Some(34));
    assert!(terminate(run).success());
}

#[test]
fn help_documents_every_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_cherga"))
        .arg("--help")
        .output()
        .expect("run --help");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--addr",
        "CHERGA_ADDR",
        "--database-url",
        "DATABASE_URL",
        "--no-demo",
        "CHERGA_DEMO",
        "CHERGA_ADMIN_PASSWORD",
        "CHERGA_DB_POOL",
        "import-catalog",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn bad_catalog_file_fails_with_a_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[[services]]\ncode = \"x\"\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cherga"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .arg("import-catalog")
        .arg(&file)
        .output()
        .expect("run import-catalog");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cherga:"), "{err}");
}
