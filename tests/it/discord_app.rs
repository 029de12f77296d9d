//! The bot connected to the fake Discord through `proxy_url`, with the real
//! serenity gateway and REST clients and the HTTP interactions endpoint.

use ed25519_dalek::{Signer, SigningKey};

use crate::chat_app::ChatApp;
use crate::fake_discord::{self as fake, FakeDiscord};

/// The app's Ed25519 key pair (Discord holds the private half).
pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub fn public_key_hex() -> String {
    hex::encode(signing_key().verifying_key().to_bytes())
}

/// Signs like Discord: Ed25519 over timestamp + body, hex.
pub fn sign(timestamp: &str, body: &str) -> String {
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(body.as_bytes());
    hex::encode(signing_key().sign(&signed).to_bytes())
}

/// Discord ids in roles; Carol is a release manager through a guild role.
pub fn config(fake: &FakeDiscord) -> String {
    format!(
        r##"
[http]
listen = "127.0.0.1:0"

[discord]
token_env = "RB_TEST_DISCORD_TOKEN"
application_id = "{app}"
guilds = ["{guild}"]
proxy_url = "{base}"
public_key_env = "RB_TEST_DISCORD_PUBLIC_KEY"

[roles]
developer = ["discord:{alice}"]
release-manager = ["discord:{bob}", "discord:role:{leads}"]
deployer = ["discord:{dave}"]

[services.api]
channels = ["discord:{stakeholders}"]

[services.web]

[environments.production]
channels = ["discord:{releases}"]
request = ["developer"]
approve = ["release-manager"]
deploy = ["deployer"]
rollback = ["deployer"]
approvals = 2

[environments.production.ci]
kind = "simulate"
delay_secs = 0
"##,
        app = fake::APP,
        guild = fake::GUILD,
        base = fake.base,
        alice = fake::ALICE,
        bob = fake::BOB,
        dave = fake::DAVE,
        leads = fake::LEADS_ROLE,
        stakeholders = fake::STAKEHOLDERS,
        releases = fake::RELEASES,
    )
}

pub type DiscordApp = ChatApp<FakeDiscord>;

impl DiscordApp {
    pub async fn spawn() -> DiscordApp {
        let fake = FakeDiscord::start().await;
        DiscordApp::spawn_with(fake, tempfile::tempdir().unwrap()).await
    }

    pub async fn spawn_with(fake: FakeDiscord, dir: tempfile::TempDir) -> DiscordApp {
        let text = config(&fake);
        ChatApp::start(fake, dir, &text).await
    }
}
