//! Config parsing and the problems `check-config` reports.

use super::*;

const MINIMAL: &str = r#"
[roles]
release-manager = ["shell:bob", "shell:carol"]

[services.api]

[environments.production]
approve = ["release-manager"]
approvals = 2
"#;

fn problems(text: &str) -> Vec<Problem> {
    Config::parse(text, "test.toml")
        .expect_err("should be invalid")
        .problems
}

#[test]
fn the_demo_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_PATH);
    let config = Config::load(&path).unwrap();
    let production = &config.environments[&Name::parse("production").unwrap()].policy;
    assert_eq!(
        production.describe_quorum(),
        "2 approvals (release-manager)"
    );
    assert_eq!(production.checklist.len(), 4);
    assert_eq!(config.shell_user.as_str(), "shell:alice");
}

#[test]
fn a_minimal_config_is_valid() {
    let config = Config::parse(MINIMAL, "test.toml").unwrap();
    assert_eq!(config.default_environment().unwrap().as_str(), "production");
}

#[test]
fn an_unknown_key_is_named_with_its_path_and_line() {
    let text = MINIMAL.replace("approvals = 2", "approvals = 2\naprove = [\"qa\"]");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key, "environments.production.aprove");
    assert_eq!(found[0].line, Some(10));
    assert!(
        found[0].message.contains("unknown field `aprove`"),
        "{}",
        found[0].message
    );
}

#[test]
fn unknown_roles_and_unreachable_quorums_are_reported_together() {
    let text = MINIMAL
        .replace(
            "approve = [\"release-manager\"]",
            "approve = [\"release-manager\", \"qa\"]",
        )
        .replace("approvals = 2", "approvals = 3");
    let found = problems(&text);
    let rendered: Vec<String> = found.iter().map(|p| p.to_string()).collect();
    assert!(
        rendered
            .iter()
            .any(|p| p.starts_with("environments.production.approve (line 8): unknown role `qa`")),
        "{rendered:?}"
    );
    assert!(
        rendered.iter().any(|p| p.starts_with("environments.production.approvals (line 9): a quorum of 3 can never be met: only 2 configured users")),
        "{rendered:?}"
    );
}

#[test]
fn bad_timezones_users_and_ci_kinds_are_reported() {
    let text = format!(
        "[bot]\ntimezone = \"Mars/Olympus\"\n{}\n[environments.production.ci]\nkind = \"circleci\"\n",
        MINIMAL.replace("shell:carol", "carol")
    );
    let rendered: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("bot.timezone (line 2): `Mars/Olympus` is not a known timezone")),
        "{rendered:?}"
    );
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("roles.release-manager") && p.contains("`carol` is not a user")),
        "{rendered:?}"
    );
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("environments.production.ci.kind")
                && p.contains("`circleci` is not a CI kind")),
        "{rendered:?}"
    );
}

#[test]
fn a_per_role_quorum_beyond_the_role_holders_is_reported() {
    let text = MINIMAL.replace(
        "approvals = 2",
        "approvals = 2\napprovals_by_role = { release-manager = 3 }",
    );
    let rendered: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("needs 3 release-manager approval(s) but only 2 user(s)")),
        "{rendered:?}"
    );
}

#[test]
fn a_syntax_error_names_its_line() {
    let found = problems("[roles\n");
    assert_eq!(found[0].line, Some(1));
}

#[test]
fn a_github_target_names_its_missing_keys_and_unset_variables() {
    let text = format!(
        "{MINIMAL}\n[environments.production.ci]\nkind = \"github\"\nrepo = \"acme/api\"\nworkflow = \"deploy.yml\"\ntoken_env = \"RELEASEBOT_TEST_UNSET_TOKEN\"\ndelay_secs = 3\n"
    );
    let rendered: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("ci.token_env")
                && p.contains("RELEASEBOT_TEST_UNSET_TOKEN is not set")),
        "{rendered:?}"
    );
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("ci.delay_secs") && p.contains("does not apply to kind `github`")),
        "{rendered:?}"
    );
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("ci.callback_secret_env") && p.contains("is required")),
        "{rendered:?}"
    );
}

#[test]
fn secrets_never_print() {
    let secret = Secret::new("hunter2");
    assert_eq!(format!("{secret:?}"), "Secret(***)");
}

#[test]
fn a_bad_crontab_line_names_the_job_and_field() {
    let text = format!(
        "{MINIMAL}\n[[schedules]]\nname = \"morning\"\ncron = \"0 9 * * MON-FUN\"\ndigest = \"pending\"\nchannel = \"shell:#releases\"\n\n[[schedules]]\nname = \"late\"\ncron = \"0 9 * * *\"\ntimezone = \"Europe/Atlantis\"\ndigest = \"gossip\"\nchannel = \"shell:#releases\"\n"
    );
    let rendered: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    assert!(
        rendered.iter().any(|p| p.starts_with(
            "schedules.0.cron (line 13): job `morning`: `0 9 * * MON-FUN`: day-of-week field:"
        )),
        "{rendered:?}"
    );
    assert!(
        rendered.iter().any(|p| p.contains("schedules.1.timezone")
            && p.contains("`Europe/Atlantis` is not a known timezone")),
        "{rendered:?}"
    );
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("schedules.1.digest") && p.contains("`gossip` is not a digest")),
        "{rendered:?}"
    );
}

#[test]
fn windows_and_weekly_freezes_are_checked() {
    let text = MINIMAL.replace("approvals = 2", "approvals = 2\nwindows = [\"MON-THU 16:00-09:00\"]\nfreezes = [{ span = \"FRI 15:00\", reason = \"weekend\" }]\nconflicts = \"maybe\"");
    let rendered: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("environments.production.windows")
                && p.contains("must end after it starts")),
        "{rendered:?}"
    );
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("environments.production.freezes")
                && p.contains("is not a weekly span")),
        "{rendered:?}"
    );
    assert!(
        rendered
            .iter()
            .any(|p| p.contains("environments.production.conflicts")
                && p.contains("use refuse or warn")),
        "{rendered:?}"
    );
}

#[test]
fn slack_needs_its_tokens_and_a_known_mode() {
    let text = format!(
        "{MINIMAL}\n[slack]\nmode = \"carrier-pigeon\"\nbot_token_env = \"RB_UNIT_UNSET_BOT\"\napp_token_env = \"RB_UNIT_UNSET_APP\"\napi_url = \"slack.com/api\"\nconnections = 11\n"
    );
    let found: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    for expected in [
        "slack.mode (line 12): `carrier-pigeon` is not a mode; use \"socket\" or \"http\"",
        "slack.api_url (line 15): `slack.com/api` is not an http(s) URL like https://slack.com/api",
        "slack.connections (line 16): must be 1 to 10 (Slack allows 10 Socket Mode connections per app)",
        "slack.bot_token_env (line 13): environment variable RB_UNIT_UNSET_BOT is not set",
        "slack.app_token_env (line 14): environment variable RB_UNIT_UNSET_APP is not set",
    ] {
        assert!(found.iter().any(|p| p == expected), "{expected}\nin {found:#?}");
    }
}

#[test]
fn slack_http_mode_needs_the_http_listener_and_the_signing_secret() {
    let text = format!(
        "{MINIMAL}\n[slack]\nmode = \"http\"\nbot_token_env = \"RB_UNIT_UNSET_BOT\"\nsigning_secret_env = \"RB_UNIT_UNSET_SIGNING\"\n"
    );
    let found: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("slack.mode (line 12): \"http\" needs [http] listen")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("RB_UNIT_UNSET_SIGNING is not set")),
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|p| p.contains("app_token_env")),
        "HTTP mode needs no app token: {found:#?}"
    );
}

#[test]
fn roles_may_name_slack_user_groups() {
    let text = MINIMAL.replace(
        "release-manager = [\"shell:bob\", \"shell:carol\"]",
        "release-manager = [\"slack:U024BE7LH\", \"slack:@release-leads\"]",
    );
    let config = Config::parse(&text, "test.toml").unwrap();
    let groups: Vec<&str> = config.directory.groups().map(UserRef::as_str).collect();
    assert_eq!(groups, vec!["slack:@release-leads"]);
}

#[test]
fn discord_needs_its_token_guilds_and_a_valid_key() {
    std::env::set_var("RB_UNIT_DISCORD_BAD_KEY", "not-hex");
    let text = format!(
        "{MINIMAL}\n[discord]\ntoken_env = \"RB_UNIT_UNSET_DISCORD\"\napplication_id = \"app\"\nproxy_url = \"localhost:8080\"\npublic_key_env = \"RB_UNIT_DISCORD_BAD_KEY\"\n"
    );
    let found: Vec<String> = problems(&text).iter().map(|p| p.to_string()).collect();
    for expected in [
        "discord.token_env (line 12): environment variable RB_UNIT_UNSET_DISCORD is not set",
        "discord.application_id (line 13): `app` is not a Discord id (a number like 80351110224678912)",
        "discord.guilds (line 11): name at least one guild id where /release is registered",
        "discord.proxy_url (line 14): `localhost:8080` is not an http(s) URL",
        "discord.public_key_env (line 15): RB_UNIT_DISCORD_BAD_KEY does not hold a public key: expected 64 hex characters",
        "discord.public_key_env (line 15): the HTTP interactions endpoint needs [http] listen",
    ] {
        assert!(found.iter().any(|p| p == expected), "{expected}\nin {found:#?}");
    }
}

#[test]
fn delivery_timeouts_and_concurrency_default_and_are_range_checked_with_their_key() {
    let config = Config::parse(MINIMAL, "test.toml").unwrap();
    assert_eq!(config.delivery.timeout, std::time::Duration::from_secs(10));
    assert_eq!(config.delivery.in_flight, 8);

    let set = format!("{MINIMAL}\n[delivery]\ntimeout_secs = 3\nin_flight = 2\n");
    let config = Config::parse(&set, "test.toml").unwrap();
    assert_eq!(config.delivery.timeout, std::time::Duration::from_secs(3));
    assert_eq!(config.delivery.in_flight, 2);

    let bad = format!("{MINIMAL}\n[delivery]\ntimeout_secs = 0\nin_flight = 1000\n");
    let found = problems(&bad);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["delivery.timeout_secs", "delivery.in_flight"]);
    assert!(found[0].message.contains("1 to 300 seconds"), "{found:?}");
    assert_eq!(found[0].line, Some(12));
}

#[test]
fn http_limits_default_and_are_range_checked_with_their_key() {
    let config = Config::parse(MINIMAL, "test.toml").unwrap();
    assert_eq!(config.http_limits, crate::config::HttpLimits::default());
    assert_eq!(config.http_limits.max_connections, 4096);

    let set = format!(
        "{MINIMAL}\n[http]\nheader_timeout_secs = 2\nbody_timeout_secs = 5\nmax_connections = 64\n"
    );
    let limits = Config::parse(&set, "test.toml").unwrap().http_limits;
    assert_eq!(limits.header_timeout, std::time::Duration::from_secs(2));
    assert_eq!(limits.body_timeout, std::time::Duration::from_secs(5));
    assert_eq!(limits.max_connections, 64);

    let bad = format!("{MINIMAL}\n[http]\nheader_timeout_secs = 0\nbody_timeout_secs = 100000\nmax_connections = 1\n");
    let found = problems(&bad);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "http.header_timeout_secs",
            "http.body_timeout_secs",
            "http.max_connections"
        ]
    );
    assert!(found[2].message.contains("16 to 100000"), "{found:?}");
}

#[test]
fn numbers_the_bot_computes_times_from_are_range_checked_with_their_key() {
    let text = format!(
        "{MINIMAL}\n[reminders]\nbefore_window_minutes = 4294967295\napproval_nudge_hours = 4294967295\n"
    );
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "reminders.before_window_minutes",
            "reminders.approval_nudge_hours"
        ]
    );
    let env = MINIMAL.replace(
        "[environments.production]",
        "[environments.production]\napproval_expiry_hours = 4294967295\nmax_per_day = 0\nservice_gap_minutes = 4294967295\nci = { kind = \"simulate\", timeout_minutes = 9223372036854775807, max_attempts = 4294967295, request_timeout_secs = 0 }",
    );
    let found = problems(&env);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    for key in [
        "environments.production.approval_expiry_hours",
        "environments.production.max_per_day",
        "environments.production.service_gap_minutes",
        "environments.production.ci.timeout_minutes",
        "environments.production.ci.max_attempts",
        "environments.production.ci.request_timeout_secs",
    ] {
        assert!(keys.contains(&key), "{key} missing from {found:?}");
    }
    assert!(
        found.iter().all(|p| p.message.contains("out of range")),
        "{found:?}"
    );
}

#[test]
fn a_quorum_held_by_a_group_or_guild_role_is_not_counted_as_its_one_entry() {
    for holder in ["discord:role:1300000000000000001", "slack:@release-team"] {
        let text = MINIMAL.replace(
            r#"release-manager = ["shell:bob", "shell:carol"]"#,
            &format!(r#"release-manager = ["{holder}"]"#),
        );
        assert!(
            Config::parse(&text, "test.toml").is_ok(),
            "{holder}: {:?}",
            problems(&text)
        );
        let by_role = text.replace(
            "approvals = 2",
            "approvals = 2\napprovals_by_role = { release-manager = 2 }",
        );
        assert!(
            Config::parse(&by_role, "test.toml").is_ok(),
            "{holder}: {:?}",
            problems(&by_role)
        );
    }
    // Individual users are still counted.
    let one = MINIMAL.replace(r#"["shell:bob", "shell:carol"]"#, r#"["shell:bob"]"#);
    assert!(problems(&one)
        .iter()
        .any(|p| p.message.contains("a quorum of 2 can never be met")));
}

#[test]
fn sleds_cache_is_set_in_mib_and_refused_out_of_range_or_for_postgres() {
    use crate::config::store::StoreSettings;
    let set = format!("{MINIMAL}\n[store]\ncache_mb = 32\n");
    let StoreSettings::Sled(options) = Config::parse(&set, "test.toml").unwrap().store else {
        panic!("sled expected");
    };
    assert_eq!(options.cache_bytes, 32 * 1024 * 1024);

    let zero = problems(&format!("{MINIMAL}\n[store]\ncache_mb = 0\n"));
    assert_eq!(zero[0].key, "store.cache_mb");
    assert!(zero[0].message.contains("MiB"), "{zero:?}");
    let postgres = problems(&format!(
        "{MINIMAL}\n[store]\nbackend = \"postgres\"\ncache_mb = 32\n"
    ));
    assert_eq!(postgres[0].key, "store.cache_mb");
    assert!(
        postgres[0].message.contains("shared_buffers"),
        "{postgres:?}"
    );
}

#[test]
fn the_store_defaults_to_sled_and_postgres_settings_are_checked_with_their_key() {
    use crate::config::store::{PostgresSettings, StoreSettings};
    let config = Config::parse(MINIMAL, "test.toml").unwrap();
    assert_eq!(config.store, StoreSettings::default());

    let set = format!(
        "{MINIMAL}\n[store]\nbackend = \"postgres\"\nurl_env = \"RB_DB\"\npool = 4\nschema = \"releasebot\"\nlease_ttl_secs = 5\n"
    );
    let StoreSettings::Postgres(settings) = Config::parse(&set, "test.toml").unwrap().store else {
        panic!("postgres expected");
    };
    assert_eq!(
        settings,
        PostgresSettings {
            url_env: "RB_DB".into(),
            pool: 4,
            schema: Some("releasebot".into()),
            lease_ttl: std::time::Duration::from_secs(5),
        }
    );

    let bad = format!(
        "{MINIMAL}\n[store]\nbackend = \"postgres\"\nurl_env = \"postgres://u:pw@db/x\"\npool = 0\nschema = \"Drop Table\"\nlease_ttl_secs = 1\n"
    );
    let found = problems(&bad);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "store.url_env",
            "store.pool",
            "store.lease_ttl_secs",
            "store.schema"
        ]
    );
    assert!(
        found.iter().all(|p| !p.message.contains("pw")),
        "a URL pasted into url_env is not echoed: {found:?}"
    );

    let unknown = problems(&format!("{MINIMAL}\n[store]\nbackend = \"mysql\"\n"));
    assert_eq!(unknown[0].key, "store.backend");
    assert!(unknown[0].message.contains("\"sled\""), "{unknown:?}");
    let stray = problems(&format!("{MINIMAL}\n[store]\npool = 4\n"));
    assert!(
        stray[0].message.contains("backend = \"postgres\""),
        "{stray:?}"
    );
}

#[test]
fn a_postgres_store_needs_its_url_variable_set_and_readable() {
    use crate::config::store::PostgresSettings;
    let settings = PostgresSettings {
        url_env: "RELEASEBOT_TEST_UNSET_DATABASE_URL".into(),
        ..PostgresSettings::default()
    };
    let unset = settings.options().unwrap_err().to_string();
    assert!(
        unset.contains("$RELEASEBOT_TEST_UNSET_DATABASE_URL") && unset.contains("not set"),
        "{unset}"
    );
    std::env::set_var(
        "RELEASEBOT_TEST_BAD_DATABASE_URL",
        "postgres://u:pw@db:notaport/x",
    );
    let settings = PostgresSettings {
        url_env: "RELEASEBOT_TEST_BAD_DATABASE_URL".into(),
        ..PostgresSettings::default()
    };
    let unreadable = settings.options().unwrap_err().to_string();
    assert!(
        unreadable.contains("is not a PostgreSQL URL") && !unreadable.contains("pw"),
        "{unreadable}"
    );
}

#[test]
fn a_soak_rule_names_another_environment_that_exists() {
    let good = format!(
        "{MINIMAL}requires = {{ environment = \"staging\", soak_minutes = 60 }}\n\n[environments.staging]\napprove = [\"release-manager\"]\n"
    );
    let config = Config::parse(&good, "test.toml").unwrap();
    let rule = config.environments[&Name::parse("production").unwrap()]
        .policy
        .requires
        .clone()
        .unwrap();
    assert_eq!((rule.environment.as_str(), rule.minutes), ("staging", 60));
    let missing = problems(&format!(
        "{MINIMAL}requires = {{ environment = \"stagin\", soak_minutes = 60 }}\n"
    ));
    assert_eq!(
        missing[0].key,
        "environments.production.requires.environment"
    );
    assert!(
        missing[0]
            .message
            .contains("`stagin` is not an environment"),
        "{missing:?}"
    );
    let itself = problems(&format!(
        "{MINIMAL}requires = {{ environment = \"production\" }}\n"
    ));
    assert!(
        itself[0].message.contains("cannot require itself"),
        "{itself:?}"
    );
    let typo = problems(&format!(
        "{MINIMAL}requires = {{ environment = \"production\", soak = 5 }}\n"
    ));
    assert!(
        typo[0].key.starts_with("environments.production"),
        "{typo:?}"
    );
}

#[test]
fn audience_templates_are_checked_by_key_path() {
    let good = format!(
        "{MINIMAL}\n[audiences.customers]\nchannels = [\"slack:C0CUSTOMERS\"]\nnotes = \"{{service}} {{version}} is out: {{summary}}\"\n"
    );
    let config = Config::parse(&good, "test.toml").unwrap();
    let customers = &config.audiences[&Name::parse("customers").unwrap()];
    assert_eq!(customers.channels.len(), 1);
    assert!(customers.templates.contains_key("notes"));
    let bad = problems(&format!(
        "{MINIMAL}\n[audiences.customers]\nnotes = \"{{service}} by {{author}}\"\nteaser = \"x\"\n"
    ));
    let keys: Vec<&str> = bad.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["audiences.customers.notes", "audiences.customers.teaser"],
        "{bad:?}"
    );
    assert!(
        bad[0].message.starts_with("unknown placeholder `{author}`"),
        "{bad:?}"
    );
}

#[test]
fn a_source_and_incident_settings_are_checked_by_key_path() {
    let good = format!(
        "{MINIMAL}\n[services.api.source]\nkind = \"github\"\nrepository = \"acme/api\"\npath = \"services/api\"\n\n[incidents]\nrollback_severity = \"sev1\"\nupdate_minutes = {{ sev1 = 15 }}\n"
    );
    let config = Config::parse(&good, "test.toml").unwrap();
    let source = config.services[&Name::parse("api").unwrap()]
        .source
        .clone()
        .unwrap();
    assert_eq!(source.tag_of("2.4.0"), "v2.4.0");
    assert_eq!(source.api_url, "https://api.github.com");
    assert_eq!(
        config
            .incidents
            .cadence(crate::domain::incident::Severity::Sev1),
        chrono::Duration::minutes(15)
    );
    let bad = problems(&format!(
        "{MINIMAL}\n[services.api.source]\nkind = \"github\"\nrepository = \"acme\"\ntag = \"release\"\n\n[incidents]\nrollback_severity = \"sev9\"\nupdate_minutes = {{ sev1 = 1, sev7 = 30 }}\n"
    ));
    let keys: Vec<&str> = bad.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "services.api.source.repository",
            "services.api.source.tag",
            "incidents.rollback_severity",
            "incidents.update_minutes.sev1",
            "incidents.update_minutes.sev7"
        ],
        "{bad:?}"
    );
    let kind = problems(&format!(
        "{MINIMAL}\n[services.api.source]\nkind = \"svn\"\nrepository = \"x\"\n"
    ));
    assert_eq!(kind[0].key, "services.api.source.kind", "{kind:?}");
}
