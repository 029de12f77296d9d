//! The platform-neutral announcement: what every chat adapter renders in its
//! own way (text in the shell, Block Kit on Slack, an embed on Discord).

use serde::{Deserialize, Serialize};

use super::ids::ReleaseId;
use super::policy::{EnvPolicy, QuorumState};
use super::release::{Release, ReleaseStatus};
use super::text::Text;
use super::when::format_local;

/// What a button under an announcement does. Platforms put it (with the
/// release) in the button's id and decode it back, never through text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonAction {
    Approve,
    /// Asks for a reason first (a modal), then rejects.
    Reject,
    Deploy,
}

impl ButtonAction {
    pub const ALL: [ButtonAction; 3] = [
        ButtonAction::Approve,
        ButtonAction::Reject,
        ButtonAction::Deploy,
    ];

    /// The word in button ids: `approve`, `reject`, `deploy`.
    pub fn as_str(self) -> &'static str {
        match self {
            ButtonAction::Approve => "approve",
            ButtonAction::Reject => "reject",
            ButtonAction::Deploy => "deploy",
        }
    }

    pub fn parse(word: &str) -> Option<ButtonAction> {
        ButtonAction::ALL.into_iter().find(|a| a.as_str() == word)
    }

    pub fn label(self) -> &'static str {
        match self {
            ButtonAction::Approve => "Approve",
            ButtonAction::Reject => "Reject",
            ButtonAction::Deploy => "Deploy",
        }
    }

    /// The buttons a release shows in `status`: approve or reject while
    /// approvals are open, deploy once they are met, none after.
    pub fn for_status(status: ReleaseStatus) -> &'static [ButtonAction] {
        match status {
            ReleaseStatus::Requested => &[ButtonAction::Approve, ButtonAction::Reject],
            ReleaseStatus::Approved | ReleaseStatus::Scheduled => &[ButtonAction::Deploy],
            _ => &[],
        }
    }
}

/// A button under an announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    #[serde(rename = "command")]
    pub action: ButtonAction,
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
    pub headline: Text,
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
    /// The request's notes, whole: each platform shortens them to its limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Message {
    /// The whole message on one line, for text surfaces.
    pub fn to_text(&self) -> Text {
        let mut text = self.headline.clone();
        for field in &self.fields {
            text = text.say(format!(" · {} {}", field.label.to_lowercase(), field.value));
        }
        text
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
        ReleaseStatus::Rejected => release.rejected.as_ref().map(|c| &c.by),
        ReleaseStatus::Cancelled => release.cancelled.as_ref().map(|c| &c.by),
        ReleaseStatus::Requested => Some(&release.requester),
        ReleaseStatus::Approved | ReleaseStatus::Scheduled => None,
        _ => release.last_deployment().map(|d| &d.by),
    };
    let status_words = release.status.as_str().replace('_', " ");
    let headline = Text::plain(format!(
        "{} {} {}: {status_words}",
        release.status.emoji(),
        release.id,
        release.title()
    ));
    let headline = match who {
        Some(who) => headline.say(" by ").person(who),
        None => headline,
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
    if let Some(changes) = &release.changes {
        fields.push(field("Changes", changes.line()));
    }
    if let Some(deployment) = release.last_deployment() {
        if deployment.action == super::release::DeployAction::Rollback {
            fields.push(field("Rolling back to", deployment.version.to_string()));
        }
        if let Some(url) = &deployment.url {
            fields.push(field("Run", url.clone()));
        }
    }
    let actions = ButtonAction::for_status(release.status)
        .iter()
        .map(|action| Action {
            action: *action,
            label: action.label().to_string(),
            release: release.id,
        })
        .collect();
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
        notes: release.notes.clone().filter(|n| !n.trim().is_empty()),
    }
}

/// A requested release's announcement, for adapter tests: `requester` is a
/// `platform:user` reference, named in the headline by its local id.
#[cfg(test)]
pub(crate) fn example(requester: &str) -> Message {
    Message {
        release: ReleaseId::new(1),
        status: ReleaseStatus::Requested,
        headline: Text::plain("🚦 R-1 api 2.4.0 → production: requested by ")
            .person(&super::ids::UserRef::parse(requester).expect("a valid user")),
        service: "api".into(),
        version: "2.4.0".into(),
        environment: "production".into(),
        requester: requester.into(),
        fields: vec![field("Approvals", "0/2".into())],
        actions: vec![Action {
            action: ButtonAction::Approve,
            label: "Approve".into(),
            release: ReleaseId::new(1),
        }],
        notes: None,
    }
}
