//! The operator commands: check-config, export/import, audit, run.

use std::time::Duration;

use crate::helpers::{Bot, READY_R1};

#[test]
fn check_config_accepts_the_demo() {
    let bot = Bot::new();
    let output = bot.run(&["check-config"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout)
        .contains("is valid: 3 service(s) (api, web, worker), 2 environment(s)"));
}

#[test]
fn check_config_names_each_problem_with_key_path_and_line() {
    let bot = Bot::new();
    let broken = std::fs::read_to_string(crate::helpers::demo_config())
        .unwrap()
        .replace("approvals = 2", "approvals = 5")
        .replace(
            "deploy = [\"deployer\", \"release-manager\"]",
            "deploy = [\"deployer\", \"releasemanager\"]",
        );
    let path = bot.dir.path().join("broken.toml");
    std::fs::write(&path, broken).unwrap();
    let output = bot
        .command(&["check-config"])
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 problems"), "{stdout}");
    let text = std::fs::read_to_string(&path).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let deploy = format!(
        "environments.production.deploy (line {}): unknown role `releasemanager`",
        line_of("\"releasemanager\"")
    );
    let quorum = format!(
        "environments.production.approvals (line {}): a quorum of 5 can never be met",
        line_of("approvals = 5")
    );
    assert!(stdout.contains(&deploy), "{stdout}");
    assert!(stdout.contains(&quorum), "{stdout}");
}

#[test]
fn export_then_import_into_a_fresh_store_round_trips() {
    let bot = Bot::new();
    bot.shell(&format!(
        "{READY_R1}request worker 3.1.0 to staging\n/as bob\nreject R-2 not this week\n"
    ));
    let exported = bot.run(&["export"]).stdout;
    let file = bot.dir.path().join("export.json");
    std::fs::write(&file, &exported).unwrap();

    let other = Bot::new();
    let import = other.command(&["import"]).arg(&file).output().unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert_eq!(other.run(&["export"]).stdout, exported);
    // Ids continue after the imported ones.
    let out = other.shell("request api 9.9.9 to staging\n");
    assert!(out.starts_with("R-3 requested"), "{out}");
    // Importing the same ids again is refused and changes nothing.
    let before = other.snapshot();
    let again = other.command(&["import"]).arg(&file).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("R-1 already exists"));
    assert_eq!(other.snapshot(), before);
}

#[test]
fn audit_verify_names_the_first_tampered_entry() {
    let bot = Bot::new();
    if !bot.on_sled() {
        return; // edits and locks sled's files
    }
    bot.shell(READY_R1);
    let intact = bot.run(&["audit", "verify"]);
    assert!(intact.status.success());
    assert_eq!(
        String::from_utf8_lossy(&intact.stdout),
        "Audit log intact: 7 entries.\n"
    );
    let lines = String::from_utf8(bot.run(&["audit", "--release", "R-1"]).stdout).unwrap();
    assert!(
        lines
            .lines()
            .nth(1)
            .unwrap()
            .contains("shell:bob approve R-1 requested looks good"),
        "{lines}"
    );

    {
        let db = sled::open(bot.data()).unwrap();
        let audit = db.open_tree("audit").unwrap();
        let key = 3u64.to_be_bytes();
        let mut entry: serde_json::Value =
            serde_json::from_slice(&audit.get(key).unwrap().unwrap()).unwrap();
        entry["actor"] = "shell:mallory".into();
        audit
            .insert(key, serde_json::to_vec(&entry).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let broken = bot.run(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&broken.stdout),
        "Audit log broken at entry #3: its content does not match its hash (it was edited).\n"
    );
}

#[test]
fn run_finishes_pending_jobs_and_stops_cleanly_on_sigterm() {
    let bot = Bot::new();
    // The shell exits right after `deploy`, leaving the CI job in the outbox.
    let out = bot.shell("request api 2.4.0 to staging\napprove R-1\ncheck R-1 1\ndeploy R-1\n");
    assert!(out.contains("R-1 is deploying"), "{out}");
    assert_eq!(bot.export()[0]["status"], "deploying");

    let child = bot
        .command(&["run"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("CI deployed 2.4.0 ✔ (job R-1-deploy-1)")
    );
    assert_eq!(bot.export()[0]["status"], "deployed");
}

#[test]
fn discord_invite_prints_the_link_or_says_what_is_missing() {
    let bot = Bot::new();
    let output = bot.run(&["discord-invite", "--application-id", "1100000000000000001"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "https://discord.com/oauth2/authorize?client_id=1100000000000000001&scope=bot%20applications.commands&permissions=309237730304"
    );
    let output = bot.run(&["discord-invite"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pass --application-id"));
}
