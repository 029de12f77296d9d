//! `/stats`: DORA's five per service and overall, over a week, month or
//! quarter, for an environment (production by default) and optionally a
//! service; each metric with its definition and a weekly chart drawn as
//! SVG on the server, the numbers beside it.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::pages::{answered, went_wrong};
use super::{admitted, page, problem, Q, S};
use crate::domain::command::StatsPeriod;
use crate::domain::ids::Name;
use crate::domain::stats::{median, ServiceStats};
use crate::engine::off_async_threads;
use crate::view::{StatsView, View};

/// One metric: its name, definition, value, and the weekly values.
struct Metric {
    name: &'static str,
    definition: &'static str,
    value: String,
    chart: String,
    weeks: String,
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".into(), |r| format!("{:.0}%", r * 100.0))
}

fn minutes(d: Option<chrono::Duration>) -> String {
    d.map_or("–".into(), |d| format!("{} min", d.num_minutes()))
}

/// Bars for each week's value, scaled to the highest; described in words.
fn chart(values: &[Option<f64>], label: &str) -> String {
    let top = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let (width, height) = (24 * values.len().max(1), 40);
    let mut bars = String::new();
    for (i, value) in values.iter().enumerate() {
        let h = match (value, top > 0.0) {
            (Some(v), true) => ((v / top) * 36.0).round().max(1.0),
            (Some(_), false) => 1.0,
            (None, _) => 0.0,
        };
        bars.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"{h}\" fill=\"#1f5fbf\"></rect>",
            i * 24 + 3,
            40.0 - h
        ));
    }
    format!(
        "<svg class=\"spark\" role=\"img\" aria-label=\"{label}, week by week\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">{bars}</svg>"
    )
}

fn metrics(view: &StatsView) -> Vec<Metric> {
    let all = &view.overall;
    let weeks = view.days as f64 / 7.0;
    let series = |f: &dyn Fn(&ServiceStats) -> Option<f64>| -> Vec<Option<f64>> {
        view.trend.iter().map(f).collect()
    };
    let rows: [(&str, &str, String, Vec<Option<f64>>); 5] = [
        ("Deployment frequency", "How often a change reaches the environment: deploys that went live.",
            format!("{} deploys ({:.1}/week)", all.deploys, f64::from(all.deploys) / weeks),
            series(&|w| Some(f64::from(w.deploys)))),
        ("Change lead time", "From the first commit of a change (where a source is configured; else from its request) to its deploy going live; the median.",
            minutes(median(&all.lead_times)),
            series(&|w| median(&w.lead_times).map(|d| d.num_minutes() as f64))),
        ("Change fail rate", "Deploys that failed, or were rolled back, or had an incident put down to them, over deploy attempts.",
            percent(all.change_failure_rate()),
            series(&|w| w.change_failure_rate())),
        ("Failed deployment recovery time", "From a failed deploy to its own rollback or its incident's fix going live; the median.",
            minutes(median(&all.restore_times)),
            series(&|w| median(&w.restore_times).map(|d| d.num_minutes() as f64))),
        ("Deployment rework rate", "Unplanned deployments made because of a failure (rollbacks and incident fixes) over all deployments.",
            percent(all.rework_rate()),
            series(&|w| w.rework_rate())),
    ];
    rows.into_iter()
        .map(|(name, definition, value, values)| Metric {
            name,
            definition,
            value,
            chart: chart(&values, name),
            weeks: values
                .iter()
                .map(|v| v.map_or("–".into(), |v| format!("{v:.1}")))
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect()
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p>{{ view.scope }}, the last {{ view.days }} days. <a href="/stats?period=week">Week</a> · <a href="/stats?period=month">Month</a> · <a href="/stats?period=quarter">Quarter</a></p>
<form method="get" action="/stats"><label for="scope">Environment or service</label> <select id="scope" name="scope"><option value="">production</option>{% for n in names %}<option value="{{ n }}">{{ n }}</option>{% endfor %}</select> <button type="submit">Show</button></form>
<table><thead><tr><th scope="col">Metric</th><th scope="col">Value</th><th scope="col">Week by week (oldest first)</th></tr></thead><tbody>
{% for m in metrics %}<tr><th scope="row">{{ m.name }}<br><span class="muted">{{ m.definition }}</span></th><td><a href="/stats/behind?period={{ period }}&amp;scope={{ scope }}">{{ m.value }}</a></td><td>{{ m.chart|safe }} <span class="live-note">{{ m.weeks }}</span></td></tr>{% endfor %}
</tbody></table>
<h2>Per service</h2>
{% if view.per_service.is_empty() %}<p class="muted">No deploys in this period.</p>{% else %}<table><thead><tr><th scope="col">Service</th><th scope="col">Deploys</th><th scope="col">Change fail rate</th><th scope="col">Rework rate</th></tr></thead><tbody>
{% for (service, s) in view.per_service %}<tr><th scope="row">{{ service }}</th><td>{{ s.deploys }}</td><td>{{ self::percent(s.change_failure_rate()) }}</td><td>{{ self::percent(s.rework_rate()) }}</td></tr>{% endfor %}
</tbody></table>{% endif %}"#
)]
struct StatsPage<'a> {
    view: &'a StatsView,
    metrics: Vec<Metric>,
    names: Vec<String>,
    /// The query, for the links to what is behind each number.
    period: &'static str,
    scope: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p>The deployments behind the numbers on <a href="/stats?period={{ period }}&amp;scope={{ scope }}">the stats page</a>: each release with a deploy or rollback that finished in the period, newest first.</p>
{% if releases.is_empty() %}<p class="muted">None.</p>{% else %}<table><thead><tr><th scope="col">Release</th><th scope="col">Deployments (intent, outcome)</th><th scope="col">Incident</th></tr></thead><tbody>
{% for r in releases %}<tr><td><a href="/releases/{{ r.id }}">{{ r.id }}</a> {{ r.title() }}</td><td>{% for d in r.deployments %}{{ r.intent(d).as_str() }} {{ d.version }}: {% match d.outcome %}{% when Some(o) %}{{ "{:?}"|format(o) }}{% when None %}running{% endmatch %}{% if !loop.last %}; {% endif %}{% endfor %}</td><td>{% if let Some(i) = r.incident %}<a href="/incidents/{{ i }}">{{ i }}</a>{% endif %}{% if let Some(i) = r.fixes %} fix of <a href="/incidents/{{ i }}">{{ i }}</a>{% endif %}</td></tr>{% endfor %}
</tbody></table>{% endif %}"#
)]
struct Behind<'a> {
    releases: &'a [crate::domain::release::Release],
    period: &'static str,
    scope: String,
}

/// The period and scope a stats request names, or the page refusing it.
fn read_query(
    query: &super::Params,
    who: &super::Viewer,
) -> Result<(StatsPeriod, &'static str, Vec<Name>), Box<Response>> {
    let (period, word) = match query.period.as_deref() {
        None | Some("month") => (StatsPeriod::Month, "month"),
        Some("week") => (StatsPeriod::Week, "week"),
        Some("quarter") => (StatsPeriod::Quarter, "quarter"),
        Some(_) => {
            return Err(Box::new(problem(
                StatusCode::BAD_REQUEST,
                Some(who),
                "`period` is week, month or quarter.",
            )))
        }
    };
    let scope = match query.scope.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => match Name::parse(text) {
            Ok(name) => vec![name],
            Err(_) => {
                return Err(Box::new(problem(
                    StatusCode::BAD_REQUEST,
                    Some(who),
                    "`scope` names an environment or a service.",
                )))
            }
        },
        None => Vec::new(),
    };
    Ok((period, word, scope))
}

/// Who is asking, for which period and scope: the page to answer with
/// when they may not look or the query does not read.
async fn asked(
    state: &super::HttpState,
    headers: &HeaderMap,
    query: &super::Params,
    uri: &Uri,
) -> Result<(super::Viewer, StatsPeriod, &'static str, Vec<Name>), Response> {
    let who = admitted(state, headers, query, uri).await?;
    let (period, word, scope) = read_query(query, &who).map_err(|page| *page)?;
    Ok((who, period, word, scope))
}

/// `/stats/behind`: the releases behind the numbers.
pub(super) async fn behind(State(state): S, headers: HeaderMap, query: Q, uri: Uri) -> Response {
    let (who, period, word, scope) = match asked(&state, &headers, &query, &uri).await {
        Ok(asked) => asked,
        Err(page) => return page,
    };
    let scope_text = scope.first().map(|n| n.to_string()).unwrap_or_default();
    let engine = state.engine.clone();
    let read = off_async_threads("reading the deploys behind the stats", move || {
        engine.stats_releases(period, &scope)
    })
    .await;
    let releases = match answered(&who, read) {
        Ok(releases) => releases,
        Err(page) => return *page,
    };
    let body = Behind {
        releases: &releases,
        period: word,
        scope: scope_text,
    }
    .render()
    .unwrap_or_default();
    page(StatusCode::OK, "Behind the stats", Some(&who), body)
}

pub(super) async fn show(State(state): S, headers: HeaderMap, query: Q, uri: Uri) -> Response {
    let (who, period, word, scope) = match asked(&state, &headers, &query, &uri).await {
        Ok(asked) => asked,
        Err(page) => return page,
    };
    let scope_text = scope.first().map(|n| n.to_string()).unwrap_or_default();
    let config = state.engine.config();
    let names: Vec<String> = config
        .environments
        .keys()
        .chain(config.services.keys())
        .map(|n| n.to_string())
        .collect();
    let engine = state.engine.clone();
    let read = off_async_threads("computing stats", move || engine.stats(period, &scope)).await;
    let reply = match answered(&who, read) {
        Ok(reply) => reply,
        Err(page) => return *page,
    };
    let View::Stats(view) = &reply.view else {
        return went_wrong(&who);
    };
    let body = StatsPage {
        view,
        metrics: metrics(view),
        names,
        period: word,
        scope: scope_text,
    }
    .render()
    .unwrap_or_default();
    page(StatusCode::OK, "Stats", Some(&who), body)
}
