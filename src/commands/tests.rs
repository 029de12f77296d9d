//! The command parser, line by line.

use super::{changes_state, of, parse, REGISTRY};
use crate::domain::command::*;
use crate::domain::ids::ReleaseId;
use crate::domain::release::{Priority, ReleaseStatus};
use crate::domain::when::Day;

#[test]
fn a_full_request_parses() {
    let command = parse(r#"request api 2.4.0 to production at 2026-12-01 14:00 notes "New checkout flow" priority high"#).unwrap();
    let Command::Request(args) = command else {
        panic!("not a request")
    };
    assert_eq!(args.service.as_str(), "api");
    assert_eq!(args.version.as_str(), "2.4.0");
    assert_eq!(args.environment.unwrap().as_str(), "production");
    assert_eq!(
        args.at.unwrap().day,
        Day::On(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
    );
    assert_eq!(args.notes.as_deref(), Some("New checkout flow"));
    assert_eq!(args.priority, Priority::High);
}

#[test]
fn comments_and_reasons_keep_the_rest_of_the_line() {
    assert_eq!(
        parse("approve R-1 looks  good").unwrap(),
        Command::Approve {
            id: ReleaseId::new(1),
            comment: Some("looks  good".into())
        }
    );
    assert_eq!(
        parse("rollback r-3 \"checkout broken\"").unwrap(),
        Command::Rollback {
            id: ReleaseId::new(3),
            reason: "checkout broken".into()
        }
    );
}

#[test]
fn a_malformed_version_points_at_itself() {
    let error = parse("request api 2..4 to production").unwrap_err();
    assert_eq!((error.start, error.end), (12, 16));
    assert!(error.to_string().contains("not a version"));
    assert!(error.to_string().contains("            ^^^^"));
}

#[test]
fn unknown_commands_suggest_the_nearest() {
    let error = parse("aprove R-1").unwrap_err();
    assert!(
        error.message.contains("Did you mean `approve`?"),
        "{}",
        error.message
    );
    assert!(parse("frobnicate")
        .unwrap_err()
        .message
        .contains("Unknown command"));
}

#[test]
fn missing_arguments_show_the_usage() {
    let error = parse("reject R-1").unwrap_err();
    assert!(error.message.contains("Missing the reason"));
    assert!(error.message.contains("reject <id> <reason>"));
}

#[test]
fn empty_lines_and_open_quotes_are_errors() {
    assert!(parse("   ").unwrap_err().message.contains("empty"));
    assert!(parse("request api 1.0 notes \"oops")
        .unwrap_err()
        .message
        .contains("never closed"));
}

#[test]
fn dates_need_a_time_and_accept_iso_form() {
    assert!(parse("schedule R-1 2026-12-01")
        .unwrap_err()
        .message
        .contains("time of day"));
    assert!(parse("schedule R-1 2026-12-01T14:00").is_ok());
    assert!(parse("schedule R-1 tomorrow 9:30").is_ok());
    assert!(parse("schedule R-1 2026-13-01 14:00")
        .unwrap_err()
        .message
        .contains("not a date"));
}

#[test]
fn list_filters_and_slash_prefix() {
    assert_eq!(
        parse("/release list pending").unwrap(),
        Command::List(ListFilter::Status(ReleaseStatus::Requested))
    );
    assert_eq!(parse("list").unwrap(), Command::List(ListFilter::Open));
    assert!(parse("list everything").is_err());
    assert!(parse("status R-1 extra")
        .unwrap_err()
        .message
        .contains("Unexpected `extra`"));
}

#[test]
fn the_registry_and_the_command_values_agree_both_ways() {
    for def in REGISTRY {
        let line = def.example;
        assert_eq!(line.split(' ').next(), Some(def.name), "{line}");
        let command = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(std::ptr::eq(of(&command), *def), "{line} is {}'s", def.name);
        assert_eq!(changes_state(&command), def.changes);
        // A name alone is either a command or a clear error, never a panic.
        let _ = parse(def.name);
    }
    let mut names: Vec<&str> = REGISTRY.iter().map(|def| def.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), REGISTRY.len(), "one file per name");
}
