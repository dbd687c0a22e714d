//! Decoding of contract reverts into named errors with a sentence an operator can act on.
//!
//! Every custom error of every kessai contract (and the OpenZeppelin errors they inherit) is known by
//! selector from the committed ABIs. [`RevertError::decode`] turns raw revert data into the error's
//! name, its arguments and a message; [`RevertError::as_typed`] gives the typed `sol!` error when the
//! caller wants to match on it.

use alloy::{
    dyn_abi::{DynSolValue, JsonAbiExt},
    json_abi::Error as AbiError,
    primitives::{Bytes, Selector},
    sol_types::{Panic, Revert, SolError, SolInterface},
};
use std::{collections::HashMap, fmt, sync::OnceLock};

/// A decoded contract revert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevertError {
    /// The error's name, e.g. `TokenAccountNotEligible`; `Unknown` when the selector is not known.
    pub name: String,
    /// The error's arguments, rendered (`0x…` addresses and bytes, decimal integers).
    pub args: Vec<String>,
    /// What happened and what to do about it.
    pub message: String,
    /// The raw revert data.
    pub data: Bytes,
}

impl fmt::Display for RevertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}): {}", self.name, self.args.join(", "), self.message)
    }
}

impl std::error::Error for RevertError {}

fn known_errors() -> &'static HashMap<Selector, AbiError> {
    static ERRORS: OnceLock<HashMap<Selector, AbiError>> = OnceLock::new();
    ERRORS.get_or_init(|| {
        let mut map = HashMap::new();
        for artifact in crate::artifacts() {
            for error in artifact.abi.errors() {
                map.insert(error.selector(), error.clone());
            }
        }
        map
    })
}

fn render(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Address(a) => a.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::FixedBytes(w, size) => format!("0x{}", alloy::primitives::hex::encode(&w[..*size])),
        DynSolValue::Bytes(b) => format!("0x{}", alloy::primitives::hex::encode(b)),
        DynSolValue::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

impl RevertError {
    /// Decodes raw revert data. Never fails: unknown data is reported as `Unknown` with its bytes.
    pub fn decode(data: &[u8]) -> Self {
        let data_bytes = Bytes::copy_from_slice(data);
        if data.len() >= 4 {
            let selector = Selector::from_slice(&data[..4]);
            if let Some(error) = known_errors().get(&selector)
                && let Ok(values) = error.abi_decode_input(&data[4..])
            {
                let args: Vec<String> = values.iter().map(render).collect();
                let message = explain(&error.name, &args);
                return Self { name: error.name.clone(), args, message, data: data_bytes };
            }
            if let Ok(revert) = Revert::abi_decode(data) {
                let reason = revert.reason;
                return Self {
                    name: "Error".into(),
                    args: vec![reason.clone()],
                    message: format!("the contract reverted with the message \"{reason}\""),
                    data: data_bytes,
                };
            }
            if let Ok(panic) = Panic::abi_decode(data) {
                let code = panic.code.to_string();
                return Self {
                    name: "Panic".into(),
                    message: format!(
                        "the contract panicked with code {code} (arithmetic, assertion or array bounds): this is a bug to report"
                    ),
                    args: vec![code],
                    data: data_bytes,
                };
            }
        }
        let message = if data.is_empty() {
            "the call reverted without data (out of gas, a call to an address with no code, or a chain that cannot run the code)".to_string()
        } else {
            format!("the call reverted with unknown data 0x{}", alloy::primitives::hex::encode(data))
        };
        Self { name: "Unknown".into(), args: Vec::new(), message, data: data_bytes }
    }

    /// The typed error of one contract's interface (e.g. `DvP::DvPErrors`), when the data is one of them.
    pub fn as_typed<E: SolInterface>(&self) -> Option<E> {
        E::abi_decode(&self.data).ok()
    }
}

/// An operator sentence: from an error's rendered arguments, in order, what happened and what to do.
type Sentence = fn(&[String]) -> String;

/// The operator sentence for error `name` (from [`TOKEN_SENTENCES`], [`SETTLEMENT_SENTENCES`] or
/// [`CROSS_CHAIN_SENTENCES`]), or
/// a generic one for an error without a sentence. `a` holds the rendered arguments in order.
fn explain(name: &str, a: &[String]) -> String {
    TOKEN_SENTENCES
        .iter()
        .chain(SETTLEMENT_SENTENCES)
        .chain(CROSS_CHAIN_SENTENCES)
        .find(|(error, _)| *error == name)
        .map_or_else(|| format!("the contract reverted with {name}"), |(_, sentence)| sentence(a))
}

/// Argument `i` of the rendered arguments, `?` when the error has fewer.
fn arg(a: &[String], i: usize) -> &str {
    a.get(i).map(String::as_str).unwrap_or("?")
}

/// The registry's and the tokens' shared refusal of a batch.
fn length_mismatch(_: &[String]) -> String {
    "the batch's arrays have different lengths".into()
}

/// Sentences for the registry's and the tokens' errors (and the instruments built on them).
const TOKEN_SENTENCES: &[(&str, Sentence)] = &[
    // Registry.
    ("RegistryZeroAddress", |_| "the zero address cannot be registered; pass the investor's wallet address".into()),
    ("RegistryKycExpiryInPast", |a| {
        format!(
            "KYC expiry {} for {} is not in the future: renew the investor's KYC and register with a later expiry",
            arg(a, 1),
            arg(a, 0)
        )
    }),
    ("RegistryNotRegistered", |a| format!("{} is not an active investor, so it cannot be revoked", arg(a, 0))),
    // Tokens.
    ("TokenTransferRestricted", |a| {
        let why = crate::restriction_in("TokenTransferRestricted", a)
            .map_or("unknown restriction", crate::Restriction::message);
        format!("transfer of {} from {} to {} refused: {why}", arg(a, 3), arg(a, 1), arg(a, 2))
    }),
    ("TokenAccountFrozen", |a| format!("account {} is frozen by the enforcement authority", arg(a, 0))),
    ("TokenAccountRecovered", |a| format!("wallet {} was recovered to {}: use the new wallet", arg(a, 0), arg(a, 1))),
    ("TokenInsufficientFrozen", |a| {
        format!("account {} has {} frozen units, fewer than the {} to unfreeze", arg(a, 0), arg(a, 1), arg(a, 2))
    }),
    ("TokenZeroAddress", |_| "an address argument is the zero address".into()),
    ("TokenLengthMismatch", length_mismatch),
    ("RegistryLengthMismatch", length_mismatch),
    ("TokenSupplyCapExceeded", |a| format!("the issue would take the supply above the cap of {} units", arg(a, 0))),
    ("TokenPaused", |_| "the token is paused: wait until the pauser resumes it".into()),
    ("TokenRecoveryInvalid", |a| {
        format!(
            "wallet {} cannot be recovered to {}: the new wallet must be a different, empty wallet that is not lost, frozen or blocked, and the old one not already recovered",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("TokenRecoveryChainTooLong", |a| {
        format!(
            "wallet {} ends a chain of {} recoveries already, the most a chain may have: recover the investor's first wallet's holdings by a forced transfer instead",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("TokenFrozenCapExceeded", |a| {
        format!(
            "freezing would take {}'s frozen units to {}, above the {} the token can record: freeze the whole account instead",
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )
    }),
    ("TokenForcedTransferToSelf", |a| {
        format!(
            "a forced transfer from {} would end in the same wallet (directly or through a recovery): name another receiver",
            arg(a, 0)
        )
    }),
    ("TokenHoldSelfNotary", |a| {
        format!(
            "{} cannot be the notary of its own hold: name the settlement contract or the transfer agent's desk",
            arg(a, 0)
        )
    }),
    ("SecurityRecordDateInvalid", |a| {
        format!(
            "record date {} must be in the future and after every scheduled record date (at most 65,535 record dates)",
            arg(a, 0)
        )
    }),
    ("SecurityRecordNotReached", |a| format!("record date number {} has not passed (or is not scheduled)", arg(a, 0))),
    ("SecurityTransfersEndInvalid", |a| {
        format!("the end of transfers {} must be in the future and before 2106 (or 0 to remove it)", arg(a, 0))
    }),
    ("BondRecordDatesScheduled", |_| "the bond's record dates are already scheduled".into()),
    ("BondRecordDatesNotScheduled", |_| {
        "the bond's record dates are not scheduled yet: call scheduleRecordDates() once the bond holds ISSUER_ROLE on its unit token".into()
    }),
    ("TokenUnitsHeld", |a| {
        format!(
            "only {} units of {} are free or frozen, but the order moves {}: the rest is held; end each hold on it first with forceReleaseHold (its HoldPlaced events or the settlement's trades name them)",
            arg(a, 1),
            arg(a, 0),
            arg(a, 2)
        )
    }),
    ("SecurityHolderLimitNeedsEmptySupply", |_| "a holder limit can only be introduced before the first issue".into()),
    ("PaymentNotDue", |a| format!("payment {} is not due until {} (or does not exist)", arg(a, 0), arg(a, 1))),
    ("PaymentRoundsOpen", |_| {
        "the instrument's payments are still running (a bond not yet redeemed, a fund not yet terminated): leftover cash can be returned only after them".into()
    }),
    ("PaymentLeftoverExceeded", |a| {
        format!(
            "only ¥{} is left beyond what the payments still owe, not ¥{}: pay the remaining holders first or ask for less",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("PaymentInsufficientFunds", |a| {
        format!(
            "the payer holds ¥{} but the next holder is owed ¥{}: fund it with deposit tokens and retry the batch",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("BondInvalidTerms", |_| "the bond terms are inconsistent: check dates, rate and coupon frequency".into()),
    ("BondInvalidStatus", |a| format!("the bond's status ({}) does not allow this", bond_status(arg(a, 0)))),
    ("BenefitNotClaimable", |a| {
        format!(
            "benefit programme {} is not open for claims (record date not passed, window closed, or unknown)",
            arg(a, 0)
        )
    }),
    ("BenefitInvalidProgramme", |_| {
        "the programme needs a positive units-per-benefit, a scheduled record date and a claim window after it".into()
    }),
    ("BenefitAlreadyClaimed", |a| format!("{} already claimed programme {}", arg(a, 1), arg(a, 0))),
    ("BenefitNotEntitled", |a| {
        format!("{} is not eligible now or held too few units at the programme's record date", arg(a, 1))
    }),
    ("FundInvalidPayment", |_| {
        "the payment's dates are inconsistent, or the fund's termination was already declared".into()
    }),
    ("ApprovalRequestNotPending", |a| {
        format!("transfer request {} is not pending (never made or already decided)", arg(a, 0))
    }),
    ("TokenAccountBlocked", |a| format!("account {} is on the blocklist", arg(a, 0))),
    ("DepositNotMinter", |a| format!("{} is not a configured minter: the master minter must configure it", arg(a, 0))),
    ("DepositMinterAllowanceExceeded", |a| {
        format!(
            "minter {} may issue ¥{} more in total, not ¥{}: the master minter must raise its allowance",
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )
    }),
    ("DepositRateLimitExceeded", |a| {
        format!(
            "minter {} may issue ¥{} more in this period, not ¥{}; the period ends at {}",
            arg(a, 0),
            arg(a, 1),
            arg(a, 2),
            arg(a, 3)
        )
    }),
    ("DepositInvalidMinterConfig", |_| "a minter needs a positive rate-limit period".into()),
    ("DepositPermitExpired", |a| format!("the permit expired at {}: sign a new one", arg(a, 0))),
    ("DepositInvalidSignature", |a| format!("the signature is not {}'s (wrong signer, data or nonce)", arg(a, 0))),
    ("DepositAuthorizationNotYetValid", |a| format!("the authorization is valid only after {}", arg(a, 0))),
    ("DepositAuthorizationExpired", |a| format!("the authorization expired at {}: sign a new one", arg(a, 0))),
    ("DepositAuthorizationUsed", |a| {
        format!("authorization nonce {} of {} was already used or cancelled", arg(a, 1), arg(a, 0))
    }),
    ("DepositCallerNotPayee", |a| {
        format!("only the payee {} may collect this authorization, not {}", arg(a, 1), arg(a, 0))
    }),
    ("TokenAccountNotEligible", |a| {
        format!(
            "account {} is not eligible in the token's registry (the securities registry for the security token, the bank's customer registry for a deposit token): register it (`kessai registry register --account …`, or `kessai registry --registry bank register …` for a deposit token) or renew its KYC, then retry",
            arg(a, 0)
        )
    }),
    ("TokenInsufficientFreeBalance", |a| {
        format!(
            "account {} has {} free (its balance minus held and frozen amounts) but {} are needed: fund the account or release holds",
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )
    }),
    ("TokenZeroAmount", |_| "the amount is zero: pass a positive amount".into()),
    ("TokenHoldExists", |a| {
        format!("holder {} already has hold {} for notary {}: use a new id", arg(a, 0), arg(a, 2), arg(a, 1))
    }),
    ("TokenHoldNotFound", |a| {
        format!(
            "there is no hold {} of holder {} for notary {} (never placed, or already executed or released, by its notary or on an authority's order)",
            arg(a, 2),
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("TokenHoldExpiryInPast", |a| format!("hold expiry {} is not in the future: choose a later expiry", arg(a, 0))),
    ("TokenHoldExpired", |a| format!("hold {} expired at {}: it can only be released now", arg(a, 0), arg(a, 1))),
    ("TokenHoldNotExpired", |a| {
        format!("hold {} runs until {}: only its notary may release it before then", arg(a, 0), arg(a, 1))
    }),
    ("TokenHoldAmountMismatch", |a| {
        format!(
            "hold {} holds {} units but {} were requested: a holder's hold executes whole; a notary moves or frees at most what its hold holds",
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )
    }),
    ("TokenHoldUnauthorized", |a| {
        format!("{} may not release hold {}: only its notary, or its holder after expiry", arg(a, 1), arg(a, 0))
    }),
    ("DepositReferenceUsed", |a| {
        format!(
            "deposit reference {} was already used for an issue: each ledger debit is issued once; check the bank ledger",
            arg(a, 0)
        )
    }),
    ("DepositZeroReference", |_| "the deposit account reference is zero: pass the ledger reference".into()),
];

/// Sentences for the DvP's, the contract wallets' and OpenZeppelin's errors.
/// Sentences for the cross-chain DvP's errors: the asset chain's delivery contract, the payment
/// chain's payment contract and the attestation verifier both use.
const CROSS_CHAIN_SENTENCES: &[(&str, Sentence)] = &[
    ("XDeliveryInvalidTerms", |_| {
        "the cross-chain terms are malformed or not for this contract: a non-zero id, positive units and amount, every token and party set, seller differing from buyer and payer from payee, two different chains, and this chain and contract as the asset side".into()
    }),
    ("XDeliveryNotSeller", |a| {
        format!("{} is not the seller {} named in the terms: only the seller locks its units", arg(a, 0), arg(a, 1))
    }),
    ("XDeliveryTermsExpired", |a| {
        format!(
            "trade {}'s payment deadline {} has passed on this chain's clock: agree new terms with a later deadline",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("XDeliveryRestricted", |a| {
        let why =
            crate::restriction_in("XDeliveryRestricted", a).map_or("unknown restriction", crate::Restriction::message);
        format!(
            "the units of trade {} would not pass to the buyer now ({why}), so they are not locked and the payment chain cannot commit the trade: fix the cause, then lock again",
            arg(a, 0)
        )
    }),
    ("XDeliveryIdUsed", |a| {
        format!(
            "seller {} has already used trade id {}: every lock needs a new id (the next in the seller's sequence)",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("XDeliveryNotLocked", |a| {
        format!(
            "no units are locked for trade {}: it was never locked, or it was already delivered, returned or resolved (its events say which)",
            arg(a, 0)
        )
    }),
    ("XDeliveryResolutionNotReady", |a| {
        format!(
            "the emergency resolution of trade {} is not ready: {} of {} approvals for this destination, and it cannot be carried out before {}",
            arg(a, 0),
            arg(a, 2),
            arg(a, 3),
            arg(a, 1)
        )
    }),
    ("XDeliveryAlreadyApproved", |a| {
        format!(
            "{} has already approved this resolution of trade {}: another authority must approve",
            arg(a, 1),
            arg(a, 0)
        )
    }),
    ("XPaymentInvalidTerms", |_| {
        "the cross-chain terms are malformed or not for this contract: a non-zero id, positive units and amount, every token and party set, seller differing from buyer and payer from payee, two different chains, and this chain and contract as the payment side".into()
    }),
    ("XPaymentUnauthorized", |a| {
        format!(
            "{} may not take this step of trade {}: only the payer pays, and only the payer or the payee may agree to abort before the deadline",
            arg(a, 1),
            arg(a, 0)
        )
    }),
    ("XPaymentDeadlinePassed", |a| {
        format!(
            "trade {}'s deadline {} has passed on the payment chain: it can no longer be paid or committed; anyone may abort it so that the units return",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("XPaymentDeadlineNotPassed", |a| {
        format!(
            "trade {} runs until {} on the payment chain: before then only both parties together can abort it",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("XPaymentInvalidState", |a| {
        format!(
            "trade {} is {} on the payment chain, which does not allow this step",
            arg(a, 0),
            crate::cross_chain::state_name(arg(a, 1))
        )
    }),
    ("XPaymentInvalidSignature", |a| {
        format!(
            "the payment instruction for trade {} is not the payer {}'s signature: have the payer sign CrossChainPayment.paymentDigest of this terms hash, pay first, or commit as the payer",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("VerifierMalformedProof", |a| format!("the proof is {} bytes, not whole 65-byte signatures", arg(a, 0))),
    ("VerifierBelowThreshold", |a| {
        format!(
            "the proof has {} signatures, fewer than the {} the attestor set requires: wait for more attestors to sign",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("VerifierUnknownAttestor", |a| {
        format!(
            "signature {} recovers to {}, which is not an attestor of the current set for this statement: it signs another chain, contract, trade, state or terms, or its signer is not (or no longer) an attestor",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("VerifierSignersNotAscending", |a| {
        format!(
            "signature {} (by {}) is out of order or repeated: order the signatures by signer address, each signer once",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("VerifierInvalidSet", |a| {
        format!(
            "an attestor set of {} with threshold {} is invalid: 1 to 32 distinct non-zero attestors and a threshold from 1 to their number",
            arg(a, 0),
            arg(a, 1)
        )
    }),
];

const SETTLEMENT_SENTENCES: &[(&str, Sentence)] = &[
    // DvP.
    ("DvPTradeIdNotBound", |a| {
        format!(
            "trade id {} does not start with its seller {}: derive the id from the seller and a reference (kessai_bindings::trade_id)",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("DvPTradeExists", |a| format!("trade {} already exists: choose a new trade id", arg(a, 0))),
    ("DvPTradeNotFound", |a| {
        format!("trade {} does not exist or the terms passed differ from the ones it was created with", arg(a, 0))
    }),
    ("DvPUnauthorized", |a| {
        format!(
            "{} may not perform this step of trade {}: the seller creates, the buyer pays, the named agent approves and settles, and only the seller, the buyer or the agent may cancel (anyone may release after the deadline)",
            arg(a, 1),
            arg(a, 0)
        )
    }),
    ("DvPTradeExpired", |a| {
        format!(
            "trade {}'s deadline {} has passed: a new trade needs a later deadline; an existing one can only be released now (its locks return to the parties)",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("DvPTradeNotExpired", |a| {
        format!(
            "trade {} runs until {}: it can be released only after its deadline, or cancelled by a party",
            arg(a, 0),
            arg(a, 1)
        )
    }),
    ("DvPInvalidStatus", |a| {
        format!(
            "trade {} is in status {} ({}), which does not allow this step",
            arg(a, 0),
            arg(a, 1),
            status_words(arg(a, 1))
        )
    }),
    ("DvPInvalidTerms", |_| {
        "the trade terms are malformed: units and amount must be positive, tokens and buyer set, and seller differ from buyer".into()
    }),
    ("DvPInvalidSignature", |a| {
        format!(
            "the signature of {} over trade {} is missing or invalid: have the party sign this path's EIP-712 instruction (DvP.tradeDigest: LockTrade for a signed creation, SettleTrade for a signed settlement, PayTrade for a payment instruction) with these exact terms",
            arg(a, 1),
            arg(a, 0)
        )
    }),
    ("DvPTradeNotPaid", |a| {
        format!(
            "trade {} is not paid yet: the buyer must pay before the batch can settle it; leave it out of the batch",
            arg(a, 0)
        )
    }),
    ("DvPInvalidBatch", |_| "the batch is empty or its ids and trades differ in length".into()),
    ("DvPBatchCashRestricted", |a| {
        let why = crate::restriction_in("DvPBatchCashRestricted", a)
            .map_or("unknown restriction", crate::Restriction::message);
        format!(
            "the netted batch's cash legs are refused for {}: {why}; the gross batch of these trades would be refused too",
            arg(a, 0)
        )
    }),
    ("DvPBatchMixedCash", |a| {
        format!(
            "trade {} pays in deposit token {}, but the netted batch settles in {}: net each deposit token in its own batch",
            arg(a, 0),
            arg(a, 2),
            arg(a, 1)
        )
    }),
    ("TokenInsufficientHeld", |a| {
        format!(
            "account {} has {} held units, fewer than the {} the notary tried to free or move",
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )
    }),
    ("ReentrantTokenInsufficient", |a| format!("the test fixture's ledger refused: {} holds too little", arg(a, 0))),
    // Contract wallets.
    ("WalletNotOwner", |a| {
        format!("{} is not this wallet's owner: only the owner may make it call other contracts", arg(a, 0))
    }),
    ("WalletCallFailed", |_| "the wallet's call reverted: check the target contract's own error in the trace".into()),
    // OpenZeppelin.
    ("InvalidAccountNonce", |a| {
        format!(
            "nonce {} of {} was already used or is out of order: sign again with the current nonce",
            arg(a, 1),
            arg(a, 0)
        )
    }),
    ("InvalidShortString", |_| "a string argument is not a valid short string (over 31 bytes)".into()),
    ("StringTooLong", |a| format!("the string {} is too long for this field (31 bytes at most)", arg(a, 0))),
    ("AccessControlUnauthorizedAccount", |a| {
        format!("account {} lacks role {}: an admin must grant it first", arg(a, 0), role_name(arg(a, 1)))
    }),
    ("AccessControlBadConfirmation", |_| "role renouncement must be confirmed by the account itself".into()),
    ("SafeERC20FailedOperation", |a| {
        format!(
            "token {} refused the transfer (it reverted or answered false): check the receiver is a customer of the deposit token and not blocked or frozen",
            arg(a, 0)
        )
    }),
    ("ERC20InsufficientBalance", |a| {
        format!("account {} has {} units but {} are needed", arg(a, 0), arg(a, 1), arg(a, 2))
    }),
    ("ERC20InsufficientAllowance", |a| {
        format!(
            "spender {} may spend {} but {} are needed: approve a larger allowance",
            arg(a, 0),
            arg(a, 1),
            arg(a, 2)
        )
    }),
    ("ERC20InvalidReceiver", |a| format!("receiver {} is invalid (the zero address)", arg(a, 0))),
    ("ERC20InvalidSender", |a| format!("sender {} is invalid (the zero address)", arg(a, 0))),
    ("ERC20InvalidApprover", |a| format!("approver {} is invalid", arg(a, 0))),
    ("ERC20InvalidSpender", |a| format!("spender {} is invalid", arg(a, 0))),
];

fn role_name(role: &str) -> String {
    for name in [
        "DEFAULT_ADMIN_ROLE",
        "REGISTRAR_ROLE",
        "ISSUER_ROLE",
        "MINTER_ROLE",
        "NOTARY_ROLE",
        "SETTLER_ROLE",
        "PAUSER_ROLE",
        "ENFORCER_ROLE",
        "FREEZER_ROLE",
        "BLOCKLISTER_ROLE",
        "MASTER_MINTER_ROLE",
        "REDEEMER_ROLE",
        "PAYING_AGENT_ROLE",
        "RECOVERY_ROLE",
        "RULES_ROLE",
        "TRANSFER_AGENT_ROLE",
    ] {
        let hash = if name == "DEFAULT_ADMIN_ROLE" {
            alloy::primitives::B256::ZERO
        } else {
            alloy::primitives::keccak256(name)
        };
        if role.eq_ignore_ascii_case(&hash.to_string()) {
            return name.to_string();
        }
    }
    role.to_string()
}

fn bond_status(code: &str) -> &'static str {
    match code {
        "0" => "issued",
        "1" => "matured",
        "2" => "redeemed",
        "3" => "called",
        "4" => "defaulted",
        _ => "unknown",
    }
}

/// The words for a DvP trade's status flags as rendered text, e.g. "created, paid" ("does not
/// exist" for 0, "unknown" when `flags` is not a number).
pub fn status_words(flags: &str) -> String {
    let Ok(bits) = flags.parse::<u8>() else { return "unknown".into() };
    let words = crate::TradeFlags::of(bits).words();
    if words.is_empty() { "does not exist".into() } else { words.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dvp::DvP, security_token::SecurityToken};
    use alloy::primitives::{Address, U256, keccak256};

    #[test]
    fn decodes_custom_errors_with_arguments_and_advice() {
        let account = Address::repeat_byte(0x11);
        let data = SecurityToken::TokenInsufficientFreeBalance { account, free: U256::from(5), needed: U256::from(7) }
            .abi_encode();
        let err = RevertError::decode(&data);
        assert_eq!(err.name, "TokenInsufficientFreeBalance");
        assert_eq!(err.args, vec![account.to_string(), "5".into(), "7".into()]);
        assert!(
            err.message.contains("has 5 free (its balance minus held and frozen amounts)")
                && err.message.contains("7 are needed"),
            "{}",
            err.message
        );
        assert!(matches!(
            err.as_typed::<SecurityToken::SecurityTokenErrors>(),
            Some(SecurityToken::SecurityTokenErrors::TokenInsufficientFreeBalance(_))
        ));
    }

    #[test]
    fn names_trade_status_flags_and_roles() {
        let err = RevertError::decode(&DvP::DvPInvalidStatus { id: [1u8; 32].into(), status: 15 }.abi_encode());
        assert!(err.message.contains("created, paid, approved, settled"), "{}", err.message);
        let role = keccak256("ISSUER_ROLE");
        let data =
            SecurityToken::AccessControlUnauthorizedAccount { account: Address::ZERO, neededRole: role }.abi_encode();
        assert!(RevertError::decode(&data).message.contains("lacks role ISSUER_ROLE"));
    }

    #[test]
    fn every_contract_error_has_its_own_sentence() {
        let mut missing: Vec<String> = known_errors()
            .values()
            .map(|e| e.name.clone())
            .filter(|name| explain(name, &[]).starts_with("the contract reverted with"))
            .collect();
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "errors without an operator sentence in explain(): {missing:?}");
    }

    #[test]
    fn every_sentence_is_for_an_error_some_contract_declares_and_is_the_only_one_for_it() {
        let declared: std::collections::HashSet<&str> = known_errors().values().map(|e| e.name.as_str()).collect();
        let mut seen = std::collections::HashSet::new();
        for (name, _) in TOKEN_SENTENCES.iter().chain(SETTLEMENT_SENTENCES).chain(CROSS_CHAIN_SENTENCES) {
            assert!(declared.contains(name), "a sentence for {name}, which no committed ABI declares: remove it");
            assert!(seen.insert(*name), "two sentences for {name}: the second is never used");
        }
    }

    #[test]
    fn reports_revert_strings_panics_and_unknown_data() {
        let err = RevertError::decode(&Revert::from("boom").abi_encode());
        assert_eq!((err.name.as_str(), err.args.as_slice()), ("Error", &["boom".to_string()][..]));
        let err = RevertError::decode(&Panic::from(0x11).abi_encode());
        assert_eq!(err.name, "Panic");
        assert_eq!(RevertError::decode(&[]).name, "Unknown");
        let err = RevertError::decode(&[0xde, 0xad, 0xbe, 0xef]);
        assert!(err.message.contains("0xdeadbeef"), "{}", err.message);
    }
}
