//! Words for every audience: a template is text with named placeholders
//! (`{service} {version} is live`), checked when the config is read and
//! filled from a release. `{{` and `}}` write a brace.

/// Every placeholder a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "release",
    "service",
    "version",
    "environment",
    "requester",
    "status",
    "window",
    "summary",
    "changes",
    "breaking",
    "impact",
    "next_update",
    "incident",
    "severity",
    "lead",
    "update",
    "resolution",
];

/// The texts an audience may have its own words for.
pub const KINDS: &[&str] = &[
    "announcement",
    "incident",
    "incident_update",
    "resolution",
    "notes",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Placeholder(&'static str),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

impl Template {
    /// Reads a template; the error names what is wrong (an unknown or
    /// unclosed placeholder).
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut plain = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    plain.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    plain.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(format!("`{{{name}` is not closed with `}}`"));
                    }
                    let known = PLACEHOLDERS.iter().find(|p| **p == name).ok_or_else(|| {
                        format!(
                            "unknown placeholder `{{{name}}}`; templates may use {}",
                            PLACEHOLDERS
                                .iter()
                                .map(|p| format!("{{{p}}}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?;
                    pieces.push(Piece::Text(std::mem::take(&mut plain)));
                    pieces.push(Piece::Placeholder(known));
                }
                '}' => return Err("a `}` without its `{` (write `}}` for a brace)".into()),
                c => plain.push(c),
            }
        }
        pieces.push(Piece::Text(plain));
        Ok(Template(pieces))
    }

    /// The text with each placeholder's value (blank where there is none).
    pub fn render(&self, value: &dyn Fn(&str) -> Option<String>) -> String {
        self.0
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.clone(),
                Piece::Placeholder(name) => value(name).unwrap_or_default(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
