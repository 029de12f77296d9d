//! What an environment's policy, a CI target and the digest schedules say
//! in the config: roles and quorum (and whether configured people can ever
//! meet it), windows, freezes and capacity, and cron lines, each problem
//! with its key path.

use std::collections::BTreeSet;

use chrono_tz::Tz;

use super::raw::{RawCi, RawEnvironment, RawSchedule};
use super::validate::{channels, timezone, within, Problems};
use super::{CiTarget, Digest, Missed, ScheduledDigest};
use crate::domain::calendar::{RecurringFreeze, SlotRules, WeeklySpan};
use crate::domain::cron_spec::CronSpec;
use crate::domain::ids::{ChannelRef, Name, UserRef};
use crate::domain::policy::{Directory, EnvPolicy, Permission};
use crate::domain::soak::SoakRule;

pub(super) fn permission(
    roles: &[String],
    path: &[&str],
    known: &BTreeSet<&str>,
    problems: &mut Problems<'_>,
) -> Permission {
    for role in roles {
        if role != Permission::ANYONE && !known.contains(role.as_str()) {
            problems.add(
                path,
                format!(
                    "unknown role `{role}`; roles defined under [roles]: {}",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    Permission(roles.to_vec())
}

/// Each soak rule names an environment that exists.
pub(super) fn check_requires(
    environments: &std::collections::BTreeMap<Name, super::Environment>,
    problems: &mut Problems<'_>,
) {
    for (name, env) in environments {
        if let Some(rule) = &env.policy.requires {
            if !environments.contains_key(&rule.environment) {
                problems.add(
                    &["environments", name.as_str(), "requires", "environment"],
                    format!(
                        "`{}` is not an environment here ({})",
                        rule.environment,
                        environments
                            .keys()
                            .map(Name::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
}

/// `requires = { environment = "staging", soak_minutes = 60 }`; that the
/// environment exists is checked once all are read.
fn soak_rule(env: &RawEnvironment, n: &str, problems: &mut Problems<'_>) -> Option<SoakRule> {
    let raw = env.requires.as_ref()?;
    let path = ["environments", n, "requires", "environment"];
    let environment = Name::parse(&raw.environment)
        .map_err(|e| problems.add(&path, e.0))
        .ok()?;
    if environment.as_str() == n {
        problems.add(&path, "an environment cannot require itself");
        return None;
    }
    within(
        raw.soak_minutes,
        0..=43_200,
        "minutes (30 days)",
        &["environments", n, "requires", "soak_minutes"],
        problems,
    );
    Some(SoakRule {
        environment,
        minutes: raw.soak_minutes,
    })
}

pub(super) fn env_policy(
    name: Name,
    env: &RawEnvironment,
    timezone_default: Tz,
    known: &BTreeSet<&str>,
    directory: &Directory,
    problems: &mut Problems<'_>,
) -> EnvPolicy {
    let n = name.as_str();
    let tz = env.timezone.as_deref().map_or(timezone_default, |t| {
        timezone(t, &["environments", n, "timezone"], problems)
    });
    let policy = EnvPolicy {
        timezone: tz,
        channels: channels(&env.channels, &["environments", n, "channels"], problems),
        request: permission(
            &env.request,
            &["environments", n, "request"],
            known,
            problems,
        ),
        approve: permission(
            &env.approve,
            &["environments", n, "approve"],
            known,
            problems,
        ),
        deploy: permission(&env.deploy, &["environments", n, "deploy"], known, problems),
        rollback: permission(
            &env.rollback,
            &["environments", n, "rollback"],
            known,
            problems,
        ),
        approvals: env.approvals,
        approvals_by_role: env.approvals_by_role.clone(),
        self_approval: env.self_approval,
        approval_expiry: chrono::Duration::hours(i64::from(env.approval_expiry_hours.min(8_760))),
        checklist: env.checklist.clone(),
        slots: slot_rules(env, n, problems),
        requires: soak_rule(env, n, problems),
        name: name.clone(),
    };
    for role in env.approvals_by_role.keys() {
        if !env
            .approve
            .iter()
            .any(|r| r == role || r == Permission::ANYONE)
        {
            problems.add(
                &["environments", n, "approvals_by_role"],
                format!(
                    "`{role}` is not among the roles that may approve here ({})",
                    policy.approve.describe()
                ),
            );
        }
    }
    if env.approval_expiry_hours == 0 {
        problems.add(
            &["environments", n, "approval_expiry_hours"],
            "must be at least 1 hour",
        );
    } else {
        within(
            env.approval_expiry_hours,
            1..=8_760,
            "hours (a year)",
            &["environments", n, "approval_expiry_hours"],
            problems,
        );
    }
    check_quorum_is_reachable(&policy, directory, problems);
    policy
}

/// An environment whose quorum no configured group of users can meet would
/// block every release to it.
fn check_quorum_is_reachable(
    policy: &EnvPolicy,
    directory: &Directory,
    problems: &mut Problems<'_>,
) {
    let n = policy.name.as_str();
    if policy.approve.0.iter().any(|r| r == Permission::ANYONE) {
        return;
    }
    if policy.approve.0.is_empty() && policy.approvals_needed() > 0 {
        problems.add(
            &["environments", n, "approve"],
            "no role may approve, but approvals are required",
        );
        return;
    }
    let approvers: Vec<&UserRef> = directory
        .users()
        .filter(|(_, roles)| policy.approve.allows(roles))
        .map(|(user, _)| user)
        .collect();
    // A Slack user group or Discord role may have any number of members.
    let open_ended = |holders: &[&UserRef]| holders.iter().any(|user| user.is_group());
    let needed = policy.approvals_needed() as usize;
    if approvers.len() < needed && !open_ended(&approvers) {
        problems.add(
            &["environments", n, "approvals"],
            format!(
                "a quorum of {needed} can never be met: only {} configured user{} may approve ({})",
                approvers.len(),
                if approvers.len() == 1 { "" } else { "s" },
                policy.approve.describe()
            ),
        );
    }
    for (role, wanted) in &policy.approvals_by_role {
        let holding: Vec<&UserRef> = directory
            .users()
            .filter(|(_, roles)| roles.contains(role))
            .map(|(user, _)| user)
            .collect();
        let holders = holding.len();
        if holders < *wanted as usize && !open_ended(&holding) {
            problems.add(
                &["environments", n, "approvals_by_role", role],
                format!(
                    "needs {wanted} {role} approval(s) but only {holders} user(s) hold that role"
                ),
            );
        }
    }
}

pub(super) fn ci_target(ci: &RawCi, path: &[&str], problems: &mut Problems<'_>) -> CiTarget {
    let mut found: Vec<(String, String)> = Vec::new();
    let target = super::ci::build(ci, &mut |key: &str, message: String| {
        found.push((key.to_string(), message))
    });
    for (key, message) in found {
        let mut key_path = path.to_vec();
        key_path.push(&key);
        problems.add(&key_path, message);
    }
    target
}

fn slot_rules(env: &RawEnvironment, n: &str, problems: &mut Problems<'_>) -> SlotRules {
    let windows = env
        .windows
        .iter()
        .filter_map(|w| {
            WeeklySpan::parse(w)
                .map_err(|e| problems.add(&["environments", n, "windows"], e))
                .ok()
        })
        .collect();
    let recurring_freezes = env
        .freezes
        .iter()
        .filter_map(|f| {
            WeeklySpan::parse(&f.span)
                .map_err(|e| problems.add(&["environments", n, "freezes"], e))
                .ok()
                .map(|span| RecurringFreeze {
                    span,
                    reason: f.reason.clone(),
                })
        })
        .collect();
    let refuse_conflicts = match env.conflicts.as_deref() {
        None | Some("refuse") => true,
        Some("warn") => false,
        Some(other) => {
            problems.add(
                &["environments", n, "conflicts"],
                format!("`{other}` is not a policy; use refuse or warn"),
            );
            true
        }
    };
    SlotRules {
        windows,
        recurring_freezes,
        max_per_day: env.max_per_day.and_then(|m| {
            within(
                m,
                1..=1_000,
                "releases",
                &["environments", n, "max_per_day"],
                problems,
            )
        }),
        service_gap: env
            .service_gap_minutes
            .and_then(|m| {
                within(
                    m,
                    1..=1_440,
                    "minutes (a day)",
                    &["environments", n, "service_gap_minutes"],
                    problems,
                )
            })
            .map(|m| chrono::Duration::minutes(i64::from(m))),
        refuse_conflicts,
    }
}

pub(super) fn schedules(
    raw: &[RawSchedule],
    default_tz: Tz,
    problems: &mut Problems<'_>,
) -> Vec<ScheduledDigest> {
    let mut seen = BTreeSet::new();
    let mut jobs = Vec::new();
    for (i, job) in raw.iter().enumerate() {
        let index = i.to_string();
        let path = |key: &'static str| ["schedules".to_string(), index.clone(), key.to_string()];
        let mut add = |key: &'static str, message: String| {
            let p = path(key);
            let refs: Vec<&str> = p.iter().map(String::as_str).collect();
            problems.add(&refs, format!("job `{}`: {message}", job.name));
        };
        if !seen.insert(job.name.clone()) {
            add("name", "the name is used twice".into());
        }
        let cron = CronSpec::parse(&job.cron)
            .map_err(|e| add("cron", format!("`{}`: {e}", job.cron)))
            .ok();
        let timezone = match &job.timezone {
            Some(tz) => tz
                .parse::<Tz>()
                .map_err(|_| add("timezone", format!("`{tz}` is not a known timezone")))
                .ok(),
            None => Some(default_tz),
        };
        let digest = match job.digest.as_str() {
            "pending" => Some(Digest::Pending),
            "today" => Some(Digest::Today),
            "week" => Some(Digest::Week),
            "status" => Some(Digest::Status),
            other => {
                add(
                    "digest",
                    format!("`{other}` is not a digest; use pending, today, week or status"),
                );
                None
            }
        };
        let channel = ChannelRef::parse(&job.channel)
            .map_err(|e| add("channel", e.0))
            .ok();
        let minutes = job.missed_within_minutes.unwrap_or(60);
        if !(1..=10_080).contains(&minutes) {
            add(
                "missed_within_minutes",
                format!("{minutes} is out of range; give 1 to 10080 minutes (a week)"),
            );
        }
        let within = chrono::Duration::minutes(i64::from(minutes.clamp(1, 10_080)));
        let missed = match job.missed.as_deref() {
            None | Some("run_once") => Some(Missed::RunOnce(within)),
            Some("skip") => Some(Missed::Skip),
            Some(other) => {
                add(
                    "missed",
                    format!("`{other}` is not a policy; use run_once or skip"),
                );
                None
            }
        };
        if let (Some(cron), Some(timezone), Some(digest), Some(channel), Some(missed)) =
            (cron, timezone, digest, channel, missed)
        {
            jobs.push(ScheduledDigest {
                name: job.name.clone(),
                cron,
                timezone,
                digest,
                channel,
                missed,
            });
        }
    }
    jobs
}

/// `[audiences.*]`: each one's channels and templates, every placeholder
/// and kind checked by key path.
pub(super) fn audiences(
    raw: &std::collections::BTreeMap<String, super::raw::RawAudience>,
    problems: &mut Problems<'_>,
) -> std::collections::BTreeMap<Name, super::Audience> {
    use crate::domain::template::{Template, KINDS};
    let mut audiences = std::collections::BTreeMap::new();
    for (name, audience) in raw {
        let Ok(parsed) = Name::parse(name).map_err(|e| problems.add(&["audiences", name], e.0))
        else {
            continue;
        };
        let mut templates = std::collections::BTreeMap::new();
        for (kind, text) in &audience.templates {
            let path = ["audiences", name.as_str(), kind.as_str()];
            if !KINDS.contains(&kind.as_str()) {
                problems.add(
                    &path,
                    format!("not a kind of text; audiences have {}", KINDS.join(", ")),
                );
                continue;
            }
            match Template::parse(text) {
                Ok(template) => {
                    templates.insert(kind.clone(), template);
                }
                Err(why) => problems.add(&path, why),
            }
        }
        let channels = channels(
            &audience.channels,
            &["audiences", name, "channels"],
            problems,
        );
        audiences.insert(
            parsed,
            super::Audience {
                channels,
                templates,
            },
        );
    }
    audiences
}
