//! What chat adapters learn about people as they go: which chat groups
//! (Slack user groups, Discord roles) they are in, and the names their
//! platforms show, so that another platform can show them too.

use std::collections::{BTreeMap, BTreeSet};

use super::Engine;
use crate::domain::ids::UserRef;

/// Names kept at most; past this the oldest knowledge is simply dropped.
const MAX_NAMES: usize = 50_000;

impl Engine {
    /// Replaces the members of a chat group (a Slack user group, a Discord
    /// role) that holds roles in the config.
    pub fn set_group_members(&self, group: &UserRef, members: impl IntoIterator<Item = UserRef>) {
        let mut groups = self.groups.write().unwrap_or_else(|e| e.into_inner());
        for of_user in groups.values_mut() {
            of_user.remove(group);
        }
        for member in members {
            groups.entry(member).or_default().insert(group.clone());
        }
        groups.retain(|_, of_user| !of_user.is_empty());
    }

    /// Replaces the groups one person is in (Discord sends a member's roles
    /// with every interaction).
    pub fn set_groups_of(&self, user: &UserRef, member_of: BTreeSet<UserRef>) {
        let mut groups = self.groups.write().unwrap_or_else(|e| e.into_inner());
        if member_of.is_empty() {
            groups.remove(user);
        } else {
            groups.insert(user.clone(), member_of);
        }
    }

    pub(super) fn groups_snapshot(&self) -> BTreeMap<UserRef, BTreeSet<UserRef>> {
        self.groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Remembers the name a person's platform shows (`Alice Ng` for
    /// `slack:U024BE7LH`); other platforms' adapters show it instead of the id.
    pub fn learn_name(&self, user: &UserRef, name: &str) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let mut names = self.names.write().unwrap_or_else(|e| e.into_inner());
        if names.len() >= MAX_NAMES && !names.contains_key(user) {
            names.clear();
        }
        names.insert(user.clone(), name.to_string());
    }

    /// The name learned for a person, if any.
    pub fn name_of(&self, user: &UserRef) -> Option<String> {
        self.names
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
            .cloned()
    }
}
