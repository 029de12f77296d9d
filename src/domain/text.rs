//! Structured chat text: what the engine says (replies, thread lines,
//! digests, headlines) as spans, so each platform renders people, roles,
//! releases, code and links its own way and escapes people's words for its
//! markup. Nothing downstream guesses from a word's shape that it is an id.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{ChannelRef, ReleaseId, UserRef};

/// One piece of text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Words shown as they are: the bot's own, or people's (reasons,
    /// comments, notes); platforms escape them for their markup.
    Plain(String),
    /// A person, or a group holding a role (a Slack user group, a Discord
    /// role). `ping` asks the platform to notify them: only when the bot
    /// needs them to act.
    Person {
        user: UserRef,
        ping: bool,
    },
    Release(ReleaseId),
    Channel(ChannelRef),
    /// Shown in a code face: commands, versions, job keys, caret excerpts.
    Code(String),
    Link(String),
}

/// A run of spans. Old stores hold plain strings where this now goes: they
/// read back as one plain span.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(Vec<Span>);

/// Reads spans, or (as older stores kept it) a plain string, without
/// buffering the value first: an untagged enum would, on every read.
impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Stored;
        impl<'de> serde::de::Visitor<'de> for Stored {
            type Value = Text;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of text spans or a string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text, E> {
                Ok(Text::plain(text))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Text, E> {
                Ok(Text::plain(text))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                let mut spans = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(span) = seq.next_element::<Span>()? {
                    spans.push(span);
                }
                Ok(Text(spans))
            }
        }
        deserializer.deserialize_any(Stored)
    }
}

impl Text {
    pub fn new() -> Self {
        Text(Vec::new())
    }

    pub fn plain(text: impl Into<String>) -> Self {
        Text::new().say(text)
    }

    /// Adds words (merged with plain words before them).
    pub fn say(mut self, text: impl Into<String>) -> Self {
        self.push_plain(&text.into());
        self
    }

    /// Names a person without notifying them.
    pub fn person(self, user: &UserRef) -> Self {
        self.span(Span::Person {
            user: user.clone(),
            ping: false,
        })
    }

    /// Names a person and notifies them: they are needed.
    pub fn ping(self, user: &UserRef) -> Self {
        self.span(Span::Person {
            user: user.clone(),
            ping: true,
        })
    }

    /// People joined by `, `, none pinged; `none` when there are none.
    pub fn people<'a>(mut self, users: impl IntoIterator<Item = &'a UserRef>, none: &str) -> Self {
        let mut any = false;
        for (at, user) in users.into_iter().enumerate() {
            if at > 0 {
                self = self.say(", ");
            }
            self = self.person(user);
            any = true;
        }
        if any {
            self
        } else {
            self.say(none)
        }
    }

    pub fn release(self, id: ReleaseId) -> Self {
        self.span(Span::Release(id))
    }

    pub fn channel(self, channel: &ChannelRef) -> Self {
        self.span(Span::Channel(channel.clone()))
    }

    pub fn code(self, text: impl Into<String>) -> Self {
        self.span(Span::Code(text.into()))
    }

    pub fn link(self, url: impl Into<String>) -> Self {
        self.span(Span::Link(url.into()))
    }

    /// Appends another text.
    pub fn then(mut self, other: Text) -> Self {
        for span in other.0 {
            self = self.span(span);
        }
        self
    }

    pub fn span(mut self, span: Span) -> Self {
        self.push(span);
        self
    }

    /// Adds a span in place (with `write!` for words, for list views).
    pub fn push(&mut self, span: Span) {
        match span {
            Span::Plain(text) => self.push_plain(&text),
            other => self.0.push(other),
        }
    }

    /// Names a person in place, without notifying them.
    pub fn push_person(&mut self, user: &UserRef) {
        self.push(Span::Person {
            user: user.clone(),
            ping: false,
        });
    }

    fn push_plain(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Span::Plain(last)) = self.0.last_mut() {
            last.push_str(text);
        } else {
            self.0.push(Span::Plain(text.to_string()));
        }
    }

    /// Without trailing white space (list views end each line with one).
    pub fn trim_end(mut self) -> Self {
        if let Some(Span::Plain(last)) = self.0.last_mut() {
            let kept = last.trim_end().len();
            last.truncate(kept);
            if last.is_empty() {
                self.0.pop();
            }
        }
        self
    }

    pub fn spans(&self) -> &[Span] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The people to notify, in order, once each.
    pub fn pinged(&self) -> Vec<&UserRef> {
        let mut pinged: Vec<&UserRef> = Vec::new();
        for span in &self.0 {
            if let Span::Person { user, ping: true } = span {
                if !pinged.contains(&user) {
                    pinged.push(user);
                }
            }
        }
        pinged
    }

    /// The text with each span written by `write`: the one loop every
    /// platform's renderer shares.
    pub fn render(&self, write: &mut dyn FnMut(&Span, &mut String)) -> String {
        let mut out = String::new();
        for span in &self.0 {
            write(span, &mut out);
        }
        out
    }

    /// Plain words, people by `name`: for surfaces without markup.
    pub fn to_plain(&self, name: &dyn Fn(&UserRef) -> String) -> String {
        self.render(&mut |span, out| match span {
            Span::Person { user, .. } => out.push_str(&name(user)),
            other => write_plain(other, out),
        })
    }

    /// Splits at line breaks inside plain spans (Discord's and the shell's
    /// per-message limits cut between lines).
    pub fn lines(&self) -> Vec<Text> {
        let mut lines = vec![Text::new()];
        for span in &self.0 {
            match span {
                Span::Plain(words) => {
                    for (at, piece) in words.split('\n').enumerate() {
                        if at > 0 {
                            lines.push(Text::new());
                        }
                        let last = lines.pop().expect("never empty").say(piece);
                        lines.push(last);
                    }
                }
                other => {
                    let last = lines.pop().expect("never empty").span(other.clone());
                    lines.push(last);
                }
            }
        }
        lines
    }

    /// Joins texts with a line break between each.
    pub fn join_lines(texts: impl IntoIterator<Item = Text>) -> Text {
        let mut out = Text::new();
        for (at, text) in texts.into_iter().enumerate() {
            if at > 0 {
                out = out.say("\n");
            }
            out = out.then(text);
        }
        out
    }
}

/// A span with no markup: people by their local id.
pub fn write_plain(span: &Span, out: &mut String) {
    match span {
        Span::Plain(text) | Span::Code(text) | Span::Link(text) => out.push_str(text),
        Span::Person { user, .. } => out.push_str(user.local()),
        Span::Release(id) => out.push_str(&id.to_string()),
        Span::Channel(channel) => out.push_str(channel.local()),
    }
}

/// People by their local id: the form tests and logs read.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&mut |span, out| write_plain(span, out)))
    }
}

/// Words written with `write!`, as plain spans.
impl fmt::Write for Text {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_plain(text);
        Ok(())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text::plain(text)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::plain(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> UserRef {
        UserRef::parse(text).unwrap()
    }

    #[test]
    fn plain_words_merge_and_people_stay_spans() {
        let text = Text::plain("approved by ")
            .person(&user("slack:U024BE7LH"))
            .say(" (1/2)")
            .say(", thanks");
        assert_eq!(text.spans().len(), 3);
        assert_eq!(text.to_string(), "approved by U024BE7LH (1/2), thanks");
        assert!(text.pinged().is_empty());
    }

    #[test]
    fn only_pinged_people_are_notified_once_each() {
        let alice = user("discord:80351110224678912");
        let text = Text::new()
            .ping(&alice)
            .say(" and ")
            .person(&user("shell:bob"))
            .say(" and ")
            .ping(&alice);
        assert_eq!(text.pinged(), vec![&alice]);
    }

    #[test]
    fn stored_plain_strings_read_back_as_plain_text() {
        let old: Text = serde_json::from_str("\"bob approved (1/1)\"").unwrap();
        assert_eq!(old, Text::plain("bob approved (1/1)"));
        let new = Text::plain("by ").ping(&user("slack:U1ABCDEFG"));
        let json = serde_json::to_string(&new).unwrap();
        assert_eq!(serde_json::from_str::<Text>(&json).unwrap(), new);
    }

    #[test]
    fn lines_split_inside_plain_words_only() {
        let text = Text::plain("one\ntwo ")
            .person(&user("shell:alice"))
            .say("\nthree");
        let lines: Vec<String> = text.lines().iter().map(Text::to_string).collect();
        assert_eq!(lines, vec!["one", "two alice", "three"]);
        assert_eq!(Text::join_lines(text.lines()), text);
    }
}
