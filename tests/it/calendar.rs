//! The `.ics` feed over HTTP, read back by an independent iCalendar parser.

use std::collections::HashMap;

use ical::parser::ical::component::IcalEvent;

use crate::ci_app::{CiApp, CALENDAR_TOKEN};

const CONFIG: &str = r##"
[calendar]
feed_token_env = "RB_TEST_CALENDAR_TOKEN"

[roles]
developer = ["shell:alice"]
release-manager = ["shell:bob"]

[services.api]
[services.web]

[environments.production]
timezone = "Europe/Berlin"
approve = ["release-manager"]
approvals = 1

[environments.staging]
approvals = 1
approve = ["release-manager"]
"##;

fn properties(event: &IcalEvent) -> HashMap<String, String> {
    event
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect()
}

async fn feed(app: &CiApp, query: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}/calendar.ics{query}", app.http))
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn events(body: &str) -> Vec<HashMap<String, String>> {
    let mut parser = ical::IcalParser::new(body.as_bytes());
    let calendar = parser
        .next()
        .expect("one calendar")
        .expect("a valid calendar");
    assert!(parser.next().is_none());
    calendar.events.iter().map(properties).collect()
}

#[tokio::test]
async fn the_feed_parses_as_icalendar_with_stable_uids_sequences_and_cancellations() {
    let app = CiApp::spawn(CONFIG).await;
    app.run(
        "alice",
        r#"request api 2.4.0 to production at 2026-12-01 14:00 notes "checkout, new; flow""#,
    )
    .unwrap();
    app.run(
        "alice",
        "request web 1.0.0 to production at 2026-12-02 10:00",
    )
    .unwrap();
    app.run("alice", "request api 2.5.0 to staging at 2026-12-03 10:00")
        .unwrap();
    app.run("alice", "cancel R-2 not needed").unwrap();
    app.run(
        "bob",
        r#"freeze production 2026-12-20 to 2027-01-04 "year-end freeze""#,
    )
    .unwrap();

    let (status, body) = feed(&app, &format!("?token={CALENDAR_TOKEN}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("\r\n"), "CRLF line endings");
    let all = events(&body);
    let by_uid: HashMap<&str, &HashMap<String, String>> =
        all.iter().map(|e| (e["UID"].as_str(), e)).collect();
    assert_eq!(by_uid.len(), 4);
    let r1 = by_uid["R-1@releasebot"];
    assert_eq!(r1["DTSTART"], "20261201T130000Z");
    assert_eq!(r1["STATUS"], "TENTATIVE");
    assert_eq!(
        r1["DESCRIPTION"],
        "Requested by shell:alice. Priority normal.\\ncheckout\\, new\\; flow"
    );
    assert_eq!(by_uid["R-2@releasebot"]["STATUS"], "CANCELLED");
    assert_eq!(
        by_uid["F-1-production@releasebot"]["DTSTART"],
        "20261219T230000Z"
    );
    let first_sequence: i64 = r1["SEQUENCE"].parse().unwrap();

    // An update raises SEQUENCE; the UID stays.
    app.advance(60);
    app.run("bob", "approve R-1").unwrap();
    let (_, body) = feed(&app, &format!("?token={CALENDAR_TOKEN}&env=production")).await;
    let production = events(&body);
    assert_eq!(production.len(), 3, "staging's R-3 is left out");
    let r1 = production
        .iter()
        .find(|e| e["UID"] == "R-1@releasebot")
        .unwrap();
    assert_eq!(r1["STATUS"], "CONFIRMED");
    assert!(r1["SEQUENCE"].parse::<i64>().unwrap() > first_sequence);

    assert_eq!(feed(&app, "").await.0, 401);
    assert_eq!(feed(&app, "?token=guess").await.0, 401);
    assert_eq!(
        feed(&app, &format!("?token={CALENDAR_TOKEN}&env=prod"))
            .await
            .0,
        404
    );
}

/// R-1's SEQUENCE in the production feed.
async fn sequence_of_r1(app: &CiApp) -> u64 {
    let (_, body) = feed(app, &format!("?token={CALENDAR_TOKEN}&env=production")).await;
    events(&body)
        .into_iter()
        .find(|e| e["UID"] == "R-1@releasebot")
        .expect("R-1 in the feed")["SEQUENCE"]
        .parse()
        .unwrap()
}

#[tokio::test]
async fn sequence_rises_with_two_changes_in_one_second_and_with_a_clock_stepped_back() {
    let app = CiApp::spawn(CONFIG).await;
    app.run(
        "alice",
        "request api 2.4.0 to production at 2026-12-01 14:00",
    )
    .unwrap();
    let requested = sequence_of_r1(&app).await;
    // Two changes within the same second.
    app.run("alice", "schedule R-1 2026-12-01 15:00").unwrap();
    let rescheduled = sequence_of_r1(&app).await;
    assert!(rescheduled > requested, "{rescheduled} after {requested}");
    app.run("bob", "approve R-1").unwrap();
    let approved = sequence_of_r1(&app).await;
    assert!(approved > rescheduled, "{approved} after {rescheduled}");
    // The clock stepped back an hour (an NTP correction, a VM restored).
    app.advance(-3600);
    app.run("alice", "schedule R-1 2026-12-01 14:30").unwrap();
    let stepped_back = sequence_of_r1(&app).await;
    assert!(stepped_back > approved, "{stepped_back} after {approved}");
}
