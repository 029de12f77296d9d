//! The gateway connection (serenity): READY registers `/release`,
//! INTERACTION_CREATE is answered once what it asks is durable,
//! MESSAGE_CREATE is read for thread approvals and mentions. serenity
//! resumes and reconnects; if the client stops altogether it is started
//! again with growing pauses, so a bad token or an outage never turns into a
//! tight IDENTIFY loop (Discord resets tokens after 1,000 a day).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serenity::all::{
    ClientBuilder, Context, EventHandler, GatewayIntents, Interaction, Message, Ready, ShardManager,
};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::{rest_client, DiscordBot};

/// Guild structure, guild messages and their content (a privileged intent:
/// turn on "Message Content Intent" in the developer portal).
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT
}

const FIRST_PAUSE: Duration = Duration::from_secs(5);
const LONGEST_PAUSE: Duration = Duration::from_secs(300);

struct Handler {
    bot: Arc<DiscordBot>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        let _ = self.bot.me.set(ready.user.id);
        if self.bot.http.application_id().is_none() {
            self.bot.http.set_application_id(ready.application.id);
        }
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        self.bot.register_commands().await;
    }

    /// Each event is handled in a task the app tracks, so that shutdown
    /// waits for it; serenity's own dispatch task returns at once.
    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let bot = self.bot.clone();
        self.bot
            .events
            .spawn("a Discord interaction", answer(bot, interaction));
    }

    async fn message(&self, _ctx: Context, message: Message) {
        let bot = self.bot.clone();
        self.bot.events.spawn(
            "a Discord message",
            async move { bot.on_message(message).await },
        );
    }
}

/// The response once what the interaction asks is durable (Discord waits
/// 3 seconds for it); none for a redelivery or a command not yet durable.
async fn answer(bot: Arc<DiscordBot>, interaction: Interaction) {
    let Ok(response) = bot.response(&interaction).await else {
        return;
    };
    let (id, token) = match &interaction {
        Interaction::Command(i) | Interaction::Autocomplete(i) => (i.id, i.token.as_str()),
        Interaction::Component(i) => (i.id, i.token.as_str()),
        Interaction::Modal(i) => (i.id, i.token.as_str()),
        Interaction::Ping(i) => (i.id, i.token.as_str()),
        _ => return,
    };
    if let Err(error) = bot
        .http
        .create_interaction_response(id, token, &response, vec![])
        .await
    {
        tracing::warn!(%error, "answering an interaction failed");
    }
}

pub struct Gateway {
    shards: Arc<Mutex<Option<Arc<ShardManager>>>>,
    task: JoinHandle<()>,
}

impl Gateway {
    pub fn start(bot: Arc<DiscordBot>) -> Gateway {
        let shards: Arc<Mutex<Option<Arc<ShardManager>>>> = Arc::default();
        let task = tokio::spawn(supervise(bot, shards.clone()));
        Gateway { shards, task }
    }

    pub async fn stop(self) {
        self.task.abort();
        if let Some(shards) = self.shards.lock().await.take() {
            shards.shutdown_all().await;
        }
    }
}

async fn supervise(bot: Arc<DiscordBot>, shards: Arc<Mutex<Option<Arc<ShardManager>>>>) {
    let mut pause = FIRST_PAUSE;
    loop {
        // Built on the same kind of REST client as ours, so the gateway URL
        // is fetched through the proxy when one is set.
        let built = ClientBuilder::new_with_http(
            rest_client(&bot.config, bot.engine.config().delivery.timeout),
            intents(),
        )
        .event_handler(Handler { bot: bot.clone() });
        match built.await {
            Ok(mut client) => {
                *shards.lock().await = Some(client.shard_manager.clone());
                let began = tokio::time::Instant::now();
                if let Err(error) = client.start().await {
                    tracing::error!(%error, "the Discord gateway client stopped");
                }
                // Nothing left to shut down until the next client.
                shards.lock().await.take();
                if began.elapsed() > LONGEST_PAUSE {
                    pause = FIRST_PAUSE;
                }
            }
            Err(error) => tracing::error!(%error, "building the Discord client failed"),
        }
        tracing::warn!(
            seconds = pause.as_secs(),
            "reconnecting to Discord after a pause"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}
