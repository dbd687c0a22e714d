//! The enforcement side of the suite's operations: account and unit freezes, forced transfers,
//! wallet recovery, pause, the transfer agent's decisions in approval mode, and reading an
//! account's standing.

use super::*;

/// A forced transfer of security units, as an enforcement authority orders it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForcedTransfer {
    /// The holder the units are taken from.
    pub from: Address,
    /// The receiver.
    pub to: Address,
    /// Units moved.
    pub units: U256,
    /// Why, in words (recorded in the event).
    pub reason: String,
    /// The order's document (a hash of its reference).
    pub document_ref: B256,
    /// A court order: the receiver's eligibility is not checked.
    pub court_order: bool,
}

/// An account's standing on the security token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// Units it holds in all.
    pub units: U256,
    /// Units held for a notary (a DvP lock, an approval request).
    pub units_held: U256,
    /// Units frozen by the freezer.
    pub units_frozen: U256,
    /// The whole account is frozen.
    pub account_frozen: bool,
}

impl Suite {
    /// The bank (FREEZER_ROLE) freezes or unfreezes a whole account of `token`.
    pub async fn set_frozen<C: Chain>(
        &self,
        chain: &mut C,
        freezer: Address,
        token: Address,
        account: Address,
        frozen: bool,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(freezer, token, &DepositToken::setAccountFrozenCall { account, frozen }).await
    }

    /// The freezer (FREEZER_ROLE) freezes (`freeze`) `units` of `account`'s free units on `token` —
    /// they stay its own but cannot move until unfrozen or seized — or releases that many frozen units.
    pub async fn freeze_units<C: Chain>(
        &self,
        chain: &mut C,
        freezer: Address,
        (token, account): (Address, Address),
        units: U256,
        freeze: bool,
    ) -> Result<Receipt, DeployerError> {
        if freeze {
            chain.send_call(freezer, token, &SecurityToken::freezeUnitsCall { account, amount: units }).await
        } else {
            chain.send_call(freezer, token, &SecurityToken::unfreezeUnitsCall { account, amount: units }).await
        }
    }

    /// The enforcer (ENFORCER_ROLE) moves units of the security token by authority: free units
    /// first, then frozen ones, never held ones.
    pub async fn forced_transfer<C: Chain>(
        &self,
        chain: &mut C,
        enforcer: Address,
        order: &ForcedTransfer,
    ) -> Result<Receipt, DeployerError> {
        let call = SecurityToken::forcedTransferCall {
            from: order.from,
            to: order.to,
            amount: order.units,
            reason: order.reason.clone(),
            documentRef: order.document_ref,
            courtOrderOverride: order.court_order,
        };
        chain.send_call(enforcer, self.security, &call).await
    }

    /// The recovery agent (RECOVERY_ROLE) moves everything `lost` holds on the security token —
    /// free, held and frozen units, and its freeze — to the fresh, eligible wallet `new`.
    pub async fn recover_wallet<C: Chain>(
        &self,
        chain: &mut C,
        recovery: Address,
        lost: Address,
        new: Address,
        document_ref: B256,
    ) -> Result<Receipt, DeployerError> {
        let call = SecurityToken::recoverWalletCall { lostWallet: lost, newWallet: new, documentRef: document_ref };
        chain.send_call(recovery, self.security, &call).await
    }

    /// `holder` asks the approvals desk to move `units` of the security token to `to`; the units are
    /// held until the transfer agent decides. Returns the receipt; the request id is in its
    /// `TransferRequested` event.
    pub async fn request_transfer<C: Chain>(
        &self,
        chain: &mut C,
        holder: Address,
        to: Address,
        units: U256,
    ) -> Result<Receipt, DeployerError> {
        let call = TransferApprovals::requestTransferCall { token: self.security, to, amount: units };
        chain.send_call(holder, self.approvals, &call).await
    }

    /// The transfer agent (TRANSFER_AGENT_ROLE) approves request `id`: the held units move.
    pub async fn approve_transfer<C: Chain>(
        &self,
        chain: &mut C,
        agent: Address,
        id: B256,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(agent, self.approvals, &TransferApprovals::approveCall { id }).await
    }

    /// The transfer agent rejects request `id` with `reason`: the held units are released.
    pub async fn reject_transfer<C: Chain>(
        &self,
        chain: &mut C,
        agent: Address,
        id: B256,
        reason: &str,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(agent, self.approvals, &TransferApprovals::rejectCall { id, reason: reason.to_string() }).await
    }

    /// The pauser pauses or resumes `token`.
    pub async fn set_paused<C: Chain>(
        &self,
        chain: &mut C,
        pauser: Address,
        token: Address,
        paused: bool,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(pauser, token, &DepositToken::setPausedCall { paused_: paused }).await
    }

    /// `account`'s standing on the security token: its units, held and frozen units, and whether the
    /// whole account is frozen.
    pub async fn standing<C: Chain>(&self, chain: &mut C, account: Address) -> Result<Standing, DeployerError> {
        Ok(Standing {
            units: chain.read(self.security, &SecurityToken::balanceOfCall { account }).await?,
            units_held: chain.read(self.security, &SecurityToken::heldBalanceOfCall { account }).await?,
            units_frozen: chain.read(self.security, &SecurityToken::frozenBalanceOfCall { account }).await?,
            account_frozen: chain.read(self.security, &SecurityToken::isFrozenCall { account }).await?,
        })
    }

    /// Whether the security token is paused.
    pub async fn security_paused<C: Chain>(&self, chain: &mut C) -> Result<bool, DeployerError> {
        chain.read(self.security, &SecurityToken::pausedCall {}).await
    }
}
