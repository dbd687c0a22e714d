//! Deploying through the journal: every step recorded before it is sent, reconciled on a rerun.

use super::*;
use alloy::rpc::types::Block;

/// Executes `plan` on `chain` with the write-ahead journal at `options.path`, resuming what an
/// earlier run left unfinished. Refuses, before sending anything, a journal from another chain and a
/// plan that changed in steps already sent.
pub async fn deploy(chain: &mut RpcChain, plan: &Plan, options: &JournalOptions) -> Result<Outcome, DeployerError> {
    if options.fresh && options.path.exists() {
        std::fs::remove_file(&options.path)?;
    }
    let mut journal = Journal::open(&options.path)?;
    let chain_id = chain.chain_id().await?;
    let genesis = genesis_hash(chain).await?;
    journal.check_chain(chain_id, genesis)?;
    let prepared = plan.prepare_all()?;
    journal.check_plan(&prepared)?;
    journal.append(Entry::Run {
        time: now(),
        chain_id,
        genesis,
        salt: plan.salt.clone(),
        config_hash: options.config_hash,
        kessai: env!("CARGO_PKG_VERSION").into(),
        steps: plan.steps.len(),
    })?;
    let funder = plan.steps.first().map(Step::sender).unwrap_or_default();
    let funded: Vec<B256> = journal
        .entries()
        .iter()
        .filter_map(|e| match e {
            Entry::Funding { tx_hash, .. } => Some(*tx_hash),
            _ => None,
        })
        .collect();
    let deployer = install_deterministic_deployer(chain, funder, &funded, |signed| {
        journal.append(Entry::Funding { from: signed.from, nonce: signed.nonce, tx_hash: signed.hash })
    })
    .await?;
    journal.append(Entry::Deployer { status: deployer.clone() })?;
    let records = journal.records();
    let mut runner = Journaled { journal, records, done: BTreeMap::new(), sent: 0, resumed: 0, redone: Vec::new() };
    runner.reconcile(chain, &prepared).await?;
    let deployment = plan::execute_with(chain, plan, &mut runner).await?;
    let (sent, resumed) = (runner.sent, runner.resumed);
    runner.journal.append(Entry::Complete { time: now(), sent, resumed })?;
    Ok(Outcome { deployment, sent, resumed, deployer, redone: runner.redone })
}

/// The step runner that writes ahead, resumes, and sends each wave of independent steps together.
pub(super) struct Journaled {
    pub(super) journal: Journal,
    pub(super) records: BTreeMap<usize, StepRecord>,
    /// Steps found done on the chain before this run sent anything, with their receipts.
    pub(super) done: BTreeMap<usize, Receipt>,
    pub(super) sent: usize,
    pub(super) resumed: usize,
    pub(super) redone: Vec<String>,
}

impl StepRunner<RpcChain> for Journaled {
    fn waves(&self, plan: &Plan) -> Vec<Vec<usize>> {
        plan.waves()
    }

    async fn run(&mut self, chain: &mut RpcChain, steps: &[&PreparedStep<'_>]) -> Result<Vec<Receipt>, DeployerError> {
        let mut receipts: Vec<Option<Receipt>> = steps.iter().map(|s| self.done.remove(&s.index)).collect();
        let unsent: Vec<&PreparedStep<'_>> =
            steps.iter().zip(&receipts).filter(|(_, r)| r.is_none()).map(|(s, _)| *s).collect();
        if !unsent.is_empty() {
            let block = chain.block_number().await?;
            let txs: Vec<_> = unsent.iter().map(|s| s.tx.clone()).collect();
            let journal = &mut self.journal;
            // Written once each transaction is signed (its nonce and hash known) and before it leaves.
            let write_ahead = |i: usize, signed: &Signed| {
                let step = unsent[i];
                tracing::info!(target: "kessai::deploy", step = step.index, from = %signed.from, nonce = signed.nonce, hash = %signed.hash, replaces = ?signed.replaces, what = %step.step.describe(), "sending");
                journal.append(Entry::Sending {
                    step: step.index,
                    description: step.step.describe(),
                    spec: step.step.clone(),
                    from: signed.from,
                    nonce: signed.nonce,
                    predicted: step.predicted(),
                    block,
                    tx_hash: Some(signed.hash),
                })
            };
            let results = chain.send_batch(&txs, write_ahead).await;
            let mut failure = None;
            let mut landed = BTreeMap::new();
            for (step, result) in unsent.iter().zip(results) {
                match result {
                    Some(Ok(receipt)) => {
                        self.confirm(step.index, &receipt)?;
                        self.sent += 1;
                        landed.insert(step.index, receipt);
                    }
                    // Refused before signing: the engine estimates first and never sends what would
                    // revert.
                    Some(Err(e @ (DeployerError::Revert(_) | DeployerError::NoKey(_)))) => {
                        self.journal.append(Entry::Refused { step: step.index, error: e.to_string() })?;
                        failure.get_or_insert(e);
                    }
                    Some(Err(e)) => {
                        failure.get_or_insert(e);
                    }
                    None => {}
                }
            }
            if let Some(e) = failure {
                return Err(e);
            }
            for (step, receipt) in steps.iter().zip(receipts.iter_mut()) {
                if receipt.is_none() {
                    *receipt = landed.remove(&step.index);
                }
            }
        }
        receipts
            .into_iter()
            .zip(steps)
            .map(|(r, s)| r.ok_or_else(|| self.journal.error(format!("step {} got no receipt", s.index))))
            .collect()
    }
}

impl Journaled {
    /// Finds, before anything is sent, which steps of the journal are done on this chain: a step
    /// recorded as confirmed is recognised by its effect or its receipt — or, when the chain no longer
    /// has it, journaled as lost and left to be sent again; a step sent but not confirmed is tracked
    /// to its receipt (or left to be sent again when the node never got it). A deployment the journal
    /// never sent whose address holds code is refused.
    pub(super) async fn reconcile(
        &mut self,
        chain: &mut RpcChain,
        prepared: &[PreparedStep<'_>],
    ) -> Result<(), DeployerError> {
        for step in prepared {
            let record = self.records.get(&step.index).cloned().unwrap_or_default();
            if let Some(Entry::Confirmed { tx_hash, block, gas_used, .. }) = record.confirmed {
                match self.recognise(chain, step, tx_hash, block).await? {
                    None => {
                        self.resumed += 1;
                        self.done.insert(
                            step.index,
                            Receipt {
                                tx_hash,
                                block_number: block,
                                gas_used,
                                contract_address: step.predicted(),
                                logs: Vec::new(),
                            },
                        );
                    }
                    Some(reason) => {
                        let what = step.step.describe();
                        let message = format!(
                            "step {} ({what}) was confirmed in transaction {tx_hash} (block {block}), but {reason}: \
                             the node lost it (restarted from an older state?); doing the step again",
                            step.index
                        );
                        tracing::warn!(target: "kessai::deploy", step = step.index, %tx_hash, %reason, "{message}");
                        self.journal.append(Entry::Lost { step: step.index, tx_hash, reason })?;
                        self.redone.push(message);
                    }
                }
                continue;
            }
            if let Some(Entry::Sending { from, nonce, block, .. }) = record.sending {
                let sent = Sent { from, nonce, block };
                if let Some(receipt) = self.track(chain, step, sent, &record.hashes).await? {
                    self.confirm(step.index, &receipt)?;
                    self.resumed += 1;
                    self.done.insert(step.index, receipt);
                }
                continue;
            }
            if let (Effect::Code { address, .. }, Step::Deploy { label, .. }) = (&step.effect, step.step)
                && !chain.code(*address).await?.is_empty()
            {
                // Code the journal never sent: another deployment with the same salt.
                return Err(DeployerError::AlreadyDeployed { label: label.clone(), address: *address });
            }
        }
        Ok(())
    }

    pub(super) fn confirm(&mut self, step: usize, receipt: &Receipt) -> Result<(), DeployerError> {
        self.journal.append(Entry::Confirmed {
            step,
            tx_hash: receipt.tx_hash,
            block: receipt.block_number,
            gas_used: receipt.gas_used,
        })
    }

    /// Checks that a step the journal records as confirmed in `tx_hash` (mined in `block`) took
    /// effect on this chain: `None` when it did, or why the chain no longer shows it. Its effect is
    /// read first (code at the address, the role held, the registry's record); a step whose effect
    /// cannot be read, or is absent, is looked up by its transaction — lost when the chain's head is
    /// below `block` or `block` no longer holds it.
    pub(super) async fn recognise(
        &self,
        chain: &mut RpcChain,
        step: &PreparedStep<'_>,
        tx_hash: B256,
        block: u64,
    ) -> Result<Option<String>, DeployerError> {
        let holds = step.effect.holds(chain).await?;
        match holds {
            Some(true) => return Ok(None),
            Some(false) if matches!(step.effect, Effect::Code { .. }) => {
                return Ok(Some(format!("there is no code at {}", step.predicted().unwrap_or_default())));
            }
            _ => {}
        }
        match receipt(chain, tx_hash).await? {
            Some(r) if r.status() => {
                if holds == Some(false) {
                    tracing::warn!(target: "kessai::deploy", step = step.index, what = %step.step.describe(), "done earlier but undone since (revoked?); not sent again");
                }
                return Ok(None);
            }
            Some(_) => return Ok(Some("its transaction failed on this chain".into())),
            None => {}
        }
        let head = chain.block_number().await?;
        if head < block {
            return Ok(Some(format!("the chain's head is block {head}, and the node has no receipt for it")));
        }
        let provider = chain.provider().clone();
        let held = chain
            .retry("eth_getBlockByNumber", || provider.get_block_by_number(BlockNumberOrTag::Number(block)))
            .await?
            .is_some_and(|b| b.transactions.hashes().any(|h| h == tx_hash));
        if held {
            // The block holds it and only its receipt is not served (a node that prunes receipts).
            tracing::warn!(target: "kessai::deploy", step = step.index, %tx_hash, block, "the node serves no receipt for a confirmed step whose block holds it; taken as done");
            return Ok(None);
        }
        Ok(Some(format!("block {block} no longer holds it and the node has no receipt for it")))
    }

    /// Follows a step that was sent but not confirmed: `Some(receipt)` when its transaction was
    /// mined (waiting for it while it is pending), `None` when it must be sent again.
    pub(super) async fn track(
        &self,
        chain: &RpcChain,
        step: &PreparedStep<'_>,
        sent: Sent,
        hashes: &[B256],
    ) -> Result<Option<Receipt>, DeployerError> {
        if let Some(verdict) = recorded_verdict(chain, step, sent.block, hashes).await? {
            return Ok(verdict);
        }
        if !self.wait_for_nonce(chain, step, sent).await? {
            return Ok(None);
        }
        self.find_by_nonce(chain, step, sent).await
    }

    /// Waits until the node's latest nonce of `from` is past `nonce`: `false` when the node never got
    /// the step's transaction (it must be sent again), an error when it stays pending past the
    /// engine's timeout.
    async fn wait_for_nonce(
        &self,
        chain: &RpcChain,
        step: &PreparedStep<'_>,
        sent: Sent,
    ) -> Result<bool, DeployerError> {
        let Sent { from, nonce, .. } = sent;
        let mut latest = nonce_count(chain, from, false).await?;
        if latest > nonce {
            return Ok(true);
        }
        if nonce_count(chain, from, true).await? <= nonce {
            tracing::info!(target: "kessai::deploy", step = step.index, "the node never got the step's transaction; sending it again");
            return Ok(false);
        }
        tracing::info!(target: "kessai::deploy", step = step.index, %from, nonce, "waiting for the step's pending transaction");
        let deadline = tokio::time::Instant::now() + chain.options().timeout;
        while latest <= nonce {
            if tokio::time::Instant::now() > deadline {
                return Err(self.journal.error(format!(
                    "step {} was sent with nonce {nonce} from {from} and is still pending after {} s; rerun \
                     later",
                    step.index,
                    chain.options().timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            latest = nonce_count(chain, from, false).await?;
        }
        Ok(true)
    }

    /// The nonce was used: finds the transaction that used it, from `block` to the head. `None` when
    /// it was another transaction or it failed (the step must be sent again).
    async fn find_by_nonce(
        &self,
        chain: &RpcChain,
        step: &PreparedStep<'_>,
        sent: Sent,
    ) -> Result<Option<Receipt>, DeployerError> {
        let Sent { from, nonce, block } = sent;
        let provider = chain.provider().clone();
        let head = chain.block_number().await?;
        for number in block..=head {
            let Some(b) = chain
                .retry("eth_getBlockByNumber", || provider.get_block_by_number(BlockNumberOrTag::Number(number)).full())
                .await?
            else {
                continue;
            };
            let Some((hash, ours)) = nonce_user(&b, step, from, nonce) else { continue };
            if !ours {
                tracing::warn!(target: "kessai::deploy", step = step.index, %hash, "the nonce went to another transaction; sending the step again");
                return Ok(None);
            }
            return match receipt(chain, hash).await? {
                Some(r) if r.status() => Ok(Some(step_receipt(step, hash, &r, number))),
                _ => {
                    tracing::warn!(target: "kessai::deploy", step = step.index, %hash, "the step's transaction failed on-chain; sending it again");
                    Ok(None)
                }
            };
        }
        Err(self.journal.error(format!(
            "step {} was sent with nonce {nonce} from {from}, the nonce is used, but no block since {block} holds \
             that transaction",
            step.index
        )))
    }
}

/// What the journal recorded of a step sent but not confirmed: the sender, the nonce its transaction
/// used, and the chain's head block when it was sent.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sent {
    from: Address,
    nonce: u64,
    block: u64,
}

/// The verdict of the hashes recorded for a step: `Some(Some(receipt))` when one of them is mined,
/// `Some(None)` when it failed on-chain (the step must be sent again), `None` when none has a receipt.
async fn recorded_verdict(
    chain: &RpcChain,
    step: &PreparedStep<'_>,
    block: u64,
    hashes: &[B256],
) -> Result<Option<Option<Receipt>>, DeployerError> {
    // One of the recorded hashes mined is the step's transaction.
    for hash in hashes {
        if let Some(r) = receipt(chain, *hash).await? {
            if r.status() {
                tracing::info!(target: "kessai::deploy", step = step.index, %hash, "the step's recorded transaction is mined");
                return Ok(Some(Some(step_receipt(step, *hash, &r, block))));
            }
            tracing::warn!(target: "kessai::deploy", step = step.index, %hash, "the step's transaction failed on-chain; sending it again");
            return Ok(Some(None));
        }
    }
    Ok(None)
}

/// The transaction of `block` that used `from`'s `nonce`, and whether it is the step's own.
fn nonce_user(block: &Block, step: &PreparedStep<'_>, from: Address, nonce: u64) -> Option<(B256, bool)> {
    block.transactions.txns().find_map(|t| {
        let envelope = t.inner.inner();
        (t.inner.signer() == from && envelope.nonce() == nonce).then(|| {
            let ours = envelope.to() == step.tx.to && *envelope.input() == step.tx.data;
            (*envelope.tx_hash(), ours)
        })
    })
}

/// The step's receipt from its mined transaction `hash` (in `block` when the receipt names none).
fn step_receipt(step: &PreparedStep<'_>, hash: B256, r: &TransactionReceipt, block: u64) -> Receipt {
    Receipt {
        tx_hash: hash,
        block_number: r.block_number.unwrap_or(block),
        gas_used: r.gas_used,
        contract_address: step.predicted(),
        logs: r.inner.logs().iter().map(|l| l.inner.clone()).collect(),
    }
}

/// `from`'s transaction count at the latest block, or with `pending` counting pending transactions.
async fn nonce_count(chain: &RpcChain, from: Address, pending: bool) -> Result<u64, DeployerError> {
    chain
        .retry("eth_getTransactionCount", || {
            let request = chain.provider().get_transaction_count(from);
            if pending { request.pending() } else { request.latest() }
        })
        .await
}

pub(super) async fn receipt(chain: &RpcChain, hash: B256) -> Result<Option<TransactionReceipt>, DeployerError> {
    chain.retry("eth_getTransactionReceipt", || chain.provider().get_transaction_receipt(hash)).await
}

/// Waits for the receipt of `hash` (`what`, for the error) for at most the engine's timeout.
pub(super) async fn wait_for_receipt(
    chain: &RpcChain,
    hash: B256,
    what: &str,
) -> Result<TransactionReceipt, DeployerError> {
    let deadline = tokio::time::Instant::now() + chain.options().timeout;
    loop {
        if let Some(r) = receipt(chain, hash).await? {
            return Ok(r);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(DeployerError::NoDeployer(format!(
                "{what} {hash} is not mined after {} s",
                chain.options().timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(super) async fn genesis_hash(chain: &RpcChain) -> Result<B256, DeployerError> {
    let block = chain
        .retry("eth_getBlockByNumber", || chain.provider().get_block_by_number(BlockNumberOrTag::Number(0)))
        .await?
        .ok_or_else(|| DeployerError::Answer("the node has no genesis block".into()))?;
    Ok(block.header.hash)
}

/// Finds the deterministic deployment proxy on `chain`, or installs it: funds its signer with the
/// transaction's cost (gas price × gas limit) from `funder` when needed, then broadcasts the
/// presigned transaction and checks the code. Call it before sending anything else from `funder`
/// through `chain` (the engine tracks each sender's nonce itself).
pub async fn ensure_deterministic_deployer(
    chain: &mut RpcChain,
    funder: Address,
) -> Result<DeployerStatus, DeployerError> {
    install_deterministic_deployer(chain, funder, &[], |_| Ok(())).await
}

/// [`ensure_deterministic_deployer`], reporting the funding transfer to `observe` once it is signed
/// and before it is sent (the journal records it), and first waiting for any of the `funded`
/// transfers an earlier run recorded that the node holds: a funding in flight when that run stopped
/// is not sent again.
pub(super) async fn install_deterministic_deployer(
    chain: &mut RpcChain,
    funder: Address,
    funded: &[B256],
    mut observe: impl FnMut(&Signed) -> Result<(), DeployerError>,
) -> Result<DeployerStatus, DeployerError> {
    let code = chain.code(DETERMINISTIC_DEPLOYER).await?;
    if !code.is_empty() {
        plan::require_deployer(chain).await?;
        return Ok(DeployerStatus::Found);
    }
    let provider = chain.provider().clone();
    let tx_hash = DETERMINISTIC_DEPLOYER_TX_HASH;
    let signer_nonce = chain
        .retry("eth_getTransactionCount", || provider.get_transaction_count(DETERMINISTIC_DEPLOYER_SIGNER).pending())
        .await?;
    let known = chain.retry("eth_getTransactionByHash", || provider.get_transaction_by_hash(tx_hash)).await?.is_some();
    if signer_nonce > 0 && !known {
        return Err(DeployerError::NoDeployer(format!(
            "the deterministic deployment proxy is not on this chain and cannot be installed: its signer \
             {DETERMINISTIC_DEPLOYER_SIGNER} has already used nonce 0 here. Ask the chain's operator to place the \
             proxy's code at {DETERMINISTIC_DEPLOYER} (at genesis)"
        )));
    }
    let mut funding = None;
    if !known {
        for hash in funded {
            let held = chain.retry("eth_getTransactionByHash", || provider.get_transaction_by_hash(*hash)).await?;
            if held.is_some() {
                tracing::info!(target: "kessai::deploy", %hash, "an earlier run's funding of the proxy's signer is on the node; waiting for it");
                wait_for_receipt(chain, *hash, "the funding of the deterministic deployment proxy's signer").await?;
                funding = Some(*hash);
            }
        }
        let cost = U256::from(DETERMINISTIC_DEPLOYER_COST);
        let balance =
            chain.retry("eth_getBalance", || provider.get_balance(DETERMINISTIC_DEPLOYER_SIGNER).pending()).await?;
        if balance < cost {
            tracing::info!(target: "kessai::deploy", %funder, "funding the deterministic deployment proxy's signer");
            // Sent, priced and followed as the engine sends everything (a pre-London node has no fee
            // history to ask).
            let transfer = chain.transfer_tracked(funder, DETERMINISTIC_DEPLOYER_SIGNER, cost - balance, &mut observe);
            let hash = transfer.await.map_err(|e| {
                DeployerError::NoDeployer(format!(
                    "could not fund the deterministic deployment proxy's signer {DETERMINISTIC_DEPLOYER_SIGNER} \
                     from {funder}: {e}"
                ))
            })?;
            funding = Some(hash);
        }
        tracing::info!(target: "kessai::deploy", "installing the deterministic deployment proxy");
        // Its receipt is polled below, whether this run or an earlier one broadcast it.
        chain.send_raw(&DETERMINISTIC_DEPLOYER_TX, tx_hash).await.map_err(|e| {
            DeployerError::NoDeployer(format!(
                "the node refused the deterministic deployment proxy's presigned transaction ({e}); it has no chain \
                 id, so the node must accept unprotected (pre-EIP-155) transactions and a gas price of 100 gwei"
            ))
        })?;
    }
    let mined = wait_for_receipt(chain, tx_hash, "the deterministic deployment proxy's transaction").await?;
    if !mined.status() {
        return Err(DeployerError::NoDeployer(format!(
            "the deterministic deployment proxy's transaction {tx_hash} failed on-chain"
        )));
    }
    plan::require_deployer(chain).await?;
    Ok(DeployerStatus::Installed { funding, tx_hash })
}
