//! Which call requests the replica has seen, so a request submitted twice executes once.
//!
//! A call is identified by its request id (the hash of its content, nonce and expiry included).
//! The IC keeps a request's status at least until its `ingress_expiry` has passed: after that
//! [`authenticate`](super::authenticate) refuses the request as expired, so forgetting it cannot
//! let it run again. A status that changes is also kept for [`STATUS_RETENTION_NANOS`] after the
//! change, so a caller polling `read_state` still finds a reply that came just before expiry.

use std::collections::{BTreeSet, HashMap};

use ic_transport_types::RequestId;

/// How long a status is kept after it last changed: 5 minutes, as the IC keeps a call's reply
/// (IC interface spec, "Overview of canister calling").
pub const STATUS_RETENTION_NANOS: u64 = 5 * 60 * 1_000_000_000;

/// Request id → status `S` (the HTTP layer's own status type), forgotten once expired.
#[derive(Debug)]
pub struct IngressHistory<S> {
    entries: HashMap<RequestId, Entry<S>>,
    /// `(retain_until, request id)` for every entry, to evict in time order.
    by_retention: BTreeSet<(u64, RequestId)>,
}

#[derive(Debug)]
struct Entry<S> {
    status: S,
    /// Nanoseconds since the epoch after which the entry may be forgotten.
    retain_until: u64,
}

/// What [`IngressHistory::admit`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission<'a, S> {
    /// The request id is new: it has been recorded and the request should run.
    New,
    /// The request id is known: the request must not run again; this is its status.
    Known(&'a S),
}

impl<S> Default for IngressHistory<S> {
    fn default() -> Self {
        IngressHistory {
            entries: HashMap::new(),
            by_retention: BTreeSet::new(),
        }
    }
}

impl<S> IngressHistory<S> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets what has expired at `now`, then records `request_id` with `status` if it is new.
    ///
    /// `ingress_expiry` is the request's own (checked by `authenticate` to be at or after `now`).
    pub fn admit(
        &mut self,
        request_id: RequestId,
        ingress_expiry: u64,
        status: S,
        now: u64,
    ) -> Admission<'_, S> {
        self.evict_expired(now);
        if self.entries.contains_key(&request_id) {
            return Admission::Known(&self.entries[&request_id].status);
        }
        let retain_until = ingress_expiry.max(now);
        self.entries.insert(
            request_id,
            Entry {
                status,
                retain_until,
            },
        );
        self.by_retention.insert((retain_until, request_id));
        Admission::New
    }

    /// The status of a known request.
    pub fn status(&self, request_id: &RequestId) -> Option<&S> {
        self.entries.get(request_id).map(|entry| &entry.status)
    }

    /// Replaces the status of a known request and keeps it at least [`STATUS_RETENTION_NANOS`]
    /// past `now`. Returns false (and records nothing) if the request is not known.
    pub fn set_status(&mut self, request_id: &RequestId, status: S, now: u64) -> bool {
        let Some(entry) = self.entries.get_mut(request_id) else {
            return false;
        };
        entry.status = status;
        let retain_until = entry
            .retain_until
            .max(now.saturating_add(STATUS_RETENTION_NANOS));
        if retain_until != entry.retain_until {
            self.by_retention.remove(&(entry.retain_until, *request_id));
            self.by_retention.insert((retain_until, *request_id));
            entry.retain_until = retain_until;
        }
        true
    }

    /// Forgets every request whose retention ended before `now`; returns their ids, so whoever
    /// certifies their statuses can forget those too.
    pub fn evict_expired(&mut self, now: u64) -> Vec<RequestId> {
        let mut evicted = Vec::new();
        while let Some(&(retain_until, request_id)) = self.by_retention.first() {
            if retain_until >= now {
                break;
            }
            self.by_retention.pop_first();
            self.entries.remove(&request_id);
            evicted.push(request_id);
        }
        evicted
    }

    /// Forgets `request_id` now: a request refused before it ran, which may be sent again.
    pub fn forget(&mut self, request_id: &RequestId) {
        if let Some(entry) = self.entries.remove(request_id) {
            self.by_retention.remove(&(entry.retain_until, *request_id));
        }
    }

    /// How many requests are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no request is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
