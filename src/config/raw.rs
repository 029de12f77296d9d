//! The config file's shape, exactly as written in TOML. Unknown keys are
//! errors, so a typo never silently falls back to a default.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub bot: RawBot,
    #[serde(default)]
    pub shell: RawShell,
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub services: BTreeMap<String, RawService>,
    #[serde(default)]
    pub environments: BTreeMap<String, RawEnvironment>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBot {
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub data_dir: Option<String>,
}

impl Default for RawBot {
    fn default() -> Self {
        RawBot {
            timezone: utc(),
            data_dir: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShell {
    /// Who you are when the shell starts (`alice` means `shell:alice`).
    #[serde(default = "default_shell_user")]
    pub user: String,
}

impl Default for RawShell {
    fn default() -> Self {
        RawShell {
            user: default_shell_user(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    #[serde(default)]
    pub description: String,
    /// Where it may be released; all environments when absent.
    #[serde(default)]
    pub environments: Option<Vec<String>>,
    /// Stakeholder channels that hear about every release of this service.
    #[serde(default)]
    pub channels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default = "anyone")]
    pub request: Vec<String>,
    #[serde(default)]
    pub approve: Vec<String>,
    #[serde(default)]
    pub deploy: Vec<String>,
    #[serde(default)]
    pub rollback: Vec<String>,
    #[serde(default = "one")]
    pub approvals: u32,
    #[serde(default)]
    pub approvals_by_role: BTreeMap<String, u32>,
    #[serde(default)]
    pub self_approval: bool,
    #[serde(default = "seventy_two")]
    pub approval_expiry_hours: u32,
    #[serde(default)]
    pub checklist: Vec<String>,
    #[serde(default)]
    pub ci: RawCi,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCi {
    #[serde(default = "simulate")]
    pub kind: String,
    /// `simulate`: seconds until the run reports.
    #[serde(default = "two")]
    pub delay_secs: f64,
    /// `simulate`: `succeed` or `fail`.
    #[serde(default = "succeed")]
    pub outcome: String,
}

impl Default for RawCi {
    fn default() -> Self {
        RawCi {
            kind: simulate(),
            delay_secs: two(),
            outcome: succeed(),
        }
    }
}

fn utc() -> String {
    "UTC".to_string()
}
fn default_shell_user() -> String {
    "alice".to_string()
}
fn anyone() -> Vec<String> {
    vec!["*".to_string()]
}
fn one() -> u32 {
    1
}
fn seventy_two() -> u32 {
    72
}
fn simulate() -> String {
    "simulate".to_string()
}
fn two() -> f64 {
    2.0
}
fn succeed() -> String {
    "succeed".to_string()
}
