//! Starting the app with every chat platform the config connects to: one
//! place that wires adapters, sinks and workers, for `run`, tests and benches.

use std::collections::HashMap;
use std::sync::Arc;

use super::discord::{DiscordBot, DiscordRunning};
use super::slack::{SlackBot, SlackRunning};
use crate::app::{App, Waker};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::notify::ChatSink;

/// The connected chat platforms while the app runs.
pub struct Adapters {
    slack: Option<SlackRunning>,
    discord: Option<DiscordRunning>,
}

impl Adapters {
    /// Starts the app with a sink for each platform in the config (`[slack]`,
    /// `[discord]`) besides the `sinks` given (the shell), then connects
    /// those platforms. HTTP-mode routes are mounted on the app, so call this
    /// before `App::serve_http`.
    pub async fn start(
        engine: Engine,
        clock: Arc<dyn Clock>,
        mut sinks: HashMap<String, Arc<dyn ChatSink>>,
    ) -> Result<(App, Adapters), String> {
        let config = engine.config().clone();
        let waker = Waker::default();
        let slack = match &config.slack {
            Some(slack) => {
                let bot = SlackBot::new(engine.clone(), slack, waker.clone(), clock.clone())
                    .map_err(|e| format!("setting up the Slack client: {e}"))?;
                sinks.insert("slack".to_string(), bot.clone());
                Some((bot, slack))
            }
            None => None,
        };
        let discord = config.discord.as_ref().map(|discord| {
            let bot = DiscordBot::new(engine.clone(), discord, waker.clone());
            sinks.insert("discord".to_string(), bot.clone());
            bot
        });
        let mut app = App::start_with(engine, clock, sinks, waker);
        let slack = match slack {
            Some((bot, slack)) => Some(
                SlackRunning::start(bot, slack, &mut app)
                    .await
                    .map_err(|e| format!("connecting to Slack: {e}"))?,
            ),
            None => None,
        };
        let discord = match discord {
            Some(bot) => Some(
                DiscordRunning::start(bot, &mut app)
                    .await
                    .map_err(|e| format!("connecting to Discord: {e}"))?,
            ),
            None => None,
        };
        Ok((app, Adapters { slack, discord }))
    }

    /// Disconnects from the platforms; stop the app after.
    pub async fn stop(self) {
        if let Some(slack) = self.slack {
            slack.stop().await;
        }
        if let Some(discord) = self.discord {
            discord.stop().await;
        }
    }
}
