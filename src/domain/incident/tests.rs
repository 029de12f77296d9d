use super::*;
use chrono::TimeZone;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap() + Duration::minutes(minute)
}

fn incident() -> Incident {
    let alice = UserRef::parse("shell:alice").unwrap();
    Incident {
        id: IncidentId::new(1),
        service: Name::parse("api").unwrap(),
        environment: Name::parse("production").unwrap(),
        severity: Severity::Sev1,
        summary: "errors".into(),
        lead: alice.clone(),
        opened_at: at(0),
        cause: None,
        events: vec![Event {
            at: at(0),
            by: alice,
            kind: EventKind::Opened,
            text: "errors".into(),
            release: None,
        }],
        rolled_back: vec![Version::parse("2.4.0").unwrap()],
        cleared: Vec::new(),
        nudged_at: None,
        resolved_at: None,
    }
}

#[test]
fn ids_read_back_and_refuse_other_shapes() {
    assert_eq!(IncidentId::parse("I-3").unwrap(), IncidentId::new(3));
    assert_eq!(IncidentId::parse("i-3").unwrap().to_string(), "I-3");
    for bad in ["R-3", "3", "I-0", "I-", "I-x"] {
        assert!(IncidentId::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn an_update_falls_due_a_cadence_after_the_last_word_and_nudges_once() {
    let mut incident = incident();
    let every = Duration::minutes(30);
    assert_eq!(incident.update_due(every), Some(at(30)));
    assert!(!incident.needs_nudge(every, at(29)));
    assert!(incident.needs_nudge(every, at(30)));
    incident.nudged_at = Some(at(31));
    assert!(!incident.needs_nudge(every, at(45)));
    let lead = incident.lead.clone();
    incident.push(at(40), &lead, EventKind::Update, "mitigated".into());
    assert_eq!(incident.update_due(every), Some(at(70)));
    assert!(incident.needs_nudge(every, at(70)));
    incident.resolved_at = Some(at(50));
    assert_eq!(incident.update_due(every), None);
}

#[test]
fn a_rolled_back_version_is_held_until_cleared() {
    let mut incident = incident();
    let bad = Version::parse("2.4.0").unwrap();
    assert!(incident.holds_back(&bad));
    assert!(!incident.holds_back(&Version::parse("2.4.1").unwrap()));
    incident.cleared.push(bad.clone());
    assert!(!incident.holds_back(&bad));
}

#[test]
fn durations_read_as_minutes_hours_or_days() {
    assert_eq!(summary::span(Duration::minutes(42)), "42 min");
    assert_eq!(summary::span(Duration::minutes(185)), "3 h 05 min");
    assert_eq!(summary::span(Duration::hours(52)), "2 d 4 h");
}
