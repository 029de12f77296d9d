//! What the bot acknowledged survives `kill -9`.

use std::io::{BufRead, BufReader, Write};

use crate::helpers::Bot;

#[test]
fn every_acknowledged_request_survives_sigkill() {
    let bot = Bot::new();
    let mut child = bot.spawn_shell(&[]);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..5000 {
            if stdin
                .write_all(format!("request api 1.0.{i} to staging\n").as_bytes())
                .is_err()
            {
                break;
            }
        }
    });
    let mut acknowledged = Vec::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while acknowledged.len() < 400 {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the shell stopped early"
        );
        if let Some(id) = line
            .strip_suffix('\n')
            .and_then(|l| l.split_once(" requested: "))
            .map(|(id, _)| id.to_string())
        {
            acknowledged.push(id);
        }
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no final flush
    child.wait().unwrap();
    let _ = writer.join();

    let stored: Vec<String> = bot
        .export()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    for id in &acknowledged {
        assert!(
            stored.contains(id),
            "{id} was acknowledged but lost ({} stored)",
            stored.len()
        );
    }
    let verify = bot.run(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// sled: a commit cut short between its journal record and its last write
/// is applied whole when the store next opens, never half.
#[test]
fn a_commit_cut_short_in_sled_is_applied_whole_at_the_next_start() {
    let bot = Bot::new();
    if !bot.on_sled() {
        return;
    }
    let first = bot.shell("request api 1.0.0 to staging\n");
    assert!(first.contains("R-1 requested"), "{first}");
    let cut = bot
        .command(&["shell"])
        .env("RELEASEBOT_FAILPOINTS", "sled.half_applied")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    cut.stdin
        .as_ref()
        .unwrap()
        .write_all(b"request api 1.0.1 to staging\n")
        .unwrap();
    let output = cut.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("failpoint sled.half_applied"), "{said}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("requested"));

    // Every index and counter agrees with the record: the release, its
    // listing, the next id, the audit chain's head.
    let listed = bot.shell("list pending\nstatus R-2\nrequest api 1.0.2 to staging\n");
    assert!(listed.contains("api 1.0.1"), "{listed}");
    assert!(listed.contains("R-3 requested"), "{listed}");
    let stored: Vec<_> = bot.export().iter().map(|r| r["id"].clone()).collect();
    assert_eq!(stored, ["R-1", "R-2", "R-3"]);
    let verify = bot.run(&["audit", "verify"]);
    let verified = String::from_utf8_lossy(&verify.stdout);
    assert!(verified.contains("intact: 3 entries"), "{verified}");
}
