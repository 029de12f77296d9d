//! The board (`/`, `/?at=…`) and the calendar (`/calendar?view=week|month`).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::{admitted, page, problem, Q, S};
use crate::domain::command::CalendarRange;
use crate::domain::when::format_local;
use crate::engine::{off_async_threads, EngineError};
use crate::view::board::BoardView;
use crate::view::{CalendarView, View};

fn local(at: &DateTime<Utc>, tz: &Tz) -> String {
    format_local(*at, *tz)
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"{% if let Some(at) = at_text %}<p>The board as it stood at <strong>{{ at }}</strong>, from the deployment records. <a href="/">Now</a></p>{% endif %}
<div class="grid"><table>
<caption>Which version runs where</caption>
<thead><tr><th scope="col">Service</th>{% for env in board.environments %}<th scope="col">{{ env }}</th>{% endfor %}</tr></thead>
<tbody>
{% for (service, cells) in board.rows %}<tr><th scope="row">{{ service }}</th>
{% for cell in cells %}<td>
{% if let Some(version) = cell.live %}<span class="version">{{ version }}</span>{% if let Some(id) = cell.release %} <a href="/releases/{{ id }}">{{ id }}</a>{% endif %}
{% if let Some(since) = cell.since %}<br><span class="live-note">since {{ self::local(since, board.timezone) }}{% if let Some(by) = cell.by %} by {{ by.local() }}{% endif %}</span>{% endif %}
{% else %}<span class="muted">nothing live</span>{% endif %}
{% if let Some(behind) = cell.behind %}<br><span class="live-note">{{ behind }}</span>{% endif %}
{% if !cell.badges.is_empty() %}<br>{% for badge in cell.badges %}<span class="badge {{ badge.class() }}">{{ badge.label() }}</span>{% endfor %}{% endif %}
{% if let Some(window) = cell.next_window %}<br><span class="live-note">next window {{ window }}</span>{% endif %}
</td>{% endfor %}</tr>
{% endfor %}
</tbody></table></div>
{% if at_text.is_none() %}
<h2>Waiting for approval</h2>
{% if board.waiting.is_empty() %}<p class="muted">Nothing waits.</p>{% else %}<ul>{% for r in board.waiting %}<li><a href="/releases/{{ r.id }}">{{ r.id }}</a> {{ r.title() }}, requested by {{ r.requester.local() }} {{ self::local(r.requested_at, board.timezone) }}</li>{% endfor %}</ul>{% endif %}
<h2>In flight</h2>
{% if board.in_flight.is_empty() %}<p class="muted">No CI job runs.</p>{% else %}<ul>{% for r in board.in_flight %}<li><a href="/releases/{{ r.id }}">{{ r.id }}</a> {{ r.title() }}: {{ r.status }}</li>{% endfor %}</ul>{% endif %}
<form method="get" action="/"><label for="at">Show the board as it stood at</label> <input id="at" name="at" type="datetime-local" required> <button type="submit">Show</button></form>
{% endif %}"#
)]
struct Board<'a> {
    board: &'a BoardView,
    at_text: Option<String>,
}

/// `2026-12-01T14:00` (the input's shape) or RFC 3339, in the bot's timezone.
fn parse_at(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").ok()?;
    naive
        .and_local_timezone(tz)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

pub(super) async fn board(State(state): S, headers: HeaderMap, query: Q, uri: Uri) -> Response {
    let who = match admitted(&state, &headers, &query, &uri).await {
        Ok(who) => who,
        Err(page) => return page,
    };
    let tz = state.engine.config().timezone;
    let at = match query.at.as_deref() {
        Some(text) => match parse_at(text, tz) {
            Some(at) => Some(at),
            None => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    Some(&who),
                    "`at` is not a time: give it like 2026-12-01T14:00.",
                )
            }
        },
        None => None,
    };
    let engine = state.engine.clone();
    let read = off_async_threads("building the board", move || engine.board(at)).await;
    let view = match answered(&who, read) {
        Ok(view) => view,
        Err(page) => return *page,
    };
    let at_text = view.at.map(|at| local(&at, &tz));
    let body = Board {
        board: &view,
        at_text,
    }
    .render()
    .unwrap_or_default();
    page(StatusCode::OK, "Board", Some(&who), body)
}

/// What store work off the async threads gave, or the page to answer
/// instead: the refusal, or that something went wrong.
pub(super) fn answered<T>(
    who: &super::Viewer,
    read: Result<crate::engine::EngineResult<T>, EngineError>,
) -> Result<T, Box<Response>> {
    match read {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(Box::new(refused(who, &error))),
        Err(_) => Err(Box::new(went_wrong(who))),
    }
}

/// The page for a failure the viewer can do nothing about.
pub(super) fn went_wrong(who: &super::Viewer) -> Response {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        Some(who),
        "Something went wrong.",
    )
}

/// An engine error as a page: a refusal's words, or a generic line.
pub(super) fn refused(who: &super::Viewer, error: &EngineError) -> Response {
    let status = match error {
        EngineError::Refused(_) | EngineError::Unparsed(_) => StatusCode::NOT_FOUND,
        EngineError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    problem(status, Some(who), &error.reply_text())
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p id="zone" data-zone="{{ view.timezone }}" data-from="{{ zone_from }}">{{ view.title }}, times in {{ view.timezone }}. <a href="/calendar?view=week">Week</a> · <a href="/calendar?view=month">Month</a> · <a href="/calendar.ics">Subscribe (.ics)</a></p>
{% for lane in view.environments %}<section aria-labelledby="env-{{ lane.environment }}">
<h2 id="env-{{ lane.environment }}">{{ lane.environment }}</h2>
<p>Deploy windows: {% if lane.windows.is_empty() %}any time{% else %}{% for w in lane.windows %}{{ w }}{% if !loop.last %}, {% endif %}{% endfor %} ({{ lane.window_timezone }}){% endif %}</p>
<div class="grid"><table class="days"><caption>Hour by hour in {{ view.timezone }}: <span class="key open"></span> open for deploys, <span class="key closed"></span> closed, <span class="key frozen"></span> frozen</caption>
<thead><tr><th scope="col">Day</th><th scope="col">00 – 24 h</th><th scope="col">In words</th><th scope="col">Booked</th></tr></thead><tbody>
{% for d in crate::web::calendar_grid::days(lane, view.from, view.to, view.timezone) %}<tr><th scope="row">{{ d.label }}</th><td class="hours-cell"><span class="bar" aria-hidden="true">{% for h in d.hours %}<span class="h {{ h.class() }}"></span>{% endfor %}</span></td><td>{{ d.summary }}</td><td>{% for (id, at) in d.booked %}{% if !loop.first %}, {% endif %}<a href="/releases/{{ id }}">{{ id }}</a> {{ at }}{% endfor %}</td></tr>{% endfor %}
</tbody></table></div>
{% if lane.freezes.is_empty() %}<p class="muted">No freezes.</p>{% else %}<ul>{% for f in lane.freezes %}<li><span class="badge b-hold">frozen</span> {{ self::local(f.start, view.timezone) }} to {{ self::local(f.end, view.timezone) }}: {{ f.reason }}</li>{% endfor %}</ul>{% endif %}
{% if lane.releases.is_empty() %}<p class="muted">Nothing scheduled.</p>{% else %}<table><thead><tr><th scope="col">When</th><th scope="col">Release</th><th scope="col">Status</th></tr></thead><tbody>
{% for r in lane.releases %}<tr><td>{% if let Some(at) = r.scheduled_at %}{{ self::local(at, view.timezone) }}{% endif %}</td><td><a href="/releases/{{ r.id }}">{{ r.id }}</a> {{ r.title() }}</td><td>{{ r.status }}{% if let Some(why) = conflicts.get(r.id.number()) %} <span class="badge b-bad">conflict</span> {{ why }}{% endif %}</td></tr>{% endfor %}
</tbody></table>{% endif %}
</section>{% endfor %}"#
)]
struct Calendar<'a> {
    view: &'a CalendarView,
    /// Where the timezone came from: `[timezones]`, the browser's cookie,
    /// or the bot's `default`.
    zone_from: &'static str,
    /// Releases whose time breaks their environment's rules, with why.
    conflicts: Conflicts,
}

/// Release number → what its time conflicts with.
struct Conflicts(std::collections::BTreeMap<u64, String>);

impl Conflicts {
    fn get(&self, release: u64) -> Option<&String> {
        self.0.get(&release)
    }

    /// Each booked release judged against the others in its lane, by its
    /// environment's rules (freezes, windows, gaps, capacity).
    fn of(view: &CalendarView, config: &crate::config::Config) -> Conflicts {
        use crate::domain::calendar::Booking;
        let mut found = std::collections::BTreeMap::new();
        for lane in &view.environments {
            let Some(env) = config.environment(&lane.environment) else {
                continue;
            };
            let policy = &env.policy;
            let bookings: Vec<(Booking, &crate::domain::release::Release)> = lane
                .releases
                .iter()
                .filter(|r| r.status.is_awaiting_deploy())
                .filter_map(|r| {
                    Some((
                        Booking {
                            release: r.id,
                            service: r.service.clone(),
                            requester: r.requester.clone(),
                            at: r.scheduled_at?,
                        },
                        r,
                    ))
                })
                .collect();
            for (booking, release) in &bookings {
                let others: Vec<Booking> = bookings
                    .iter()
                    .filter(|(b, _)| b.release != booking.release)
                    .map(|(b, _)| b.clone())
                    .collect();
                let judged = policy.slots.check(
                    booking.at,
                    policy.timezone,
                    &release.service,
                    &lane.freezes,
                    &others,
                );
                if let Err(conflict) = judged {
                    found.insert(booking.release.number(), conflict.describe(policy.timezone));
                }
            }
        }
        Conflicts(found)
    }
}

pub(super) async fn calendar(State(state): S, headers: HeaderMap, query: Q, uri: Uri) -> Response {
    let who = match admitted(&state, &headers, &query, &uri).await {
        Ok(who) => who,
        Err(page) => return page,
    };
    let range = match query.view.as_deref() {
        None | Some("week") => CalendarRange::Week,
        Some("month") => CalendarRange::Month,
        Some(other) => match chrono::NaiveDate::parse_from_str(other, "%Y-%m-%d") {
            Ok(day) if (day - state.engine.now().date_naive()).num_days().abs() > 5 * 366 => {
                return problem(
                    StatusCode::NOT_FOUND,
                    Some(&who),
                    "The calendar shows weeks within five years of today.",
                )
            }
            Ok(day) => CalendarRange::Around(day),
            Err(_) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    Some(&who),
                    "`view` is week, month, or a day like 2026-12-01.",
                )
            }
        },
    };
    let (tz, zone_from) = viewer_zone(state.engine.config(), &who, &headers);
    let engine = state.engine.clone();
    let read = off_async_threads("reading the calendar", move || engine.calendar(range, tz)).await;
    let reply = match answered(&who, read) {
        Ok(reply) => reply,
        Err(page) => return *page,
    };
    let View::Calendar(view) = &reply.view else {
        return went_wrong(&who);
    };
    let conflicts = Conflicts::of(view, state.engine.config());
    let body = Calendar {
        view,
        zone_from,
        conflicts,
    }
    .render()
    .unwrap_or_default();
    page(StatusCode::OK, "Calendar", Some(&who), body)
}

/// The viewer's timezone: theirs in `[timezones]`, else the browser's (the
/// `releasebot_tz` cookie live.js sets), else the bot's; and which it was.
fn viewer_zone(
    config: &crate::config::Config,
    who: &super::Viewer,
    headers: &HeaderMap,
) -> (chrono_tz::Tz, &'static str) {
    let configured = match who {
        super::Viewer::Person(v) => config.timezones.get(v.user.as_str()).copied(),
        super::Viewer::Wall => None,
    };
    if let Some(tz) = configured {
        return (tz, "config");
    }
    let browser = super::cookie(headers, "releasebot_tz")
        .map(|v| v.replace("%2F", "/").replace("%2B", "+"))
        .and_then(|name| name.parse::<chrono_tz::Tz>().ok());
    match browser {
        Some(tz) => (tz, "browser"),
        None => (config.timezone, "default"),
    }
}
