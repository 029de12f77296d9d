//! Incidents as records (`port::records`): one per id, plus two indexes a
//! deploy's guard reads inside its transaction: the open incident of a
//! service and environment, and each version a rollback held back. The
//! indexes follow the incident on every write.

use crate::domain::ids::{Name, Version};
use crate::domain::incident::{Incident, IncidentId};
use crate::store::prelude::*;
use crate::store::{StoreError, StoreResult, TxError, TxResult};

const INCIDENT: &str = "incident";
const OPEN: &str = "incident-open";
const HELD: &str = "incident-held";
const LATEST: &str = "incident-latest";

fn key(id: IncidentId) -> String {
    // Zero-padded, so key order is id order.
    format!("{:012}", id.number())
}

fn target(service: &Name, environment: &Name) -> String {
    format!("{service}@{environment}")
}

fn held(service: &Name, environment: &Name, version: &Version) -> String {
    format!("{service}@{environment}@{version}")
}

fn decode(bytes: &[u8]) -> Result<Incident, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("incident: {e}"))
}

fn decode_id(bytes: &[u8]) -> Option<IncidentId> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| IncidentId::parse(text).ok())
}

/// Incidents inside a transaction.
pub trait TxIncidents {
    fn incident(&self, id: IncidentId) -> TxResult<Option<Incident>>;

    /// The open incident of a service and environment.
    fn open_incident(&self, service: &Name, environment: &Name) -> TxResult<Option<Incident>>;

    /// The incident holding `version` back in a service and environment.
    fn holding_back(
        &self,
        service: &Name,
        environment: &Name,
        version: &Version,
    ) -> TxResult<Option<Incident>>;

    /// The latest incident of a service and environment, open or not.
    fn latest_incident(&self, service: &Name, environment: &Name) -> TxResult<Option<Incident>>;

    fn allocate_incident_id(&self) -> TxResult<IncidentId>;

    /// Writes an incident and keeps its indexes in step.
    fn put_incident(&self, incident: &Incident) -> TxResult<()>;
}

impl<T: TxRecords + ?Sized> TxIncidents for T {
    fn incident(&self, id: IncidentId) -> TxResult<Option<Incident>> {
        match self.record(INCIDENT, &key(id))? {
            Some(bytes) => Ok(Some(
                decode(&bytes).map_err(|e| TxError::corrupt("incident", e))?,
            )),
            None => Ok(None),
        }
    }

    fn open_incident(&self, service: &Name, environment: &Name) -> TxResult<Option<Incident>> {
        match self.record(OPEN, &target(service, environment))? {
            Some(bytes) => match decode_id(&bytes) {
                Some(id) => self.incident(id),
                None => Err(TxError::corrupt("incident index", "not an incident id")),
            },
            None => Ok(None),
        }
    }

    fn holding_back(
        &self,
        service: &Name,
        environment: &Name,
        version: &Version,
    ) -> TxResult<Option<Incident>> {
        match self.record(HELD, &held(service, environment, version))? {
            Some(bytes) => match decode_id(&bytes) {
                Some(id) => self.incident(id),
                None => Err(TxError::corrupt("incident index", "not an incident id")),
            },
            None => Ok(None),
        }
    }

    fn latest_incident(&self, service: &Name, environment: &Name) -> TxResult<Option<Incident>> {
        match self.record(LATEST, &target(service, environment))? {
            Some(bytes) => match decode_id(&bytes) {
                Some(id) => self.incident(id),
                None => Err(TxError::corrupt("incident index", "not an incident id")),
            },
            None => Ok(None),
        }
    }

    fn allocate_incident_id(&self) -> TxResult<IncidentId> {
        Ok(IncidentId::new(self.allocate_record_id(INCIDENT)?))
    }

    fn put_incident(&self, incident: &Incident) -> TxResult<()> {
        let body = serde_json::to_vec(incident).expect("incidents always serialize");
        self.put_record(INCIDENT, &key(incident.id), Some(&body))?;
        let id = incident.id.to_string();
        let open_key = target(&incident.service, &incident.environment);
        let latest = self.record(LATEST, &open_key)?.and_then(|b| decode_id(&b));
        if latest.is_none_or(|l| l <= incident.id) {
            self.put_record(LATEST, &open_key, Some(id.as_bytes()))?;
        }
        if incident.is_open() {
            self.put_record(OPEN, &open_key, Some(id.as_bytes()))?;
        } else if self.record(OPEN, &open_key)?.as_deref() == Some(id.as_bytes()) {
            self.put_record(OPEN, &open_key, None)?;
        }
        for version in &incident.rolled_back {
            let held_key = held(&incident.service, &incident.environment, version);
            let body = (!incident.cleared.contains(version)).then_some(id.as_bytes());
            self.put_record(HELD, &held_key, body)?;
        }
        Ok(())
    }
}

/// Incidents outside a transaction.
pub trait Incidents {
    fn incident(&self, id: IncidentId) -> StoreResult<Option<Incident>>;

    /// Every incident, oldest first.
    fn incidents(&self) -> StoreResult<Vec<Incident>>;

    /// The open ones, oldest first.
    fn open_incidents(&self) -> StoreResult<Vec<Incident>>;
}

impl<T: RecordStore + ?Sized> Incidents for T {
    fn incident(&self, id: IncidentId) -> StoreResult<Option<Incident>> {
        self.record(INCIDENT, &key(id))?
            .map(|bytes| decode(&bytes).map_err(StoreError::Corrupt))
            .transpose()
    }

    fn incidents(&self) -> StoreResult<Vec<Incident>> {
        self.records(INCIDENT)?
            .iter()
            .map(|(_, bytes)| decode(bytes).map_err(StoreError::Corrupt))
            .collect()
    }

    fn open_incidents(&self) -> StoreResult<Vec<Incident>> {
        let mut open = Vec::new();
        for (_, bytes) in self.records(OPEN)? {
            if let Some(found) = decode_id(&bytes).map(|id| Incidents::incident(self, id)) {
                open.extend(found?);
            }
        }
        open.sort_by_key(|i| i.id);
        Ok(open)
    }
}
