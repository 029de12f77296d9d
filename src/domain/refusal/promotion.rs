//! The words of promotion's and audiences' refusals: soak, promote, an
//! audience or its template missing.

use std::fmt::{self, Write as _};

use super::{Refusal, SoakClock};
use crate::domain::text::Text;
use crate::domain::when::format_local;

impl Refusal {
    /// A version not soaked long enough; a promotion with nowhere to go.
    pub(super) fn write_promotion(&self, t: &mut Text) -> fmt::Result {
        use Refusal::*;
        match self {
            NotSoaked {
                release,
                version,
                environment,
                required,
                earned_minutes,
                needed_minutes,
                clock,
                tz,
            } => {
                write!(
                    t,
                    "{release} can't deploy to {environment} yet: {version} has been live and healthy in {required} for {earned_minutes} min of the {needed_minutes} it needs"
                )?;
                match clock {
                    SoakClock::Incident(incident) => write!(
                        t,
                        "; incident {incident} is open in {required}, so its clock stands until it is resolved."
                    )?,
                    SoakClock::ReadyAt(at) => {
                        write!(t, "; it may go at {}.", format_local(*at, *tz))?
                    }
                    SoakClock::Stands => write!(
                        t,
                        "; it is not live in {required} now, so its clock stands: deploy {version} there first."
                    )?,
                }
                write!(
                    t,
                    " A release manager may deploy it anyway: `deploy {release} override <reason>`."
                )
            }
            NotPromotable {
                release,
                environment,
                status,
            } => write!(
                t,
                "{release} can't be promoted: it has not been deployed to {environment} (it is {status}). Promote a release once it is live there."
            ),
            NoNextEnvironment { environment } => write!(
                t,
                "No environment requires {environment} first, so there is no next one: say where, like `promote <id> to production`."
            ),
            NoSuchAudience { audience, known } => write!(
                t,
                "There is no audience `{audience}`; the config has {known}."
            ),
            NoTemplate { audience, kind } => write!(
                t,
                "{audience} has no `{kind}` template: add one under [audiences.{audience}]."
            ),
            _ => unreachable!("dispatched by `write`"),
        }
    }
}
