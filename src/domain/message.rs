//! The platform-neutral announcement: what every chat adapter renders in its
//! own way (text in the shell, Block Kit on Slack, an embed on Discord).

use serde::{Deserialize, Serialize};

use super::ids::ReleaseId;
use super::policy::{EnvPolicy, QuorumState};
use super::release::{Release, ReleaseStatus};
use super::when::format_local;

/// A button under an announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The command word the button stands for: `approve`, `reject`.
    pub command: String,
    pub label: String,
    pub release: ReleaseId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

/// One release's announcement, as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub release: ReleaseId,
    pub status: ReleaseStatus,
    /// `🚦 R-1 api 2.4.0 → production: requested by alice`
    pub headline: String,
    /// The release's facts, for platforms that lay them out as fields (Block
    /// Kit, embeds); the text form has them in the headline already.
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub environment: String,
    /// Who asked, as `platform:user`; each adapter shows the name its platform knows.
    #[serde(default)]
    pub requester: String,
    pub fields: Vec<Field>,
    pub actions: Vec<Action>,
}

impl Message {
    /// The whole message on one line, for text surfaces.
    pub fn to_text(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{} {}", f.label.to_lowercase(), f.value))
            .collect();
        if fields.is_empty() {
            self.headline.clone()
        } else {
            format!("{} · {}", self.headline, fields.join(" · "))
        }
    }
}

fn field(label: &str, value: String) -> Field {
    Field {
        label: label.to_string(),
        value,
    }
}

/// Builds the announcement for a release in its current state.
pub fn announcement(release: &Release, policy: &EnvPolicy, quorum: &QuorumState) -> Message {
    let who = match release.status {
        ReleaseStatus::Rejected => release.rejected.as_ref().map(|c| c.by.local().to_string()),
        ReleaseStatus::Cancelled => release.cancelled.as_ref().map(|c| c.by.local().to_string()),
        ReleaseStatus::Requested => Some(release.requester.local().to_string()),
        _ => release.last_deployment().map(|d| d.by.local().to_string()),
    };
    let status_words = release.status.as_str().replace('_', " ");
    let headline = match who {
        Some(who)
            if release.status != ReleaseStatus::Approved
                && release.status != ReleaseStatus::Scheduled =>
        {
            format!(
                "{} {} {}: {status_words} by {who}",
                release.status.emoji(),
                release.id,
                release.title()
            )
        }
        _ => format!(
            "{} {} {}: {status_words}",
            release.status.emoji(),
            release.id,
            release.title()
        ),
    };
    let mut fields = vec![field(
        "Window",
        release
            .scheduled_at
            .map_or("not scheduled".to_string(), |at| {
                format_local(at, policy.timezone)
            }),
    )];
    fields.push(field(
        "Approvals",
        format!("{}/{}", quorum.counted, quorum.needed),
    ));
    if !release.checklist.is_empty() {
        fields.push(field(
            "Checklist",
            format!("{}/{}", release.checklist_done(), release.checklist.len()),
        ));
    }
    if let Some(deployment) = release.last_deployment() {
        if deployment.action == super::release::DeployAction::Rollback {
            fields.push(field("Rolling back to", deployment.version.to_string()));
        }
        if let Some(url) = &deployment.url {
            fields.push(field("Run", url.clone()));
        }
    }
    let actions = if release.status.is_awaiting_deploy() {
        ["approve", "reject"]
            .iter()
            .map(|command| Action {
                command: command.to_string(),
                label: format!("{}{}", command[..1].to_uppercase(), &command[1..]),
                release: release.id,
            })
            .collect()
    } else {
        Vec::new()
    };
    Message {
        release: release.id,
        status: release.status,
        headline,
        service: release.service.to_string(),
        version: release.version.to_string(),
        environment: release.environment.to_string(),
        requester: release.requester.to_string(),
        fields,
        actions,
    }
}

/// A requested release's announcement, for adapter tests: `requester` is a
/// `platform:user` reference, named in the headline by its local id.
#[cfg(test)]
pub(crate) fn example(requester: &str) -> Message {
    let local = requester.split_once(':').map_or(requester, |(_, id)| id);
    Message {
        release: ReleaseId::new(1),
        status: ReleaseStatus::Requested,
        headline: format!("🚦 R-1 api 2.4.0 → production: requested by {local}"),
        service: "api".into(),
        version: "2.4.0".into(),
        environment: "production".into(),
        requester: requester.into(),
        fields: vec![field("Approvals", "0/2".into())],
        actions: vec![Action {
            command: "approve".into(),
            label: "Approve".into(),
            release: ReleaseId::new(1),
        }],
    }
}
