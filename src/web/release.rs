//! A release's page (`/releases/R-1`) and an incident's (`/incidents/I-1`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::pages::answered;
use super::{admitted, page, problem, Q, S};
use crate::domain::ids::{ChannelRef, ReleaseId};
use crate::domain::incident::{Incident, IncidentId};
use crate::domain::release::Release;
use crate::domain::when::format_local;
use crate::engine::{off_async_threads, EngineResult};
use crate::store::prelude::*;
use crate::store::AuditEntry;

fn local(at: &DateTime<Utc>, tz: &Tz) -> String {
    format_local(*at, *tz)
}

/// Markdown from people, as HTML with any raw HTML in it escaped.
pub(super) fn markdown(text: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let events = Parser::new(text).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p><strong>{{ r.status }}</strong> · {{ r.title() }} · requested by {{ r.requester.local() }} at {{ self::local(r.requested_at, tz) }} · priority {{ r.priority.as_str() }}</p>
{% if let Some(from) = r.promoted_from %}<p>Promoted from <a href="/releases/{{ from }}">{{ from }}</a>.</p>{% endif %}
{% for p in promoted %}<p>Promoted on as <a href="/releases/{{ p.id }}">{{ p.id }}</a> ({{ p.environment }}).</p>{% endfor %}
{% if let Some(i) = r.incident %}<p><span class="badge b-bad">incident</span> <a href="/incidents/{{ i }}">{{ i }}</a> was put down to this release.</p>{% endif %}
{% if let Some(i) = r.fixes %}<p>The fix of <a href="/incidents/{{ i }}">{{ i }}</a>.</p>{% endif %}
<h2>Approvals</h2>
{% if !threads.is_empty() %}<p>Discussed and approved in {% for (channel, link) in threads %}{% if !loop.first %}, {% endif %}<a href="{{ link }}">the {{ channel.platform() }} thread in {{ channel.local() }}</a>{% endfor %}.</p>{% endif %}
{% if r.approvals.is_empty() %}<p class="muted">None yet.</p>{% else %}<ul>{% for a in r.approvals %}<li>{{ a.by.local() }} at {{ self::local(a.at, tz) }}{% if let Some(c) = a.comment %}: {{ c }}{% endif %}{% if let Some((_, link)) = threads.first() %} (<a href="{{ link }}">thread</a>){% endif %}</li>{% endfor %}</ul>{% endif %}
<h2>Checklist</h2>
{% if r.checklist.is_empty() %}<p class="muted">No checklist here.</p>{% else %}<ul>{% for c in r.checklist %}<li>{% if c.done %}✔ done{% else %}☐ open{% endif %}: {{ c.item }}</li>{% endfor %}</ul>{% endif %}
<h2>Notes</h2>
<div class="notes">{% if let Some(n) = notes_html %}{{ n|safe }}{% else %}<p class="muted">No notes were given.</p>{% endif %}</div>
{% if let Some(c) = changes_html %}<h2>Changes from the code</h2><div class="notes">{{ c|safe }}</div>{% endif %}
<h2>CI runs</h2>
{% if r.deployments.is_empty() %}<p class="muted">None yet.</p>{% else %}<table><thead><tr><th scope="col">Job</th><th scope="col">Action</th><th scope="col">Version</th><th scope="col">Started</th><th scope="col">Outcome</th></tr></thead><tbody>
{% for d in r.deployments %}<tr><td>{% if let Some(url) = d.url %}<a href="{{ url }}">{{ d.job }}</a>{% else %}{{ d.job }}{% endif %}</td><td>{{ d.action.as_str() }}</td><td>{{ d.version }}</td><td>{{ self::local(d.started_at, tz) }} by {{ d.by.local() }}</td><td>{% match d.outcome %}{% when Some(o) %}{{ "{:?}"|format(o) }}{% when None %}running{% endmatch %}</td></tr>{% endfor %}
</tbody></table>{% endif %}
<h2>Timeline</h2>
<ol>{% for e in audit %}<li>{{ self::local(e.at, tz) }} · {{ e.actor.local() }} · {{ e.action }}{% if !e.detail.is_empty() %}: {{ e.detail }}{% endif %}</li>{% endfor %}</ol>"#
)]
struct ReleasePage<'a> {
    r: &'a Release,
    tz: Tz,
    promoted: Vec<Release>,
    notes_html: Option<String>,
    changes_html: Option<String>,
    audit: Vec<AuditEntry>,
    /// Links to the chat threads the release is announced in.
    threads: Vec<(ChannelRef, String)>,
}

pub(super) async fn release(
    State(state): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Q,
    uri: axum::http::Uri,
) -> Response {
    let who = match admitted(&state, &headers, &query, &uri).await {
        Ok(who) => who,
        Err(page) => return page,
    };
    let Ok(id) = ReleaseId::parse(&id) else {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&who),
            "That is not a release id; they look like R-42.",
        );
    };
    let engine = state.engine.clone();
    let read = off_async_threads("reading a release", move || read_release(&engine, id)).await;
    let read = match answered(&who, read) {
        Ok(read) => read,
        Err(page) => return *page,
    };
    let threads = state.permalinks.of(&read.posted).await;
    let release = &read.release;
    let body = ReleasePage {
        threads,
        notes_html: release.notes.as_deref().map(markdown),
        changes_html: read.changes.as_deref().map(markdown),
        r: release,
        tz: read.tz,
        promoted: read.promoted,
        audit: read.audit,
    }
    .render()
    .unwrap_or_default();
    page(
        StatusCode::OK,
        &format!("{} {}", release.id, release.title()),
        Some(&who),
        body,
    )
}

/// What a release's page shows, read in one go off the async threads.
struct ReleaseRead {
    release: Release,
    audit: Vec<AuditEntry>,
    /// Releases promoted from it.
    promoted: Vec<Release>,
    /// The changes from the code, as Markdown.
    changes: Option<String>,
    tz: Tz,
    /// Its announcements: (channel, message).
    posted: Vec<(ChannelRef, String)>,
}

fn read_release(engine: &crate::engine::Engine, id: ReleaseId) -> EngineResult<ReleaseRead> {
    let Some(release) = engine.store().release(id)? else {
        return Err(crate::domain::Refusal::NoSuchRelease(id).into());
    };
    let audit = engine.store().audit_for(id)?;
    let mut promoted = Vec::new();
    for env in engine.config().environments.keys() {
        promoted.extend(
            engine
                .store()
                .releases_of(&release.service, env)?
                .into_iter()
                .filter(|r| r.promoted_from == Some(id)),
        );
    }
    let changes = match &release.changes {
        Some(c) if !c.key.is_empty() => engine.kept_notes(&c.key)?.map(|n| n.markdown()),
        _ => None,
    };
    let tz = engine
        .config()
        .environment(&release.environment)
        .map_or(engine.config().timezone, |e| e.policy.timezone);
    let mut posted = Vec::new();
    for channel in engine
        .config()
        .channels_for(&release.service, &release.environment)
    {
        if let Some(message) = engine
            .store()
            .posted(id, &channel)?
            .filter(|m| !m.is_empty())
        {
            posted.push((channel, message));
        }
    }
    Ok(ReleaseRead {
        release,
        audit,
        promoted,
        changes,
        tz,
        posted,
    })
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<p><span class="badge b-bad">{{ i.severity }}</span> {{ i.target() }}: {{ i.summary }} · lead {{ i.lead.local() }} · {% if let Some(at) = i.resolved_at %}resolved {{ self::local(at, tz) }}{% else %}open since {{ self::local(i.opened_at, tz) }}{% endif %}</p>
{% if let Some(c) = i.cause %}<p>Put down to <a href="/releases/{{ c.release }}">{{ c.release }}</a> ({{ c.version }}{% if let Some(p) = c.previous %}, replacing {{ p }}{% endif %}).</p>{% endif %}
{% if let Some(t) = restore %}<p>Time to restore: <strong>{{ t }}</strong></p>{% endif %}
<h2>Updates and steps</h2>
<ol>{% for e in i.events %}<li>{{ self::local(e.at, tz) }} · {{ e.by.local() }} · {{ "{:?}"|format(e.kind) }}: {{ e.text }}{% if let Some(r) = e.release %} (<a href="/releases/{{ r }}">{{ r }}</a>){% endif %}</li>{% endfor %}</ol>"#
)]
struct IncidentPage<'a> {
    i: &'a Incident,
    tz: Tz,
    restore: Option<String>,
}

pub(super) async fn incident(
    State(state): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Q,
    uri: axum::http::Uri,
) -> Response {
    let who = match admitted(&state, &headers, &query, &uri).await {
        Ok(who) => who,
        Err(page) => return page,
    };
    let Ok(id) = IncidentId::parse(&id) else {
        return problem(
            StatusCode::NOT_FOUND,
            Some(&who),
            "That is not an incident id; they look like I-3.",
        );
    };
    let engine = state.engine.clone();
    let read = off_async_threads(
        "reading an incident",
        move || -> crate::engine::EngineResult<_> {
            let Some(incident) = Incidents::incident(&**engine.store(), id)? else {
                return Err(crate::domain::Refusal::NoSuchIncident(id).into());
            };
            let mut releases = Vec::new();
            let ids = incident
                .events
                .iter()
                .filter_map(|e| e.release)
                .chain(incident.cause.as_ref().map(|c| c.release));
            for rid in ids {
                releases.extend(engine.store().release(rid)?);
            }
            let restore = incident
                .restored_at(&releases)
                .map(|at| crate::domain::incident::span(at - incident.began_at(&releases)));
            Ok((incident, restore))
        },
    )
    .await;
    let (incident, restore) = match answered(&who, read) {
        Ok(read) => read,
        Err(page) => return *page,
    };
    let tz = state.engine.config().timezone;
    let body = IncidentPage {
        i: &incident,
        tz,
        restore,
    }
    .render()
    .unwrap_or_default();
    page(
        StatusCode::OK,
        &format!("Incident {}", incident.id),
        Some(&who),
        body,
    )
}
