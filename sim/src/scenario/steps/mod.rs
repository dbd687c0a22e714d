//! The step table: every kind of `[[step]]` a scenario file can hold, declared once.
//!
//! An entry ([`StepKind`]) names the kind, lists the fields it takes, and says how a step of that
//! kind is read from the file (resolved into an [`Action`]), written back to it, and described in
//! reports; `kessai sim steps` prints the table. The runner executes actions
//! (`run::runner::transact`). So a new kind is its [`Action`] variant (below), its entry in one of
//! the family modules, its place in [`KINDS`], and its executor — nothing else.

use super::{
    error::ScenarioError,
    model::{Advance, Holder, PartyId, ProgrammeId, Registry, TradeId},
    parse::{PResult, RawStep, Resolver},
    run::Words,
    write::Fields,
};
use alloy::primitives::U256;
use serde::{Deserialize, Serialize};
use std::ops::Range;

mod bond;
mod clock;
mod enforcement;
mod holdings;
mod trades;

/// One kind of step.
pub struct StepKind {
    /// Its name after `do =`.
    pub name: &'static str,
    /// What it does, in one line.
    pub about: &'static str,
    /// Fields it needs.
    pub required: &'static [&'static str],
    /// Fields it may take besides `note` and `expect`.
    pub optional: &'static [&'static str],
    /// Builds the action from a step whose fields were checked against the two lists.
    pub(crate) resolve: fn(&mut Resolver<'_>, &Input<'_>) -> PResult<Action>,
    /// Writes the action's fields; `Ok(false)` when the action is not of this kind.
    pub(crate) write: fn(&mut Fields<'_>, &Action) -> Result<bool, ScenarioError>,
    /// Says what the action does; `None` when it is not of this kind.
    pub(crate) describe: fn(&Words<'_>, &Action) -> Option<String>,
}

/// A step being resolved: its raw fields and where it stands.
pub(crate) struct Input<'a> {
    pub(crate) raw: &'a RawStep,
    /// The whole `[[step]]` table.
    pub(crate) span: Range<usize>,
    /// Its position in the timeline, from 1.
    pub(crate) number: usize,
}

/// Every step kind, in the order the documentation lists them.
pub const KINDS: &[&StepKind] = &[
    &holdings::REGISTER,
    &holdings::REVOKE,
    &holdings::ISSUE,
    &holdings::REDEEM,
    &holdings::TRANSFER,
    &holdings::DEPOSIT,
    &holdings::WITHDRAW,
    &holdings::TRANSFER_DEPOSIT,
    &trades::CREATE_TRADE,
    &trades::CREATE_SIGNED_TRADE,
    &trades::SETTLE_SIGNED,
    &trades::PAY,
    &trades::APPROVE,
    &trades::SETTLE_WITH_PAYMENT,
    &trades::CANCEL,
    &trades::RELEASE,
    &trades::BATCH,
    &bond::OFFER,
    &bond::COUPON,
    &bond::REDEMPTION,
    &bond::ADD_PROGRAMME,
    &bond::CLAIM_BENEFIT,
    &enforcement::FREEZE,
    &enforcement::UNFREEZE,
    &enforcement::FORCED_TRANSFER,
    &enforcement::RECOVER_WALLET,
    &enforcement::REQUEST_TRANSFER,
    &enforcement::APPROVE_TRANSFER,
    &enforcement::REJECT_TRANSFER,
    &enforcement::PAUSE,
    &enforcement::RESUME,
    &clock::ADVANCE,
];

/// The kind named `name` in a file.
pub fn named(name: &str) -> Option<&'static StepKind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// What a step does. Every on-chain action goes through `kessai_deployer::ops::Suite`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// The registrar (or the bank) registers `party` with its declared class and country.
    Register {
        /// Who.
        party: PartyId,
        /// Where.
        registry: Registry,
    },
    /// The registrar (or the bank) revokes `party`.
    Revoke {
        /// Who.
        party: PartyId,
        /// Where.
        registry: Registry,
    },
    /// The issuer issues security units.
    Issue {
        /// Recipient.
        to: PartyId,
        /// Units.
        units: U256,
    },
    /// The issuer redeems (cancels) security units.
    Redeem {
        /// Holder.
        from: PartyId,
        /// Units.
        units: U256,
    },
    /// A holder transfers security units.
    Transfer {
        /// Sender.
        from: PartyId,
        /// Recipient.
        to: PartyId,
        /// Units.
        units: U256,
    },
    /// The bank issues deposit tokens against a deposit ledger entry.
    Deposit {
        /// Recipient.
        to: Holder,
        /// Yen.
        amount: U256,
        /// The ledger entry (hashed into the on-chain reference; used once).
        reference: String,
    },
    /// A holder redeems deposit tokens into its bank account.
    Withdraw {
        /// Holder.
        party: PartyId,
        /// Yen.
        amount: U256,
        /// The bank account credited (hashed into the on-chain reference).
        account: String,
    },
    /// A holder pays deposit tokens to another holder (both in the bank's registry).
    TransferDeposit {
        /// Payer.
        from: PartyId,
        /// Payee.
        to: PartyId,
        /// Yen.
        amount: U256,
    },
    /// The seller creates a trade; its units are held.
    CreateTrade {
        /// The trade.
        trade: TradeId,
    },
    /// Someone submits both parties' signatures: the trade is created with both legs locked (settled
    /// at once if it has no agent).
    CreateSignedTrade {
        /// The trade.
        trade: TradeId,
        /// Submitter.
        by: PartyId,
        /// Whose signatures to submit (this trade's, or another's for a replay).
        signatures_of: TradeId,
    },
    /// The buyer pays: its deposit tokens are held, or the trade settles if no approval is outstanding.
    Pay {
        /// The trade.
        trade: TradeId,
    },
    /// The agent approves; the trade settles if paid.
    Approve {
        /// The trade.
        trade: TradeId,
    },
    /// The agent settles from the buyer's signed payment instruction, both legs in one transaction.
    SettleWithPayment {
        /// The trade.
        trade: TradeId,
        /// Submitter (the trade's agent, or anyone if it has none).
        by: PartyId,
        /// Whose buyer signature to submit.
        signatures_of: TradeId,
    },
    /// Settles a trade in one transaction from both parties' signatures, without prior locks.
    SettleSigned {
        /// The trade.
        trade: TradeId,
        /// Submitter.
        by: PartyId,
        /// Whose signatures to submit.
        signatures_of: TradeId,
    },
    /// A party cancels the trade; holds are released.
    Cancel {
        /// The trade.
        trade: TradeId,
        /// Who cancels.
        by: PartyId,
    },
    /// Anyone releases an unsettled trade after its deadline.
    Release {
        /// The trade.
        trade: TradeId,
        /// Who releases.
        by: PartyId,
    },
    /// The agent approves and settles paid trades at once, gross or netted.
    Batch {
        /// The trades, in order.
        trades: Vec<TradeId>,
        /// Move only net cash positions.
        netted: bool,
        /// The agent.
        by: PartyId,
    },
    /// A primary offering: the underwriter creates one DvP trade per allotment.
    Offer {
        /// Holds the units and sells them.
        underwriter: PartyId,
        /// Approves the deliveries.
        agent: PartyId,
        /// The issue date (the trades' deadline), seconds after the start.
        deadline: u64,
        /// One trade per allotment (seller the underwriter, buyer the investor).
        allotments: Vec<TradeId>,
    },
    /// The paying agent runs payment `payment` of the bond (coupons 1..=n, redemption n+1) for
    /// `holders`.
    PaymentRound {
        /// Payment number.
        payment: u64,
        /// Holders paid in this batch.
        holders: Vec<PartyId>,
    },
    /// The issuer adds a benefit programme to the municipal bond.
    AddProgramme {
        /// The programme.
        programme: ProgrammeId,
        /// Its description on chain.
        title: String,
        /// Units per benefit.
        units_per_benefit: u128,
        /// The record (coupon number) whose holders are entitled.
        record: u16,
        /// Last day to claim, seconds after the start.
        claim_until: u64,
    },
    /// A holder claims its benefits from a programme.
    ClaimBenefit {
        /// Holder.
        party: PartyId,
        /// Programme.
        programme: ProgrammeId,
    },
    /// The authority freezes a whole account (`units: None`) or that many of its free units.
    Freeze {
        /// The holder.
        party: PartyId,
        /// Units to freeze; `None` freezes the account.
        units: Option<U256>,
    },
    /// The authority lifts an account's freeze (`units: None`) or releases that many frozen units.
    Unfreeze {
        /// The holder.
        party: PartyId,
        /// Units to release; `None` lifts the account's freeze.
        units: Option<U256>,
    },
    /// The authority moves security units by order: free units first, then frozen ones.
    ForcedTransfer {
        /// The holder the units are taken from.
        from: PartyId,
        /// The receiver.
        to: PartyId,
        /// Units.
        units: U256,
        /// Why (recorded in the event).
        reason: String,
        /// The order's document reference (hashed into the event).
        document: String,
        /// A court order: the receiver's eligibility is not checked.
        court_order: bool,
    },
    /// The authority moves everything a lost wallet holds to the party's new wallet.
    RecoverWallet {
        /// The party whose wallet was lost.
        from: PartyId,
        /// The party playing the new wallet (registered, holding nothing).
        to: PartyId,
        /// The recovery's document reference (hashed into the event).
        document: String,
    },
    /// A holder asks the approvals desk to transfer units (approval mode); the units are held.
    RequestTransfer {
        /// The holder.
        from: PartyId,
        /// The receiver.
        to: PartyId,
        /// Units.
        units: U256,
        /// The request's name in the scenario (its on-chain id comes from the request's event).
        request: String,
    },
    /// The transfer agent (the registrar) approves a request: the held units move.
    ApproveTransfer {
        /// The request's name.
        request: String,
    },
    /// The transfer agent rejects a request: the held units are released.
    RejectTransfer {
        /// The request's name.
        request: String,
        /// Why (recorded on chain).
        reason: String,
    },
    /// The operator pauses the security token.
    Pause,
    /// The operator resumes it.
    Resume,
    /// Moves the chain's clock.
    Advance(Advance),
}

impl Action {
    /// The variant's name (`payment_round` for the kinds `coupon` and `redemption`).
    pub fn kind(&self) -> &'static str {
        self.into()
    }
}

/// What `action` does, in words.
pub(crate) fn describe(words: &Words<'_>, action: &Action) -> String {
    KINDS.iter().find_map(|k| (k.describe)(words, action)).unwrap_or_else(|| format!("{action:?}"))
}

/// Writes `action`'s fields through the first entry that takes it, setting the `do` it is written as.
pub(crate) fn write(fields: &mut Fields<'_>, action: &Action) -> Result<(), ScenarioError> {
    for kind in KINDS {
        fields.kind = kind.name;
        if (kind.write)(fields, action)? {
            return Ok(());
        }
    }
    Err(ScenarioError::Setup(format!("cannot write the scenario as a file: no step kind writes `{}`", action.kind())))
}
