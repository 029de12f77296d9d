//! Who may do what, per environment: roles, permissions and the approval quorum.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::calendar::SlotRules;
use super::ids::{ChannelRef, Name, UserRef};
use super::release::Approval;

/// Which roles each user holds (from config, and later from admin commands).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Roles by person, or by group (`slack:@release-team`, `discord:role:123`).
    roles_by_user: BTreeMap<UserRef, BTreeSet<String>>,
    /// The groups each person is in, as the chat platforms last told us.
    groups_by_user: BTreeMap<UserRef, BTreeSet<UserRef>>,
}

impl Directory {
    pub fn new(roles_by_user: BTreeMap<UserRef, BTreeSet<String>>) -> Self {
        Directory {
            roles_by_user,
            groups_by_user: BTreeMap::new(),
        }
    }

    /// A person's roles: their own and those of every group they are in.
    pub fn roles_of(&self, user: &UserRef) -> BTreeSet<String> {
        self.roles_in_groups(user, self.groups_by_user.get(user).into_iter().flatten())
    }

    /// A person's own roles and those of `groups` (groups this directory
    /// holds no memberships for, such as the ones the engine learns).
    pub fn roles_in_groups<'a>(
        &self,
        user: &UserRef,
        groups: impl IntoIterator<Item = &'a UserRef>,
    ) -> BTreeSet<String> {
        let mut roles = self.roles_by_user.get(user).cloned().unwrap_or_default();
        for group in groups {
            if let Some(group_roles) = self.roles_by_user.get(group) {
                roles.extend(group_roles.iter().cloned());
            }
        }
        roles
    }

    /// This directory with group memberships (person → groups) from chat.
    pub fn with_groups(mut self, groups_by_user: BTreeMap<UserRef, BTreeSet<UserRef>>) -> Self {
        self.groups_by_user = groups_by_user;
        self
    }

    /// The groups that hold roles here (`UserRef::is_group`), for adapters to resolve.
    pub fn groups(&self) -> impl Iterator<Item = &UserRef> {
        self.roles_by_user.keys().filter(|user| user.is_group())
    }

    pub fn users(&self) -> impl Iterator<Item = (&UserRef, &BTreeSet<String>)> {
        self.roles_by_user.iter()
    }

    /// This directory plus roles granted at run time (kept in the store).
    pub fn with_grants(&self, grants: impl IntoIterator<Item = (UserRef, String)>) -> Directory {
        let mut merged = self.clone();
        for (user, role) in grants {
            merged.roles_by_user.entry(user).or_default().insert(role);
        }
        merged
    }

    /// Whether the config itself gives `user` the role (chat cannot revoke those).
    pub fn holds(&self, user: &UserRef, role: &str) -> bool {
        self.roles_by_user
            .get(user)
            .is_some_and(|roles| roles.contains(role))
    }

    pub fn role_names(&self) -> BTreeSet<&str> {
        self.roles_by_user
            .values()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// A set of roles allowed to do something; `*` allows everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permission(pub Vec<String>);

impl Permission {
    pub const ANYONE: &'static str = "*";

    pub fn allows(&self, roles: &BTreeSet<String>) -> bool {
        self.0
            .iter()
            .any(|role| role == Self::ANYONE || roles.contains(role))
    }

    /// `release-manager or deployer`, for refusals.
    pub fn describe(&self) -> String {
        if self.0.iter().any(|r| r == Self::ANYONE) {
            return "anyone".to_string();
        }
        match self.0.as_slice() {
            [] => "nobody (no role is configured)".to_string(),
            [only] => only.clone(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// The rules of one environment, from config.
#[derive(Debug, Clone)]
pub struct EnvPolicy {
    pub name: Name,
    pub timezone: Tz,
    /// Where this environment's releases are announced.
    pub channels: Vec<ChannelRef>,
    pub request: Permission,
    pub approve: Permission,
    pub deploy: Permission,
    pub rollback: Permission,
    /// Distinct approvers needed in all.
    pub approvals: u32,
    /// Of those, how many must hold each role ("1 release-manager + 1 qa").
    pub approvals_by_role: BTreeMap<String, u32>,
    pub self_approval: bool,
    pub approval_expiry: Duration,
    pub checklist: Vec<String>,
    /// When releases may be scheduled and deployed.
    pub slots: SlotRules,
    /// The environment a version must have soaked in first, and how long.
    pub requires: Option<super::soak::SoakRule>,
}

/// How far a release's approvals are from the quorum, at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumState {
    /// Approvals that count: unexpired, from someone who may approve.
    pub counted: usize,
    pub needed: u32,
    /// What is still missing, as phrases ("1 more approval", "1 qa"); empty when met.
    pub missing: Vec<String>,
    /// Approvers whose approval has expired.
    pub expired: Vec<UserRef>,
}

impl QuorumState {
    pub fn met(&self) -> bool {
        self.missing.is_empty()
    }
}

impl EnvPolicy {
    /// The number of distinct approvers needed, whichever rule is stricter.
    pub fn approvals_needed(&self) -> u32 {
        self.approvals
            .max(self.approvals_by_role.values().sum::<u32>())
    }

    /// `2 approvals (release-manager)` or `2 approvals: 1 release-manager + 1 qa`.
    pub fn describe_quorum(&self) -> String {
        let needed = self.approvals_needed();
        let noun = if needed == 1 { "approval" } else { "approvals" };
        if self.approvals_by_role.is_empty() {
            format!("{needed} {noun} ({})", self.approve.describe())
        } else {
            let parts: Vec<String> = self
                .approvals_by_role
                .iter()
                .map(|(role, n)| format!("{n} {role}"))
                .collect();
            format!("{needed} {noun}: {}", parts.join(" + "))
        }
    }

    pub fn is_expired(&self, approval: &Approval, now: DateTime<Utc>) -> bool {
        now - approval.at >= self.approval_expiry
    }

    /// Evaluates the quorum over `approvals` as of `now`.
    pub fn quorum(
        &self,
        approvals: &[Approval],
        directory: &Directory,
        now: DateTime<Utc>,
    ) -> QuorumState {
        let mut expired = Vec::new();
        let mut counted: Vec<BTreeSet<String>> = Vec::new();
        let mut seen = BTreeSet::new();
        for approval in approvals {
            if !seen.insert(&approval.by) {
                continue;
            }
            if self.is_expired(approval, now) {
                expired.push(approval.by.clone());
                continue;
            }
            let roles = directory.roles_of(&approval.by);
            if self.approve.allows(&roles) {
                counted.push(roles);
            }
        }
        let needed = self.approvals_needed();
        let mut missing = Vec::new();
        for (role, n) in &self.approvals_by_role {
            let have = counted.iter().filter(|roles| roles.contains(role)).count() as u32;
            if have < *n {
                missing.push(format!("{} {role}", n - have));
            }
        }
        if missing.is_empty() && !roles_can_be_covered(&counted, &self.approvals_by_role) {
            missing.push(format!(
                "different people for each role ({})",
                self.describe_quorum()
            ));
        }
        let have = counted.len() as u32;
        if have < needed && missing.is_empty() {
            let more = needed - have;
            missing.push(format!(
                "{more} more approval{}",
                if more == 1 { "" } else { "s" }
            ));
        }
        QuorumState {
            counted: counted.len(),
            needed,
            missing,
            expired,
        }
    }
}

/// Hall's condition: every group of roles has at least as many distinct
/// approvers holding one of them as the group demands, so that no single
/// person fills two role seats.
fn roles_can_be_covered(approvers: &[BTreeSet<String>], demands: &BTreeMap<String, u32>) -> bool {
    let roles: Vec<(&String, u32)> = demands.iter().map(|(r, n)| (r, *n)).collect();
    // Configs name a handful of roles; cap the subsets walked all the same.
    if roles.len() > 12 {
        return true;
    }
    (1u32..(1 << roles.len())).all(|mask| {
        let chosen: Vec<&(&String, u32)> = roles
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, r)| r)
            .collect();
        let demand: u32 = chosen.iter().map(|(_, n)| n).sum();
        let supply = approvers
            .iter()
            .filter(|held| chosen.iter().any(|(role, _)| held.contains(*role)))
            .count() as u32;
        supply >= demand
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn user(name: &str) -> UserRef {
        UserRef::parse(&format!("shell:{name}")).unwrap()
    }

    pub fn directory(entries: &[(&str, &[&str])]) -> Directory {
        Directory::new(
            entries
                .iter()
                .map(|(u, roles)| (user(u), roles.iter().map(|r| r.to_string()).collect()))
                .collect(),
        )
    }

    pub fn policy(approvals: u32, by_role: &[(&str, u32)]) -> EnvPolicy {
        EnvPolicy {
            name: Name::parse("production").unwrap(),
            timezone: chrono_tz::Europe::Berlin,
            channels: vec![],
            request: Permission(vec!["*".into()]),
            approve: Permission(vec!["release-manager".into(), "qa".into()]),
            deploy: Permission(vec!["deployer".into()]),
            rollback: Permission(vec!["deployer".into()]),
            approvals,
            approvals_by_role: by_role.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
            self_approval: false,
            approval_expiry: Duration::hours(72),
            checklist: vec![],
            slots: SlotRules::default(),
            requires: None,
        }
    }

    fn approval(by: &str, hours_ago: i64, now: DateTime<Utc>) -> Approval {
        Approval {
            by: user(by),
            at: now - Duration::hours(hours_ago),
            comment: None,
        }
    }

    #[test]
    fn members_of_a_group_hold_the_groups_roles() {
        let group = UserRef::parse("slack:@release-leads").unwrap();
        let carol = UserRef::parse("slack:U0CAROL001").unwrap();
        let dir = Directory::new([(group.clone(), ["release-manager".to_string()].into())].into());
        assert!(dir.roles_of(&carol).is_empty());
        let dir = dir.with_groups([(carol.clone(), [group.clone()].into())].into());
        assert!(dir.roles_of(&carol).contains("release-manager"));
        assert!(dir.roles_of(&user("mallory")).is_empty());
        assert_eq!(dir.groups().collect::<Vec<_>>(), vec![&group]);
        assert!(UserRef::parse("discord:role:123").unwrap().is_group());
        assert!(!carol.is_group());
    }

    #[test]
    fn two_distinct_approvers_meet_a_quorum_of_two() {
        let now = Utc::now();
        let dir = directory(&[
            ("bob", &["release-manager"]),
            ("carol", &["release-manager"]),
        ]);
        let p = policy(2, &[]);
        assert_eq!(
            p.quorum(&[approval("bob", 1, now)], &dir, now).missing,
            vec!["1 more approval"]
        );
        let both = [approval("bob", 1, now), approval("carol", 1, now)];
        assert!(p.quorum(&both, &dir, now).met());
    }

    #[test]
    fn the_same_approver_twice_counts_once() {
        let now = Utc::now();
        let dir = directory(&[("bob", &["release-manager"])]);
        let twice = [approval("bob", 2, now), approval("bob", 1, now)];
        assert_eq!(policy(2, &[]).quorum(&twice, &dir, now).counted, 1);
    }

    #[test]
    fn expired_approvals_do_not_count() {
        let now = Utc::now();
        let dir = directory(&[("bob", &["release-manager"])]);
        let state = policy(1, &[]).quorum(&[approval("bob", 73, now)], &dir, now);
        assert!(!state.met());
        assert_eq!(state.expired, vec![user("bob")]);
    }

    #[test]
    fn one_person_cannot_fill_two_role_seats() {
        let now = Utc::now();
        let dir = directory(&[
            ("bob", &["release-manager", "qa"]),
            ("carol", &["release-manager"]),
        ]);
        let p = policy(0, &[("release-manager", 1), ("qa", 1)]);
        assert!(!p.quorum(&[approval("bob", 1, now)], &dir, now).met());
        let with_carol = [approval("bob", 1, now), approval("carol", 1, now)];
        assert!(p.quorum(&with_carol, &dir, now).met());
        assert_eq!(p.describe_quorum(), "2 approvals: 1 qa + 1 release-manager");
    }

    #[test]
    fn per_role_shortfall_names_the_role() {
        let now = Utc::now();
        let dir = directory(&[
            ("bob", &["release-manager"]),
            ("carol", &["release-manager"]),
        ]);
        let p = policy(2, &[("release-manager", 1), ("qa", 1)]);
        let state = p.quorum(
            &[approval("bob", 1, now), approval("carol", 1, now)],
            &dir,
            now,
        );
        assert_eq!(state.missing, vec!["1 qa"]);
    }
}
