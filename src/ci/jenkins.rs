//! Jenkins `buildWithParameters` with basic auth (user + API token).
//! Docs: POST /job/NAME/buildWithParameters answers 201 with `Location:
//! …/queue/item/N/`; GET that item's `api/json` shows `executable.url` once
//! the build has started.

use std::time::Duration;

use super::payload;
use super::response::{send, Accepted, SendError};
use crate::config::{CiKind, CiTarget};
use crate::domain::outbox::CiJob;

const SYSTEM: &str = "Jenkins";

/// `folder/deploy` → `job/folder/job/deploy`
fn job_path(job: &str) -> String {
    job.split('/')
        .map(|part| format!("job/{part}"))
        .collect::<Vec<_>>()
        .join("/")
}

pub async fn trigger(
    client: &reqwest::Client,
    target: &CiTarget,
    job: &CiJob,
) -> Result<Accepted, SendError> {
    let CiKind::Jenkins {
        url,
        job: name,
        user,
        token,
    } = &target.kind
    else {
        unreachable!("jenkins::trigger called for another kind")
    };
    let request = client
        .post(format!("{url}/{}/buildWithParameters", job_path(name)))
        .basic_auth(user, Some(token.expose()))
        .form(&payload::string_pairs(job, target));
    // 303: Jenkins merged this with an identical queued request; it is queued all the same.
    let (headers, _) = send(SYSTEM, request, target.request_timeout, |s| {
        s == reqwest::StatusCode::SEE_OTHER
    })
    .await?;
    let queue_item = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|location| same_origin(url, location));
    Ok(Accepted {
        run_url: queue_item.clone(),
        follow: queue_item,
    })
}

/// `location` (absolute, or relative to the configured `base`) when it lies
/// on the configured Jenkins origin (scheme, host and port): only there do
/// the user and API token go. Anything else is refused and logged without
/// its query, which may carry a secret.
fn same_origin(base: &str, location: &str) -> Option<String> {
    // Relative URLs in Jenkins' answers are relative to its root.
    let base = reqwest::Url::parse(&format!("{}/", base.trim_end_matches('/'))).ok()?;
    let Ok(found) = base.join(location) else {
        tracing::warn!("Jenkins answered with a Location that is not a URL; not following it");
        return None;
    };
    if found.origin() == base.origin() {
        return Some(found.to_string());
    }
    tracing::warn!(
        location = %format!("{}{}", found.origin().ascii_serialization(), found.path()),
        jenkins = %base.origin().ascii_serialization(),
        "Jenkins pointed the queue item at another origin; not sending credentials there"
    );
    None
}

/// Polls a queue item until Jenkins names the build, for a few tries.
pub async fn follow_queue_item(
    client: &reqwest::Client,
    target: &CiTarget,
    item: &str,
) -> Option<String> {
    let CiKind::Jenkins { user, token, .. } = &target.kind else {
        return None;
    };
    let api = format!("{}/api/json", item.trim_end_matches('/'));
    for attempt in 0..10u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let Ok(response) = client
            .get(&api)
            .basic_auth(user, Some(token.expose()))
            .timeout(target.request_timeout)
            .send()
            .await
        else {
            continue;
        };
        let Ok(value) = response.json::<serde_json::Value>().await else {
            continue;
        };
        if let Some(url) = value.pointer("/executable/url").and_then(|u| u.as_str()) {
            return Some(url.to_string());
        }
    }
    None
}

/// The queue item or build an earlier, unanswered `buildWithParameters`
/// of `job` made, if any: the queue's items, then the job's latest builds,
/// whose parameters carry the idempotency key.
/// Docs: GET /queue/api/json and GET /job/NAME/api/json, with `tree=`.
pub async fn find_build(
    client: &reqwest::Client,
    target: &CiTarget,
    job: &CiJob,
) -> Result<Option<Accepted>, String> {
    let CiKind::Jenkins {
        url,
        job: name,
        user,
        token,
    } = &target.kind
    else {
        return Ok(None);
    };
    // The parameter carrying the key, under whatever name `fields` gave it.
    let Some((param, _)) = payload::string_pairs(job, target)
        .into_iter()
        .find(|(_, value)| value == &job.key)
    else {
        return Ok(None);
    };
    let get = |path: String| {
        client
            .get(format!("{url}/{path}"))
            .basic_auth(user, Some(token.expose()))
    };
    let queue = get("queue/api/json?tree=items[url,actions[parameters[name,value]]]".into());
    let (_, answer) = send(SYSTEM, queue, target.request_timeout, |_| false)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(item) = carrying(&answer, "items", &param, &job.key) {
        let item = same_origin(url, &item);
        return Ok(item.map(|item| Accepted {
            run_url: Some(item.clone()),
            follow: Some(item),
        }));
    }
    let builds = get(format!(
        "{}/api/json?tree=builds[url,actions[parameters[name,value]]]{{0,50}}",
        job_path(name)
    ));
    let (_, answer) = send(SYSTEM, builds, target.request_timeout, |_| false)
        .await
        .map_err(|e| e.to_string())?;
    Ok(
        carrying(&answer, "builds", &param, &job.key).map(|build| Accepted {
            run_url: same_origin(url, &build),
            follow: None,
        }),
    )
}

/// The `url` of the first entry of `list` in a Jenkins JSON answer whose
/// parameters set `param` to `key`.
fn carrying(answer: &str, list: &str, param: &str, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(answer).ok()?;
    value.get(list)?.as_array()?.iter().find_map(|entry| {
        let carries = entry
            .get("actions")?
            .as_array()?
            .iter()
            .filter_map(|action| action.get("parameters")?.as_array())
            .flatten()
            .any(|p| {
                p.get("name").and_then(|n| n.as_str()) == Some(param)
                    && p.get("value").and_then(|v| v.as_str()) == Some(key)
            });
        carries
            .then(|| entry.get("url")?.as_str().map(str::to_string))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_build_is_found_by_its_key_parameter() {
        let answer = r#"{"builds":[{"url":"http://j/job/d/13/","actions":[{},{"parameters":[{"name":"IDEMPOTENCY_KEY","value":"R-1-deploy-2"}]}]},{"url":"http://j/job/d/12/","actions":[{"parameters":[{"name":"IDEMPOTENCY_KEY","value":"R-1-deploy-1"}]}]}]}"#;
        assert_eq!(
            super::carrying(answer, "builds", "IDEMPOTENCY_KEY", "R-1-deploy-1").as_deref(),
            Some("http://j/job/d/12/")
        );
        assert_eq!(
            super::carrying(answer, "builds", "IDEMPOTENCY_KEY", "R-1-deploy-3"),
            None
        );
        assert_eq!(
            super::carrying("not json", "builds", "K", "R-1-deploy-1"),
            None
        );
    }

    #[test]
    fn credentials_go_only_to_the_configured_origin() {
        let base = "https://ci.example.com:8443/jenkins";
        let same = |location: &str| super::same_origin(base, location);
        assert_eq!(
            same("https://ci.example.com:8443/jenkins/queue/item/9/").as_deref(),
            Some("https://ci.example.com:8443/jenkins/queue/item/9/")
        );
        assert_eq!(
            same("/jenkins/queue/item/9/").as_deref(),
            Some("https://ci.example.com:8443/jenkins/queue/item/9/")
        );
        for foreign in [
            "https://ci.example.com/jenkins/queue/item/9/",
            "http://ci.example.com:8443/jenkins/queue/item/9/",
            "https://evil.example.com:8443/queue/item/9/",
            "https://ci.example.com.evil.example:8443/queue/item/9/",
            "//evil.example.com/queue/item/9/",
            "https://ci.example.com:8443@evil.example.com/",
        ] {
            assert_eq!(same(foreign), None, "{foreign}");
        }
        assert_eq!(super::same_origin("not a url", "/queue/item/9/"), None);
    }

    #[test]
    fn folders_become_nested_job_paths() {
        assert_eq!(super::job_path("deploy-api"), "job/deploy-api");
        assert_eq!(super::job_path("team/deploy"), "job/team/job/deploy");
    }
}
