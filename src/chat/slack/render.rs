//! Engine text and announcements for Slack: text spans as mrkdwn (people's
//! words escaped, people pinged only when the span asks, named otherwise),
//! and the announcement as Block Kit with the buttons its status allows.

use slack_morphism::prelude::*;

use crate::chat::text;
use crate::domain::ids::UserRef;
use crate::domain::message::{ButtonAction, Message};
use crate::domain::text::{write_plain, Span, Text};

/// Slack caps a header's text at 150 characters, and a section's at 3000.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;

/// A button's `action_id`: `release_<action>`; its value is the release id.
pub fn action_id(action: ButtonAction) -> String {
    format!("release_{}", action.as_str())
}

/// The action a button's `action_id` stands for, if it is one of ours.
pub fn button_action(action_id: &str) -> Option<ButtonAction> {
    action_id
        .strip_prefix("release_")
        .and_then(ButtonAction::parse)
}

/// The Slack user ids `text` names, to look their names up first.
pub fn user_ids(text: &Text) -> Vec<&str> {
    text.spans()
        .iter()
        .filter_map(|span| match span {
            Span::Person { user, .. } if user.platform() == "slack" && !user.is_group() => {
                Some(user.local())
            }
            _ => None,
        })
        .collect()
}

/// Escapes what Slack's mrkdwn treats as markup (`&`, `<`, `>`).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A person as Slack shows them: a mention when pinged, else the name
/// `name` knows (a Slack user group by its handle), else the id.
fn person(user: &UserRef, ping: bool, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    let local = user.local();
    if user.platform() == "slack" {
        if let Some(handle) = local.strip_prefix('@') {
            return format!("@{}", escape(handle));
        }
        if ping {
            return format!("<@{local}>");
        }
    }
    escape(&name(user).unwrap_or_else(|| local.to_string()))
}

/// A view as a Slack message's mrkdwn.
pub fn view(view: &crate::view::View, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    mrkdwn(&view.text(), name)
}

/// Text as mrkdwn.
pub fn mrkdwn(text: &Text, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    text.render(&mut |span, out| match span {
        Span::Plain(words) => out.push_str(&escape(words)),
        Span::Person { user, ping } => out.push_str(&person(user, *ping, name)),
        Span::Channel(channel) if channel.platform() == "slack" => {
            out.push_str(&format!("<#{}>", channel.local()))
        }
        Span::Code(code) => out.push_str(&format!("`{}`", escape(&code.replace('`', "'")))),
        Span::Link(url) => out.push_str(&format!("<{}>", escape(url))),
        other => out.push_str(&escape(&{
            let mut plain = String::new();
            write_plain(other, &mut plain);
            plain
        })),
    })
}

/// Text where Slack shows no markup (headers, notification fallbacks):
/// people by name.
pub fn plain(text: &Text, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    text.to_plain(&|user| name(user).unwrap_or_else(|| user.local().to_string()))
}

/// The announcement's blocks and its plain-text fallback (notifications and
/// screen readers use the text).
pub fn announcement(
    message: &Message,
    name: &dyn Fn(&UserRef) -> Option<String>,
) -> SlackMessageContent {
    let mut facts: Vec<(String, String)> = Vec::new();
    if !message.service.is_empty() {
        let requester = match UserRef::parse(&message.requester) {
            Ok(user) => person(&user, false, name),
            Err(_) => escape(&message.requester),
        };
        facts.push(("Service".into(), escape(&message.service)));
        facts.push(("Version".into(), escape(&message.version)));
        facts.push(("Environment".into(), escape(&message.environment)));
        facts.push(("Requester".into(), requester));
    }
    for field in &message.fields {
        facts.push((field.label.clone(), escape(&field.value)));
    }
    let fields: Vec<SlackBlockText> = facts
        .iter()
        .map(|(label, value)| md!("*{}*\n{}", escape(label), value))
        .collect();
    let mut blocks: Vec<SlackBlock> = vec![SlackHeaderBlock::new(pt!(text::shorten(
        &plain(&message.headline, name),
        HEADER_MAX
    )))
    .into()];
    // A section holds at most 10 fields.
    for chunk in fields.chunks(10) {
        blocks.push(SlackSectionBlock::new().with_fields(chunk.to_vec()).into());
    }
    if let Some(notes) = &message.notes {
        let notes = text::shorten(&escape(notes), SECTION_MAX - "*Notes*\n".len());
        blocks.push(
            SlackSectionBlock::new()
                .with_text(md!("*Notes*\n{}", notes))
                .into(),
        );
    }
    if !message.actions.is_empty() {
        let buttons: Vec<SlackActionBlockElement> = message
            .actions
            .iter()
            .map(|action| {
                let button = SlackBlockButtonElement::new(pt!(action.label.clone()))
                    .with_action_id(action_id(action.action).into())
                    .with_value(action.release.to_string());
                match action.action {
                    ButtonAction::Approve | ButtonAction::Deploy => {
                        button.with_style(SlackBlockButtonStyle::Primary)
                    }
                    ButtonAction::Reject => button.with_style(SlackBlockButtonStyle::Danger),
                }
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
        .with_text(mrkdwn(&message.to_text(), name))
        .with_blocks(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ReleaseId;

    fn names(user: &UserRef) -> Option<String> {
        match user.as_str() {
            "slack:U024BE7LH" => Some("Alice Ng".to_string()),
            "discord:80351110224678912" => Some("dave <3".to_string()),
            _ => None,
        }
    }

    fn user(text: &str) -> UserRef {
        UserRef::parse(text).unwrap()
    }

    fn message() -> Message {
        crate::domain::message::example("slack:U024BE7LH")
    }

    #[test]
    fn people_are_named_unless_pinged_and_words_are_escaped() {
        let text = Text::plain("a<b & c>d <!channel> by ")
            .person(&user("slack:U024BE7LH"))
            .say(" and ")
            .person(&user("discord:80351110224678912"))
            .say(", asking ")
            .ping(&user("slack:U024BE7LH"))
            .say(" and ")
            .person(&user("slack:@release-team"))
            .say(" in ")
            .code("deploy R-1")
            .say(": ")
            .link("https://ci.example/run?a=1&b=2")
            .say(" ")
            .release(ReleaseId::new(1));
        assert_eq!(
            mrkdwn(&text, &names),
            "a&lt;b &amp; c&gt;d &lt;!channel&gt; by Alice Ng and dave &lt;3, asking <@U024BE7LH> \
             and @release-team in `deploy R-1`: <https://ci.example/run?a=1&amp;b=2> R-1"
        );
        assert_eq!(user_ids(&text), vec!["U024BE7LH", "U024BE7LH"]);
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
        assert_eq!(blocks[2]["elements"][0]["action_id"], "release_approve");
        assert_eq!(blocks[2]["elements"][0]["value"], "R-1");
        assert_eq!(blocks[2]["elements"][0]["style"], "primary");
        assert!(json["text"].as_str().unwrap().contains("Alice Ng"));
    }

    #[test]
    fn notes_show_escaped_and_shortened_to_slacks_limit() {
        let mut message = message();
        message.notes = Some(format!("fixes <login> & {}", "x".repeat(4000)));
        let json = serde_json::to_value(announcement(&message, &names)).unwrap();
        let notes = json["blocks"][2]["text"]["text"].as_str().unwrap();
        assert!(
            notes.starts_with("*Notes*\nfixes &lt;login&gt; &amp; x"),
            "{notes}"
        );
        assert!(notes.chars().count() <= SECTION_MAX);
        assert!(notes.ends_with('…'));
    }

    #[test]
    fn button_ids_decode_to_their_action_and_nothing_else() {
        for action in ButtonAction::ALL {
            assert_eq!(button_action(&action_id(action)), Some(action));
        }
        assert_eq!(button_action("release_launch"), None);
        assert_eq!(button_action("approve"), None);
    }
}
