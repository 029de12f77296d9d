//! The announcement as Block Kit: a header, the release's facts as fields,
//! and Approve / Reject buttons while approvals are open. Slack user ids in
//! text are shown as names.

use slack_morphism::prelude::*;

use crate::chat::text;
use crate::domain::message::Message;

/// `action_id`s of the announcement's buttons; the value is the release id.
pub const APPROVE: &str = "release_approve";
pub const REJECT: &str = "release_reject";

/// Slack caps a header's text at 150 characters.
const HEADER_MAX: usize = 150;

/// The Slack user ids (`U024BE7LH`, `W…`) in `text`, in order.
pub fn user_ids(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| text::is_slack_user(word))
        .collect()
}

/// `text` with every user id (Slack's, or another platform's) that `name`
/// knows, given as `platform:id`, replaced by the name.
pub fn with_names(text: &str, name: &dyn Fn(&str) -> Option<String>) -> String {
    text::replace_words(text, &|word| {
        text::user_in_text(word).and_then(|user| name(&user))
    })
}

/// Escapes what Slack's mrkdwn treats as markup (`&`, `<`, `>`).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The announcement's blocks and its plain-text fallback (notifications and
/// screen readers use the text).
pub fn announcement(
    message: &Message,
    name: &dyn Fn(&str) -> Option<String>,
) -> SlackMessageContent {
    let requester = name(&message.requester)
        .or_else(|| {
            message
                .requester
                .split_once(':')
                .map(|(_, local)| local.to_string())
        })
        .unwrap_or_default();
    let mut facts: Vec<(String, String)> = Vec::new();
    if !message.service.is_empty() {
        facts.push(("Service".into(), message.service.clone()));
        facts.push(("Version".into(), message.version.clone()));
        facts.push(("Environment".into(), message.environment.clone()));
        facts.push(("Requester".into(), requester));
    }
    for field in &message.fields {
        facts.push((field.label.clone(), field.value.clone()));
    }
    let fields: Vec<SlackBlockText> = facts
        .iter()
        .map(|(label, value)| md!("*{}*\n{}", escape(label), escape(&with_names(value, name))))
        .collect();
    let mut blocks: Vec<SlackBlock> = vec![SlackHeaderBlock::new(pt!(text::shorten(
        &with_names(&message.headline, name),
        HEADER_MAX
    )))
    .into()];
    // A section holds at most 10 fields.
    for chunk in fields.chunks(10) {
        blocks.push(SlackSectionBlock::new().with_fields(chunk.to_vec()).into());
    }
    if !message.actions.is_empty() {
        let buttons: Vec<SlackActionBlockElement> = message
            .actions
            .iter()
            .map(|action| {
                let (action_id, style) = match action.command.as_str() {
                    "approve" => (APPROVE, SlackBlockButtonStyle::Primary),
                    _ => (REJECT, SlackBlockButtonStyle::Danger),
                };
                SlackBlockButtonElement::new(pt!(action.label.clone()))
                    .with_action_id(action_id.into())
                    .with_value(action.release.to_string())
                    .with_style(style)
                    .into()
            })
            .collect();
        blocks.push(
            SlackActionsBlock::new(buttons)
                .with_block_id(format!("release:{}", message.release).into())
                .into(),
        );
    }
    SlackMessageContent::new()
        .with_text(with_names(&message.to_text(), name))
        .with_blocks(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(user: &str) -> Option<String> {
        match user {
            "slack:U024BE7LH" => Some("Alice Ng".to_string()),
            "discord:80351110224678912" => Some("dave".to_string()),
            _ => None,
        }
    }

    fn message() -> Message {
        crate::domain::message::example("slack:U024BE7LH")
    }

    #[test]
    fn user_ids_become_names_and_other_words_stay() {
        assert_eq!(
            with_names(
                "requested by U024BE7LH (UNKNOWN1X, US), 80351110224678912",
                &names
            ),
            "requested by Alice Ng (UNKNOWN1X, US), dave"
        );
        assert_eq!(
            user_ids("by U024BE7LH and W0123ABCD"),
            vec!["U024BE7LH", "W0123ABCD"]
        );
        assert!(user_ids("UPPERCASE words only").is_empty());
    }

    #[test]
    fn the_announcement_has_a_header_fields_and_buttons() {
        let content = announcement(&message(), &names);
        let json = serde_json::to_value(&content).unwrap();
        let blocks = json["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[0]["text"]["text"],
            "🚦 R-1 api 2.4.0 → production: requested by Alice Ng"
        );
        let fields = blocks[1]["fields"].as_array().unwrap();
        assert_eq!(fields[3]["text"], "*Requester*\nAlice Ng");
        assert_eq!(fields[4]["text"], "*Approvals*\n0/2");
        assert_eq!(blocks[2]["type"], "actions");
        assert_eq!(blocks[2]["elements"][0]["action_id"], APPROVE);
        assert_eq!(blocks[2]["elements"][0]["value"], "R-1");
        assert_eq!(blocks[2]["elements"][0]["style"], "primary");
        assert!(json["text"].as_str().unwrap().contains("Alice Ng"));
    }
}
