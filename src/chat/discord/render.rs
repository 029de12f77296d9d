//! The announcement as a Discord embed (colour by status) with Approve /
//! Reject buttons while approvals are open. Discord user ids are written as
//! mentions, which Discord shows as names without pinging anyone.

use serenity::all::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed};

use crate::domain::message::Message;
use crate::domain::release::ReleaseStatus;

/// Button `custom_id`s are `release:<command>:<id>`.
pub const BUTTON_PREFIX: &str = "release:";

/// Discord's limits: embed title 256, field value 1024 characters.
const TITLE_MAX: usize = 256;
const VALUE_MAX: usize = 1024;

pub fn colour(status: ReleaseStatus) -> u32 {
    match status {
        ReleaseStatus::Requested => 0xF1C40F,
        ReleaseStatus::Approved | ReleaseStatus::Scheduled => 0x3498DB,
        ReleaseStatus::Deploying | ReleaseStatus::RollingBack => 0x9B59B6,
        ReleaseStatus::Deployed => 0x2ECC71,
        ReleaseStatus::Failed => 0xE74C3C,
        ReleaseStatus::RolledBack => 0xE67E22,
        ReleaseStatus::Rejected | ReleaseStatus::Cancelled => 0x95A5A6,
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// `discord:80351110224678912` as a mention; other platforms' people by id.
pub fn person(user: &str) -> String {
    match user.split_once(':') {
        Some(("discord", id)) if id.bytes().all(|b| b.is_ascii_digit()) => format!("<@{id}>"),
        Some((_, local)) => local.to_string(),
        None => user.to_string(),
    }
}

/// A line of text with `platform:user`-less Discord ids shown as mentions:
/// the engine writes people by their local id (`requested by 8035…`).
pub fn with_mentions(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let digits = word.trim_end_matches([',', '.', ')', ':']);
            if digits.len() >= 17
                && digits.len() <= 20
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                word.replacen(digits, &format!("<@{digits}>"), 1)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn embed(message: &Message) -> CreateEmbed {
    // Titles do not render mentions, so the requester goes in a field.
    let mut embed = CreateEmbed::new()
        .title(cut(&message.headline, TITLE_MAX))
        .colour(colour(message.status));
    if !message.service.is_empty() {
        embed = embed
            .field("Service", cut(&message.service, VALUE_MAX), true)
            .field("Version", cut(&message.version, VALUE_MAX), true)
            .field("Environment", cut(&message.environment, VALUE_MAX), true)
            .field("Requester", person(&message.requester), true);
    }
    for field in &message.fields {
        embed = embed.field(
            &field.label,
            cut(&with_mentions(&field.value), VALUE_MAX),
            true,
        );
    }
    embed
}

/// The buttons, or none once approvals are over (an edit then removes them).
pub fn buttons(message: &Message) -> Vec<CreateActionRow> {
    if message.actions.is_empty() {
        return Vec::new();
    }
    let buttons = message
        .actions
        .iter()
        .map(|action| {
            let style = match action.command.as_str() {
                "approve" => ButtonStyle::Success,
                _ => ButtonStyle::Danger,
            };
            CreateButton::new(format!(
                "{BUTTON_PREFIX}{}:{}",
                action.command, action.release
            ))
            .label(&action.label)
            .style(style)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

/// The thread opened on an announcement: at most 100 characters.
pub fn thread_name(message: &Message) -> String {
    cut(
        &format!(
            "{} {} {} → {}",
            message.release, message.service, message.version, message.environment
        ),
        100,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        crate::domain::message::example("discord:80351110224678912")
    }

    #[test]
    fn the_embed_has_the_facts_and_a_status_colour() {
        let json = serde_json::to_value(embed(&message())).unwrap();
        assert_eq!(json["color"], 0xF1C40F);
        assert_eq!(json["fields"][3]["name"], "Requester");
        assert_eq!(json["fields"][3]["value"], "<@80351110224678912>");
        assert_eq!(json["fields"][4]["value"], "0/2");
        let rows = serde_json::to_value(buttons(&message())).unwrap();
        assert_eq!(rows[0]["components"][0]["custom_id"], "release:approve:R-1");
        assert_eq!(rows[0]["components"][0]["style"], 3);
    }

    #[test]
    fn ids_in_text_become_mentions() {
        assert_eq!(
            with_mentions("approved by 80351110224678912 (1/2)"),
            "approved by <@80351110224678912> (1/2)"
        );
        assert_eq!(with_mentions("api 2.4.0 at 14:00"), "api 2.4.0 at 14:00");
        assert_eq!(person("shell:alice"), "alice");
    }
}
