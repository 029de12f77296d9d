//! The shell as a user drives it: a whole release, bad input, one process per data dir.

use std::io::Write;
use std::time::Duration;

use crate::helpers::{Bot, READY_R1};

#[test]
fn a_whole_release_is_acted_out_in_the_shell_and_reaches_deployed() {
    let bot = Bot::new();
    let script = format!(
        "{}approve R-1\n{READY_R1}/as dave\ndeploy R-1\n/wait 20\nstatus R-1\n",
        "request api 2.4.0 to production at 2026-12-01 14:00 notes \"New checkout flow\"\n"
            .replace("request api 2.4.0", "request web 1.0.0")
    );
    let out = bot.shell(&script);
    for expected in [
        "R-1 requested: web 1.0.0 → production, 2026-12-01 14:00 (Europe/Berlin). Needs 2 approvals (release-manager). Checklist 0/4.",
        "You can't approve releases to production: that takes release-manager.",
        "[#releases] 🚦 R-2 api 2.4.0 → production: requested by alice",
        "[#api-stakeholders] 🚦 R-2 api 2.4.0 → production: requested by alice",
        "You approved R-1 (1/2); it still needs 1 more approval.",
        "[#releases thread] bob approved (1/2): looks good",
        "You approved R-1 (2/2): it is now scheduled.",
        "R-1 is deploying: web 1.0.0 → production via simulate (job R-1-deploy-1).",
        "[#releases thread] CI deployed 1.0.0 ✔ (job R-1-deploy-1)",
        "All CI jobs and announcements are done.",
        "🎉 R-1 web 1.0.0 → production: deployed",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(
        out.contains("[#releases] (edited) 🎉 R-1 web 1.0.0 → production: deployed by dave"),
        "{out}"
    );
    assert!(!out.contains("alice> "), "no prompt on a pipe");

    let releases = bot.export();
    let r1 = &releases[0];
    assert_eq!(r1["id"], "R-1");
    assert_eq!(r1["status"], "deployed");
    assert_eq!(r1["requester"], "shell:alice");
    assert_eq!(r1["approvals"][0]["by"], "shell:bob");
    assert_eq!(r1["approvals"][0]["comment"], "looks good");
    assert_eq!(r1["deployments"][0]["outcome"], "succeeded");
    assert_eq!(r1["scheduled_at"], "2026-12-01T13:00:00Z");
    assert_eq!(releases[1]["status"], "requested");
}

#[test]
fn a_rollback_goes_back_to_the_previous_release_and_says_which() {
    let bot = Bot::new();
    let deploy = |version: &str, id: u32| {
        format!("request api {version} to staging\napprove R-{id}\ncheck R-{id} 1\ndeploy R-{id}\n/wait 20\n")
    };
    let script = format!(
        "{}{}rollback R-2 checkout broken\n/wait 20\n",
        deploy("2.3.0", 1),
        deploy("2.4.0", 2)
    );
    let out = bot.shell(&script);
    assert!(
        out.contains(
            "R-2 is rolling back: api 2.4.0 → 2.3.0 (as shipped in R-1) in staging via simulate"
        ),
        "{out}"
    );
    let releases = bot.export();
    assert_eq!(releases[1]["status"], "rolled_back");
    assert_eq!(releases[1]["deployments"][1]["reason"], "checkout broken");
}

#[test]
fn long_lines_invalid_utf8_and_empty_lines_get_replies_and_change_nothing() {
    let bot = Bot::new();
    bot.shell(READY_R1);
    let before = bot.snapshot();
    let mut input = vec![b'x'; 10 * 1024];
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"approve R-1 \xff\xfe\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"deploy R-1 now please\n");
    let out = bot.shell_bytes(&input);
    let replies: Vec<&str> = out.lines().collect();
    assert_eq!(
        replies[0],
        "That line is 10240 bytes long; a command may be at most 2000. Nothing was done."
    );
    assert_eq!(
        replies[1],
        "That line is not valid UTF-8 text, so I can't read it. Nothing was done."
    );
    assert_eq!(
        replies[2],
        "Nothing to do: the line is empty. Type `help` to see the commands."
    );
    assert!(
        replies[3].starts_with("Unexpected `now`. Usage: deploy <id>"),
        "{out}"
    );
    assert_eq!(bot.snapshot(), before, "the store changed");
}

#[test]
fn parse_errors_point_at_the_offending_word() {
    let bot = Bot::new();
    let out = bot.shell("request api 2..4 to production\n");
    let expected = "`2..4` is not a version: expected numbers separated by dots, like 2.4.0 \
                    (a leading v and a suffix such as -rc.1 are fine)\n    \
                    request api 2..4 to production\n                ^^^^\n";
    assert_eq!(out, expected);
    assert!(bot.export().is_empty());
}

#[test]
fn a_second_process_on_the_same_data_dir_is_refused_by_name() {
    let bot = Bot::new();
    if !bot.on_sled() {
        return; // edits and locks sled's files
    }
    let mut first = bot.spawn_shell(&[]);
    let mut stdin = first.stdin.take().unwrap();
    stdin.write_all(b"help\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = bot.run(&["export"]);
    drop(stdin);
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!(
            "the data dir {} is in use by another releasebot process",
            bot.data().display()
        )),
        "{stderr}"
    );
}

#[test]
fn the_acting_user_comes_from_as_and_slash_as() {
    let bot = Bot::new();
    let mut child = bot.spawn_shell(&["--as", "bob"]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/whoami\n/as dave\n/whoami\n/as\n/frob\n")
        .unwrap();
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "You are shell:bob.");
    assert_eq!(lines[2], "You are shell:dave.");
    assert!(lines[3].starts_with("Usage: /as USER"));
    assert!(lines[4].starts_with("Unknown shell command `/frob`"));
}

#[test]
fn extreme_dates_and_waits_get_a_clear_answer_and_the_shell_carries_on() {
    let bot = Bot::new();
    let out = bot.shell(
        "calendar +262142-12-31\n\
         request api 1.0.0 to production at +262142-12-30 23:59\n\
         /wait 18446744073709551615\n\
         /wait -1\n\
         /wait 0\n\
         /whoami\n",
    );
    assert_eq!(
        out.matches("is out of range: dates go from 1970-01-01 to 9999-12-31")
            .count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("is not a wait: give 1 to 3600 seconds").count(),
        3,
        "{out}"
    );
    assert!(
        out.contains("You are shell:alice."),
        "the shell stopped early: {out}"
    );
    assert!(bot.export().is_empty());
}

/// Collects what the shell writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_command_is_answered_and_the_shell_goes_on() {
    use releasebot::chat::shell::{out_to, Shell, ShellOut, ShellSink};
    use std::collections::HashMap;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let config =
        Arc::new(releasebot::config::Config::load(&crate::helpers::demo_config()).unwrap());
    let clock = Arc::new(releasebot::clock::FixedClock::at(
        crate::helpers::CLOCK.parse().unwrap(),
    ));
    let engine = releasebot::engine::Engine::new(
        releasebot::store::Store::open(dir.path()).unwrap(),
        config,
        clock.clone(),
    );
    let captured = Captured::default();
    let out: ShellOut = out_to(Box::new(captured.clone()));
    let mut sinks: HashMap<String, Arc<dyn releasebot::notify::ChatSink>> = HashMap::new();
    sinks.insert("shell".into(), Arc::new(ShellSink::new(out.clone())));
    let app = releasebot::app::App::start(engine, clock, sinks);
    // The line names itself as the failpoint's subject: no other test trips it.
    let doomed = "status R-1 # panic-test";
    releasebot::failpoint::arm("shell.command", doomed);
    let input = format!("request api 2.4.0 to staging\n{doomed}\nstatus R-1\n");
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let user = releasebot::domain::ids::UserRef::parse("shell:alice").unwrap();
    Shell::new(&app, user, out, false)
        .run(Box::new(std::io::Cursor::new(input.into_bytes())), stop)
        .await;
    let printed = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(printed.contains("R-1 requested"), "{printed}");
    assert!(
        printed.contains("Something went wrong on my side and nothing was changed"),
        "{printed}"
    );
    assert!(
        printed.contains("Requested by alice"),
        "the shell stopped: {printed}"
    );
    app.stop().await;
}

#[test]
fn a_piped_script_shows_every_announcement_before_the_shell_leaves() {
    // Enough at once that the notifier's worker is often still delivering
    // when the input ends (without the drain at the end, a third of runs
    // of this test missed the last few hundred approvals).
    const N: usize = 1000;
    let bot = Bot::new();
    let mut script: String = (1..=N)
        .map(|i| format!("request api 1.0.{i} to staging\n"))
        .collect();
    script.push_str("/as bob\n");
    script.extend((1..=N).map(|i| format!("approve R-{i}\n")));
    let out = bot.shell(&script);
    let missing: Vec<usize> = (1..=N)
        .filter(|i| {
            !out.contains(&format!(
                "[#releases-staging] (edited) ✅ R-{i} api 1.0.{i} → staging: approved"
            ))
        })
        .collect();
    if let Some(first) = missing.first() {
        let about: Vec<&str> = out
            .lines()
            .filter(|l| l.contains(&format!("R-{first} ")) || l.contains(&format!("R-{first}:")))
            .collect();
        panic!("approvals not shown: {missing:?}; the lines about R-{first}: {about:#?}");
    }
    // Nothing was left waiting for the next start.
    assert_eq!(bot.shell("").lines().count(), 0);
}
