//! Replays every input the fuzzer kept (`tests/fuzz/<target>/*`: crashes it
//! found, and the reproducers of the hardening issue) through its target,
//! and every command among them through a real engine on a temporary store
//! as a release manager and as someone without a role: none may panic, and
//! each must be answered.

use std::path::Path;
use std::sync::Arc;

use releasebot::clock::FixedClock;
use releasebot::config::Config;
use releasebot::domain::ids::{ChannelRef, UserRef};
use releasebot::engine::{Engine, Origin};
use releasebot::fuzz::{run, Target};
use releasebot::store::Store;

use crate::helpers::{demo_config, CLOCK};

fn corpus() -> Vec<(Target, String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut found = Vec::new();
    for target in Target::ALL {
        let Ok(entries) = std::fs::read_dir(root.join(target.name())) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            found.push((target, name, std::fs::read(entry.path()).unwrap()));
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

#[test]
fn every_kept_fuzz_input_runs_without_a_panic() {
    let corpus = corpus();
    assert!(corpus.len() >= 7, "the corpus went missing");
    for (target, name, input) in &corpus {
        println!("{} {name}", target.name());
        run(*target, input);
    }
}

#[test]
fn every_kept_command_is_answered_by_the_engine_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(Config::load(&demo_config()).unwrap());
    let clock = Arc::new(FixedClock::at(CLOCK.parse().unwrap()));
    let engine = Engine::new(Store::open(dir.path()).unwrap(), config, clock);
    let origin = Origin {
        channel: ChannelRef::parse("shell:#releases").unwrap(),
    };
    let bob = UserRef::parse("shell:bob").unwrap();
    let nobody = UserRef::parse("shell:mallory").unwrap();
    engine
        .handle_line(&bob, "request api 2.4.0 to production", &origin)
        .unwrap();
    for (target, name, input) in corpus() {
        if target != Target::Command {
            continue;
        }
        let line = String::from_utf8_lossy(&input);
        for user in [&bob, &nobody] {
            let answer = match engine.handle_line(user, &line, &origin) {
                Ok(reply) => reply.text().to_string(),
                Err(error) => error.reply_text(),
            };
            assert!(!answer.trim().is_empty(), "{name}: no answer");
        }
    }
}
