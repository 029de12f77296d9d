//! Starting the app with every chat platform the config connects to: one
//! place that wires adapters, sinks and workers, for `run`, tests and benches.
//!
//! Each platform is one implementation of [`Platform`]. Adding one (say
//! Mattermost) means its own folder under `src/chat/` and one line in
//! [`configured`].

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::discord::{DiscordBot, DiscordRunning};
use super::slack::{SlackBot, SlackRunning};
use super::tasks::EventTasks;
use crate::app::App;
use crate::clock::Clock;
use crate::config::Config;
use crate::engine::Engine;
use crate::notify::ChatSink;

/// A chat platform, set up from the config but not connected yet.
#[async_trait]
pub trait Platform: Send {
    /// The platform part of its people's and channels' refs (`slack`).
    fn name(&self) -> &'static str;
    /// Where the notifier delivers this platform's announcements.
    fn sink(&self) -> Arc<dyn ChatSink>;
    /// Connects, and mounts its HTTP routes on `app` (which does not serve
    /// HTTP yet).
    async fn start(self: Box<Self>, app: &mut App) -> Result<Box<dyn Connected>, String>;
}

/// A platform while the bot runs.
#[async_trait]
pub trait Connected: Send {
    async fn stop(self: Box<Self>);
}

/// The platforms the config connects to.
fn configured(
    engine: &Engine,
    config: &Config,
    events: &EventTasks,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<Box<dyn Platform>>, String> {
    let mut platforms: Vec<Box<dyn Platform>> = Vec::new();
    if let Some(slack) = &config.slack {
        let bot = SlackBot::new(engine.clone(), slack, events.clone(), clock.clone())
            .map_err(|e| format!("setting up the Slack client: {e}"))?;
        platforms.push(Box::new(SlackPlatform(bot, slack.clone())));
    }
    if let Some(discord) = &config.discord {
        platforms.push(Box::new(DiscordBot::new(
            engine.clone(),
            discord,
            events.clone(),
        )));
    }
    Ok(platforms)
}

/// The connected chat platforms while the app runs.
pub struct Adapters {
    connected: Vec<Box<dyn Connected>>,
}

impl Adapters {
    /// Starts the app with a sink for each platform in the config besides
    /// the `sinks` given (the shell), then connects those platforms.
    /// HTTP-mode routes are mounted on the app, so call this before
    /// `App::serve_http`.
    pub async fn start(
        engine: Engine,
        clock: Arc<dyn Clock>,
        mut sinks: HashMap<String, Arc<dyn ChatSink>>,
    ) -> Result<(App, Adapters), String> {
        let config = engine.config().clone();
        let events = EventTasks::default();
        let platforms = configured(&engine, &config, &events, &clock)?;
        for platform in &platforms {
            sinks.insert(platform.name().to_string(), platform.sink());
        }
        let mut app = App::start(engine, clock, sinks);
        app.drain_on_stop(Arc::new(events));
        let mut connected = Vec::new();
        for platform in platforms {
            connected.push(platform.start(&mut app).await?);
        }
        Ok((app, Adapters { connected }))
    }

    /// Disconnects from the platforms; stop the app after.
    pub async fn stop(self) {
        for platform in self.connected {
            platform.stop().await;
        }
    }
}

struct SlackPlatform(Arc<SlackBot>, crate::config::SlackConfig);

#[async_trait]
impl Platform for SlackPlatform {
    fn name(&self) -> &'static str {
        "slack"
    }

    fn sink(&self) -> Arc<dyn ChatSink> {
        self.0.clone()
    }

    async fn start(self: Box<Self>, app: &mut App) -> Result<Box<dyn Connected>, String> {
        let running = SlackRunning::start(self.0, &self.1, app)
            .await
            .map_err(|e| format!("connecting to Slack: {e}"))?;
        Ok(Box::new(running))
    }
}

#[async_trait]
impl Connected for SlackRunning {
    async fn stop(self: Box<Self>) {
        SlackRunning::stop(*self).await
    }
}

#[async_trait]
impl Platform for Arc<DiscordBot> {
    fn name(&self) -> &'static str {
        "discord"
    }

    fn sink(&self) -> Arc<dyn ChatSink> {
        self.clone()
    }

    async fn start(self: Box<Self>, app: &mut App) -> Result<Box<dyn Connected>, String> {
        let running = DiscordRunning::start(*self, app)
            .await
            .map_err(|e| format!("connecting to Discord: {e}"))?;
        Ok(Box::new(running))
    }
}

#[async_trait]
impl Connected for DiscordRunning {
    async fn stop(self: Box<Self>) {
        DiscordRunning::stop(*self).await
    }
}
