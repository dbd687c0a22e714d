//! The executors: each scenario action sent through [`kessai_deployer::ops::Suite`] — one line per
//! step kind in [`Runner::transact`], and a method for the kinds that take more than one call.

use super::*;

impl Runner<'_> {
    /// Sends `action`'s transactions, collecting their receipts; a revert ends it.
    pub(super) async fn transact<C: Chain>(
        &self,
        chain: &mut C,
        action: &Action,
        receipts: &mut Vec<Receipt>,
    ) -> Result<(), DeployerError> {
        let (s, a) = (&self.suite, |p: PartyId| self.accounts[p]);
        let (authority, operator) = (self.role(Role::Authority), self.role(Role::Operator));
        let receipt = match action {
            Action::Register { party, registry } => {
                return self.register(chain, *party, *registry, true, receipts).await;
            }
            Action::Revoke { party, registry } => {
                return self.register(chain, *party, *registry, false, receipts).await;
            }
            Action::Issue { to, units } => s.issue_security(chain, self.role(Role::Issuer), a(*to), *units).await?,
            Action::Redeem { from, units } => {
                s.redeem_security(chain, self.role(Role::Issuer), a(*from), *units).await?
            }
            Action::Transfer { from, to, units } => s.transfer_security(chain, a(*from), a(*to), *units).await?,
            Action::Deposit { to, amount, reference } => {
                let (bank, to) = (self.role(Role::Bank), self.holder_address(*to));
                s.issue_deposit(chain, bank, to, *amount, keccak256(reference.as_bytes())).await?
            }
            Action::Withdraw { party, amount, account } => {
                s.redeem_deposit(chain, a(*party), *amount, keccak256(account.as_bytes())).await?
            }
            Action::TransferDeposit { from, to, amount } => {
                s.transfer_deposit(chain, a(*from), a(*to), *amount).await?
            }
            Action::CreateTrade { trade } => {
                s.create_trade(chain, self.trade_ids[*trade], &self.trades[*trade]).await?
            }
            Action::CreateSignedTrade { trade, by, signatures_of } => {
                let signatures = self.signatures(*signatures_of, Instruction::Lock)?;
                s.create_signed_trade(chain, a(*by), self.trade_ids[*trade], &self.trades[*trade], &signatures).await?
            }
            Action::Pay { trade } => s.pay(chain, self.trade_ids[*trade], &self.trades[*trade]).await?,
            Action::Approve { trade } => s.approve(chain, self.trade_ids[*trade], &self.trades[*trade]).await?,
            Action::SettleWithPayment { trade, by, signatures_of } => {
                let signature = self.buyer_signature(*signatures_of)?;
                s.settle_with_payment(chain, a(*by), self.trade_ids[*trade], &self.trades[*trade], &signature).await?
            }
            Action::SettleSigned { trade, by, signatures_of } => {
                let signatures = self.signatures(*signatures_of, Instruction::Settle)?;
                s.settle_signed(chain, a(*by), self.trade_ids[*trade], &self.trades[*trade], &signatures).await?
            }
            Action::Cancel { trade, by } => {
                s.cancel(chain, a(*by), self.trade_ids[*trade], &self.trades[*trade]).await?
            }
            Action::Release { trade, by } => {
                s.release(chain, a(*by), self.trade_ids[*trade], &self.trades[*trade]).await?
            }
            Action::Batch { trades, netted, by } => self.batch(chain, trades, *netted, a(*by)).await?,
            Action::Offer { allotments, .. } => return self.offer(chain, allotments, receipts).await,
            Action::PaymentRound { payment, holders } => self.payment_round(chain, *payment, holders).await?,
            Action::AddProgramme { title, units_per_benefit, record, claim_until, .. } => {
                self.add_programme(chain, title, *units_per_benefit, *record, *claim_until).await?
            }
            Action::ClaimBenefit { party, programme } => {
                s.claim_benefit(chain, a(*party), self.bond_address()?, *programme as u64).await?
            }
            Action::Freeze { party, units: None } => {
                s.set_frozen(chain, authority, s.security, a(*party), true).await?
            }
            Action::Freeze { party, units: Some(u) } => {
                s.freeze_units(chain, authority, (s.security, a(*party)), *u, true).await?
            }
            Action::Unfreeze { party, units: None } => {
                s.set_frozen(chain, authority, s.security, a(*party), false).await?
            }
            Action::Unfreeze { party, units: Some(u) } => {
                s.freeze_units(chain, authority, (s.security, a(*party)), *u, false).await?
            }
            Action::ForcedTransfer { from, to, units, reason, document, court_order } => {
                let order = ForcedTransfer {
                    from: a(*from),
                    to: a(*to),
                    units: *units,
                    reason: reason.clone(),
                    document_ref: keccak256(document.as_bytes()),
                    court_order: *court_order,
                };
                s.forced_transfer(chain, authority, &order).await?
            }
            Action::RecoverWallet { from, to, document } => {
                s.recover_wallet(chain, authority, a(*from), a(*to), keccak256(document.as_bytes())).await?
            }
            Action::RequestTransfer { from, to, units, request } => {
                let receipt = s.request_transfer(chain, a(*from), a(*to), *units).await?;
                self.remember_request(request, &receipt);
                receipt
            }
            Action::ApproveTransfer { request } => {
                s.approve_transfer(chain, self.role(Role::Registrar), self.request_id(request)).await?
            }
            Action::RejectTransfer { request, reason } => {
                s.reject_transfer(chain, self.role(Role::Registrar), self.request_id(request), reason).await?
            }
            Action::Pause => s.set_paused(chain, operator, s.security, true).await?,
            Action::Resume => s.set_paused(chain, operator, s.security, false).await?,
            Action::Advance(advance) => return self.advance(chain, *advance).await,
        };
        receipts.push(receipt);
        Ok(())
    }

    /// Registers (or revokes) `party` in the registries `registry` names, one transaction each.
    async fn register<C: Chain>(
        &self,
        chain: &mut C,
        party: PartyId,
        registry: Registry,
        register: bool,
        receipts: &mut Vec<Receipt>,
    ) -> Result<(), DeployerError> {
        let account = self.accounts[party];
        for (registry, registrar) in self.registries(registry) {
            receipts.push(if register {
                self.suite.register(chain, registry, registrar, account, self.registration(party)).await?
            } else {
                self.suite.revoke(chain, registry, registrar, account).await?
            });
        }
        Ok(())
    }

    /// The agent settles `trades` in one batch, gross or netted.
    async fn batch<C: Chain>(
        &self,
        chain: &mut C,
        trades: &[TradeId],
        netted: bool,
        agent: Address,
    ) -> Result<Receipt, DeployerError> {
        let batch: Vec<(B256, Trade)> = trades.iter().map(|t| (self.trade_ids[*t], self.trades[*t].clone())).collect();
        Ok(self.suite.settle_batch(chain, agent, &batch, netted).await?.receipt)
    }

    /// What `Suite::offer` does — one DvP trade per allotment, the underwriter selling — with trade
    /// ids from the scenario's names so later steps can name them.
    async fn offer<C: Chain>(
        &self,
        chain: &mut C,
        allotments: &[TradeId],
        receipts: &mut Vec<Receipt>,
    ) -> Result<(), DeployerError> {
        for t in allotments {
            receipts.push(self.suite.create_trade(chain, self.trade_ids[*t], &self.trades[*t]).await?);
        }
        Ok(())
    }

    /// The deployed bond, for the steps that need one.
    fn bond_address(&self) -> Result<Address, DeployerError> {
        self.instrument.ok_or_else(|| DeployerError::Plan("this scenario deployed no bond".into()))
    }

    /// The paying agent pays `payment` to `holders`.
    async fn payment_round<C: Chain>(
        &self,
        chain: &mut C,
        payment: u64,
        holders: &[PartyId],
    ) -> Result<Receipt, DeployerError> {
        let agent = self.scenario.instrument.bond.as_ref().map_or(Address::ZERO, |b| self.accounts[b.paying_agent]);
        let holders: Vec<Address> = holders.iter().map(|p| self.accounts[*p]).collect();
        self.suite.pay_instrument(chain, agent, self.bond_address()?, payment, &holders).await
    }

    /// The issuer adds a benefit programme to the municipal bond.
    async fn add_programme<C: Chain>(
        &self,
        chain: &mut C,
        title: &str,
        units_per_benefit: u128,
        record: u16,
        claim_until: u64,
    ) -> Result<Receipt, DeployerError> {
        let programme = BenefitProgramme {
            name: title.to_string(),
            units_per_benefit,
            record,
            claim_until: self.start + claim_until,
        };
        self.suite.add_benefit_programme(chain, self.role(Role::Issuer), self.bond_address()?, &programme).await
    }

    /// Keeps the id the approvals desk gave request `name` (from its `TransferRequested` event).
    fn remember_request(&self, name: &str, receipt: &Receipt) {
        use alloy::sol_types::SolEvent;
        use kessai_bindings::transfer_approvals::TransferApprovals::TransferRequested;
        let id = receipt.logs.iter().find_map(|log| {
            let topics = log.topics();
            (topics.first() == Some(&TransferRequested::SIGNATURE_HASH)).then(|| topics.get(1).copied()).flatten()
        });
        if let (Some(id), Ok(mut requests)) = (id, self.requests.lock()) {
            requests.insert(name.to_string(), id);
        }
    }

    /// The on-chain id of request `name`; zero when its request step was refused, so deciding it is
    /// refused too (`ApprovalRequestNotPending`).
    fn request_id(&self, name: &str) -> B256 {
        self.requests.lock().ok().and_then(|r| r.get(name).copied()).unwrap_or_default()
    }

    /// Moves the chain's clock by a span, or up to a time after the start (never back).
    async fn advance<C: Chain>(&self, chain: &mut C, advance: Advance) -> Result<(), DeployerError> {
        match advance {
            Advance::By(seconds) => chain.advance_time(seconds).await,
            Advance::Until(offset) => {
                let now = chain.timestamp().await?;
                let target = self.start + offset;
                if now < target {
                    chain.advance_time(target - now).await?;
                }
                Ok(())
            }
        }
    }
}
