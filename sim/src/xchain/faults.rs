//! The faults of the network between the actors and of the operators' hands, beside the halts,
//! crashes and faulty attestors of [`super::world`]:
//!
//! - **delayed, reordered and duplicated proofs**: the attestors write into their own outbox, and
//!   what they wrote reaches the relayers' inbox after each of their passes — unless a delay holds
//!   it for a stretch of events, after which it arrives shuffled, part of it twice;
//! - **clock skew**: one chain's blocks run ahead of the other's by up to half a minute (the
//!   deadline is on the payment chain's clock, the lock's expiry check on the asset chain's);
//! - **attestor set rotation mid-flight**: the authority replaces an honest attestor with a new
//!   one on both chains' verifiers while trades are open; the new attestor starts from the oldest
//!   open trade's blocks, and the signatures of the one it replaced stop counting (a hostile
//!   account then tries them: stale proofs).

use super::{Stats, world::Pin, world::World};
use crate::rng::Rng;
use kessai_bindings::{
    alloy::{
        primitives::{Address, B256, U256},
        signers::local::PrivateKeySigner,
    },
    attestation_verifier::AttestationVerifier,
};
use kessai_deployer::{DeployerError, xchain::relay::Attestor};

/// What [`World::post`] holds back while a delay lasts.
#[derive(Debug, Default)]
pub(super) struct Mail {
    /// How many of the outbox's entries were taken so far.
    pub(super) taken: usize,
    /// Entries held back by a delay.
    pub(super) held: Vec<(String, kessai_deployer::xchain::Attestation)>,
    /// Events left until the delay ends.
    pub(super) delay_left: usize,
    /// In a scenario, the second the delay ends (its events are moments, not seconds).
    pub(super) delay_until: u64,
}

impl<C: Pin> World<C> {
    /// Moves what the attestors wrote since the last post into the relayers' inbox, or holds it
    /// while a delay lasts.
    pub(super) fn post(&mut self) -> Result<(), DeployerError> {
        let new = self.outbox.entries_from(self.mail.taken);
        self.mail.taken += new.len();
        if self.mail.delay_left > 0 {
            self.mail.held.extend(new);
            return Ok(());
        }
        for (name, attestation) in new {
            self.inbox.put(&name, &attestation)?;
        }
        Ok(())
    }

    /// Holds the attestors' mail for `events` events.
    pub(super) fn delay(&mut self, events: usize, stats: &mut Stats) {
        if self.mail.delay_left == 0 {
            self.mail.delay_left = events.max(1);
            stats.delays += 1;
        }
    }

    /// Counts one event of a delay down; at its end what was held arrives, shuffled, one in five
    /// twice (under a second name, as a resend would).
    pub(super) fn tick_delay(&mut self, rng: &mut Rng, stats: &mut Stats) -> Result<(), DeployerError> {
        if self.mail.delay_left == 0 {
            return Ok(());
        }
        self.mail.delay_left -= 1;
        if self.mail.delay_left > 0 {
            return Ok(());
        }
        let mut held = std::mem::take(&mut self.mail.held);
        for i in (1..held.len()).rev() {
            held.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for (name, attestation) in held {
            self.inbox.put(&name, &attestation)?;
            if rng.chance(20) {
                self.inbox.put(&format!("{name}.resent"), &attestation)?;
                stats.duplicated += 1;
            }
        }
        Ok(())
    }

    /// Ends any delay at once (the final healing): what was held arrives in order.
    pub(super) fn release(&mut self) -> Result<(), DeployerError> {
        self.mail.delay_left = 0;
        for (name, attestation) in std::mem::take(&mut self.mail.held) {
            self.inbox.put(&name, &attestation)?;
        }
        Ok(())
    }

    /// Sets how far one chain's clock runs ahead of the other's: `lead` seconds for the asset chain
    /// (`asset`) or the payment chain; the other keeps the world's time. Its next block catches up.
    pub(super) fn skew(&mut self, asset: bool, lead: u64, stats: &mut Stats) {
        self.lead = if asset { (lead, 0) } else { (0, lead) };
        stats.skews += 1;
    }

    /// The authority replaces honest attestor `slot` (of those the honest passes use) with a new
    /// key on both verifiers; the faulty ones stay. Not while either chain is halted (the authority
    /// rotates both at once): `false` then.
    pub(super) async fn rotate(
        &mut self,
        slot: usize,
        faulty: usize,
        stats: &mut Stats,
    ) -> Result<bool, DeployerError> {
        let honest = self.keys.len().saturating_sub(faulty).min(self.attestors.len());
        if self.a.halted || self.b.halted || honest == 0 {
            return Ok(false);
        }
        let slot = slot % honest;
        self.rotations += 1;
        let key = PrivateKeySigner::from_bytes(&B256::from(U256::from(0xb000 + self.rotations)))
            .map_err(|e| DeployerError::Answer(format!("a rotation key: {e}")))?;
        let retired = std::mem::replace(&mut self.keys[slot], key.clone());
        self.retired.push(retired);
        let set: Vec<Address> = self.keys.iter().map(PrivateKeySigner::address).collect();
        let call = AttestationVerifier::rotateCall { attestors: set, threshold: self.threshold };
        let (on_a, on_b) = self.verifiers;
        self.a.chain.send_call(self.authority, on_a, &call).await?;
        self.b.chain.send_call(self.authority, on_b, &call).await?;
        // The new attestor reads both chains from the blocks the oldest open trade was locked at.
        let heads = (self.a.chain.head().await?, self.b.chain.head().await?);
        let (from_a, from_b) = self.ledger.oldest_open().unwrap_or(heads);
        self.attestors[slot] =
            Attestor::new(key, self.asset_end, self.payment_end, self.outbox.clone()).from_blocks(from_a, from_b);
        stats.rotations += 1;
        Ok(true)
    }
}
