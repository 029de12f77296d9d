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
