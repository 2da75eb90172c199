//! Every vault canister method, typed with the canister's own Candid types.

use candid::utils::ArgumentEncoder;
use candid::{CandidType, Principal};
use ic_agent::{Agent, AgentError};
use serde::de::DeserializeOwned;
use serde_bytes::ByteBuf;
use vault_interface::types::*;

use crate::Error;

/// The IC's error code for a call to a method the canister does not have (`IC0536`).
pub const NO_SUCH_METHOD: &str = "IC0536";

/// The vault canister `id`, reached through `agent`; `identity` (the agent's) and `http` (its
/// HTTP client) send the calls that go without the agent ([`VaultCanister::put_chunk`]).
#[derive(Clone)]
pub struct VaultCanister {
    agent: Agent,
    id: Principal,
    url: String,
    identity: crate::Identity,
    http: reqwest::Client,
}

/// A rejection with the IC's error `code`, as the user is told it.
fn rejected(code: String, message: String, certified: bool) -> Error {
    let message = if code == "IC0406" || code == "IC0516" {
        format!("{message} — this identity is not allowed to do that in this vault")
    } else {
        message
    };
    Error::Rejected {
        code,
        message,
        certified,
    }
}

/// Turns an agent failure into what the user is told.
pub fn agent_error(url: &str, e: AgentError) -> Error {
    match e {
        AgentError::UncertifiedReject { reject, .. } => rejected(
            reject.error_code.unwrap_or_default(),
            reject.reject_message,
            false,
        ),
        AgentError::CertifiedReject { reject, .. } => rejected(
            reject.error_code.unwrap_or_default(),
            reject.reject_message,
            true,
        ),
        AgentError::TransportError(why) => Error::Unreachable {
            url: url.to_string(),
            why: why.to_string(),
        },
        AgentError::TimeoutWaitingForResponse() => Error::Unreachable {
            url: url.to_string(),
            why: "timed out waiting for the answer".into(),
        },
        other => Error::Agent(other.to_string()),
    }
}

fn decode<R: DeserializeOwned + CandidType>(method: &str, bytes: &[u8]) -> Result<R, Error> {
    let result: VaultResult<R> = candid::decode_one(bytes).map_err(|e| {
        Error::Agent(format!(
            "the canister's answer to {method} is not understood: {e}"
        ))
    })?;
    result.map_err(Error::Vault)
}

impl VaultCanister {
    /// The canister `id` through `agent`, which signs as `identity` and sends with `http`.
    pub fn new(
        agent: Agent,
        id: Principal,
        url: String,
        identity: crate::Identity,
        http: reqwest::Client,
    ) -> VaultCanister {
        VaultCanister {
            agent,
            id,
            url,
            identity,
            http,
        }
    }

    /// Its id.
    pub fn id(&self) -> Principal {
        self.id
    }

    /// The agent.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    fn url(&self) -> String {
        self.url.clone()
    }

    async fn update<A, R>(&self, method: &str, args: A) -> Result<R, Error>
    where
        A: ArgumentEncoder,
        R: DeserializeOwned + CandidType,
    {
        let arg = candid::encode_args(args).expect("arguments encode");
        let reply = self
            .agent
            .update(&self.id, method)
            .with_arg(arg)
            .call_and_wait()
            .await
            .map_err(|e| agent_error(&self.url(), e))?;
        decode(method, &reply)
    }

    /// An update call sent without the agent, its reply read from the certificate it comes
    /// with, which is **not verified**: only for a call whose answer the client decides nothing
    /// on (`put_chunk`: `commit_upload`, a verified call, refuses an upload with any chunk
    /// missing, and `begin_upload` tells which). ic-agent would hash the argument once more
    /// for the request id (a soft SHA-256 in a browser) and verify the certificate's BLS
    /// signature: together ~45% of a browser's CPU sending a video. A reply the replica could
    /// not give at once (202) is waited for through the agent, verified.
    async fn update_unverified<A, R>(&self, method: &str, args: A) -> Result<R, Error>
    where
        A: ArgumentEncoder,
        R: DeserializeOwned + CandidType,
    {
        let arg = candid::encode_args(args).expect("arguments encode");
        let content = self
            .agent
            .update(&self.id, method)
            .with_arg(arg)
            .into_envelope()
            .map_err(|e| agent_error(&self.url, e))?;
        let (request_id, signature) = self.identity.sign_call(&content).map_err(Error::Agent)?;
        let body = ic_agent::agent::Envelope {
            content: std::borrow::Cow::Owned(content),
            sender_pubkey: signature.public_key,
            sender_sig: signature.signature,
            sender_delegation: signature.delegations,
        }
        .encode_bytes();
        let unreachable = |why: String| Error::Unreachable {
            url: self.url.clone(),
            why,
        };
        let response = self
            .http
            .post(format!(
                "{}/api/v4/canister/{}/call",
                self.url.trim_end_matches('/'),
                self.id
            ))
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let not_understood = |why: String| {
            Error::Agent(format!(
                "the replica's answer to {method} is not understood: {why}"
            ))
        };
        let answer = match status.as_u16() {
            200 => serde_cbor::from_slice::<ic_agent::TransportCallResponse>(&bytes)
                .map_err(|e| not_understood(e.to_string()))?,
            202 => ic_agent::TransportCallResponse::Accepted,
            // Busy or failing: worth sending again (the chunk loop does).
            429 | 500..=599 => {
                return Err(unreachable(format!("HTTP {status}: {}", node_text(&bytes))));
            }
            _ => {
                return Err(Error::Agent(format!(
                    "the replica refused {method} (HTTP {status}): {}",
                    node_text(&bytes)
                )));
            }
        };
        let certificate = match answer {
            ic_agent::TransportCallResponse::Replied { certificate } => certificate,
            ic_agent::TransportCallResponse::NonReplicatedRejection(reject) => {
                return Err(rejected(
                    reject.error_code.unwrap_or_default(),
                    reject.reject_message,
                    false,
                ));
            }
            ic_agent::TransportCallResponse::Accepted => {
                let (reply, _) = self
                    .agent
                    .wait(&request_id, self.id)
                    .await
                    .map_err(|e| agent_error(&self.url, e))?;
                return decode(method, &reply);
            }
        };
        match answer_in(&certificate, &request_id).map_err(not_understood)? {
            Answer::Replied(reply) => decode(method, &reply),
            // Read from a certificate this call does not verify: not certified.
            Answer::Rejected { code, message } => Err(rejected(code, message, false)),
            // Not finished when the replica answered: waited for, verified.
            Answer::Unfinished => {
                let (reply, _) = self
                    .agent
                    .wait(&request_id, self.id)
                    .await
                    .map_err(|e| agent_error(&self.url, e))?;
                decode(method, &reply)
            }
        }
    }

    async fn query<A, R>(&self, method: &str, args: A) -> Result<R, Error>
    where
        A: ArgumentEncoder,
        R: DeserializeOwned + CandidType,
    {
        let arg = candid::encode_args(args).expect("arguments encode");
        let reply = self
            .agent
            .query(&self.id, method)
            .with_arg(arg)
            .call()
            .await
            .map_err(|e| agent_error(&self.url(), e))?;
        decode(method, &reply)
    }
}

/// What a node sent as text, as the user may be shown it: its first 200 characters, without
/// control characters (a node's bytes never move a terminal's cursor or colour).
fn node_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// What a call's certificate says of it.
#[derive(Debug, PartialEq)]
enum Answer {
    /// Its reply (Candid).
    Replied(Vec<u8>),
    /// Rejected (a trap, or a refusal by the system), with the IC's error code.
    Rejected { code: String, message: String },
    /// Not finished, or not in this certificate.
    Unfinished,
}

/// What the certificate `certificate` (CBOR) says of request `id`: read, **not verified**.
fn answer_in(certificate: &[u8], id: &ic_agent::RequestId) -> Result<Answer, String> {
    use ic_agent::hash_tree::LookupResult;
    let certificate: ic_agent::Certificate =
        serde_cbor::from_slice(certificate).map_err(|e| e.to_string())?;
    let look = |leaf: &str| match certificate.tree.lookup_path([
        b"request_status".as_slice(),
        id.as_slice(),
        leaf.as_bytes(),
    ]) {
        LookupResult::Found(value) => Some(value.to_vec()),
        _ => None,
    };
    let text = |leaf: &str| String::from_utf8_lossy(&look(leaf).unwrap_or_default()).into_owned();
    Ok(match text("status").as_str() {
        "replied" => Answer::Replied(look("reply").ok_or("a reply that is not there")?),
        "rejected" => Answer::Rejected {
            code: text("error_code"),
            message: text("reject_message"),
        },
        _ => Answer::Unfinished,
    })
}

fn blob(bytes: &[u8]) -> ByteBuf {
    ByteBuf::from(bytes.to_vec())
}

/// The methods, in vault.did's order of PROTOCOL.md §3.
impl VaultCanister {
    /// Usage, quota, counts (owner).
    pub async fn vault_info(&self) -> Result<VaultInfo, Error> {
        self.query("vault_info", ()).await
    }
    /// Sets the quota (owner).
    pub async fn set_quota(&self, bytes: u64) -> Result<(), Error> {
        self.update("set_quota", (bytes,)).await
    }
    /// Stores the wrapped keys, once (owner).
    pub async fn setup(&self, args: SetupArgs) -> Result<(), Error> {
        self.update("setup", (args,)).await
    }
    /// The public head of the passphrase record.
    pub async fn unlock_params(&self) -> Result<Vec<u8>, Error> {
        self.query::<_, ByteBuf>("unlock_params", ())
            .await
            .map(ByteBuf::into_vec)
    }
    /// The owner's public sharing key.
    pub async fn sharing_key(&self) -> Result<Vec<u8>, Error> {
        self.query::<_, ByteBuf>("sharing_key", ())
            .await
            .map(ByteBuf::into_vec)
    }
    /// Whether this identity is admitted, the challenge to sign and the unlock params: an
    /// update call, so the answer is certified (no single node can make it up).
    pub async fn admission_ticket(&self) -> Result<AdmissionTicket, Error> {
        self.update("admission_ticket", ()).await
    }
    /// Admits this identity as one of the owner's devices.
    pub async fn admit_device(
        &self,
        method: UnlockMethod,
        proof: &[u8],
        counter: u64,
    ) -> Result<(), Error> {
        self.update(
            "admit_device",
            (AdmitDeviceArgs {
                method,
                proof: blob(proof),
                counter: Some(counter),
            },),
        )
        .await
    }
    /// Forgets every caller's wrong passphrase proofs (owner).
    pub async fn clear_unlock_failures(&self) -> Result<u64, Error> {
        self.update("clear_unlock_failures", ()).await
    }
    /// Replaces the recovery wrapping of the master key and its verifier (owner).
    pub async fn change_recovery(&self, wrapped_key: &[u8], verifier: &[u8]) -> Result<(), Error> {
        self.update("change_recovery", (blob(wrapped_key), blob(verifier)))
            .await
    }
    /// Every album, read certified (`list_albums` called as an update): what a rotation of the
    /// master key must reach, which one node must not be able to hide.
    pub async fn list_albums_certified(&self) -> Result<Vec<AlbumInfo>, Error> {
        self.update("list_albums", ()).await
    }
    /// Replaces the master key (owner): FORMAT §3.
    pub async fn rotate_master_key(
        &self,
        args: RotateMasterKeyArgs,
    ) -> Result<MasterKeyRotated, Error> {
        self.update("rotate_master_key", (args,)).await
    }
    /// The wrapped keys (owner).
    pub async fn profile(&self) -> Result<Profile, Error> {
        self.query("profile", ()).await
    }
    /// Replaces the passphrase record (owner).
    pub async fn change_passphrase(&self, record: &[u8], verifier: &[u8]) -> Result<(), Error> {
        self.update("change_passphrase", (blob(record), blob(verifier)))
            .await
    }
    /// The owner's devices.
    pub async fn devices(&self) -> Result<Vec<Device>, Error> {
        self.query("devices", ()).await
    }
    /// Removes one of the owner's devices.
    pub async fn remove_device(&self, device: Principal) -> Result<(), Error> {
        self.update("remove_device", (device,)).await
    }
    /// Admits a passkey as one of the owner's devices (owner).
    pub async fn add_passkey(&self, args: AddPasskeyArgs) -> Result<(), Error> {
        self.update("add_passkey", (args,)).await
    }
    /// The public key of the passkey `credential_id` names, if it is one of the vault's
    /// (anyone). One node answers: a wrong key makes the passkey's calls fail, nothing more.
    pub async fn passkey_key(&self, credential_id: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.query::<_, Option<ByteBuf>>("passkey_key", (blob(credential_id),))
            .await
            .map(|k| k.map(ByteBuf::into_vec))
    }
    /// Starts or resumes an upload.
    pub async fn begin_upload(&self, args: BeginUploadArgs) -> Result<UploadStatus, Error> {
        self.update("begin_upload", (args,)).await
    }
    /// The same, its answer **not verified** (as `put_chunk`'s): only a status that a chunk
    /// list can be sent on may be taken from it; anything else (a duplicate, a refusal) must be
    /// asked again verified before it is acted on (`upload::send`).
    pub async fn begin_upload_unverified(
        &self,
        args: BeginUploadArgs,
    ) -> Result<UploadStatus, Error> {
        self.update_unverified("begin_upload", (args,)).await
    }
    /// Sends one encrypted chunk.
    pub async fn put_chunk(&self, file_id: &[u8], index: u32, data: &[u8]) -> Result<(), Error> {
        let args = PutChunkArgsRef {
            file_id: serde_bytes::Bytes::new(file_id),
            index,
            data: serde_bytes::Bytes::new(data),
        };
        self.update_unverified("put_chunk", (args,)).await
    }
    /// Where an upload stands.
    pub async fn upload_status(&self, file_id: &[u8]) -> Result<UploadStatus, Error> {
        self.query("upload_status", (blob(file_id),)).await
    }
    /// Completes an upload.
    pub async fn commit_upload(&self, file_id: &[u8]) -> Result<FileInfo, Error> {
        self.update("commit_upload", (blob(file_id),)).await
    }
    /// Gives an upload up.
    pub async fn abort_upload(&self, file_id: &[u8]) -> Result<(), Error> {
        self.update("abort_upload", (blob(file_id),)).await
    }
    /// A page of the uploads in progress (owner).
    pub async fn list_uploads(&self, args: ListUploadsArgs) -> Result<UploadPage, Error> {
        self.query("list_uploads", (args,)).await
    }
    /// A page of files.
    pub async fn list_files(&self, args: ListFilesArgs) -> Result<FilePage, Error> {
        self.query("list_files", (args,)).await
    }
    /// One file's record.
    pub async fn get_file(
        &self,
        file_id: &[u8],
        link: Option<LinkAccess>,
    ) -> Result<FileInfo, Error> {
        self.query(
            "get_file",
            (FileRef {
                file_id: blob(file_id),
                link,
            },),
        )
        .await
    }
    /// One file's sealed thumbnail.
    pub async fn get_thumbnail(
        &self,
        file_id: &[u8],
        link: Option<LinkAccess>,
    ) -> Result<Vec<u8>, Error> {
        self.query::<_, ByteBuf>(
            "get_thumbnail",
            (FileRef {
                file_id: blob(file_id),
                link,
            },),
        )
        .await
        .map(ByteBuf::into_vec)
    }
    /// One encrypted chunk.
    pub async fn get_chunk(
        &self,
        file_id: &[u8],
        index: u32,
        link: Option<LinkAccess>,
    ) -> Result<Vec<u8>, Error> {
        let args = GetChunkArgs {
            file_id: blob(file_id),
            index,
            link,
        };
        self.query::<_, ByteBuf>("get_chunk", (args,))
            .await
            .map(ByteBuf::into_vec)
    }
    /// Moves a file into, out of or between albums.
    pub async fn move_file(&self, args: MoveFileArgs) -> Result<FileInfo, Error> {
        self.update("move_file", (args,)).await
    }
    /// Moves files to the trash.
    pub async fn trash(&self, ids: Vec<ByteBuf>) -> Result<(), Error> {
        self.update("trash", (ids,)).await
    }
    /// Brings files back from the trash.
    pub async fn restore(&self, ids: Vec<ByteBuf>) -> Result<(), Error> {
        self.update("restore", (ids,)).await
    }
    /// Deletes trashed files now.
    pub async fn purge(&self, ids: Vec<ByteBuf>) -> Result<(), Error> {
        self.update("purge", (ids,)).await
    }
    /// Creates an album.
    pub async fn create_album(&self, args: CreateAlbumArgs) -> Result<AlbumInfo, Error> {
        self.update("create_album", (args,)).await
    }
    /// Renames an album (the name sealed under its current key).
    pub async fn rename_album(&self, album: &[u8], name: Vec<u8>) -> Result<(), Error> {
        self.update("rename_album", (blob(album), ByteBuf::from(name)))
            .await
    }
    /// Deletes an empty album.
    pub async fn delete_album(&self, album: &[u8]) -> Result<(), Error> {
        self.update("delete_album", (blob(album),)).await
    }
    /// Every album with its wrapped keys (owner).
    pub async fn list_albums(&self) -> Result<Vec<AlbumInfo>, Error> {
        self.query("list_albums", ()).await
    }
    /// One album (owner with keys; grantee and link holder: name and version).
    pub async fn get_album(
        &self,
        album: &[u8],
        link: Option<LinkAccess>,
    ) -> Result<AlbumInfo, Error> {
        self.query("get_album", (blob(album), link)).await
    }
    /// Shares a target with a person.
    pub async fn grant(&self, args: GrantArgs) -> Result<GrantInfo, Error> {
        self.update("grant", (args,)).await
    }
    /// Attaches the owner's authenticator to a grant made without one, if its stored terms are
    /// the ones given (an update: its answer is certified).
    pub async fn authenticate_grant(
        &self,
        args: AuthenticateGrantArgs,
    ) -> Result<GrantInfo, Error> {
        self.update("authenticate_grant", (args,)).await
    }
    /// Withdraws a grant.
    pub async fn revoke_grant(&self, target: Target, grantee: Principal) -> Result<(), Error> {
        self.update("revoke_grant", (target, grantee)).await
    }
    /// Grants (of one target, or all).
    pub async fn list_grants(&self, target: Option<Target>) -> Result<Vec<GrantInfo>, Error> {
        self.query("list_grants", (target,)).await
    }
    /// What is shared with the caller, read certified (the query run as an update): the sealed
    /// keys in it are the ones the owner stored, not keys one node sealed itself (HPKE does not
    /// say who sealed). A caller with no live grant is turned away at ingress (`IC0406`): that
    /// is an empty answer.
    pub async fn shared_with_me(&self) -> Result<Vec<SharedItem>, Error> {
        match self.shared_with_me_as_answered().await {
            Err(Error::Rejected { code, .. }) if code == "IC0406" => Ok(Vec::new()),
            answer => answer,
        }
    }
    /// [`Self::shared_with_me`] as the IC answered it: a refusal at ingress stays one (the
    /// share inbox tells a certified "nothing" from one node's word).
    pub async fn shared_with_me_as_answered(&self) -> Result<Vec<SharedItem>, Error> {
        self.update("shared_with_me", ()).await
    }
    /// Tells this vault (someone else's) that `vault`, the caller's, shares something with its
    /// owner: a hint for their "Shared with me" (the share inbox).
    pub async fn notify_shared(&self, vault: Principal) -> Result<(), Error> {
        self.update("notify_shared", (vault,)).await
    }
    /// The owner's share notices and the vaults they follow, read certified (the query run as
    /// an update: one node cannot hide a vault followed or add one). A vault of a release
    /// before the inbox has none: empty.
    pub async fn inbox(&self) -> Result<Inbox, Error> {
        match self.update("inbox", ()).await {
            Err(Error::Rejected { code, .. }) if code == NO_SUCH_METHOD => Ok(Inbox::default()),
            answer => answer,
        }
    }
    /// Follows `vault` (its shares show in "Shared with me") or drops its notices and stops
    /// following it.
    pub async fn answer_share(&self, vault: Principal, follow: bool) -> Result<(), Error> {
        self.update("answer_share", (AnswerShareArgs { vault, follow },))
            .await
    }
    /// Rotates an album's key, revoking people.
    pub async fn rotate_album_key(&self, args: RotateAlbumKeyArgs) -> Result<u32, Error> {
        self.update("rotate_album_key", (args,)).await
    }
    /// Creates a link.
    pub async fn create_link(&self, args: CreateLinkArgs) -> Result<LinkInfo, Error> {
        self.update("create_link", (args,)).await
    }
    /// Revokes a link.
    pub async fn revoke_link(&self, token_hash: &[u8]) -> Result<(), Error> {
        self.update("revoke_link", (blob(token_hash),)).await
    }
    /// The owner's links.
    pub async fn list_links(&self) -> Result<Vec<LinkInfo>, Error> {
        self.query("list_links", ()).await
    }
    /// The owner's links, read certified (`list_links` called as an update).
    pub async fn list_links_certified(&self) -> Result<Vec<LinkInfo>, Error> {
        self.update("list_links", ()).await
    }
    /// What a link holder needs.
    pub async fn open_link(&self, access: LinkAccess) -> Result<LinkOpen, Error> {
        self.query("open_link", (access,)).await
    }
    /// Counts a link's opening.
    pub async fn link_opened(&self, access: LinkAccess) -> Result<u64, Error> {
        self.update("link_opened", (access,)).await
    }
    /// A page of the activity log, newest first.
    pub async fn activity(
        &self,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> Result<ActivityPage, Error> {
        self.query("activity", (before, limit)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ic_agent::hash_tree::{HashTree, Label, fork, label, leaf};

    /// A certificate (unsigned: it is read, not verified) of `request`'s `fields`, beside
    /// another request's reply.
    fn certificate(request: &[u8; 32], fields: &[(&str, &[u8])]) -> Vec<u8> {
        // A tree's labels are in order.
        let mut fields = fields.to_vec();
        fields.sort();
        let mut status: Option<HashTree<Vec<u8>>> = None;
        for (name, value) in fields {
            let node = label(Label::from(name.as_bytes()), leaf(value.to_vec()));
            status = Some(match status {
                Some(tree) => fork(tree, node),
                None => node,
            });
        }
        let tree = label(
            "request_status",
            fork(
                label(
                    Label::from(&[0u8; 32][..]),
                    label("status", leaf(b"replied".to_vec())),
                ),
                label(Label::from(&request[..]), status.unwrap()),
            ),
        );
        serde_cbor::to_vec(&ic_agent::Certificate {
            tree,
            signature: vec![],
            delegation: None,
        })
        .unwrap()
    }

    /// What a put_chunk's certificate can say, read as ic-agent reads it: a reply, a
    /// rejection (a trap: the IC's error code and message), an unfinished call (waited for
    /// through the agent); a certificate that is not one is refused.
    #[test]
    fn an_unverified_answer_is_read_as_the_agent_reads_it() {
        let id = [9u8; 32];
        let request = ic_agent::RequestId::new(&id);
        let reply = candid::encode_one(VaultResult::<()>::Ok(())).unwrap();
        assert_eq!(
            answer_in(
                &certificate(&id, &[("status", b"replied"), ("reply", &reply)]),
                &request
            ),
            Ok(Answer::Replied(reply))
        );
        assert_eq!(
            answer_in(
                &certificate(
                    &id,
                    &[
                        ("status", b"rejected"),
                        ("reject_code", &[5]),
                        ("reject_message", b"the canister trapped"),
                        ("error_code", b"IC0503"),
                    ]
                ),
                &request
            ),
            Ok(Answer::Rejected {
                code: "IC0503".into(),
                message: "the canister trapped".into()
            })
        );
        for status in [&b"processing"[..], b"received"] {
            assert_eq!(
                answer_in(&certificate(&id, &[("status", status)]), &request),
                Ok(Answer::Unfinished)
            );
        }
        // Only the other request's reply is there.
        assert_eq!(
            answer_in(
                &certificate(&[8; 32], &[("status", b"replied"), ("reply", b"x")]),
                &request
            ),
            Ok(Answer::Unfinished)
        );
        // Replied without a reply; not a certificate at all.
        assert!(answer_in(&certificate(&id, &[("status", b"replied")]), &request).is_err());
        assert!(answer_in(b"\x00\x01", &request).is_err());
        assert_eq!(node_text(b"\x1b[2Jgone\r\n"), "[2Jgone");
        assert_eq!(node_text(&[b'a'; 300]).len(), 200);
        // What the user is told of a refusal.
        assert!(matches!(
            rejected("IC0406".into(), "no".into(), false),
            Error::Rejected { message, .. } if message.contains("not allowed")
        ));
    }
}
