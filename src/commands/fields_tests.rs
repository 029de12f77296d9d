//! Commands from named fields: the same readers as a line, free text verbatim.
use super::{from_fields, parse};
use crate::domain::command::*;
use crate::domain::ids::ReleaseId;
use std::collections::BTreeMap;

fn run(name: &str, pairs: &[(&str, &str)]) -> Result<Command, ParseError> {
    let values: BTreeMap<&str, &str> = pairs.iter().copied().collect();
    from_fields(name, &|key| values.get(key).copied())
}

#[test]
fn a_request_reads_like_the_same_line_and_keeps_the_notes_verbatim() {
    let notes = r#"fixes "login" \ and to production at 10:00 priority low"#;
    let typed = run(
        "request",
        &[
            ("service", "api"),
            ("version", "2.4.0"),
            ("environment", "production"),
            ("at", "2026-12-01 14:00"),
            ("notes", notes),
            ("priority", "high"),
        ],
    )
    .unwrap();
    let Command::Request(args) = &typed else {
        panic!("{typed:?}")
    };
    assert_eq!(args.notes.as_deref(), Some(notes));
    let line =
        parse("request api 2.4.0 to production at 2026-12-01 14:00 priority high notes x").unwrap();
    let Command::Request(from_line) = line else {
        unreachable!()
    };
    assert_eq!(
        RequestArgs {
            notes: Some(notes.to_string()),
            ..from_line
        },
        *args
    );
}

#[test]
fn reasons_are_taken_whole_and_ids_alone() {
    assert_eq!(
        run(
            "reject",
            &[("id", "R-3"), ("reason", "  \"no\" — see <@&1>  ")]
        )
        .unwrap(),
        Command::Reject {
            id: ReleaseId::new(3),
            reason: "\"no\" — see <@&1>".into()
        }
    );
    let extra = run("deploy", &[("id", "R-3 now")]).unwrap_err();
    assert!(
        extra.message.starts_with("`id`: Unexpected `now`"),
        "{extra}"
    );
    assert_eq!(
        run("list", &[("filter", "mine")]).unwrap(),
        Command::List(ListFilter::Mine)
    );
    assert_eq!(run("list", &[]).unwrap(), Command::List(ListFilter::Open));
}

#[test]
fn missing_and_out_of_range_values_name_their_field() {
    let missing = run("reject", &[("id", "R-3"), ("reason", "   ")]).unwrap_err();
    assert_eq!(
        missing.message,
        "Missing `reason`: the reason for rejecting."
    );
    let priority = run(
        "request",
        &[
            ("service", "api"),
            ("version", "1.0"),
            ("priority", "urgent"),
        ],
    )
    .unwrap_err();
    assert!(
        priority
            .message
            .starts_with("`priority`: `urgent` is not a priority"),
        "{priority}"
    );
    let period = run("stats", &[("period", "decade")]).unwrap_err();
    assert!(
        period
            .message
            .starts_with("`period`: `decade` is not a period"),
        "{period}"
    );
    let when = run("schedule", &[("id", "R-1"), ("at", "2026-12-01 25:00")]).unwrap_err();
    assert!(
        when.message.starts_with("`at`: `25:00` is not a time"),
        "{when}"
    );
    let id = run("status", &[("id", "R-0")]).unwrap_err();
    assert!(id.message.starts_with("`id`: "), "{id}");
    assert!(run("launch", &[])
        .unwrap_err()
        .message
        .contains("Unknown command"));
    assert!(run("freeze", &[])
        .unwrap_err()
        .message
        .contains("takes a command line"));
}
