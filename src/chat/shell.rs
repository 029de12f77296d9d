//! The local chat shell: one command a line on stdin, replies and
//! announcements (`[#channel] …`) on stdout. Piped input works the same,
//! without prompts, so scripts and tests drive it.

use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};

use crate::app::App;
use crate::domain::ids::{ChannelRef, UserRef};
use crate::domain::message::Message;
use crate::domain::text::Text;
use crate::engine::Origin;
use crate::notify::{ChatSink, DeliveryError};
use crate::view::View;

/// The longest `/wait` the shell takes: an hour.
const MAX_WAIT_SECS: u64 = 3600;

/// The longest line the shell reads as a command, in bytes.
pub const MAX_LINE_BYTES: usize = 2000;

/// Where the shell writes; shared by replies and announcements so lines never interleave.
pub type ShellOut = Arc<Mutex<HeldOut>>;

/// Output held back until `flush`: a batch's replies and the announcements
/// it caused leave in one write, and only once the store has made them
/// durable (whoever flushes it flushes the store first). Unlike a
/// `BufWriter`, it never writes early when much is waiting.
pub struct HeldOut {
    held: Vec<u8>,
    to: Box<dyn Write + Send>,
}

impl HeldOut {
    pub fn new(to: Box<dyn Write + Send>) -> Self {
        HeldOut {
            held: Vec::new(),
            to,
        }
    }

    /// Drops what is held (it was never shown).
    fn discard(&mut self) {
        self.held.clear();
    }
}

impl Write for HeldOut {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.held.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.to.write_all(&self.held)?;
        self.held.clear();
        self.to.flush()
    }
}

/// A view as the shell prints it: plain text, people by the name their
/// platform knows, else by their id.
pub fn render(view: &View, name: &dyn Fn(&UserRef) -> Option<String>) -> String {
    view.text()
        .to_plain(&|user| name(user).unwrap_or_else(|| user.local().to_string()))
}

/// Stdout, held until each flush.
pub fn stdout_out() -> ShellOut {
    out_to(Box::new(io::stdout()))
}

/// Any writer as the shell's output, held until each flush.
pub fn out_to(to: Box<dyn Write + Send>) -> ShellOut {
    Arc::new(Mutex::new(HeldOut::new(to)))
}

fn write_lines(out: &ShellOut, text: &str) {
    let mut out = out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = writeln!(out, "{text}");
}

fn flush_out(out: &ShellOut) {
    let _ = out
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .flush();
}

/// Shows announcements in the terminal: a post prints the message, an edit
/// prints it again marked as edited, a thread line prints under it.
pub struct ShellSink {
    out: ShellOut,
}

impl ShellSink {
    pub fn new(out: ShellOut) -> Self {
        ShellSink { out }
    }
}

#[async_trait]
impl ChatSink for ShellSink {
    async fn post(&self, channel: &ChannelRef, message: &Message) -> Result<String, DeliveryError> {
        write_lines(
            &self.out,
            &format!("[{}] {}", channel.local(), message.to_text()),
        );
        Ok(format!("{}@{}", message.release, channel.local()))
    }

    async fn update(
        &self,
        channel: &ChannelRef,
        _posted: &str,
        message: &Message,
    ) -> Result<(), DeliveryError> {
        write_lines(
            &self.out,
            &format!("[{}] (edited) {}", channel.local(), message.to_text()),
        );
        Ok(())
    }

    async fn reply_in_thread(
        &self,
        channel: &ChannelRef,
        _posted: &str,
        line: &Text,
    ) -> Result<(), DeliveryError> {
        write_lines(&self.out, &format!("[{} thread] {line}", channel.local()));
        Ok(())
    }

    async fn post_text(&self, channel: &ChannelRef, text: &Text) -> Result<(), DeliveryError> {
        write_lines(&self.out, &format!("[{}] {text}", channel.local()));
        Ok(())
    }

    async fn end_of_round(&self) {
        flush_out(&self.out);
    }

    /// One lane, in outbox order: announcements print under their reply.
    fn concurrent(&self) -> bool {
        false
    }
}

/// Why the shell stopped reading.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The input ended, or the user left with `/quit`.
    Input,
    /// A signal: leave at once.
    Stopped,
}

/// One line read from the terminal or a pipe.
#[derive(Debug, PartialEq, Eq)]
pub enum InputLine {
    Text(Vec<u8>),
    /// A line longer than the limit; its bytes were skipped, not kept.
    TooLong(usize),
}

/// Lines of `input`, read on a thread of their own (stdin blocks).
fn read_lines(input: Box<dyn BufRead + Send>) -> mpsc::Receiver<io::Result<InputLine>> {
    let (lines_tx, lines) = mpsc::channel::<io::Result<InputLine>>(256);
    std::thread::spawn(move || {
        let mut input = input;
        loop {
            match read_bounded(&mut input, MAX_LINE_BYTES) {
                Ok(None) => break,
                Ok(Some(line)) => {
                    if lines_tx.blocking_send(Ok(line)).is_err() {
                        break;
                    }
                }
                Err(error) => {
                    let _ = lines_tx.blocking_send(Err(error));
                    break;
                }
            }
        }
    });
    lines
}

/// Reads one line without holding more than `max` bytes of it in memory.
pub fn read_bounded(reader: &mut impl BufRead, max: usize) -> io::Result<Option<InputLine>> {
    let mut line = Vec::new();
    let mut total = 0usize;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((total > 0).then(|| finish(line, total, max)));
        }
        let (chunk, used, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..at], at + 1, true),
            None => (buffer, buffer.len(), false),
        };
        total += chunk.len();
        if line.len() + chunk.len() <= max {
            line.extend_from_slice(chunk);
        }
        reader.consume(used);
        if done {
            return Ok(Some(finish(line, total, max)));
        }
    }
}

fn finish(mut line: Vec<u8>, total: usize, max: usize) -> InputLine {
    if total > max {
        return InputLine::TooLong(total);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    InputLine::Text(line)
}

/// What the shell does with one line.
enum Step {
    Reply(String),
    /// Wait until CI jobs and announcements are done, at most this long.
    Wait(Duration),
    Quit,
}

/// Lines answered together with one fsync when input arrives faster than typing.
const BATCH_LINES: usize = 256;

/// How long the shell, leaving, waits for lanes that wait out a push-back.
const LEAVING_BUDGET: Duration = Duration::from_secs(5);

pub struct Shell<'a> {
    app: &'a App,
    /// The app's engine in group-commit mode; `answer` flushes.
    engine: crate::engine::Engine,
    user: UserRef,
    out: ShellOut,
    interactive: bool,
    origin: Origin,
}

impl<'a> Shell<'a> {
    pub fn new(app: &'a App, user: UserRef, out: ShellOut, interactive: bool) -> Self {
        let origin = Origin {
            channel: ChannelRef::parse("shell:#shell").expect("a valid literal"),
        };
        Shell {
            app,
            engine: app.engine.deferring_flush(),
            user,
            out,
            interactive,
            origin,
        }
    }

    fn prompt(&self) {
        if self.interactive {
            let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
            let _ = write!(out, "{}> ", self.user.local());
            let _ = out.flush();
        }
    }

    /// Reads `input` to its end (or until `stop` turns true), answering each
    /// line; at the end of the input (or `/quit`), shows what the commands
    /// announced before it leaves.
    pub async fn run(mut self, input: Box<dyn BufRead + Send>, stop: watch::Receiver<bool>) {
        if self.answer(input, stop).await == Ended::Input {
            self.deliver_the_rest().await;
        }
    }

    /// Delivers what the last commands announced, as a terminal left open
    /// would have shown it: when the input ends, the notifier's worker may
    /// be part way through the outbox. Ends when the outbox is empty, or a
    /// round delivers nothing and no lane waits out a push-back within
    /// `LEAVING_BUDGET` (entries for chats this process has no sink for
    /// stay for the bot).
    async fn deliver_the_rest(&self) {
        // Announcements and digests waiting (CI jobs are not the shell's).
        let waiting = || {
            self.app
                .engine
                .store()
                .outbox_depths()
                .map_or(0, |(for_chats, _)| for_chats)
        };
        let deadline = tokio::time::Instant::now() + LEAVING_BUDGET;
        let mut before = waiting();
        while before > 0 {
            let retry = self.app.notifier.deliver_pending().await;
            let after = waiting();
            if after < before {
                before = after;
                continue;
            }
            match retry {
                Some(wait) if tokio::time::Instant::now() + wait < deadline => {
                    tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
                }
                _ => return,
            }
        }
    }

    async fn answer(
        &mut self,
        input: Box<dyn BufRead + Send>,
        mut stop: watch::Receiver<bool>,
    ) -> Ended {
        let mut lines = read_lines(input);
        if self.interactive {
            write_lines(&self.out, "releasebot shell. Type `help` for commands, `/as bob` to act as someone else, `/quit` to leave.");
            flush_out(&self.out);
        }
        self.prompt();
        // Whether memory freed since the last batch went back to the OS.
        let mut settled = false;
        loop {
            let first = tokio::select! {
                line = lines.recv() => line,
                _ = stop.changed() => return Ended::Stopped,
                _ = tokio::time::sleep(crate::memory::IDLE), if !settled => {
                    crate::memory::give_back();
                    settled = true;
                    continue;
                }
            };
            settled = false;
            let Some(first) = first else {
                return Ended::Input;
            };
            // Group commit: answer every line already waiting with one fsync.
            let mut batch = vec![first];
            while batch.len() < BATCH_LINES {
                match lines.try_recv() {
                    Ok(line) => batch.push(line),
                    Err(_) => break,
                }
            }
            if self.answer_batch(batch).await {
                return Ended::Input;
            }
            self.prompt();
        }
    }

    /// Answers one batch of lines, durable before any of it shows; true
    /// when the user left.
    async fn answer_batch(&mut self, batch: Vec<io::Result<InputLine>>) -> bool {
        let mut replies = Vec::new();
        let mut quit = false;
        // `app` outlives `self`'s borrows, so the guard can live across `step`.
        let app = self.app;
        let mut hold = Some(app.notifier.hold().await);
        for line in batch {
            let step = match line {
                Err(error) => {
                    replies.push(format!("Could not read input: {error}"));
                    Step::Quit
                }
                Ok(InputLine::TooLong(bytes)) => Step::Reply(format!(
                    "That line is {bytes} bytes long; a command may be at most {MAX_LINE_BYTES}. Nothing was done."
                )),
                Ok(InputLine::Text(bytes)) => match String::from_utf8(bytes) {
                    Ok(text) => self.step(&text),
                    Err(_) => Step::Reply("That line is not valid UTF-8 text, so I can't read it. Nothing was done.".to_string()),
                },
            };
            match step {
                Step::Reply(text) => replies.push(text),
                Step::Wait(limit) => {
                    self.flush_and_print(&mut replies);
                    drop(hold.take());
                    self.app.notifier.deliver_pending().await;
                    replies.push(self.wait(limit).await);
                    hold = Some(app.notifier.hold().await);
                }
                Step::Quit => {
                    quit = true;
                    break;
                }
            }
        }
        // The batch is durable before any of it shows. The records of
        // the deliveries it caused are not flushed: the next batch's
        // fsync (or sled's flusher, within half a second) carries them,
        // so a crash in between shows those announcements again.
        self.hold_replies(&mut replies);
        let durable = self.make_durable();
        drop(hold);
        if durable {
            self.app.notifier.deliver_pending_held().await;
        }
        flush_out(&self.out);
        quit
    }

    /// Puts the batch's replies in the held output, not shown yet.
    fn hold_replies(&self, replies: &mut Vec<String>) {
        for reply in replies.drain(..) {
            write_lines(&self.out, &reply);
        }
    }

    /// Makes the batch durable, then shows its replies and whatever else
    /// the output holds.
    fn flush_and_print(&self, replies: &mut Vec<String>) {
        self.hold_replies(replies);
        self.make_durable();
        flush_out(&self.out);
    }

    /// Flushes the store; when that fails, what the output holds is
    /// replaced by saying so.
    fn make_durable(&self) -> bool {
        let Err(error) = self.app.engine.flush() else {
            return true;
        };
        tracing::error!(%error, "flushing the store failed");
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.discard();
        let _ = writeln!(out, "I could not save the last commands to disk, so they may be lost; the details are in the bot's log.");
        false
    }

    async fn wait(&self, limit: Duration) -> String {
        let drained = self.app.wait_idle(limit).await;
        self.app.notifier.deliver_pending().await;
        if drained {
            "All CI jobs and announcements are done.".to_string()
        } else {
            format!(
                "Still waiting on CI or chat after {} s; try /wait again.",
                limit.as_secs()
            )
        }
    }

    fn step(&mut self, line: &str) -> Step {
        let trimmed = line.trim();
        let mut words = trimmed.split_whitespace();
        let first = words.next().unwrap_or_default();
        match first {
            "/quit" | "/exit" => return Step::Quit,
            "/whoami" => return Step::Reply(format!("You are {}.", self.user)),
            "/as" => {
                let Some(name) = words.next() else {
                    return Step::Reply("Usage: /as USER (like /as bob or /as slack:U024BE7LH)".to_string());
                };
                let full = if name.contains(':') { name.to_string() } else { format!("shell:{name}") };
                return Step::Reply(match UserRef::parse(&full) {
                    Ok(user) => {
                        self.user = user;
                        format!("You are now {}.", self.user)
                    }
                    Err(e) => e.0,
                });
            }
            "/wait" => {
                return match words.next().map(|s| (s, s.parse::<u64>())) {
                    None => Step::Wait(Duration::from_secs(30)),
                    Some((_, Ok(seconds @ 1..=MAX_WAIT_SECS))) => Step::Wait(Duration::from_secs(seconds)),
                    Some((text, _)) => Step::Reply(format!(
                        "`{text}` is not a wait: give 1 to {MAX_WAIT_SECS} seconds, like /wait 30."
                    )),
                };
            }
            "/help" => {
                return Step::Reply(
                    "Shell commands: /as USER, /whoami, /wait [seconds] (until CI jobs finish), /quit. Bot commands: type `help`."
                        .to_string(),
                )
            }
            word if word.starts_with('/') && !word.eq_ignore_ascii_case("/release") => {
                return Step::Reply(format!(
                    "Unknown shell command `{word}`. Shell commands: /as USER, /whoami, /wait [seconds], /quit; bot commands: `help`."
                ))
            }
            _ => {}
        }
        // As under `run`, a panic in one command is answered generically and
        // the shell goes on with the rest of its input.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::failpoint::hit("shell.command", line);
            self.engine.handle_line(&self.user, line, &self.origin)
        }));
        let name = |user: &UserRef| self.engine.name_of(user);
        Step::Reply(match result {
            Ok(Ok(reply)) => render(&reply.view, &name),
            Ok(Err(error)) => render(&View::Said(error.reply()), &name),
            Err(_) => {
                tracing::error!("a command panicked; it was answered generically");
                crate::engine::EngineError::Internal(String::new()).reply_text()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_without_being_kept() {
        let mut input = io::Cursor::new([vec![b'x'; 10_000], b"\nhelp\r\n".to_vec()].concat());
        assert_eq!(
            read_bounded(&mut input, 2000).unwrap(),
            Some(InputLine::TooLong(10_000))
        );
        assert_eq!(
            read_bounded(&mut input, 2000).unwrap(),
            Some(InputLine::Text(b"help".to_vec()))
        );
        assert_eq!(read_bounded(&mut input, 2000).unwrap(), None);
    }

    #[test]
    fn a_last_line_without_newline_is_read() {
        let mut input = io::Cursor::new(b"status R-1".to_vec());
        assert_eq!(
            read_bounded(&mut input, 2000).unwrap(),
            Some(InputLine::Text(b"status R-1".to_vec()))
        );
    }
}
