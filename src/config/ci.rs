//! CI targets: where an environment's (or a service's) deploys go, with
//! secrets read from the environment and never printed.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::raw::RawCi;
use crate::domain::release::JobOutcome;

/// A secret from an environment variable. `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CiKind {
    /// Built in, for demos and tests: accepts at once, reports after `delay`.
    Simulate {
        delay: Duration,
        outcome: JobOutcome,
    },
    /// GitHub Actions `workflow_dispatch`, asking for run details.
    GithubWorkflow {
        api_url: String,
        repo: String,
        workflow: String,
        git_ref: String,
        token: Secret,
    },
    /// GitHub `repository_dispatch`.
    GithubDispatch {
        api_url: String,
        repo: String,
        event_type: String,
        token: Secret,
    },
    /// GitLab pipeline trigger.
    Gitlab {
        url: String,
        project: String,
        git_ref: String,
        token: Secret,
    },
    /// Jenkins `buildWithParameters` with basic auth.
    Jenkins {
        url: String,
        job: String,
        user: String,
        token: Secret,
    },
    /// A JSON POST signed GitHub-style.
    Webhook { url: String, secret: Secret },
}

/// The fields every job sends, in this order; `fields` renames them.
pub const JOB_FIELDS: [&str; 10] = [
    "release",
    "idempotency_key",
    "service",
    "version",
    "environment",
    "action",
    "rollback_to",
    "requested_by",
    "started_by",
    "approvers",
];

#[derive(Debug, Clone, PartialEq)]
pub struct CiTarget {
    pub kind: CiKind,
    /// Our field name → the name the CI system expects; `None` omits it.
    pub field_names: BTreeMap<&'static str, Option<String>>,
    pub callback_secret: Option<Secret>,
    /// How long a deploy may go without a report before it is declared stuck.
    pub timeout: Duration,
    pub max_attempts: u32,
    pub request_timeout: Duration,
}

impl CiTarget {
    pub fn simulate(delay: Duration, outcome: JobOutcome) -> Self {
        CiTarget {
            kind: CiKind::Simulate { delay, outcome },
            field_names: default_names("simulate"),
            callback_secret: None,
            timeout: Duration::from_secs(3600),
            max_attempts: 5,
            request_timeout: Duration::from_secs(10),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            CiKind::Simulate { .. } => "simulate",
            CiKind::GithubWorkflow { .. } | CiKind::GithubDispatch { .. } => "github",
            CiKind::Gitlab { .. } => "gitlab",
            CiKind::Jenkins { .. } => "jenkins",
            CiKind::Webhook { .. } => "webhook",
        }
    }

    /// How the CI system is named in messages: `GitHub`, `GitLab`, …
    pub fn display_name(&self) -> &'static str {
        match &self.kind {
            CiKind::Simulate { .. } => "simulated CI",
            CiKind::GithubWorkflow { .. } | CiKind::GithubDispatch { .. } => "GitHub",
            CiKind::Gitlab { .. } => "GitLab",
            CiKind::Jenkins { .. } => "Jenkins",
            CiKind::Webhook { .. } => "the webhook",
        }
    }
}

/// GitHub inputs and webhook keys are snake_case (GitHub's `release_id`, as a
/// workflow input named `release` reads oddly); GitLab variables and Jenkins
/// parameters UPPER_CASE.
fn default_names(kind: &str) -> BTreeMap<&'static str, Option<String>> {
    JOB_FIELDS
        .iter()
        .map(|field| {
            let name = match (kind, *field) {
                ("gitlab" | "jenkins", "release") => "RELEASE_ID".to_string(),
                ("gitlab" | "jenkins", f) => f.to_ascii_uppercase(),
                ("github", "release") => "release_id".to_string(),
                (_, f) => f.to_string(),
            };
            (*field, Some(name))
        })
        .collect()
}

/// Reports a problem at a key under a section's path (a CI target, `[slack]`, `[discord]`).
pub type Report<'a> = dyn FnMut(&str, String) + 'a;

/// Reads the environment variable a `*_env` key names.
fn secret(env_key: &str, var: Option<&String>, report: &mut Report<'_>) -> Secret {
    let Some(var) = var else {
        report(
            env_key,
            "is required for this kind: name the environment variable that holds the secret".into(),
        );
        return Secret::new("");
    };
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Secret::new(value),
        _ => {
            report(env_key, format!("environment variable {var} is not set"));
            Secret::new("")
        }
    }
}

fn required(key: &str, value: &Option<String>, report: &mut Report<'_>) -> String {
    match value {
        Some(v) if !v.trim().is_empty() => v.trim_end_matches('/').to_string(),
        _ => {
            report(key, "is required for this kind".into());
            String::new()
        }
    }
}

fn http_url(key: &str, value: String, report: &mut Report<'_>) -> String {
    let is_http = value.starts_with("https://") || value.starts_with("http://");
    if !value.is_empty() && !is_http {
        report(key, format!("`{value}` is not an http(s) URL"));
    }
    value
}

/// Keys that only some kinds use; a key set for another kind is a mistake.
fn reject_foreign(raw: &RawCi, kind: &str, report: &mut Report<'_>) {
    let allowed: &[&str] = match kind {
        "simulate" => &["delay_secs", "outcome"],
        "github" => &[
            "api_url",
            "repo",
            "workflow",
            "event_type",
            "ref",
            "token_env",
        ],
        "gitlab" => &["url", "project", "ref", "token_env"],
        "jenkins" => &["url", "job", "user", "token_env"],
        _ => &["url", "secret_env"],
    };
    let present = [
        ("delay_secs", raw.delay_secs.is_some()),
        ("outcome", raw.outcome.is_some()),
        ("api_url", raw.api_url.is_some()),
        ("repo", raw.repo.is_some()),
        ("workflow", raw.workflow.is_some()),
        ("event_type", raw.event_type.is_some()),
        ("ref", raw.git_ref.is_some()),
        ("url", raw.url.is_some()),
        ("project", raw.project.is_some()),
        ("job", raw.job.is_some()),
        ("user", raw.user.is_some()),
        ("token_env", raw.token_env.is_some()),
        ("secret_env", raw.secret_env.is_some()),
    ];
    for (key, set) in present {
        if set && !allowed.contains(&key) {
            report(key, format!("does not apply to kind `{kind}`"));
        }
    }
}

pub fn build(raw: &RawCi, report: &mut Report<'_>) -> CiTarget {
    let kind_name = raw.kind.clone().unwrap_or_else(|| "simulate".to_string());
    reject_foreign(raw, &kind_name, report);
    let git_ref = raw.git_ref.clone().unwrap_or_else(|| "main".to_string());
    let kind = kind(raw, &kind_name, git_ref, report);
    let field_names = field_names(raw, &kind_name, &kind, report);
    let callback_secret = raw
        .callback_secret_env
        .as_ref()
        .map(|var| secret("callback_secret_env", Some(var), report));
    if callback_secret.is_none() && !matches!(kind, CiKind::Simulate { .. }) {
        report(
            "callback_secret_env",
            "is required so that the pipeline can report back to /ci/callback".into(),
        );
    }
    let max_attempts = raw.max_attempts.unwrap_or(5);
    if max_attempts == 0 {
        report("max_attempts", "must be at least 1".into());
    } else if max_attempts > 100 {
        report(
            "max_attempts",
            format!("{max_attempts} is out of range; give 1 to 100"),
        );
    }
    let timeout_minutes = raw.timeout_minutes.unwrap_or(60);
    if !(1..=10_080).contains(&timeout_minutes) {
        report(
            "timeout_minutes",
            format!("{timeout_minutes} is out of range; give 1 to 10080 minutes (a week)"),
        );
    }
    let request_timeout_secs = raw.request_timeout_secs.unwrap_or(10);
    if !(1..=300).contains(&request_timeout_secs) {
        report(
            "request_timeout_secs",
            format!("{request_timeout_secs} is out of range; give 1 to 300 seconds"),
        );
    }
    CiTarget {
        kind,
        field_names,
        callback_secret,
        timeout: Duration::from_secs(timeout_minutes.clamp(1, 10_080) * 60),
        max_attempts: max_attempts.clamp(1, 100),
        request_timeout: Duration::from_secs(request_timeout_secs.clamp(1, 300)),
    }
}

/// What kind of CI system, and how to reach it.
fn kind(raw: &RawCi, kind_name: &str, git_ref: String, report: &mut Report<'_>) -> CiKind {
    match kind_name {
        "simulate" => simulate(raw, report),
        "github" => github(raw, git_ref, report),
        "gitlab" => CiKind::Gitlab {
            url: http_url(
                "url",
                raw.url
                    .clone()
                    .unwrap_or_else(|| "https://gitlab.com".into()),
                report,
            ),
            project: required("project", &raw.project, report),
            git_ref,
            token: secret("token_env", raw.token_env.as_ref(), report),
        },
        "jenkins" => CiKind::Jenkins {
            url: http_url("url", required("url", &raw.url, report), report),
            job: required("job", &raw.job, report),
            user: required("user", &raw.user, report),
            token: secret("token_env", raw.token_env.as_ref(), report),
        },
        "webhook" => CiKind::Webhook {
            url: http_url("url", required("url", &raw.url, report), report),
            secret: secret("secret_env", raw.secret_env.as_ref(), report),
        },
        other => {
            report(
                "kind",
                format!(
                    "`{other}` is not a CI kind; use simulate, github, gitlab, jenkins or webhook"
                ),
            );
            CiKind::Simulate {
                delay: Duration::ZERO,
                outcome: JobOutcome::Succeeded,
            }
        }
    }
}

/// `kind = "simulate"`: the built-in CI that reports after a delay.
fn simulate(raw: &RawCi, report: &mut Report<'_>) -> CiKind {
    let outcome = match raw.outcome.as_deref().unwrap_or("succeed") {
        "succeed" => JobOutcome::Succeeded,
        "fail" => JobOutcome::Failed,
        other => {
            report(
                "outcome",
                format!("`{other}` is not an outcome; use succeed or fail"),
            );
            JobOutcome::Succeeded
        }
    };
    let delay = raw.delay_secs.unwrap_or(2.0);
    if !(0.0..=86_400.0).contains(&delay) {
        report("delay_secs", "must be between 0 and 86400 seconds".into());
    }
    CiKind::Simulate {
        delay: Duration::from_secs_f64(delay.clamp(0.0, 86_400.0)),
        outcome,
    }
}

/// `kind = "github"`: a workflow_dispatch or a repository_dispatch.
fn github(raw: &RawCi, git_ref: String, report: &mut Report<'_>) -> CiKind {
    let api_url = http_url(
        "api_url",
        raw.api_url
            .clone()
            .unwrap_or_else(|| "https://api.github.com".into()),
        report,
    );
    let repo = required("repo", &raw.repo, report);
    if !repo.is_empty() && repo.split('/').count() != 2 {
        report("repo", format!("`{repo}` should be owner/repo"));
    }
    let token = secret("token_env", raw.token_env.as_ref(), report);
    match (&raw.workflow, &raw.event_type) {
        (Some(workflow), None) => CiKind::GithubWorkflow {
            api_url,
            repo,
            workflow: workflow.clone(),
            git_ref,
            token,
        },
        (None, Some(event_type)) => CiKind::GithubDispatch {
            api_url,
            repo,
            event_type: event_type.clone(),
            token,
        },
        _ => {
            report("workflow", "set exactly one of workflow (workflow_dispatch) or event_type (repository_dispatch)".into());
            CiKind::GithubDispatch {
                api_url,
                repo,
                event_type: String::new(),
                token,
            }
        }
    }
}

/// `fields`: which job facts go out, under which names.
fn field_names(
    raw: &RawCi,
    kind_name: &str,
    kind: &CiKind,
    report: &mut Report<'_>,
) -> BTreeMap<&'static str, Option<String>> {
    let mut field_names = default_names(kind_name);
    for (field, name) in &raw.fields {
        match JOB_FIELDS.iter().find(|f| *f == field) {
            Some(known) => {
                field_names.insert(known, (!name.is_empty()).then(|| name.clone()));
            }
            None => report(
                "fields",
                format!("unknown field `{field}`; fields: {}", JOB_FIELDS.join(", ")),
            ),
        }
    }
    if matches!(kind, CiKind::GithubDispatch { .. }) && field_names.values().flatten().count() > 10
    {
        report(
            "fields",
            "repository_dispatch takes at most 10 client_payload keys".into(),
        );
    }
    field_names
}
