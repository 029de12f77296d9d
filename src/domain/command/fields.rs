//! Commands from named fields, as a client with typed options sends them
//! (Discord's `/release request service:api version:2.4.0 notes:…`). Each
//! value is read on its own, with the same readers as the line parser, so a
//! date or an id means the same everywhere; free text (notes, reasons,
//! comments, checklist items) is taken exactly as sent. Nothing is joined
//! into a line and parsed again, so no quote or keyword in someone's words
//! can be read as syntax.

use super::cursor::{error_at, tokenize, Parser};
use super::*;

/// A command's fields as sent. Field names are the option names of the
/// `/release` subcommands: `id`, `service`, `version`, `environment`, `at`,
/// `notes`, `priority`, `comment`, `reason`, `item`, `filter`, `range`,
/// `period`, `command`.
pub struct Fields<'f, 'a> {
    usage: &'static str,
    field: &'f dyn Fn(&str) -> Option<&'a str>,
}

impl<'f, 'a> Fields<'f, 'a> {
    pub fn new(usage: &'static str, field: &'f dyn Fn(&str) -> Option<&'a str>) -> Self {
        Fields { usage, field }
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        (self.field)(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Free text, exactly as sent (trimmed).
    pub fn text(&self, key: &str) -> Option<String> {
        self.value(key).map(str::to_string)
    }

    pub fn need_text(&self, key: &str, what: &str) -> Result<String, ParseError> {
        self.text(key).ok_or_else(|| self.missing(key, what))
    }

    /// A typed value, read alone by the line parser's reader for it; all of
    /// the value must be used.
    pub fn read<T>(
        &self,
        key: &str,
        reader: impl FnOnce(&mut Parser<'_>) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ParseError> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let named = |error: ParseError| ParseError {
            message: format!("`{key}`: {}", error.message),
            ..error
        };
        let mut p = Parser {
            input: value,
            tokens: tokenize(value).map_err(named)?,
            next: 0,
            usage: self.usage,
        };
        let read = reader(&mut p).map_err(named)?;
        p.finish().map_err(named)?;
        Ok(Some(read))
    }

    pub fn need<T>(
        &self,
        key: &str,
        what: &str,
        reader: impl FnOnce(&mut Parser<'_>) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.read(key, reader)?
            .ok_or_else(|| self.missing(key, what))
    }

    pub fn id(&self) -> Result<ReleaseId, ParseError> {
        self.need("id", "the release id (like R-42)", |p| p.id())
    }

    pub fn missing(&self, key: &str, what: &str) -> ParseError {
        error_at("", 0, 0, format!("Missing `{key}`: {what}."))
    }
}
