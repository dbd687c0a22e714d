//! Sending through the node: nonces, signing, broadcasting, following each transaction by its hash to
//! its receipt (replacements, lost answers), and the reads the engine needs.

use super::*;

impl RpcChain {
    /// The next nonce of `from`: tracked locally after the first lookup of the pending count.
    pub(super) async fn next_nonce(&mut self, from: Address) -> Result<u64, DeployerError> {
        if let Some(n) = self.nonces.get(&from) {
            return Ok(*n);
        }
        let n = self.retry("eth_getTransactionCount", || self.provider.get_transaction_count(from).pending()).await?;
        self.nonces.insert(from, n);
        Ok(n)
    }

    /// The receipt of whichever of `hashes` was mined, if any.
    pub(super) async fn mined(&self, hashes: &[B256]) -> Result<Option<TransactionReceipt>, DeployerError> {
        for hash in hashes {
            if let Some(r) =
                self.retry("eth_getTransactionReceipt", || self.provider.get_transaction_receipt(*hash)).await?
            {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// What the chain knows of `hashes`, the transactions signed for `from`'s nonce `nonce`: a
    /// receipt first, then the node's pool, then the sender's mined nonce (and the receipts again, in
    /// case one was mined in between).
    pub(super) async fn whereabouts(
        &self,
        from: Address,
        nonce: u64,
        hashes: &[B256],
    ) -> Result<Whereabouts, DeployerError> {
        if let Some(receipt) = self.mined(hashes).await? {
            return Ok(Whereabouts::Mined(Box::new(receipt)));
        }
        for hash in hashes {
            if self.retry("eth_getTransactionByHash", || self.provider.get_transaction_by_hash(*hash)).await?.is_some()
            {
                return Ok(Whereabouts::Pending);
            }
        }
        let used = self.retry("eth_getTransactionCount", || self.provider.get_transaction_count(from).latest()).await?;
        if used <= nonce {
            return Ok(Whereabouts::Unseen);
        }
        Ok(match self.mined(hashes).await? {
            Some(receipt) => Whereabouts::Mined(Box::new(receipt)),
            None => Whereabouts::NonceTaken,
        })
    }

    /// Sends the signed transaction `raw` (the last of `hashes`, all for `from`'s nonce `nonce`).
    /// When the answer is lost or is an error, the chain is asked before anything is concluded: a
    /// transaction of `hashes` that is mined or held by the node means the send did its work; a nonce
    /// used by another transaction is [`DeployerError::NonceTaken`]; a transaction the chain never saw
    /// is sent again (the same bytes, so never a second transaction) while the failure is transient,
    /// and is otherwise the node's refusal. `Ok(Some(receipt))` when one of `hashes` is already mined.
    pub(super) async fn broadcast(
        &self,
        raw: &[u8],
        from: Address,
        nonce: u64,
        hashes: &[B256],
    ) -> Result<Option<TransactionReceipt>, DeployerError> {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let error = match self.provider.send_raw_transaction(raw).await {
                Ok(_) => return Ok(None),
                Err(e) => self.error(e),
            };
            match self.whereabouts(from, nonce, hashes).await? {
                Whereabouts::Mined(receipt) => {
                    tracing::info!(target: "kessai::rpc", %from, nonce, %error, "the send's answer was an error, but the transaction is mined");
                    return Ok(Some(*receipt));
                }
                Whereabouts::Pending => {
                    tracing::info!(target: "kessai::rpc", %from, nonce, %error, "the send's answer was an error, but the node holds the transaction");
                    return Ok(None);
                }
                Whereabouts::NonceTaken => {
                    return Err(DeployerError::NonceTaken { from, nonce, hashes: hashes.to_vec() });
                }
                Whereabouts::Unseen => {}
            }
            match &error {
                DeployerError::Transport { cause, .. }
                    if cause.is_transient() && attempt + 1 < self.options.retries =>
                {
                    attempt += 1;
                    let cause = cause.summary();
                    tracing::warn!(target: "kessai::rpc", %from, nonce, attempt, %cause, "the node did not get the transaction; sending it again");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
                _ => return Err(error),
            }
        }
    }

    /// Signs `flight`'s transaction at its current pricing, reports it to `observe` before sending it
    /// and sends it. A replacement the node refuses (underpriced, or its nonce already used by the
    /// original) is dropped and the transactions signed before it are followed. `observe` is a type
    /// parameter here and below, not a `dyn FnMut`, so that a `Send` observer keeps the future `Send`
    /// (as [`Chain::send`] promises).
    pub(super) async fn sign_and_broadcast<O: FnMut(&Signed) -> Result<(), DeployerError> + ?Sized>(
        &self,
        flight: &mut InFlight,
        observe: &mut O,
    ) -> Result<(), DeployerError> {
        let (from, nonce) = (flight.from, flight.nonce);
        let priced = match flight.pricing {
            Pricing::Legacy { gas_price } => flight.req.clone().with_gas_price(gas_price),
            Pricing::Eip1559 { max_fee, priority } => {
                flight.req.clone().with_max_fee_per_gas(max_fee).with_max_priority_fee_per_gas(priority)
            }
        };
        let wallet = self.wallet.as_ref().ok_or_else(|| {
            DeployerError::Keys(format!("no key for {from}: this connection was opened to read only, with no keys"))
        })?;
        let envelope =
            priced.build(wallet).await.map_err(|source| DeployerError::SignTx { from, source: Box::new(source) })?;
        let hash = *envelope.tx_hash();
        observe(&Signed { from, nonce, hash, replaces: flight.hashes.last().copied() })?;
        flight.hashes.push(hash);
        flight.sent_at = tokio::time::Instant::now();
        match self.broadcast(&envelope.encoded_2718(), from, nonce, &flight.hashes).await {
            Ok(receipt) => {
                flight.receipt = receipt.map(Box::new);
                Ok(())
            }
            Err(_) if flight.hashes.len() > 1 => {
                let refused = flight.hashes.pop();
                tracing::warn!(target: "kessai::rpc", ?refused, "the replacement was refused; following the earlier transaction(s)");
                if let Whereabouts::NonceTaken = self.whereabouts(from, nonce, &flight.hashes).await? {
                    return Err(DeployerError::NonceTaken { from, nonce, hashes: flight.hashes.clone() });
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Follows `flight` until one of the transactions signed for its nonce is mined, replacing it
    /// with a higher fee (reported to `observe` first) whenever none is mined within
    /// [`RpcOptions::resend_after`] of the last send.
    pub(super) async fn follow<O: FnMut(&Signed) -> Result<(), DeployerError> + ?Sized>(
        &self,
        flight: &mut InFlight,
        observe: &mut O,
    ) -> Result<TransactionReceipt, DeployerError> {
        let (from, nonce) = (flight.from, flight.nonce);
        loop {
            if let Some(receipt) = flight.receipt.take() {
                return Ok(*receipt);
            }
            let bump_at = flight.sent_at + self.options.resend_after;
            loop {
                if let Some(receipt) = self.mined(&flight.hashes).await? {
                    return Ok(receipt);
                }
                if flight.started.elapsed() > self.options.timeout {
                    return Err(DeployerError::Timeout {
                        hashes: flight.hashes.iter().map(ToString::to_string).collect(),
                        waited: self.options.timeout.as_secs(),
                    });
                }
                if tokio::time::Instant::now() >= bump_at {
                    break;
                }
                tokio::time::sleep(self.options.poll).await;
            }
            match self.whereabouts(from, nonce, &flight.hashes).await? {
                Whereabouts::Mined(receipt) => return Ok(*receipt),
                Whereabouts::NonceTaken => {
                    return Err(DeployerError::NonceTaken { from, nonce, hashes: flight.hashes.clone() });
                }
                Whereabouts::Pending | Whereabouts::Unseen => {}
            }
            // Not mined in time: replace it (same nonce) with fees raised by an eighth (the minimum
            // most nodes accept for a replacement). A zero-gas chain gets the same price again.
            flight.pricing = match flight.pricing {
                Pricing::Legacy { gas_price } => Pricing::Legacy { gas_price: bump(gas_price) },
                Pricing::Eip1559 { max_fee, priority } => {
                    Pricing::Eip1559 { max_fee: bump(max_fee), priority: bump(priority) }
                }
            };
            tracing::warn!(target: "kessai::rpc", pricing = ?flight.pricing, sent = flight.hashes.len(), "not mined in time; replacing with a higher fee");
            self.sign_and_broadcast(flight, observe).await?;
        }
    }

    /// The chain id, asked once.
    pub(super) async fn known_chain_id(&mut self) -> Result<u64, DeployerError> {
        if let Some(id) = self.chain_id {
            return Ok(id);
        }
        let id = self.retry("eth_chainId", || self.provider.get_chain_id()).await?;
        self.chain_id = Some(id);
        Ok(id)
    }

    /// Estimates, prices, signs (reporting the signed transaction to `observe` before it is sent) and
    /// sends `req` from `from` with the sender's next nonce, without waiting for it to be mined. The
    /// engine counts the nonce as used once the node has the transaction.
    pub(super) async fn launch<O: FnMut(&Signed) -> Result<(), DeployerError> + ?Sized>(
        &mut self,
        from: Address,
        req: TransactionRequest,
        observe: &mut O,
    ) -> Result<InFlight, DeployerError> {
        if !self.accounts.contains(&from) {
            return Err(DeployerError::NoKey(from));
        }
        // Estimating first refuses a reverting transaction before it is signed or sent.
        let gas = self.retry("eth_estimateGas", || self.provider.estimate_gas(req.clone())).await?;
        let chain_id = self.known_chain_id().await?;
        let nonce = self.next_nonce(from).await?;
        let pricing = self.pricing().await?;
        let req = req.with_gas_limit(gas + gas / 5).with_nonce(nonce).with_chain_id(chain_id);
        let now = tokio::time::Instant::now();
        let mut flight =
            InFlight { req, from, nonce, pricing, hashes: Vec::new(), started: now, sent_at: now, receipt: None };
        match self.sign_and_broadcast(&mut flight, observe).await {
            Ok(()) => {
                self.nonces.insert(from, nonce + 1);
                Ok(flight)
            }
            // Look the nonce up again next time rather than guess.
            Err(e) => {
                self.nonces.remove(&from);
                Err(e)
            }
        }
    }

    /// Follows a launched transaction to its receipt, then waits for its confirmations. The receipt
    /// may be of a failed transaction.
    pub(super) async fn land<O: FnMut(&Signed) -> Result<(), DeployerError> + ?Sized>(
        &mut self,
        flight: &mut InFlight,
        observe: &mut O,
    ) -> Result<TransactionReceipt, DeployerError> {
        let receipt = match self.follow(flight, observe).await {
            Ok(receipt) => receipt,
            Err(e) => {
                self.nonces.remove(&flight.from);
                return Err(e);
            }
        };
        self.confirm(&receipt).await?;
        Ok(receipt)
    }

    /// Estimates, prices, signs (reporting each signed transaction to `observe` before it is sent),
    /// sends and waits for `req` from `from`, then for its confirmations. The receipt may be of a
    /// failed transaction.
    pub(super) async fn submit<O: FnMut(&Signed) -> Result<(), DeployerError> + ?Sized>(
        &mut self,
        from: Address,
        req: TransactionRequest,
        observe: &mut O,
    ) -> Result<TransactionReceipt, DeployerError> {
        let mut flight = self.launch(from, req, observe).await?;
        self.land(&mut flight, observe).await
    }

    /// Sends `txs` together: each is estimated, signed, reported to `observe` (with its position in
    /// `txs`) and sent without waiting for the ones before it, so the node can include several in one
    /// block; a sender's transactions get consecutive nonces in the order given. Sending stops at the
    /// first transaction that cannot be sent (it would revert, no key, the node refused it, or
    /// `observe` failed): its error is its result and the transactions after it are not sent
    /// (`None`). Then every sent transaction is followed to its receipt (replaced with a higher fee
    /// when not mined in time, like [`Chain::send`]) and confirmed. The results are in `txs`' order;
    /// only transactions that are independent of each other belong in one batch.
    pub async fn send_batch(
        &mut self,
        txs: &[Tx],
        mut observe: impl FnMut(usize, &Signed) -> Result<(), DeployerError>,
    ) -> Vec<Option<Result<Receipt, DeployerError>>> {
        let mut results: Vec<Option<Result<Receipt, DeployerError>>> = (0..txs.len()).map(|_| None).collect();
        let mut flights = Vec::new();
        for (i, tx) in txs.iter().enumerate() {
            match self.launch(tx.from, Self::request(tx), &mut |s| observe(i, s)).await {
                Ok(flight) => flights.push((i, flight)),
                Err(e) => {
                    results[i] = Some(Err(e));
                    break;
                }
            }
        }
        for (i, mut flight) in flights {
            let landed = self.land(&mut flight, &mut |s| observe(i, s)).await;
            results[i] = Some(landed.and_then(Self::succeeded));
        }
        results
    }

    /// The engine's receipt of a mined transaction, or [`DeployerError::TxFailed`] when it failed.
    pub(super) fn succeeded(receipt: TransactionReceipt) -> Result<Receipt, DeployerError> {
        let tx_hash = receipt.transaction_hash;
        let gas_used = receipt.gas_used;
        if !receipt.status() {
            return Err(DeployerError::TxFailed { tx: tx_hash.to_string(), gas_used });
        }
        Ok(Receipt {
            tx_hash,
            block_number: receipt.block_number.unwrap_or_default(),
            gas_used,
            contract_address: receipt.contract_address,
            logs: receipt.inner.logs().iter().map(|l| l.inner.clone()).collect(),
        })
    }

    /// [`Chain::send`], reporting each transaction the engine signs for `tx` (the first, and any
    /// replacement with a higher fee) to `observe` before it is sent: a caller that records the hash
    /// (the deployer's journal) can find the transaction after a crash or a lost answer. An error
    /// from `observe` stops the send before that transaction leaves.
    pub async fn send_tracked(
        &mut self,
        tx: Tx,
        mut observe: impl FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<Receipt, DeployerError> {
        let receipt = self.submit(tx.from, Self::request(&tx), &mut observe).await?;
        Self::succeeded(receipt)
    }

    /// Sends `value` wei from `from` to `to`, the way every transaction is sent (nonce, fees,
    /// retries and replacements owned by the engine); returns the transaction's hash.
    pub async fn transfer(&mut self, from: Address, to: Address, value: U256) -> Result<B256, DeployerError> {
        self.transfer_tracked(from, to, value, &mut |_| Ok(())).await
    }

    /// [`Self::transfer`], reporting each transaction signed for it to `observe` before it is sent
    /// (as [`Self::send_tracked`] does).
    pub async fn transfer_tracked(
        &mut self,
        from: Address,
        to: Address,
        value: U256,
        observe: &mut dyn FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<B256, DeployerError> {
        let req = TransactionRequest::default().with_from(from).with_to(to).with_value(value);
        let receipt = self.submit(from, req, observe).await?;
        if !receipt.status() {
            return Err(DeployerError::TxFailed {
                tx: receipt.transaction_hash.to_string(),
                gas_used: receipt.gas_used,
            });
        }
        Ok(receipt.transaction_hash)
    }

    /// Broadcasts a transaction signed elsewhere (a presigned one) whose hash is `hash`; a lost or
    /// failed answer is checked against the chain: `Ok` when the node holds or has mined it.
    pub async fn send_raw(&self, raw: &[u8], hash: B256) -> Result<(), DeployerError> {
        let error = match self.retry("eth_sendRawTransaction", || self.provider.send_raw_transaction(raw)).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if self.mined(&[hash]).await?.is_some()
            || self.retry("eth_getTransactionByHash", || self.provider.get_transaction_by_hash(hash)).await?.is_some()
        {
            tracing::info!(target: "kessai::rpc", %hash, %error, "the send's answer was an error, but the node has the transaction");
            return Ok(());
        }
        Err(error)
    }

    /// Waits until the block including `receipt` has `confirmations` blocks on top of it.
    pub(super) async fn confirm(&self, receipt: &TransactionReceipt) -> Result<(), DeployerError> {
        let Some(block) = receipt.block_number else { return Ok(()) };
        if self.options.confirmations == 0 {
            return Ok(());
        }
        let target = block + self.options.confirmations;
        let started = tokio::time::Instant::now();
        loop {
            let head = self.retry("eth_blockNumber", || self.provider.get_block_number()).await?;
            if head >= target {
                return Ok(());
            }
            if started.elapsed() > self.options.timeout {
                return Err(DeployerError::Unconfirmed {
                    block,
                    got: head.saturating_sub(block),
                    wanted: self.options.confirmations,
                    waited: self.options.timeout.as_secs(),
                });
            }
            tokio::time::sleep(self.options.poll.max(Duration::from_millis(200))).await;
        }
    }

    // ------------------------------------------------------------ reads of the past (back office)

    /// The latest block number.
    pub async fn block_number(&self) -> Result<u64, DeployerError> {
        self.retry("eth_blockNumber", || self.provider.get_block_number()).await
    }

    /// The block at height `block` on the node's current chain, with its timestamp; `None` when the
    /// chain is shorter.
    async fn block_ref_and_time(&self, block: u64) -> Result<Option<(BlockRef, u64)>, DeployerError> {
        let found = self
            .retry("eth_getBlockByNumber", || self.provider.get_block_by_number(BlockNumberOrTag::Number(block)))
            .await?;
        Ok(found.map(|b| {
            let found = BlockRef { number: b.header.number, hash: b.header.hash, parent_hash: b.header.parent_hash };
            (found, b.header.timestamp)
        }))
    }
}

/// A fee raised by an eighth and at least one wei (zero stays zero).
pub(super) fn bump(fee: u128) -> u128 {
    if fee == 0 { 0 } else { fee + fee / 8 + 1 }
}

impl Chain for RpcChain {
    async fn chain_id(&mut self) -> Result<u64, DeployerError> {
        self.known_chain_id().await
    }

    async fn send(&mut self, tx: Tx) -> Result<Receipt, DeployerError> {
        self.send_tracked(tx, |_| Ok(())).await
    }

    async fn call(&mut self, from: Address, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        let req = TransactionRequest::default().with_from(from).with_to(to).with_input(data);
        self.retry("eth_call", || self.provider.call(req.clone())).await
    }

    /// The node must keep the state of `block`: an archive node, or a recent block.
    async fn call_at(&mut self, block: u64, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        let req = TransactionRequest::default().with_to(to).with_input(data);
        self.retry("eth_call", || self.provider.call(req.clone()).block(BlockId::number(block))).await
    }

    async fn head(&mut self) -> Result<u64, DeployerError> {
        self.block_number().await
    }

    async fn timestamp(&mut self) -> Result<u64, DeployerError> {
        let block = self
            .retry("eth_getBlockByNumber", || self.provider.get_block_by_number(BlockNumberOrTag::Latest))
            .await?
            .ok_or_else(|| DeployerError::Answer("the node returned no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    async fn timestamp_at(&mut self, block: u64) -> Result<u64, DeployerError> {
        let found = self.block_ref_and_time(block).await?;
        found
            .map(|(_, timestamp)| timestamp)
            .ok_or_else(|| DeployerError::Answer(format!("the node has no block {block}")))
    }

    async fn block_ref(&mut self, block: u64) -> Result<Option<BlockRef>, DeployerError> {
        Ok(self.block_ref_and_time(block).await?.map(|(found, _)| found))
    }

    async fn advance_time(&mut self, seconds: u64) -> Result<(), DeployerError> {
        // Dev chains only, Anvil and Hardhat alike: raw requests, not alloy's `AnvilApi`, whose
        // `anvil_increase_time` reads the answer as a number (Hardhat answers a decimal string) and
        // whose `evm_mine(None)` sends `[null]` (Hardhat refuses it). Retried like any request: a retry
        // after an answer that was lost (rather than a request that never arrived) may move the clock
        // twice, which only makes a deadline pass further behind.
        let _: serde_json::Value = self
            .retry("evm_increaseTime", || {
                self.provider.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(seconds),))
            })
            .await?;
        // An empty parameter list, not `null`: Hardhat refuses the latter.
        let none: [u64; 0] = [];
        let _: serde_json::Value = self
            .retry("evm_mine", || self.provider.raw_request::<_, serde_json::Value>("evm_mine".into(), none))
            .await?;
        Ok(())
    }

    async fn logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: Option<u64>,
    ) -> Result<Vec<LocatedLog>, DeployerError> {
        let mut filter = Filter::new().address(addresses.to_vec()).from_block(from_block);
        if let Some(to_block) = to_block {
            filter = filter.to_block(to_block);
        }
        let logs = self.retry("eth_getLogs", || self.provider.get_logs(&filter)).await?;
        let mut located = logs
            .into_iter()
            .map(|l| match (l.block_number, l.log_index, l.transaction_hash, l.block_hash) {
                (Some(block), Some(log_index), Some(tx_hash), Some(block_hash)) => {
                    Ok(LocatedLog { block, log_index, tx_hash, block_hash, log: l.inner })
                }
                _ => Err(DeployerError::Answer(format!("a log without its position: {l:?}"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        located.sort_by_key(|l| (l.block, l.log_index));
        Ok(located)
    }

    async fn code(&mut self, address: Address) -> Result<Bytes, DeployerError> {
        self.retry("eth_getCode", || self.provider.get_code_at(address)).await
    }
}
