//! Attestors' signatures on secp256k1 through libsecp256k1 (the C library revm builds for its
//! `ecrecover` precompile): signing is RFC 6979-deterministic and low-s, so a signature is the same
//! bytes the pure-Rust signer makes, and a check accepts exactly what the on-chain verifier accepts —
//! a whole (r, s, v) signature, `s` in the lower half, `v` 27 or 28 — several times faster. The
//! simulator signs and checks hundreds of thousands of attestations in a generated day.

use alloy::{
    primitives::{Address, B256, keccak256},
    signers::local::PrivateKeySigner,
};
use secp256k1::{
    All, Message, Secp256k1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};
use std::sync::OnceLock;

/// Half the curve's order: a signature's `s` above it is the malleable twin of a low one.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e,
    0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

fn context() -> &'static Secp256k1<All> {
    static CONTEXT: OnceLock<Secp256k1<All>> = OnceLock::new();
    CONTEXT.get_or_init(Secp256k1::new)
}

/// `key`'s 65-byte (r, s, v) signature of `digest`, `v` 27 or 28.
pub(super) fn sign(key: &PrivateKeySigner, digest: &B256) -> Result<[u8; 65], secp256k1::Error> {
    let secret = SecretKey::from_byte_array(key.to_bytes().0)?;
    let (id, compact) = context().sign_ecdsa_recoverable(Message::from_digest(digest.0), &secret).serialize_compact();
    let mut signature = [0u8; 65];
    signature[..64].copy_from_slice(&compact);
    signature[64] = 27 + i32::from(id) as u8;
    Ok(signature)
}

/// Who signed `digest` with the 65-byte (r, s, v) `signature`: `None` unless it is whole, low-s,
/// with `v` 27 or 28, and recovers to someone.
pub(super) fn signer(digest: &B256, signature: &[u8]) -> Option<Address> {
    let (Ok(rs), Some(v)) = (<&[u8; 64]>::try_from(signature.get(..64)?), signature.get(64)) else { return None };
    if signature.len() != 65 || !(27..=28).contains(v) || rs[32..] > HALF_ORDER[..] {
        return None;
    }
    let id = RecoveryId::try_from(i32::from(v - 27)).ok()?;
    let key = context()
        .recover_ecdsa(Message::from_digest(digest.0), &RecoverableSignature::from_compact(rs, id).ok()?)
        .ok()?;
    Some(Address::from_slice(&keccak256(&key.serialize_uncompressed()[1..])[12..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::SignerSync;

    #[test]
    fn signatures_are_the_pure_rust_signers_bytes_and_check_as_the_verifier_does() {
        for i in 1..=20u8 {
            let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).expect("a key");
            let digest = keccak256([i; 7]);
            let ours = sign(&key, &digest).expect("signs");
            let theirs = key.sign_hash_sync(&digest).expect("signs").as_bytes();
            assert_eq!(ours, theirs, "key {i}");
            assert_eq!(signer(&digest, &ours), Some(key.address()));
            // Another digest recovers to someone else; a cut, a bad v or the high-s twin to nobody.
            assert_ne!(signer(&keccak256([i; 8]), &ours), Some(key.address()));
            assert_eq!(signer(&digest, &ours[..64]), None);
            let mut bad_v = ours;
            bad_v[64] = 29;
            assert_eq!(signer(&digest, &bad_v), None);
            let mut long = ours.to_vec();
            long.push(0);
            assert_eq!(signer(&digest, &long), None);
            let twin = alloy::primitives::Signature::from_raw(&ours).expect("parses");
            let n = alloy::primitives::U256::from_be_bytes(secp256k1::constants::CURVE_ORDER);
            let mut high = [0u8; 65];
            high[..32].copy_from_slice(&twin.r().to_be_bytes::<32>());
            high[32..64].copy_from_slice(&(n - twin.s()).to_be_bytes::<32>());
            high[64] = 27 + u8::from(!twin.v());
            assert_eq!(signer(&digest, &high), None, "the high-s twin");
        }
    }
}
