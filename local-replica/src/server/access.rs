//! Which state-tree paths a read_state request may read (IC interface spec, "Request: Read
//! state"). A refusal is the caller's fault: HTTP 403 with the reason.

use candid::Principal;

use super::Certified;
use crate::ingress::Targets;

/// Where a read_state request was sent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ReadStateAt {
    /// `/api/v{2,3}/canister/<effective canister id>/read_state`.
    Canister(Principal),
    /// `/api/v{2,3}/subnet/<subnet id>/read_state`.
    Subnet,
}

/// Checks every path of a read_state by `sender` (limited to `targets` by its delegations).
pub(crate) fn check_paths(
    at: ReadStateAt,
    sender: Principal,
    targets: &Targets,
    paths: &[Vec<Vec<u8>>],
    certified: &Certified,
) -> Result<(), String> {
    let mut request_ids = paths
        .iter()
        .filter(|p| p.first().is_some_and(|l| l == b"request_status") && p.len() > 1)
        .map(|p| &p[1]);
    if let Some(first) = request_ids.next()
        && request_ids.any(|other| other != first)
    {
        return Err("a read_state may ask about one request id only".into());
    }
    for path in paths {
        check_path(at, sender, targets, path, certified)?;
    }
    Ok(())
}

fn check_path(
    at: ReadStateAt,
    sender: Principal,
    targets: &Targets,
    path: &[Vec<u8>],
    certified: &Certified,
) -> Result<(), String> {
    let labels: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
    let shown = || {
        labels
            .iter()
            .map(|l| match std::str::from_utf8(l) {
                Ok(text) if text.chars().all(|c| c.is_ascii_graphic()) => text.to_string(),
                _ => hex::encode(l),
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    match (at, labels.as_slice()) {
        (_, [] | [b"time"] | [b"subnet", ..] | [b"canister_ranges", ..]) => Ok(()),
        (_, [b"api_boundary_nodes", ..]) => Ok(()),
        (ReadStateAt::Subnet, _) => Err(format!(
            "/{} cannot be read at a subnet's read_state: send it to the canister's",
            shown()
        )),
        (ReadStateAt::Canister(effective), [b"request_status", id, ..]) => {
            if !targets.contains(&effective) {
                return Err(format!(
                    "the request's delegations do not allow canister {effective}"
                ));
            }
            let Ok(id) = <[u8; 32]>::try_from(*id) else {
                return Err(format!("/{}: a request id is 32 bytes", shown()));
            };
            match certified
                .history
                .status(&ic_transport_types::RequestId::new(&id))
            {
                // An unknown request: the certificate proves it absent.
                None => Ok(()),
                Some(known) if known.sender != sender => Err(format!(
                    "request {} was sent by another principal: only its sender may read its status",
                    hex::encode(id)
                )),
                Some(known) if known.effective_canister_id != effective => Err(format!(
                    "request {} was sent to canister {}, not {effective}",
                    hex::encode(id),
                    known.effective_canister_id
                )),
                Some(_) => Ok(()),
            }
        }
        (ReadStateAt::Canister(effective), [b"canister", id, rest @ ..]) => {
            let canister = Principal::try_from_slice(id)
                .map_err(|_| format!("/{}: not a canister id", shown()))?;
            if canister != effective {
                return Err(format!(
                    "/{} is about canister {canister}: send it to that canister's read_state, not {effective}'s",
                    shown()
                ));
            }
            if !targets.contains(&canister) {
                return Err(format!(
                    "the request's delegations do not allow canister {canister}"
                ));
            }
            match rest {
                [b"module_hash"] | [b"controllers"] => Ok(()),
                [b"metadata", name] => {
                    let name = String::from_utf8_lossy(name);
                    let private = certified.access(&canister).is_some_and(|a| {
                        a.private_metadata.iter().any(|p| *p == name)
                            && !a.controllers.contains(&sender)
                    });
                    if private {
                        Err(format!(
                            "metadata `{name}` of {canister} is private: only its controllers may read it"
                        ))
                    } else {
                        Ok(())
                    }
                }
                _ => Err(format!(
                    "/{} cannot be read: a canister's module_hash, controllers and metadata/<name> can",
                    shown()
                )),
            }
        }
        _ => Err(format!("/{} is not a path read_state serves", shown())),
    }
}
