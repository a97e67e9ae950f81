//! `repopass doctor`, run as a creator runs it: the real binary against a
//! deployment that works, and against one with each fault it names.

use std::{process::Output, time::Duration};

use crate::helpers::{repopass_command, serve_command, Backend, TestDatabase};

/// A loopback port nothing listens on (bound, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn doctor(db: &TestDatabase, vars: &[(&str, &str)]) -> Output {
    let data_dir = db.dir.path().display().to_string();
    let mut vars = vars.to_vec();
    vars.push(("REPOPASS_DATA_DIR", &data_dir));
    repopass_command(&db.url, &["doctor"], &vars).current_dir(db.dir.path()).output().unwrap()
}

/// The report's line for `area` and the fix under it, if any.
fn line<'a>(out: &'a str, area: &str) -> (&'a str, &'a str) {
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ").starts_with(area));
    let at = at.unwrap_or_else(|| panic!("no line for {area} in:\n{out}"));
    let fix = lines.get(at + 1).filter(|l| l.trim_start().starts_with('→')).copied().unwrap_or("");
    (lines[at], fix)
}

#[tokio::test]
async fn the_doctor_names_each_fault_and_its_fix() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let (web, smtp) = (free_port(), free_port());
    let public = format!("http://127.0.0.1:{web}");
    let smtp_url = format!("smtp://doctor:hunter2@127.0.0.1:{smtp}");
    let vars = [
        ("PUBLIC_URL", public.as_str()),
        ("SMTP_URL", smtp_url.as_str()),
        ("EMAIL_FROM", "RepoPass <shop@example.com>"),
    ];

    // Nothing migrated, nothing serving, no mail server.
    let report = doctor(&db, &vars);
    let out = String::from_utf8_lossy(&report.stdout).to_string();
    assert_eq!(report.status.code(), Some(1), "{out}\n{}", String::from_utf8_lossy(&report.stderr));
    let (database, fix) = line(&out, "database");
    assert!(database.starts_with("PROBLEM") && database.contains("not applied"), "{database}");
    assert!(fix.contains("repopass migrate"), "{fix}");
    let (address, fix) = line(&out, "public address");
    assert!(address.starts_with("PROBLEM") && address.contains("does not answer"), "{address}");
    assert!(fix.contains("start `repopass serve`"), "{fix}");
    let (email, fix) = line(&out, "email");
    assert!(email.starts_with("PROBLEM") && email.contains("cannot reach the SMTP server"), "{email}");
    assert!(fix.contains("check SMTP_URL"), "{fix}");
    // The sandbox's Stripe lives in the serving process, which is not running.
    let (stripe, fix) = line(&out, "stripe");
    assert!(stripe.starts_with("PROBLEM") && stripe.contains("cannot reach Stripe"), "{stripe}");
    assert!(fix.contains("served by `repopass serve`"), "{fix}");
    assert!(!out.contains("hunter2"), "the SMTP password was printed:\n{out}");

    // Served and migrated (the SMTP server still missing): that is the one problem left.
    let mut serving = serve_command(&db, "warn")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{web}"))
        .env("PUBLIC_URL", &public)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{public}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "repopass serve did not come up on {public}");
    let report = doctor(&db, &vars);
    let out = String::from_utf8_lossy(&report.stdout).to_string();
    assert_eq!(report.status.code(), Some(1), "{out}");
    for area in ["database", "public address", "stripe", "github"] {
        assert!(line(&out, area).0.starts_with("ok"), "{area}:\n{out}");
    }
    assert!(line(&out, "stripe").0.contains("the sandbox's Stripe"), "{out}");
    assert!(line(&out, "configuration").0.starts_with("warning"), "the sandbox is said:\n{out}");
    assert!(line(&out, "email").0.starts_with("PROBLEM"), "{out}");

    // Without SMTP at all: only warnings, and the exit status says all is usable.
    let report = doctor(&db, &[("PUBLIC_URL", public.as_str())]);
    let out = String::from_utf8_lossy(&report.stdout).to_string();
    assert_eq!(report.status.code(), Some(0), "{out}");
    let (email, fix) = line(&out, "email");
    assert!(email.starts_with("warning") && email.contains("no SMTP_URL"), "{email}");
    assert!(fix.contains("set SMTP_URL"), "{fix}");
    let (webhooks, _) = line(&out, "webhooks");
    assert!(webhooks.contains("Nothing from Stripe yet"), "{webhooks}");

    let _ = serving.kill();
    let _ = serving.wait();
}

/// A mail server that accepts one connection after another and keeps what
/// it was given (plain SMTP, no authentication, as a local relay is).
fn fake_smtp() -> (u16, std::sync::Arc<std::sync::Mutex<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            let _ = out.write_all(b"220 fake ESMTP\r\n");
            let mut in_data = false;
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                kept.lock().unwrap().push_str(&line);
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        b"250 queued\r\n"
                    } else {
                        b""
                    }
                } else {
                    match line.get(..4).map(|v| v.to_ascii_uppercase()).as_deref() {
                        Some("EHLO") => b"250-fake\r\n250 8BITMIME\r\n",
                        Some("DATA") => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        Some("QUIT") => b"221 bye\r\n",
                        _ => b"250 ok\r\n",
                    }
                };
                let _ = out.write_all(reply);
                line.clear();
            }
        }
    });
    (port, seen)
}

#[tokio::test]
async fn the_doctor_sends_a_test_email_when_asked() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let (port, seen) = fake_smtp();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let vars = [("SMTP_URL", smtp_url.as_str()), ("EMAIL_FROM", "RepoPass <shop@example.com>")];
    let data_dir = db.dir.path().display().to_string();
    let mut all = vars.to_vec();
    all.push(("REPOPASS_DATA_DIR", &data_dir));
    let report = repopass_command(&db.url, &["doctor", "--test-email", "me@example.com"], &all)
        .current_dir(db.dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&report.stdout).to_string();
    let (email, _) = line(&out, "email");
    assert!(email.starts_with("ok") && email.contains("accepted a test email to me@example.com"), "{out}");
    let talk = seen.lock().unwrap().clone();
    assert!(talk.contains("RCPT TO:<me@example.com>") && talk.contains("Subject: RepoPass: a test email"), "{talk}");

    // Without asking, no message is sent (only the connection is tried).
    let report = repopass_command(&db.url, &["doctor"], &all).current_dir(db.dir.path()).output().unwrap();
    assert!(line(&String::from_utf8_lossy(&report.stdout), "email").0.starts_with("ok"));
    let messages = seen.lock().unwrap().lines().filter(|l| l.trim() == "DATA").count();
    assert_eq!(messages, 1, "the second check sent a message");
}
