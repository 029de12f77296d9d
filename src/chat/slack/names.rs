//! Slack names and user groups: `users.info` answers are cached so a name
//! is looked up once; user groups that hold roles in the config
//! (`slack:@release-team`) are read with `usergroups.list`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use slack_morphism::prelude::*;

use crate::domain::ids::UserRef;
use crate::engine::Engine;

/// The cache can't grow without bound: past this many names it starts over.
const MAX_NAMES: usize = 50_000;

pub struct Names {
    by_id: Mutex<HashMap<String, String>>,
    /// How long one lookup may take (`[delivery] timeout_secs`): a name is
    /// a nicety, never worth holding up an answer or an announcement.
    timeout: Duration,
}

impl Names {
    pub fn new(timeout: Duration) -> Self {
        Names {
            by_id: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    pub fn get(&self, id: &str) -> Option<String> {
        self.by_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn put(&self, id: &str, name: String) {
        let mut by_id = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        if by_id.len() >= MAX_NAMES {
            by_id.clear();
        }
        by_id.insert(id.to_string(), name);
    }

    /// Looks up the ids not cached yet; an id Slack won't resolve stays as
    /// is. Names found are also told to the engine, for other platforms.
    pub async fn resolve(
        &self,
        session: &SlackClientSession<'_, SlackClientHyperHttpsConnector>,
        ids: Vec<&str>,
        engine: &Engine,
    ) {
        for id in ids {
            if self.get(id).is_some() {
                continue;
            }
            let request = SlackApiUsersInfoRequest::new(id.into());
            match tokio::time::timeout(self.timeout, session.users_info(&request)).await {
                Err(_) => {
                    tracing::debug!(id, "users.info did not answer in time; showing the id");
                    // The next ids would most likely wait as long.
                    return;
                }
                Ok(Ok(info)) => {
                    let name = shown_name(&info.user);
                    if let Ok(user) = UserRef::parse(&format!("slack:{id}")) {
                        engine.learn_name(&user, &name);
                    }
                    self.put(id, name);
                }
                Ok(Err(error)) => {
                    tracing::debug!(%error, id, "users.info failed; showing the id")
                }
            }
        }
    }

    /// Reads the members of every Slack user group that holds a role and
    /// tells the engine; a failure keeps the memberships known before.
    pub async fn refresh_groups(
        &self,
        session: &SlackClientSession<'_, SlackClientHyperHttpsConnector>,
        engine: &Engine,
    ) {
        let wanted: Vec<UserRef> = engine
            .config()
            .directory
            .groups()
            .filter(|group| group.platform() == "slack")
            .cloned()
            .collect();
        if wanted.is_empty() {
            return;
        }
        let request = SlackApiUserGroupsListRequest::new().with_include_users(true);
        let groups = match tokio::time::timeout(self.timeout, session.usergroups_list(&request))
            .await
        {
            Ok(Ok(list)) => list.usergroups,
            Err(_) => {
                tracing::warn!(
                    "usergroups.list did not answer in time; keeping the memberships known before"
                );
                return;
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "usergroups.list failed; keeping the memberships known before");
                return;
            }
        };
        for group in wanted {
            let handle = group.local().trim_start_matches('@');
            let Some(found) = groups.iter().find(|g| g.handle == handle) else {
                tracing::warn!(%group, "no Slack user group has this handle");
                continue;
            };
            let members = found
                .users
                .iter()
                .flatten()
                .filter_map(|user| UserRef::parse(&format!("slack:{user}")).ok());
            engine.set_group_members(&group, members);
        }
    }
}

/// The name people know: the display name, else the real name, else the handle.
fn shown_name(user: &SlackUser) -> String {
    let profile = user.profile.as_ref();
    [
        profile.and_then(|p| p.display_name.clone()),
        profile.and_then(|p| p.real_name.clone()),
        user.real_name.clone(),
        user.name.clone(),
    ]
    .into_iter()
    .flatten()
    .find(|name| !name.trim().is_empty())
    .unwrap_or_else(|| user.id.to_string())
}
