//! Tokens with their positions, and a cursor over them that turns a
//! missing or malformed argument into a positioned `ParseError`.

use super::{ParseError, Subject};
use crate::domain::ids::{Name, ReleaseId, Version};
use crate::domain::incident::{IncidentId, Severity};
use crate::domain::release::Priority;
use crate::domain::when::{DayError, When};

#[derive(Debug, Clone)]
pub struct Token {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub quoted: bool,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”')
}

pub fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().enumerate().peekable();
    while let Some(&(index, (byte, c))) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut text = String::new();
        if is_quote(c) {
            chars.next();
            let mut closed = false;
            let mut end = index + 1;
            while let Some((i, (_, c))) = chars.next() {
                end = i + 1;
                if is_quote(c) {
                    closed = true;
                    break;
                }
                if c == '\\' {
                    if let Some(&(_, (_, escaped))) = chars.peek() {
                        if is_quote(escaped) || escaped == '\\' {
                            text.push(escaped);
                            chars.next();
                            continue;
                        }
                    }
                }
                text.push(c);
            }
            if !closed {
                return Err(error_at(
                    input,
                    index,
                    end,
                    "This quote is never closed; add a closing \".",
                ));
            }
            tokens.push(Token {
                text,
                start: index,
                end,
                byte_start: byte,
                quoted: true,
            });
        } else {
            let mut end = index;
            while let Some(&(i, (_, c))) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                text.push(c);
                end = i + 1;
                chars.next();
            }
            tokens.push(Token {
                text,
                start: index,
                end,
                byte_start: byte,
                quoted: false,
            });
        }
    }
    Ok(tokens)
}

pub fn error_at(input: &str, start: usize, end: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        message: message.into(),
        start,
        end,
        input: input.to_string(),
    }
}

pub struct Parser<'a> {
    pub input: &'a str,
    pub tokens: Vec<Token>,
    pub next: usize,
    pub usage: &'static str,
}

impl<'a> Parser<'a> {
    pub fn end_position(&self) -> usize {
        self.input.chars().count()
    }

    pub fn error(&self, token: &Token, message: impl Into<String>) -> ParseError {
        error_at(self.input, token.start, token.end, message)
    }

    pub fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    pub fn take(&mut self, what: &str) -> Result<Token, ParseError> {
        match self.tokens.get(self.next) {
            Some(token) => {
                self.next += 1;
                Ok(token.clone())
            }
            None => {
                let end = self.end_position();
                Err(error_at(
                    self.input,
                    end,
                    end + 1,
                    format!("Missing {what}. Usage: {}", self.usage),
                ))
            }
        }
    }

    pub fn id(&mut self) -> Result<ReleaseId, ParseError> {
        let token = self.take("the release id (like R-42)")?;
        ReleaseId::parse(&token.text).map_err(|e| self.error(&token, e.0))
    }

    pub fn incident(&mut self) -> Result<IncidentId, ParseError> {
        let token = self.take("the incident id (like I-3)")?;
        IncidentId::parse(&token.text).map_err(|e| self.error(&token, e.0))
    }

    /// An incident (`I-3`) or the release whose rollback opened it (`R-3`).
    pub fn subject(&mut self) -> Result<Subject, ParseError> {
        let token = self.take("the incident (like I-3) or its release (like R-3)")?;
        IncidentId::parse(&token.text)
            .map(Subject::Incident)
            .or_else(|_| ReleaseId::parse(&token.text).map(Subject::Release))
            .map_err(|_| {
                self.error(
                    &token,
                    format!(
                        "`{}` names no incident: give its id (like I-3) or the release whose rollback opened it (like R-3).",
                        token.text
                    ),
                )
            })
    }

    pub fn severity(&mut self) -> Result<Severity, ParseError> {
        let token = self.take("the severity (sev1, sev2 or sev3)")?;
        Severity::parse(&token.text).ok_or_else(|| {
            self.error(
                &token,
                format!(
                    "`{}` is not a severity: use sev1 (most severe), sev2 or sev3.",
                    token.text
                ),
            )
        })
    }

    /// A service or environment name.
    pub fn name(&mut self, what: &str) -> Result<Name, ParseError> {
        let token = self.take(what)?;
        Name::parse(&token.text).map_err(|e| self.error(&token, e.0))
    }

    pub fn version(&mut self) -> Result<Version, ParseError> {
        let token = self.take("the version (like 2.4.0)")?;
        Version::parse(&token.text).map_err(|e| self.error(&token, e.0))
    }

    pub fn priority(&mut self) -> Result<Priority, ParseError> {
        let token = self.take("the priority (low, normal or high)")?;
        Priority::parse(&token.text).ok_or_else(|| {
            self.error(
                &token,
                format!(
                    "`{}` is not a priority: use low, normal or high.",
                    token.text
                ),
            )
        })
    }

    /// The rest of the line as typed, or `None` when nothing is left.
    pub fn rest(&mut self) -> Option<String> {
        let first = self.tokens.get(self.next)?;
        let text = if self.tokens.len() == self.next + 1 && first.quoted {
            first.text.clone()
        } else {
            self.input[first.byte_start..].trim().to_string()
        };
        self.next = self.tokens.len();
        Some(text).filter(|t| !t.is_empty())
    }

    /// `<id> <words…>`: a release and the rest of the line, which must
    /// say something (`what` names it when it is missing).
    pub fn id_and_rest(&mut self, what: &str) -> Result<(ReleaseId, String), ParseError> {
        let id = self.id()?;
        let rest = self.rest().ok_or_else(|| self.missing(what))?;
        Ok((id, rest))
    }

    /// "Missing …" at the end of the line, with the usage.
    pub fn missing(&self, what: &str) -> ParseError {
        let end = self.end_position();
        error_at(
            self.input,
            end,
            end + 1,
            format!("Missing {what}. Usage: {}", self.usage),
        )
    }

    pub fn finish(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(extra) => Err(self.error(
                extra,
                format!("Unexpected `{}`. Usage: {}", extra.text, self.usage),
            )),
        }
    }

    pub fn when(&mut self) -> Result<When, ParseError> {
        let first = self.take("the date and time (like 2026-12-01 14:00)")?;
        let (day_text, time_token) = match first.text.split_once(['T', 't']) {
            Some((day, time)) if When::read_day(day) != Err(DayError::NotADate) => {
                (day.to_string(), Some((first.clone(), time.to_string())))
            }
            _ => (first.text.clone(), None),
        };
        let day = When::read_day(&day_text).map_err(|error| {
            let message = error.message(&day_text, || {
                format!(
                    "`{}` is not a date: use YYYY-MM-DD, today or tomorrow, then HH:MM.",
                    first.text
                )
            });
            self.error(&first, message)
        })?;
        let (time_token, time_text) = match time_token {
            Some(pair) => pair,
            None => {
                let token = self.take("the time of day (HH:MM, 24-hour) after the date")?;
                let text = token.text.clone();
                (token, text)
            }
        };
        let time = When::parse_time(&time_text).ok_or_else(|| {
            self.error(
                &time_token,
                format!("`{time_text}` is not a time: use HH:MM on a 24-hour clock, like 14:00."),
            )
        })?;
        Ok(When { day, time })
    }
}
