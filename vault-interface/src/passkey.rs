//! A passkey's public key as the IC takes it (interface specification, "Web Authentication"):
//! the COSE key a WebAuthn authenticator made, in a DER `SubjectPublicKeyInfo` whose algorithm
//! is the object identifier 1.3.6.1.4.1.56387.1.1 and whose BIT STRING holds the COSE key's
//! CBOR. The client wraps what the browser gives ([`der_wrap`]); the canister checks what it
//! is asked to admit ([`cose_key`]). Whether the COSE key itself is one the IC verifies is the
//! IC's to say on the passkey's first call.

/// `SEQUENCE { OBJECT IDENTIFIER 1.3.6.1.4.1.56387.1.1 }`: the algorithm of every passkey key.
const ALGORITHM: [u8; 14] = [
    0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x01,
];

/// The largest COSE key taken (an RSA-4096 key is about 530 bytes).
pub const MAX_COSE_KEY_SIZE: usize = 2048;

/// A DER length.
fn length(len: usize) -> Vec<u8> {
    match len {
        0x00..=0x7f => vec![len as u8],
        0x80..=0xff => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

/// `cose`, a COSE key, as the IC's DER-wrapped passkey key. `None` when it is empty or longer
/// than [`MAX_COSE_KEY_SIZE`].
pub fn der_wrap(cose: &[u8]) -> Option<Vec<u8>> {
    if cose.is_empty() || cose.len() > MAX_COSE_KEY_SIZE {
        return None;
    }
    let mut bit_string = vec![0x03];
    bit_string.extend(length(cose.len() + 1));
    bit_string.push(0); // no unused bits
    bit_string.extend_from_slice(cose);
    let mut der = vec![0x30];
    der.extend(length(ALGORITHM.len() + bit_string.len()));
    der.extend_from_slice(&ALGORITHM);
    der.extend(bit_string);
    Some(der)
}

/// Reads a DER length at the start of `bytes`: the length and what follows it.
fn read_length(bytes: &[u8]) -> Option<(usize, &[u8])> {
    match *bytes.first()? {
        n @ 0x00..=0x7f => Some((n as usize, &bytes[1..])),
        0x81 => {
            let n = *bytes.get(1)? as usize;
            (n >= 0x80).then_some((n, &bytes[2..]))
        }
        0x82 => {
            let n = (*bytes.get(1)? as usize) << 8 | *bytes.get(2)? as usize;
            (n >= 0x100).then_some((n, &bytes[3..]))
        }
        _ => None,
    }
}

/// The COSE key inside `der`, if `der` is exactly a DER-wrapped passkey key (lengths in their
/// shortest form, nothing after it) of a non-empty COSE key of at most [`MAX_COSE_KEY_SIZE`].
pub fn cose_key(der: &[u8]) -> Option<&[u8]> {
    let rest = der.strip_prefix(&[0x30])?;
    let (len, rest) = read_length(rest)?;
    if len != rest.len() {
        return None;
    }
    let rest = rest.strip_prefix(&ALGORITHM)?.strip_prefix(&[0x03])?;
    let (len, rest) = read_length(rest)?;
    let cose = rest.strip_prefix(&[0])?;
    (len == rest.len() && !cose.is_empty() && cose.len() <= MAX_COSE_KEY_SIZE).then_some(cose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_reads_back_every_length_form() {
        for len in [1, 77, 126, 127, 200, 300, MAX_COSE_KEY_SIZE] {
            let cose = vec![0xa5; len];
            let der = der_wrap(&cose).unwrap();
            assert_eq!(cose_key(&der), Some(&cose[..]), "{len} bytes");
        }
        assert_eq!(der_wrap(&[]), None);
        assert_eq!(der_wrap(&vec![1; MAX_COSE_KEY_SIZE + 1]), None);
    }

    #[test]
    fn an_es256_key_is_wrapped_as_the_spec_shows() {
        // The interface specification's prefix for a 77-byte COSE ES256 key.
        let der = der_wrap(&[0; 77]).unwrap();
        assert_eq!(
            &der[..19],
            &[
                0x30, 0x5e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43,
                0x01, 0x01, 0x03, 0x4e, 0x00
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_exactly_a_wrapped_key() {
        let der = der_wrap(&[7; 77]).unwrap();
        let mut longer = der.clone();
        longer.push(0);
        assert_eq!(cose_key(&longer), None, "a byte after it");
        assert_eq!(cose_key(&der[..der.len() - 1]), None, "a byte short");
        let mut other_oid = der.clone();
        other_oid[13] = 0x02;
        assert_eq!(cose_key(&other_oid), None, "another algorithm");
        let mut unused_bits = der.clone();
        unused_bits[18] = 1;
        assert_eq!(cose_key(&unused_bits), None, "unused bits");
        assert_eq!(cose_key(&[]), None);
        assert_eq!(
            cose_key(&[0x30, 0x81, 0x05]),
            None,
            "a long length form for 5"
        );
        // An Ed25519 SubjectPublicKeyInfo is no passkey key.
        let ed25519 = [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        assert_eq!(cose_key(&[&ed25519[..], &[0; 32]].concat()), None);
    }
}
