//! Ingress authentication against envelopes made by ic-agent 0.49 itself: its identities sign, its
//! request builders (`UpdateBuilder::sign`, `QueryBuilder::sign`, `Agent::sign_request_status`)
//! produce the exact CBOR bytes an agent POSTs, and the tampered cases re-sign or edit those bytes
//! the way `ic_agent`'s `sign_envelope` builds them.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candid::{Encode, Principal};
use ic_agent::identity::{
    AnonymousIdentity, BasicIdentity, DelegatedIdentity, Delegation, DelegationPermissions,
    Prime256v1Identity, Secp256k1Identity, SignedDelegation,
};
use ic_agent::{Agent, Identity};
use ic_transport_types::{Envelope, EnvelopeContent};
use k256::elliptic_curve::scalar::IsHigh;
use local_replica::ingress::{
    Admission, Endpoint, IngressHistory, IngressRefusal, MAX_DELEGATIONS, MAX_INGRESS_TTL_NANOS,
    ManagementTarget, PERMITTED_DRIFT_NANOS, RequestContent, STATUS_RETENTION_NANOS, Targets,
    UnsupportedScheme, authenticate,
};

#[path = "ingress/webauthn.rs"]
mod webauthn;

const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;

fn canister(n: u8) -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, n, 1, 1])
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos() as u64
}

fn at(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

fn agent(identity: impl Identity + 'static) -> Agent {
    Agent::builder()
        .with_url("http://127.0.0.1:4943")
        .with_identity(identity)
        .build()
        .expect("an agent builds without a network")
}

fn ed25519(seed: u8) -> BasicIdentity {
    BasicIdentity::from_raw_key(&[seed; 32])
}

fn secp256k1(seed: u8) -> Secp256k1Identity {
    Secp256k1Identity::from_private_key(
        k256::SecretKey::from_slice(&[seed; 32]).expect("a valid scalar"),
    )
}

fn p256(seed: u8) -> Prime256v1Identity {
    Prime256v1Identity::from_private_key(
        p256::SecretKey::from_slice(&[seed; 32]).expect("a valid scalar"),
    )
}

fn delegation(
    from: &dyn Identity,
    to: &dyn Identity,
    expiration: u64,
    targets: Option<Vec<Principal>>,
    permissions: Option<DelegationPermissions>,
) -> SignedDelegation {
    let delegation = Delegation {
        pubkey: to.public_key().expect("the delegate has a key"),
        expiration,
        targets,
        permissions,
    };
    let signature = from
        .sign_delegation(&delegation)
        .expect("the delegator signs")
        .signature
        .expect("a signature");
    SignedDelegation {
        delegation,
        signature,
    }
}

/// A session key (P-256) acting for an Ed25519 root key through `chain`.
fn delegated(
    root: &dyn Identity,
    session: Prime256v1Identity,
    chain: Vec<SignedDelegation>,
) -> DelegatedIdentity {
    DelegatedIdentity::new_unchecked(
        root.public_key().expect("the root has a key"),
        Box::new(session),
        chain,
    )
}

/// The bytes an agent POSTs to `/api/v4/canister/<canister>/call`.
fn signed_call(agent: &Agent, canister: Principal, expiry: u64) -> Vec<u8> {
    agent
        .update(&canister, "greet")
        .with_arg(Encode!(&"world").expect("candid encodes"))
        .expire_at(at(expiry))
        .sign()
        .expect("the agent signs")
        .signed_update
}

fn signed_query(agent: &Agent, canister: Principal, expiry: u64) -> Vec<u8> {
    agent
        .query(&canister, "read")
        .with_arg(Encode!().expect("candid encodes"))
        .expire_at(at(expiry))
        .sign()
        .expect("the agent signs")
        .signed_query
}

fn call_endpoint(canister: Principal) -> Endpoint {
    Endpoint::Call {
        effective_canister_id: canister,
    }
}

fn query_endpoint(canister: Principal) -> Endpoint {
    Endpoint::Query {
        effective_canister_id: canister,
    }
}

/// Signs `content` with `identity` and wraps it as ic-agent's `sign_envelope` does.
fn envelope(identity: &dyn Identity, content: EnvelopeContent) -> Vec<u8> {
    let signature = identity.sign(&content).expect("the identity signs");
    Envelope {
        content: Cow::Owned(content),
        sender_pubkey: signature.public_key,
        sender_sig: signature.signature,
        sender_delegation: signature.delegations,
    }
    .encode_bytes()
}

fn decode(bytes: &[u8]) -> Envelope<'static> {
    serde_cbor::from_slice(bytes).expect("an agent's envelope decodes")
}

fn call_content(sender: Principal, canister: Principal, expiry: u64) -> EnvelopeContent {
    EnvelopeContent::Call {
        nonce: Some(vec![7; 16]),
        ingress_expiry: expiry,
        sender,
        canister_id: canister,
        method_name: "greet".into(),
        arg: Encode!(&"world").expect("candid encodes"),
        sender_info: None,
    }
}

#[test]
fn every_agent_identity_is_accepted_as_its_sender() {
    let t = now();
    let root = ed25519(1);
    let session = p256(2);
    let chain = vec![delegation(&root, &session, t + 10 * MINUTE, None, None)];
    let identities: Vec<(&str, Box<dyn Identity>)> = vec![
        ("ed25519", Box::new(ed25519(3))),
        ("secp256k1", Box::new(secp256k1(4))),
        ("p256", Box::new(p256(5))),
        ("delegated", Box::new(delegated(&root, session, chain))),
        ("anonymous", Box::new(AnonymousIdentity)),
    ];
    let target = canister(1);
    for (name, identity) in identities {
        let sender = identity.sender().expect("a sender");
        let agent = agent(identity);

        let signed = agent
            .update(&target, "greet")
            .with_arg(Encode!(&"world").expect("candid encodes"))
            .expire_at(at(t + 4 * MINUTE))
            .sign()
            .expect("the agent signs");
        let verified = authenticate(call_endpoint(target), &signed.signed_update, t)
            .unwrap_or_else(|e| panic!("{name} call refused: {e}"));
        assert_eq!(verified.sender, sender, "{name}");
        assert_eq!(verified.request_id, signed.request_id, "{name}");
        assert_eq!(verified.ingress_expiry, signed.ingress_expiry, "{name}");
        assert_eq!(verified.targets, Targets::All, "{name}");
        let RequestContent::Call(call) = &verified.content else {
            panic!("{name}: a call is a call");
        };
        assert_eq!(
            (call.canister_id, call.method_name.as_str(), &call.arg),
            (target, "greet", &signed.arg),
            "{name}"
        );

        let query = signed_query(&agent, target, t + 4 * MINUTE);
        let verified = authenticate(query_endpoint(target), &query, t)
            .unwrap_or_else(|e| panic!("{name} query refused: {e}"));
        assert_eq!(verified.sender, sender, "{name}");
        assert!(
            matches!(verified.content, RequestContent::Query(_)),
            "{name}"
        );

        // read_state takes its expiry from the agent's own clock.
        let status = agent
            .sign_request_status(target, signed.request_id)
            .expect("the agent signs");
        let verified = authenticate(
            Endpoint::CanisterReadState {
                effective_canister_id: target,
            },
            &status.signed_request_status,
            now(),
        )
        .unwrap_or_else(|e| panic!("{name} read_state refused: {e}"));
        assert_eq!(verified.sender, sender, "{name}");
        assert_eq!(
            verified.content,
            RequestContent::ReadState {
                paths: vec![vec![b"request_status".to_vec(), signed.request_id.to_vec()]],
            },
            "{name}"
        );
    }
}

#[test]
fn subnet_read_state_is_accepted() {
    let agent = agent(secp256k1(9));
    let status = agent
        .sign_request_status(canister(1), ic_transport_types::RequestId::new(&[3; 32]))
        .expect("the agent signs");
    let subnet = Principal::from_slice(&[9; 29]);
    let verified = authenticate(
        Endpoint::SubnetReadState { subnet_id: subnet },
        &status.signed_request_status,
        now(),
    )
    .expect("accepted");
    assert_eq!(verified.sender, agent.get_principal().expect("a principal"));
}

#[test]
fn a_tampered_signature_is_refused() {
    let t = now();
    for identity in [
        Box::new(ed25519(3)) as Box<dyn Identity>,
        Box::new(secp256k1(4)),
        Box::new(p256(5)),
    ] {
        let bytes = signed_call(&agent(identity), canister(1), t + MINUTE);
        let mut envelope = decode(&bytes);
        let request_id = envelope.content.to_request_id();
        envelope.sender_sig.as_mut().expect("signed")[10] ^= 1;
        assert_eq!(
            authenticate(call_endpoint(canister(1)), &envelope.encode_bytes(), t),
            Err(IngressRefusal::InvalidSignature { request_id })
        );
    }
}

#[test]
fn tampered_content_no_longer_matches_its_signature() {
    let t = now();
    let bytes = signed_call(&agent(ed25519(3)), canister(1), t + MINUTE);
    let mut envelope = decode(&bytes);
    let EnvelopeContent::Call { arg, .. } = envelope.content.to_mut() else {
        panic!("a call");
    };
    arg.push(0);
    let request_id = envelope.content.to_request_id();
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &envelope.encode_bytes(), t),
        Err(IngressRefusal::InvalidSignature { request_id })
    );
}

#[test]
fn a_high_s_secp256k1_signature_is_accepted() {
    let t = now();
    let bytes = signed_call(&agent(secp256k1(4)), canister(1), t + MINUTE);
    let mut envelope = decode(&bytes);
    let signature =
        k256::ecdsa::Signature::from_slice(envelope.sender_sig.as_ref().expect("signed"))
            .expect("64 bytes");
    let high_s = k256::ecdsa::Signature::from_scalars(signature.r(), -*signature.s())
        .expect("a valid signature");
    assert!(bool::from(high_s.s().is_high()), "ic-agent signs low-S");
    envelope.sender_sig = Some(high_s.to_bytes().to_vec());
    authenticate(call_endpoint(canister(1)), &envelope.encode_bytes(), t).expect("accepted");
}

#[test]
fn a_sender_that_is_not_its_key_is_refused() {
    let t = now();
    let signer = ed25519(3);
    let impostor = p256(5).sender().expect("a principal");
    let bytes = envelope(&signer, call_content(impostor, canister(1), t + MINUTE));
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &bytes, t),
        Err(IngressRefusal::SenderDoesNotMatchKey {
            sender: impostor,
            key_principal: signer.sender().expect("a principal"),
        })
    );
}

#[test]
fn an_unsigned_request_from_a_named_sender_is_refused() {
    let t = now();
    let bytes = signed_call(&agent(ed25519(3)), canister(1), t + MINUTE);
    let mut envelope = decode(&bytes);
    envelope.sender_pubkey = None;
    envelope.sender_sig = None;
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &envelope.encode_bytes(), t),
        Err(IngressRefusal::MissingSignature {
            sender: ed25519(3).sender().expect("a principal"),
        })
    );

    let mut envelope = decode(&bytes);
    envelope.sender_sig = None;
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &envelope.encode_bytes(), t),
        Err(IngressRefusal::IncompleteAuthentication)
    );
}

#[test]
fn a_signed_request_from_the_anonymous_sender_is_refused() {
    let t = now();
    let bytes = envelope(
        &ed25519(3),
        call_content(Principal::anonymous(), canister(1), t + MINUTE),
    );
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &bytes, t),
        Err(IngressRefusal::AnonymousWithSignature)
    );
}

#[test]
fn an_expired_request_is_refused() {
    let t = now();
    let agent = agent(ed25519(3));
    let expired = signed_call(&agent, canister(1), t - SECOND);
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &expired, t),
        Err(IngressRefusal::Expired {
            ingress_expiry: t - SECOND,
            now: t,
        })
    );
    // The same request was fine while it was current, up to its expiry itself.
    authenticate(call_endpoint(canister(1)), &expired, t - SECOND).expect("not yet expired");

    let query = signed_query(&agent, canister(1), t - SECOND);
    assert!(matches!(
        authenticate(query_endpoint(canister(1)), &query, t),
        Err(IngressRefusal::Expired { .. })
    ));
}

#[test]
fn an_expiry_too_far_ahead_is_refused() {
    let t = now();
    let latest = t + MAX_INGRESS_TTL_NANOS + PERMITTED_DRIFT_NANOS;
    let agent = agent(ed25519(3));
    authenticate(
        call_endpoint(canister(1)),
        &signed_call(&agent, canister(1), latest),
        t,
    )
    .expect("the furthest allowed expiry");
    assert_eq!(
        authenticate(
            call_endpoint(canister(1)),
            &signed_call(&agent, canister(1), latest + 1),
            t
        ),
        Err(IngressRefusal::ExpiryTooFar {
            ingress_expiry: latest + 1,
            latest,
        })
    );
}

#[test]
fn anonymous_queries_may_carry_any_expiry_but_anonymous_calls_may_not() {
    let t = now();
    let agent = agent(AnonymousIdentity);
    let query = signed_query(&agent, canister(1), t - MINUTE);
    authenticate(query_endpoint(canister(1)), &query, t).expect("as on the IC");
    let call = signed_call(&agent, canister(1), t - MINUTE);
    assert!(matches!(
        authenticate(call_endpoint(canister(1)), &call, t),
        Err(IngressRefusal::Expired { .. })
    ));
}

#[test]
fn an_expired_delegation_is_refused() {
    let t = now();
    let root = ed25519(1);
    let chain = vec![delegation(&root, &p256(2), t - SECOND, None, None)];
    let agent = agent(delegated(&root, p256(2), chain));
    let bytes = signed_call(&agent, canister(1), t + MINUTE);
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &bytes, t),
        Err(IngressRefusal::DelegationExpired {
            index: 0,
            expiration: t - SECOND,
            now: t,
        })
    );
}

#[test]
fn a_call_outside_the_delegation_targets_is_refused() {
    let t = now();
    let root = ed25519(1);
    let allowed = vec![canister(1), canister(2)];
    let chain = vec![delegation(
        &root,
        &p256(2),
        t + MINUTE,
        Some(allowed.clone()),
        None,
    )];
    let agent = agent(delegated(&root, p256(2), chain));

    let verified = authenticate(
        call_endpoint(canister(2)),
        &signed_call(&agent, canister(2), t + MINUTE),
        t,
    )
    .expect("a listed canister");
    assert_eq!(
        verified.targets,
        Targets::Only(allowed.into_iter().collect())
    );

    assert_eq!(
        authenticate(
            call_endpoint(canister(3)),
            &signed_call(&agent, canister(3), t + MINUTE),
            t
        ),
        Err(IngressRefusal::CanisterNotInTargets {
            canister_id: canister(3),
        })
    );
    assert_eq!(
        authenticate(
            query_endpoint(canister(3)),
            &signed_query(&agent, canister(3), t + MINUTE),
            t
        ),
        Err(IngressRefusal::CanisterNotInTargets {
            canister_id: canister(3),
        })
    );
}

#[test]
fn targets_narrow_along_a_chain() {
    let t = now();
    let (root, middle, session) = (ed25519(1), secp256k1(2), p256(3));
    let chain = vec![
        delegation(
            &root,
            &middle,
            t + MINUTE,
            Some(vec![canister(1), canister(2)]),
            None,
        ),
        delegation(
            &middle,
            &session,
            t + MINUTE,
            Some(vec![canister(2), canister(3)]),
            None,
        ),
    ];
    let agent = agent(delegated(&root, p256(3), chain));
    assert_eq!(agent.get_principal(), root.sender());
    let verified = authenticate(
        call_endpoint(canister(2)),
        &signed_call(&agent, canister(2), t + MINUTE),
        t,
    )
    .expect("in both delegations' targets");
    assert_eq!(verified.sender, root.sender().expect("a principal"));
    for outside in [canister(1), canister(3)] {
        assert_eq!(
            authenticate(
                call_endpoint(outside),
                &signed_call(&agent, outside, t + MINUTE),
                t
            ),
            Err(IngressRefusal::CanisterNotInTargets {
                canister_id: outside,
            })
        );
    }
}

#[test]
fn a_broken_chain_is_refused() {
    let t = now();
    let (root, session, stranger) = (ed25519(1), p256(2), ed25519(9));
    let forged = vec![delegation(&stranger, &session, t + MINUTE, None, None)];
    let agent_with_forged = agent(delegated(&root, p256(2), forged));
    assert_eq!(
        authenticate(
            call_endpoint(canister(1)),
            &signed_call(&agent_with_forged, canister(1), t + MINUTE),
            t
        ),
        Err(IngressRefusal::InvalidDelegationSignature { index: 0 })
    );

    // The delegation is sound but the request is signed by a key it does not name.
    let chain = vec![delegation(&root, &session, t + MINUTE, None, None)];
    let wrong_signer = DelegatedIdentity::new_unchecked(
        root.public_key().expect("a key"),
        Box::new(p256(7)),
        chain,
    );
    assert!(matches!(
        authenticate(
            call_endpoint(canister(1)),
            &signed_call(&agent(wrong_signer), canister(1), t + MINUTE),
            t
        ),
        Err(IngressRefusal::InvalidSignature { .. })
    ));
}

#[test]
fn a_chain_longer_than_the_spec_allows_or_with_a_cycle_is_refused() {
    let t = now();
    let keys: Vec<BasicIdentity> = (1..=MAX_DELEGATIONS as u8 + 1).map(ed25519).collect();
    let session = p256(100);
    let chain_to_session = |keys: &[BasicIdentity]| {
        let mut chain: Vec<SignedDelegation> = keys
            .windows(2)
            .map(|pair| delegation(&pair[0], &pair[1], t + MINUTE, None, None))
            .collect();
        let last = keys.last().expect("at least one key");
        chain.push(delegation(last, &session, t + MINUTE, None, None));
        chain
    };

    let longest = chain_to_session(&keys[..MAX_DELEGATIONS]);
    assert_eq!(longest.len(), MAX_DELEGATIONS);
    let agent_longest = agent(delegated(&keys[0], p256(100), longest));
    authenticate(
        call_endpoint(canister(1)),
        &signed_call(&agent_longest, canister(1), t + MINUTE),
        t,
    )
    .expect("the longest chain the spec allows");

    let too_long = chain_to_session(&keys);
    let agent_too_long = agent(delegated(&keys[0], p256(100), too_long));
    assert_eq!(
        authenticate(
            call_endpoint(canister(1)),
            &signed_call(&agent_too_long, canister(1), t + MINUTE),
            t
        ),
        Err(IngressRefusal::TooManyDelegations {
            count: MAX_DELEGATIONS + 1,
        })
    );

    let (a, b) = (ed25519(1), ed25519(2));
    let cycle = vec![
        delegation(&a, &b, t + MINUTE, None, None),
        delegation(&b, &a, t + MINUTE, None, None),
    ];
    let agent_cycle = agent(delegated(&a, p256(3), cycle));
    assert_eq!(
        authenticate(
            call_endpoint(canister(1)),
            &signed_call(&agent_cycle, canister(1), t + MINUTE),
            t
        ),
        Err(IngressRefusal::DelegationCycle { index: 1 })
    );
}

#[test]
fn a_delegation_for_queries_only_refuses_calls() {
    let t = now();
    let root = ed25519(1);
    let chain = vec![delegation(
        &root,
        &p256(2),
        t + MINUTE,
        None,
        Some(DelegationPermissions::Queries),
    )];
    let agent = agent(delegated(&root, p256(2), chain));
    authenticate(
        query_endpoint(canister(1)),
        &signed_query(&agent, canister(1), t + MINUTE),
        t,
    )
    .expect("a query is allowed");
    assert_eq!(
        authenticate(
            call_endpoint(canister(1)),
            &signed_call(&agent, canister(1), t + MINUTE),
            t
        ),
        Err(IngressRefusal::DelegationForQueriesOnly)
    );
}

#[test]
fn a_canister_id_other_than_the_url_is_refused() {
    let t = now();
    let agent = agent(ed25519(3));
    let bytes = agent
        .update(&canister(1), "greet")
        .with_effective_canister_id(canister(2))
        .expire_at(at(t + MINUTE))
        .sign()
        .expect("the agent signs")
        .signed_update;
    assert_eq!(
        authenticate(call_endpoint(canister(2)), &bytes, t),
        Err(IngressRefusal::CanisterIdMismatch {
            canister_id: canister(1),
            effective_canister_id: canister(2),
        })
    );
    let query = signed_query(&agent, canister(1), t + MINUTE);
    assert_eq!(
        authenticate(query_endpoint(canister(2)), &query, t),
        Err(IngressRefusal::CanisterIdMismatch {
            canister_id: canister(1),
            effective_canister_id: canister(2),
        })
    );
}

#[test]
fn a_management_call_names_its_effective_canister_in_its_argument() {
    #[derive(candid::CandidType)]
    struct CanisterIdRecord {
        canister_id: Principal,
    }
    #[derive(candid::CandidType)]
    struct ProvisionalArgs {
        amount: Option<candid::Nat>,
    }
    let t = now();
    let agent = agent(ed25519(3));
    let management = Principal::management_canister();
    let status_arg = Encode!(&CanisterIdRecord {
        canister_id: canister(5)
    })
    .expect("candid encodes");
    let bytes = agent
        .update(&management, "canister_status")
        .with_arg(status_arg)
        .with_effective_canister_id(canister(5))
        .expire_at(at(t + MINUTE))
        .sign()
        .expect("the agent signs")
        .signed_update;
    let verified = authenticate(call_endpoint(canister(5)), &bytes, t).expect("accepted");
    assert_eq!(
        verified.management_target(),
        Some(ManagementTarget::Canister(canister(5)))
    );

    let create_arg = Encode!(&ProvisionalArgs { amount: None }).expect("candid encodes");
    let bytes = agent
        .update(&management, "provisional_create_canister_with_cycles")
        .with_arg(create_arg)
        .with_effective_canister_id(canister(9))
        .expire_at(at(t + MINUTE))
        .sign()
        .expect("the agent signs")
        .signed_update;
    let verified = authenticate(call_endpoint(canister(9)), &bytes, t).expect("accepted");
    assert_eq!(
        verified.management_target(),
        Some(ManagementTarget::AnyCanister)
    );

    let bytes = agent
        .update(&management, "raw_rand")
        .with_arg(Encode!().expect("candid encodes"))
        .with_effective_canister_id(canister(9))
        .expire_at(at(t + MINUTE))
        .sign()
        .expect("the agent signs")
        .signed_update;
    let verified = authenticate(call_endpoint(canister(9)), &bytes, t).expect("accepted");
    assert_eq!(
        verified.management_target(),
        Some(ManagementTarget::NoCanister)
    );

    let verified = authenticate(
        call_endpoint(canister(1)),
        &signed_call(&agent, canister(1), t + MINUTE),
        t,
    )
    .expect("accepted");
    assert_eq!(verified.management_target(), None);
}

#[test]
fn a_body_for_another_endpoint_or_not_an_envelope_is_refused() {
    let t = now();
    let agent = agent(ed25519(3));
    let query = signed_query(&agent, canister(1), t + MINUTE);
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &query, t),
        Err(IngressRefusal::WrongRequestType {
            expected: "call",
            found: "query",
        })
    );
    for garbage in [
        &b""[..],
        b"\xd9\xd9\xf7",
        b"{\"content\": {}}",
        &query[..query.len() - 1],
    ] {
        assert!(matches!(
            authenticate(query_endpoint(canister(1)), garbage, t),
            Err(IngressRefusal::MalformedEnvelope(_))
        ));
    }
}

#[test]
fn a_nonce_longer_than_32_bytes_is_refused() {
    let t = now();
    let signer = ed25519(3);
    let mut content = call_content(
        signer.sender().expect("a principal"),
        canister(1),
        t + MINUTE,
    );
    let EnvelopeContent::Call { nonce, .. } = &mut content else {
        unreachable!("a call")
    };
    *nonce = Some(vec![1; 33]);
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &envelope(&signer, content), t),
        Err(IngressRefusal::NonceTooLong { length: 33 })
    );
}

#[test]
fn a_canister_signature_key_is_refused_as_unsupported() {
    // SubjectPublicKeyInfo { algorithm 1.3.6.1.4.1.56387.1.2, key |id| · id · seed }, as Internet
    // Identity's keys are.
    let signing_canister = canister(7);
    let seed = b"user anchor 10000";
    let mut key_bits = vec![signing_canister.as_slice().len() as u8];
    key_bits.extend_from_slice(signing_canister.as_slice());
    key_bits.extend_from_slice(seed);
    let mut der = vec![0x30, 0, 0x30, 0x0c, 0x06, 0x0a];
    der.extend_from_slice(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x02]);
    der.extend_from_slice(&[0x03, key_bits.len() as u8 + 1, 0x00]);
    der.extend_from_slice(&key_bits);
    der[1] = (der.len() - 2) as u8;

    let t = now();
    let content = call_content(
        Principal::self_authenticating(&der),
        canister(1),
        t + MINUTE,
    );
    let bytes = Envelope {
        content: Cow::Owned(content),
        sender_pubkey: Some(der),
        sender_sig: Some(vec![0; 64]),
        sender_delegation: None,
    }
    .encode_bytes();
    assert_eq!(
        authenticate(call_endpoint(canister(1)), &bytes, t),
        Err(IngressRefusal::UnsupportedScheme(
            UnsupportedScheme::CanisterSignature
        ))
    );
}

#[test]
fn every_refusal_is_a_bad_request() {
    assert_eq!(IngressRefusal::IncompleteAuthentication.http_status(), 400);
    assert_eq!(
        IngressRefusal::CanisterNotInTargets {
            canister_id: canister(1)
        }
        .http_status(),
        400
    );
}

#[test]
fn a_repeated_request_id_is_admitted_once() {
    let t = now();
    let bytes = signed_call(&agent(ed25519(3)), canister(1), t + MINUTE);
    let first = authenticate(call_endpoint(canister(1)), &bytes, t).expect("accepted");
    let again = authenticate(call_endpoint(canister(1)), &bytes, t + SECOND).expect("accepted");
    assert_eq!(first.request_id, again.request_id);

    let mut history = IngressHistory::new();
    assert_eq!(
        history.admit(first.request_id, first.ingress_expiry, "received", t),
        Admission::New
    );
    assert_eq!(
        history.admit(
            again.request_id,
            again.ingress_expiry,
            "received",
            t + SECOND
        ),
        Admission::Known(&"received")
    );
    assert!(history.set_status(&first.request_id, "replied", t + 2 * SECOND));
    assert_eq!(
        history.admit(
            again.request_id,
            again.ingress_expiry,
            "received",
            t + 3 * SECOND
        ),
        Admission::Known(&"replied")
    );
    assert_eq!(history.len(), 1);
}

#[test]
fn the_history_forgets_a_request_only_after_it_expired_and_its_status_was_kept() {
    let t = 1_700_000_000 * SECOND;
    let (quiet, replied) = (
        ic_transport_types::RequestId::new(&[1; 32]),
        ic_transport_types::RequestId::new(&[2; 32]),
    );
    let mut history = IngressHistory::new();
    assert_eq!(history.admit(quiet, t + MINUTE, 0, t), Admission::New);
    assert_eq!(history.admit(replied, t + MINUTE, 0, t), Admission::New);
    assert!(history.set_status(&replied, 1, t + 30 * SECOND));

    assert_eq!(
        history.evict_expired(t + MINUTE),
        vec![],
        "at its expiry a request still counts"
    );
    assert_eq!(history.evict_expired(t + MINUTE + 1), vec![quiet]);
    assert_eq!(history.status(&quiet), None);
    assert_eq!(history.status(&replied), Some(&1), "kept after its reply");

    let replied_until = t + 30 * SECOND + STATUS_RETENTION_NANOS;
    assert_eq!(history.evict_expired(replied_until), vec![]);
    assert_eq!(history.evict_expired(replied_until + 1), vec![replied]);
    assert!(history.is_empty());
    assert!(
        !history.set_status(&replied, 2, replied_until + 2),
        "forgotten"
    );

    // Once forgotten, the same request can only come back expired, and is refused then.
    assert_eq!(
        history.admit(quiet, t + MINUTE, 0, t + 2 * MINUTE),
        Admission::New
    );
    assert_eq!(history.evict_expired(t + 2 * MINUTE + 1), vec![quiet]);
}

#[test]
fn many_requests_evict_in_expiry_order() {
    let t = 1_700_000_000 * SECOND;
    let mut history = IngressHistory::new();
    for n in 0..100u8 {
        let expiry = t + u64::from(n % 10) * SECOND;
        assert_eq!(
            history.admit(ic_transport_types::RequestId::new(&[n; 32]), expiry, n, t),
            Admission::New
        );
    }
    for seconds in 0..10u64 {
        assert_eq!(history.evict_expired(t + seconds * SECOND + 1).len(), 10);
        assert_eq!(history.len(), 100 - 10 * (seconds as usize + 1));
    }
}
