//! Cross-chain DvP on two spawned Anvils: the asset chain A like ibet for Fin (Berlin, gas price 0,
//! chain id 1010032) with the security token and `CrossChainDelivery`, the payment chain B at Anvil's
//! default hard fork with the deposit token and `CrossChainPayment`. Attestors sign each chain's final
//! records (2 of 3 here); any account relays the proofs. Every refusal names its error and moves
//! nothing on either chain.

use crate::support::u;
use kessai_bindings::{
    RevertError,
    alloy::{
        primitives::{Address, B256, Bytes, U256},
        signers::local::PrivateKeySigner,
    },
    cross_chain::{Terms, for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
};
use kessai_deployer::{
    DeployerError,
    anvil::{self, AnvilInstance, AnvilOptions},
    chain::{Chain, Receipt},
    ops::{Registration, Suite},
    plan::{SuiteAccounts, SuiteSpec, execute},
    profile::ChainProfile,
    rpc::RpcChain,
    xchain::{
        Attestation, Statement,
        plan::{CrossChainSpec, Side, plan, xlabels},
        proof, terms_hash,
        trade::{Order, TwoSuites},
    },
};

const CHAIN_A: u64 = 1_010_032;
const CHAIN_B: u64 = 31_337;
const HOUR: u64 = 3_600;

/// Both chains deployed, the parties registered and funded: the seller holds 1,000 units on A, the
/// payer ¥10,000,000 on B. The seller and buyer use other accounts on B (payee, payer) than on A.
struct TwoChains {
    _nodes: (AnvilInstance, AnvilInstance),
    a: RpcChain,
    b: RpcChain,
    asset: Suite,
    payment: Suite,
    delivery: Address,
    pay: Address,
    attestors: Vec<PrivateKeySigner>,
    seller: Address,
    buyer: Address,
    payer: Address,
    payee: Address,
    relayer: Address,
    suites: TwoSuites,
    next_id: u64,
}

/// What the parties hold on both chains, and the trade's records.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    seller_units: (U256, U256),
    buyer_units: U256,
    payer_cash: (U256, U256),
    payee_cash: U256,
    locked: bool,
    state_b: u8,
}

fn spec(accounts: &[Address], attestors: &[Address]) -> CrossChainSpec {
    let suite = SuiteSpec {
        accounts: SuiteAccounts::in_role_order(accounts).expect("five accounts"),
        security: ("Kessai Bond".into(), "KB".into()),
        deposit: ("DCJPY".into(), "DCJPY".into()),
        minting: Default::default(),
        extra_banks: Vec::new(),
        instrument: None,
    };
    CrossChainSpec {
        suite,
        attestors: attestors.to_vec(),
        threshold: 2,
        resolvers: vec![accounts[4], accounts[1]],
        resolution_approvals: 2,
        resolution_delay: 30 * 24 * HOUR,
    }
}

async fn two_chains() -> TwoChains {
    let a_node = AnvilInstance::spawn(&AnvilOptions::emulating(ChainProfile::Ibet))
        .unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let b_node = AnvilInstance::spawn(&AnvilOptions { hardfork: None, chain_id: CHAIN_B, ..AnvilOptions::default() })
        .unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let mut a = RpcChain::connect(&a_node.endpoint(), anvil::dev_signers()).expect("connect A");
    let mut b = RpcChain::connect(&b_node.endpoint(), anvil::dev_signers()).expect("connect B");
    let accounts = anvil::dev_accounts();
    let attestors: Vec<PrivateKeySigner> =
        (0xa1..=0xa3u8).map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).expect("key")).collect();
    let set: Vec<Address> = attestors.iter().map(PrivateKeySigner::address).collect();
    let spec = spec(&accounts, &set);
    let on_a = execute(&mut a, &plan(&spec, Side::Asset)).await.expect("deploy on A");
    let on_b = execute(&mut b, &plan(&spec, Side::Payment)).await.expect("deploy on B");
    let (asset, payment) = (Suite::from_deployment(&on_a).expect("A"), Suite::from_deployment(&on_b).expect("B"));
    let (seller, buyer, relayer, payer, payee) = (accounts[5], accounts[6], accounts[7], accounts[8], accounts[9]);
    let id = Registration { class: 0, country: 392, kyc_expiry: 2_000_000_000, data_hash: B256::ZERO };
    let (registrar, issuer, bank) = (accounts[1], accounts[2], accounts[3]);
    for who in [seller, buyer] {
        asset.register(&mut a, asset.registry, registrar, who, id).await.expect("register on A");
    }
    for who in [payer, payee] {
        payment.register(&mut b, payment.bank_registry, bank, who, id).await.expect("register on B");
    }
    asset.issue_security(&mut a, issuer, seller, u(1_000)).await.expect("units");
    asset.issue_security(&mut a, issuer, buyer, u(1)).await.expect("the buyer already holds");
    payment.issue_deposit(&mut b, bank, payer, u(10_000_000), B256::repeat_byte(1)).await.expect("cash");
    payment.issue_deposit(&mut b, bank, payee, u(1), B256::repeat_byte(2)).await.expect("the payee already holds");
    let (delivery, pay) = (on_a.address(xlabels::DELIVERY).expect("A"), on_b.address(xlabels::PAYMENT).expect("B"));
    let (security, cash) = (asset.security, payment.deposit);
    let suites =
        TwoSuites { asset_chain_id: CHAIN_A, delivery, security, payment_chain_id: CHAIN_B, payment: pay, cash };
    TwoChains {
        _nodes: (a_node, b_node),
        delivery,
        pay,
        a,
        b,
        asset,
        payment,
        attestors,
        seller,
        buyer,
        payer,
        payee,
        relayer,
        suites,
        next_id: 1,
    }
}

impl TwoChains {
    /// New terms: 100 units for ¥1,000,000, paid by the deadline an hour from B's current time.
    async fn terms(&mut self) -> Terms {
        self.terms_due_in(HOUR).await
    }

    /// New terms due `seconds` from B's current time.
    async fn terms_due_in(&mut self, seconds: u64) -> Terms {
        let deadline = self.b.timestamp().await.expect("B's clock") + seconds;
        let id = B256::from(U256::from(self.next_id));
        self.next_id += 1;
        let (seller, buyer, payer, payee) = (self.seller, self.buyer, self.payer, self.payee);
        let order = Order { seller, buyer, units: u(100), payer, payee, amount: u(1_000_000) };
        self.suites.terms(&order, id, deadline)
    }

    /// The statement that `state` is recorded for `terms` on its chain (A for `Locked`, B otherwise).
    fn statement(&self, terms: &Terms, state: u8) -> Statement {
        self.suites.statement(terms, state)
    }

    /// The signatures of attestors `which` over `statement`, as a proof in signer order.
    fn signed(&self, statement: &Statement, which: &[usize]) -> Bytes {
        let given: Vec<Attestation> =
            which.iter().map(|i| statement.sign(&self.attestors[*i]).expect("sign")).collect();
        let set: Vec<Address> = self.attestors.iter().map(PrivateKeySigner::address).collect();
        proof(statement, &given, &set, which.len()).expect("enough signatures")
    }

    /// A 2-of-3 proof that `state` is recorded for `terms`.
    fn proven(&self, terms: &Terms, state: u8) -> Bytes {
        self.signed(&self.statement(terms, state), &[0, 2])
    }

    async fn lock(&mut self, terms: &Terms) -> Result<Receipt, DeployerError> {
        let call = CrossChainDelivery::lockCall { terms: terms.clone() };
        self.a.send_call(self.seller, self.delivery, &call).await
    }

    async fn pay_cash(&mut self, terms: &Terms) -> Result<Receipt, DeployerError> {
        let call = CrossChainPayment::payCall { terms: for_payment(terms) };
        self.b.send_call(self.payer, self.pay, &call).await
    }

    async fn commit(&mut self, terms: &Terms, lock_proof: Bytes) -> Result<Receipt, DeployerError> {
        let call = CrossChainPayment::commitCall {
            terms: for_payment(terms),
            lockProof: lock_proof,
            payerSignature: Bytes::new(),
        };
        self.b.send_call(self.relayer, self.pay, &call).await
    }

    async fn deliver(&mut self, terms: &Terms, commit_proof: Bytes) -> Result<Receipt, DeployerError> {
        let call = CrossChainDelivery::deliverCall { terms: terms.clone(), commitProof: commit_proof };
        self.a.send_call(self.relayer, self.delivery, &call).await
    }

    async fn return_units(&mut self, terms: &Terms, abort_proof: Bytes) -> Result<Receipt, DeployerError> {
        let call = CrossChainDelivery::returnUnitsCall { terms: terms.clone(), abortProof: abort_proof };
        self.a.send_call(self.relayer, self.delivery, &call).await
    }

    async fn abort(&mut self, terms: &Terms, by: Address) -> Result<Receipt, DeployerError> {
        self.b.send_call(by, self.pay, &CrossChainPayment::abortCall { terms: for_payment(terms) }).await
    }

    async fn snapshot(&mut self, terms: &Terms) -> Snapshot {
        let (a, b) = (self.asset, self.payment);
        let seller = a.position(&mut self.a, self.seller).await.expect("seller");
        let buyer = a.position(&mut self.a, self.buyer).await.expect("buyer");
        let payer = b.position(&mut self.b, self.payer).await.expect("payer");
        let payee = b.position(&mut self.b, self.payee).await.expect("payee");
        let locked = self
            .a
            .read(self.delivery, &CrossChainDelivery::isLockedCall { terms: terms.clone() })
            .await
            .expect("isLocked");
        let state = self
            .b
            .read(self.pay, &CrossChainPayment::stateOfCall { termsHash: terms_hash(terms) })
            .await
            .expect("stateOf");
        Snapshot {
            seller_units: (seller.units, seller.units_held),
            buyer_units: buyer.units,
            payer_cash: (payer.cash, payer.cash_held),
            payee_cash: payee.cash,
            locked,
            state_b: state,
        }
    }

    /// Asserts `result` is the revert `name` and that nothing moved on either chain.
    async fn refused(
        &mut self,
        terms: &Terms,
        before: &Snapshot,
        result: Result<Receipt, DeployerError>,
        name: &str,
    ) -> RevertError {
        let err = match result {
            Err(DeployerError::Revert(err)) => err,
            other => panic!("expected {name}, got {other:?}"),
        };
        assert_eq!(err.name, name, "{}", err.message);
        assert_eq!(&self.snapshot(terms).await, before, "{name} moved something");
        err
    }
}

#[tokio::test]
async fn a_trade_settles_across_two_chains_units_to_the_buyer_and_cash_to_the_seller() {
    let mut x = two_chains().await;
    let t = x.terms().await;
    let h = terms_hash(&t);
    let on_chain =
        x.a.read(x.delivery, &CrossChainDelivery::termsHashCall { terms: t.clone() }).await.expect("termsHash");
    assert_eq!(on_chain, h, "the tooling hashes the terms as the contract does");
    let statement = x.statement(&t, states::LOCKED);
    let verifier = x.b_verifier().await;
    let digest =
        x.b.read(
            verifier,
            &kessai_bindings::attestation_verifier::AttestationVerifier::attestationDigestCall {
                chainId: U256::from(statement.chain_id),
                source: statement.source,
                tradeId: statement.trade_id,
                state: statement.state,
                termsHash: statement.terms_hash,
            },
        )
        .await
        .expect("attestationDigest");
    assert_eq!(digest, statement.digest(), "attestors sign the digest the verifier checks");

    let lock = x.lock(&t).await.expect("lock on A");
    let paid = x.pay_cash(&t).await.expect("pay on B");
    let lock_proof = x.proven(&t, states::LOCKED);
    let commit = x.commit(&t, lock_proof).await.expect("commit on B");
    let commit_proof = x.proven(&t, states::COMMITTED);
    let deliver = x.deliver(&t, commit_proof).await.expect("deliver on A");

    let after = x.snapshot(&t).await;
    assert_eq!(after.seller_units, (u(900), u(0)));
    assert_eq!(after.buyer_units, u(101));
    assert_eq!(after.payer_cash, (u(9_000_000), u(0)));
    assert_eq!(after.payee_cash, u(1_000_001));
    assert!(!after.locked);
    assert_eq!(after.state_b, states::COMMITTED);
    let gas =
        [("lock", lock.gas_used), ("pay", paid.gas_used), ("commit", commit.gas_used), ("deliver", deliver.gas_used)];
    let total: u64 = gas.iter().map(|(_, g)| g).sum();
    eprintln!("cross-chain settlement gas, 2-of-3 attestations: {gas:?}, total {total}");
}

#[tokio::test]
async fn after_the_deadline_anyone_aborts_on_b_and_a_returns_the_units_nothing_else_moves() {
    let mut x = two_chains().await;
    let t = x.terms().await;
    x.lock(&t).await.expect("lock on A");
    x.pay_cash(&t).await.expect("pay on B");
    let locked = x.snapshot(&t).await;
    assert_eq!(locked.seller_units, (u(1_000), u(100)));
    assert_eq!(locked.payer_cash, (u(10_000_000), u(1_000_000)));

    // Before T_B nobody aborts alone, and nothing returns without B's abort.
    let early = x.abort(&t, x.relayer).await;
    x.refused(&t, &locked, early, "XPaymentDeadlineNotPassed").await;
    // One faulty attestor (k-1) signs an abort B never recorded: below the threshold, nothing returns.
    let faulty = x.signed(&x.statement(&t, states::ABORTED), &[1]);
    let early_return = x.return_units(&t, faulty).await;
    x.refused(&t, &locked, early_return, "VerifierBelowThreshold").await;

    x.b.advance_time(HOUR + 1).await.expect("B's clock passes T_B");
    let mut locked = x.snapshot(&t).await;
    let late = x.commit(&t, x.proven(&t, states::LOCKED)).await;
    x.refused(&t, &locked, late, "XPaymentDeadlinePassed").await;
    x.abort(&t, x.relayer).await.expect("a third party aborts after T_B");
    locked.payer_cash = (u(10_000_000), u(0));
    locked.state_b = states::ABORTED;
    assert_eq!(x.snapshot(&t).await, locked, "only the payer's hold was released");
    let commit_after_abort = x.commit(&t, x.proven(&t, states::LOCKED)).await;
    x.refused(&t, &locked, commit_after_abort, "XPaymentDeadlinePassed").await;
    let abort_again = x.abort(&t, x.seller).await;
    x.refused(&t, &locked, abort_again, "XPaymentInvalidState").await;

    x.return_units(&t, x.proven(&t, states::ABORTED)).await.expect("return on A");
    let after = x.snapshot(&t).await;
    assert_eq!(after.seller_units, (u(1_000), u(0)), "the seller has its units back, free");
    assert_eq!(after.buyer_units, u(1));
    assert_eq!(after.payer_cash, (u(10_000_000), u(0)));
    assert_eq!(after.payee_cash, u(1));
    let again = x.return_units(&t, x.proven(&t, states::ABORTED)).await;
    x.refused(&t, &after, again, "XDeliveryNotLocked").await;
}

#[tokio::test]
async fn a_lock_and_a_commit_need_an_eligible_buyer_and_a_valid_proof_and_a_refusal_moves_nothing() {
    let mut x = two_chains().await;
    let t = x.terms().await;

    // An ineligible buyer on A: the lock is refused, so B can never commit a delivery that would fail.
    let mut stranger = t.clone();
    stranger.buyer = Address::repeat_byte(0x77);
    let before = x.snapshot(&stranger).await;
    let err = x.lock(&stranger).await;
    let err = x.refused(&stranger, &before, err, "XDeliveryRestricted").await;
    assert!(err.message.contains("not an eligible investor"), "{}", err.message);

    x.lock(&t).await.expect("lock");
    let relock = x.lock(&t).await;
    let before = x.snapshot(&t).await;
    x.refused(&t, &before, relock, "XDeliveryIdUsed").await;
    x.pay_cash(&t).await.expect("pay");
    let before = x.snapshot(&t).await;

    // Commit on B needs a valid 2-of-3 proof that A locked exactly these terms.
    let locked = x.statement(&t, states::LOCKED);
    let cases: Vec<(&str, Bytes, &str)> = vec![
        ("no proof", Bytes::new(), "VerifierBelowThreshold"),
        ("k-1 signatures", x.signed(&locked, &[1]), "VerifierBelowThreshold"),
        (
            "another trade",
            x.signed(&Statement { trade_id: B256::repeat_byte(9), ..locked }, &[0, 1]),
            "VerifierUnknownAttestor",
        ),
        (
            "another state",
            x.signed(&Statement { state: states::COMMITTED, ..locked }, &[0, 1]),
            "VerifierUnknownAttestor",
        ),
        ("another contract", x.signed(&Statement { source: x.pay, ..locked }, &[0, 1]), "VerifierUnknownAttestor"),
        ("another chain", x.signed(&Statement { chain_id: CHAIN_B, ..locked }, &[0, 1]), "VerifierUnknownAttestor"),
        (
            "another terms hash",
            x.signed(&Statement { terms_hash: B256::repeat_byte(5), ..locked }, &[0, 1]),
            "VerifierUnknownAttestor",
        ),
        (
            "a stranger's signatures",
            {
                let stranger = PrivateKeySigner::from_bytes(&B256::repeat_byte(0xee)).expect("key");
                let mut sigs = x.signed(&locked, &[0]).to_vec();
                sigs.extend_from_slice(&locked.sign(&stranger).expect("sign").signature);
                sigs.into()
            },
            "VerifierUnknownAttestor",
        ),
        (
            "one attestor twice",
            {
                let one = x.signed(&locked, &[0]);
                [one.to_vec(), one.to_vec()].concat().into()
            },
            "VerifierSignersNotAscending",
        ),
        ("a truncated signature", x.signed(&locked, &[0, 1]).slice(..129), "VerifierMalformedProof"),
    ];
    for (what, proof, error) in cases {
        let result = x.commit(&t, proof).await;
        let err = x.refused(&t, &before, result, error).await;
        assert!(!err.message.is_empty(), "{what}");
    }
    // Terms that differ from the locked ones (another amount) hash differently: their lock proof is
    // for terms nobody locked.
    let mut cheaper = t.clone();
    cheaper.amount = u(1);
    // The payer commits them itself (no signature needed), so only the proof stands in the way.
    let call = CrossChainPayment::commitCall {
        terms: for_payment(&cheaper),
        lockProof: x.proven(&t, states::LOCKED),
        payerSignature: Bytes::new(),
    };
    let lie = x.b.send_call(x.payer, x.pay, &call).await;
    x.refused(&t, &before, lie, "VerifierUnknownAttestor").await;
}

#[tokio::test]
async fn delivery_needs_b_s_commit_and_return_b_s_abort_and_neither_repeats() {
    let mut x = two_chains().await;
    let t = x.terms().await;
    x.lock(&t).await.expect("lock");
    x.pay_cash(&t).await.expect("pay");
    let before = x.snapshot(&t).await;
    // Delivery on A needs B's commit: a lock proof or an abort proof will not do.
    for state in [states::LOCKED, states::ABORTED] {
        let wrong = x.deliver(&t, x.proven(&t, state)).await;
        x.refused(&t, &before, wrong, "VerifierUnknownAttestor").await;
    }
    // Return needs B's abort.
    let wrong = x.return_units(&t, x.proven(&t, states::COMMITTED)).await;
    x.refused(&t, &before, wrong, "VerifierUnknownAttestor").await;

    // The genuine proof commits once; replaying it is refused.
    let proof = x.proven(&t, states::LOCKED);
    x.commit(&t, proof.clone()).await.expect("commit");
    let committed = x.snapshot(&t).await;
    let replay = x.commit(&t, proof).await;
    x.refused(&t, &committed, replay, "XPaymentInvalidState").await;
    let commit_proof = x.proven(&t, states::COMMITTED);
    x.deliver(&t, commit_proof.clone()).await.expect("deliver");
    let delivered = x.snapshot(&t).await;
    let replay = x.deliver(&t, commit_proof).await;
    x.refused(&t, &delivered, replay, "XDeliveryNotLocked").await;
}

impl TwoChains {
    async fn b_verifier(&mut self) -> Address {
        self.b.read(self.pay, &CrossChainPayment::verifierCall {}).await.expect("verifier")
    }
}

#[tokio::test]
async fn attestors_and_two_relayers_settle_a_paid_trade_and_return_an_unpaid_one_exactly_once() {
    use kessai_deployer::xchain::relay::{Attestor, Endpoint, Relayed, Relayer};
    let mut x = two_chains().await;
    let inbox = std::env::temp_dir().join(format!("kessai-xchain-inbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&inbox);
    let asset = Endpoint { chain_id: CHAIN_A, contract: x.delivery, confirmations: 0 };
    let payment = Endpoint { chain_id: CHAIN_B, contract: x.pay, confirmations: 1 };
    let mut attestors: Vec<Attestor> =
        x.attestors.iter().map(|key| Attestor::new(key.clone(), asset, payment, inbox.clone())).collect();
    let mut relayers = [x.relayer, x.seller].map(|from| Relayer::new(from, asset, payment, inbox.clone()));

    let paid = x.terms().await;
    let unpaid = x.terms().await;
    x.lock(&paid).await.expect("lock");
    x.lock(&unpaid).await.expect("lock");
    x.pay_cash(&paid).await.expect("pay");
    // One faulty attestor (k-1) signs outcomes that never happened: an abort of the paid trade and a
    // commit of the unpaid one. They must change nothing.
    for (terms, state) in [(&paid, states::ABORTED), (&unpaid, states::COMMITTED)] {
        let lie = x.statement(terms, state).sign(&x.attestors[1]).expect("sign");
        std::fs::create_dir_all(&inbox).expect("inbox");
        let file = inbox.join(format!("lie-{state}.json"));
        std::fs::write(file, serde_json::to_vec(&lie).expect("json")).expect("write");
    }

    let mut relayed = Vec::new();
    for round in 0..8 {
        for attestor in &mut attestors[..2] {
            attestor.step(&mut x.a, &mut x.b).await.expect("attest");
        }
        for relayer in &mut relayers {
            relayed.extend(relayer.step(&mut x.a, &mut x.b).await.expect("relay"));
        }
        if round == 3 {
            // B's clock passes the unpaid trade's deadline: it can only abort now.
            x.b.advance_time(HOUR + 1).await.expect("time");
        }
        // B needs a confirmation block before its outcomes count as final.
        x.b.advance_time(1).await.expect("a block");
    }
    let (hp, hu) = (terms_hash(&paid), terms_hash(&unpaid));
    let count = |want: &Relayed| relayed.iter().filter(|r| *r == want).count();
    assert_eq!(count(&Relayed::Committed(hp)), 1, "{relayed:?}");
    assert_eq!(count(&Relayed::Delivered(hp)), 1, "{relayed:?}");
    assert_eq!(count(&Relayed::Aborted(hu)), 1, "{relayed:?}");
    assert_eq!(count(&Relayed::Returned(hu)), 1, "{relayed:?}");
    assert!(!relayed.iter().any(|r| matches!(r, Relayed::Returned(h) if *h == hp)), "{relayed:?}");
    assert!(!relayed.iter().any(|r| matches!(r, Relayed::Committed(h) | Relayed::Delivered(h) if *h == hu)));
    let after = x.snapshot(&paid).await;
    assert_eq!(after.seller_units, (u(900), u(0)), "100 delivered, 100 returned");
    assert_eq!(after.buyer_units, u(101));
    assert_eq!(after.payer_cash, (u(9_000_000), u(0)));
    assert_eq!(after.payee_cash, u(1_000_001));
    let _ = std::fs::remove_dir_all(&inbox);
}

/// A `kessai attest` or `kessai relay` process over both chains, acting with `key` (hex).
fn spawn_actor(x: &TwoChains, verb: &str, key: &str, inbox: &std::path::Path) -> std::process::Child {
    let (a, b) = (x._nodes.0.endpoint(), x._nodes.1.endpoint());
    let (delivery, payment) = (x.delivery.to_string(), x.pay.to_string());
    let args = [
        verb,
        "--asset-rpc-url",
        &a,
        "--delivery",
        &delivery,
        "--payment-rpc-url",
        &b,
        "--payment",
        &payment,
        "--inbox",
        inbox.to_str().expect("utf-8"),
        "--poll-ms",
        "100",
    ];
    crate::support::command()
        .args(args)
        .env("KESSAI_KEYS", key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the kessai binary")
}

/// Waits until `done` holds for every trade, polling both chains and mining a block on B at each
/// poll (B's records need one on top before the attestors count them final); fails after `seconds`.
async fn wait_for(x: &mut TwoChains, trades: &[Terms], seconds: u64, done: impl Fn(&Snapshot) -> bool) {
    let start = std::time::Instant::now();
    'outer: loop {
        for t in trades {
            let s = x.snapshot(t).await;
            if !done(&s) {
                assert!(start.elapsed().as_secs() < seconds, "not settled after {seconds} s: {s:?}");
                x.b.advance_time(1).await.expect("a block on B");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue 'outer;
            }
        }
        return;
    }
}

#[tokio::test]
async fn relayers_killed_at_random_and_restarted_beside_a_second_relayer_settle_100_trades_exactly_once() {
    use kessai_bindings::alloy::hex;
    let mut x = two_chains().await;
    let accounts = anvil::dev_accounts();
    x.asset.issue_security(&mut x.a, accounts[2], x.seller, u(9_000)).await.expect("units for 100 trades");
    x.payment.issue_deposit(&mut x.b, accounts[3], x.payer, u(90_000_000), B256::repeat_byte(3)).await.expect("cash");
    let inbox = std::env::temp_dir().join(format!("kessai-xchain-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&inbox);
    let mut trades = Vec::new();
    for i in 0..100 {
        let t = x.terms().await;
        x.lock(&t).await.expect("lock");
        if i % 10 != 0 {
            x.pay_cash(&t).await.expect("pay");
        }
        trades.push(t);
    }
    let pick = |paid: bool| -> Vec<Terms> {
        trades.iter().enumerate().filter(|(i, _)| (i % 10 != 0) == paid).map(|(_, t)| t.clone()).collect()
    };
    let (paid, unpaid) = (pick(true), pick(false));

    let keys: Vec<String> = x.attestors.iter().map(|k| hex::encode_prefixed(k.to_bytes())).collect();
    let mut attestors: Vec<_> = keys[..2].iter().map(|k| spawn_actor(&x, "attest", k, &inbox)).collect();
    let relayer_key = hex::encode_prefixed(anvil::dev_signers()[7].to_bytes());
    let second_key = hex::encode_prefixed(anvil::dev_signers()[6].to_bytes());
    let mut steady = spawn_actor(&x, "relay", &second_key, &inbox);
    let mut killed = spawn_actor(&x, "relay", &relayer_key, &inbox);
    // SIGKILL the first relayer at points spread over the run (a fixed schedule: the same on any day),
    // restarting it each time, while the second keeps going. B mines a block now and then, so its
    // outcomes gain the confirmation the attestors wait for.
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut kills = 0;
    for _ in 0..12 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(std::time::Duration::from_millis(50 + rng % 400)).await;
        killed.kill().expect("SIGKILL");
        killed.wait().expect("reaped");
        kills += 1;
        x.b.advance_time(1).await.expect("a block on B");
        killed = spawn_actor(&x, "relay", &relayer_key, &inbox);
    }
    wait_for(&mut x, &paid, 120, |s| !s.locked && s.state_b == states::COMMITTED).await;
    x.b.advance_time(HOUR + 1).await.expect("B passes every deadline");
    for _ in 0..3 {
        killed.kill().expect("SIGKILL");
        killed.wait().expect("reaped");
        killed = spawn_actor(&x, "relay", &relayer_key, &inbox);
        x.b.advance_time(1).await.expect("a block on B");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    wait_for(&mut x, &unpaid, 120, |s| !s.locked && s.state_b == states::ABORTED).await;
    for child in attestors.iter_mut().chain([&mut steady, &mut killed]) {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(kills >= 12);
    let end = x.snapshot(&trades[0]).await;
    assert_eq!(end.buyer_units, u(1 + 90 * 100), "90 deliveries, each once");
    assert_eq!(end.seller_units, (u(10_000 - 90 * 100), u(0)), "10 returns, nothing left locked");
    assert_eq!(end.payer_cash, (u(100_000_000 - 90 * 1_000_000), u(0)), "90 payments, each once; 10 holds released");
    assert_eq!(end.payee_cash, u(1 + 90 * 1_000_000));
    let _ = std::fs::remove_dir_all(&inbox);
}

/// Sends `signal` (STOP or CONT) to a node: a halted chain, then a resumed one.
fn signal(node: &AnvilInstance, signal: &str) {
    let status = std::process::Command::new("kill").args([&format!("-{signal}"), &node.pid().to_string()]).status();
    assert!(status.expect("kill").success(), "kill -{signal}");
}

#[tokio::test]
async fn a_payment_chain_halted_across_its_deadline_resumes_into_an_abort_and_the_units_return() {
    let mut x = two_chains().await;
    let t = x.terms_due_in(3).await;
    x.lock(&t).await.expect("lock");
    x.pay_cash(&t).await.expect("pay");
    let inbox = std::env::temp_dir().join(format!("kessai-xchain-halt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&inbox);
    // B stops before any relayer has seen the trade; its deadline passes while it is stopped.
    signal(&x._nodes.1, "STOP");
    let keys: Vec<String> =
        x.attestors.iter().map(|k| kessai_bindings::alloy::hex::encode_prefixed(k.to_bytes())).collect();
    let relayer_key = kessai_bindings::alloy::hex::encode_prefixed(anvil::dev_signers()[7].to_bytes());
    let mut actors: Vec<_> = keys[..2].iter().map(|k| spawn_actor(&x, "attest", k, &inbox)).collect();
    actors.push(spawn_actor(&x, "relay", &relayer_key, &inbox));
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    signal(&x._nodes.1, "CONT");
    // B's clock alone decides: it resumes past the deadline, so the trade aborts and A returns the units.
    wait_for(&mut x, std::slice::from_ref(&t), 60, |s| !s.locked && s.state_b == states::ABORTED).await;
    for child in &mut actors {
        let _ = child.kill();
        let _ = child.wait();
    }
    let end = x.snapshot(&t).await;
    assert_eq!(end.seller_units, (u(1_000), u(0)));
    assert_eq!(end.buyer_units, u(1));
    assert_eq!(end.payer_cash, (u(10_000_000), u(0)));
    assert_eq!(end.payee_cash, u(1));
    let _ = std::fs::remove_dir_all(&inbox);
}

#[tokio::test]
async fn malformed_terms_and_hostile_callers_are_refused_on_both_chains_and_move_nothing() {
    let mut x = two_chains().await;
    let t = x.terms().await;
    let before = x.snapshot(&t).await;
    let zero_units = Terms { units: U256::ZERO, ..t.clone() };
    let self_dealing = Terms { buyer: t.seller, ..t.clone() };
    let one_chain = Terms { paymentChainId: U256::from(CHAIN_A), ..t.clone() };
    for bad in [zero_units, self_dealing, one_chain] {
        let refused = x.lock(&bad).await;
        x.refused(&t, &before, refused, "XDeliveryInvalidTerms").await;
    }
    let zero_amount = Terms { amount: U256::ZERO, ..t.clone() };
    let self_paying = Terms { payee: t.payer, ..t.clone() };
    for bad in [zero_amount, self_paying] {
        let call = CrossChainPayment::payCall { terms: for_payment(&bad) };
        let refused = x.b.send_call(x.payer, x.pay, &call).await;
        x.refused(&t, &before, refused, "XPaymentInvalidTerms").await;
    }
    // Only the seller locks, only the payer pays.
    let call = CrossChainDelivery::lockCall { terms: t.clone() };
    let refused = x.a.send_call(x.buyer, x.delivery, &call).await;
    x.refused(&t, &before, refused, "XDeliveryNotSeller").await;
    let call = CrossChainPayment::payCall { terms: for_payment(&t) };
    let refused = x.b.send_call(x.payee, x.pay, &call).await;
    x.refused(&t, &before, refused, "XPaymentUnauthorized").await;
    // Nobody but the authorities approves an emergency resolution, and nobody rotates the attestors.
    x.lock(&t).await.expect("lock");
    let locked = x.snapshot(&t).await;
    let call = CrossChainDelivery::approveResolutionCall { terms: t.clone(), toBuyer: false, documentRef: B256::ZERO };
    let refused = x.a.send_call(x.seller, x.delivery, &call).await;
    x.refused(&t, &locked, refused, "AccessControlUnauthorizedAccount").await;
    let verifier = x.b_verifier().await;
    let call = kessai_bindings::attestation_verifier::AttestationVerifier::rotateCall {
        attestors: vec![x.payer],
        threshold: 1,
    };
    let refused = x.b.send_call(x.payer, verifier, &call).await;
    x.refused(&t, &locked, refused, "AccessControlUnauthorizedAccount").await;
}

#[tokio::test]
async fn a_commit_carrying_the_payer_s_signature_settles_in_three_transactions_and_a_forged_one_moves_nothing() {
    let mut x = two_chains().await;
    let t = x.terms().await;
    let lock = x.lock(&t).await.expect("lock on A");
    let digest =
        x.b.read(x.pay, &CrossChainPayment::paymentDigestCall { termsHash: terms_hash(&t) }).await.expect("digest");
    let sign = |account: Address| -> Bytes {
        use kessai_bindings::alloy::signers::SignerSync;
        let signature = crate::support::key(account).sign_hash_sync(&digest).expect("sign");
        signature.as_bytes().to_vec().into()
    };
    let lock_proof = x.proven(&t, states::LOCKED);
    let signed_commit = |signature: Bytes| CrossChainPayment::commitCall {
        terms: for_payment(&t),
        lockProof: lock_proof.clone(),
        payerSignature: signature,
    };
    let before = x.snapshot(&t).await;
    // The payee signing for the payer is refused by name, and nothing moves.
    let (relayer, pay, payer, payee) = (x.relayer, x.pay, x.payer, x.payee);
    let forged = x.b.send_call(relayer, pay, &signed_commit(sign(payee))).await;
    x.refused(&t, &before, forged, "XPaymentInvalidSignature").await;

    let commit = x.b.send_call(relayer, pay, &signed_commit(sign(payer))).await.expect("signed commit on B");
    let deliver = x.deliver(&t, x.proven(&t, states::COMMITTED)).await.expect("deliver on A");
    let after = x.snapshot(&t).await;
    assert_eq!(after.seller_units, (u(900), u(0)));
    assert_eq!(after.buyer_units, u(101));
    assert_eq!(after.payer_cash, (u(9_000_000), u(0)), "paid straight from the payer's free cash, no hold");
    assert_eq!(after.payee_cash, u(1_000_001));
    assert_eq!(after.state_b, states::COMMITTED);
    let again = x.b.send_call(relayer, pay, &signed_commit(sign(payer))).await;
    x.refused(&t, &after, again, "XPaymentInvalidState").await;
    let gas = [("lock", lock.gas_used), ("signed commit", commit.gas_used), ("deliver", deliver.gas_used)];
    let total: u64 = gas.iter().map(|(_, g)| g).sum();
    eprintln!("cross-chain settlement gas, payer-signed commit, 2-of-3 attestations: {gas:?}, total {total}");
}

#[tokio::test]
async fn an_asset_chain_halted_across_the_deadline_leaves_the_outcome_to_b_s_clock_and_resumes_into_it() {
    use kessai_deployer::{
        rpc::RpcOptions,
        xchain::relay::{Attestor, Endpoint, Relayer},
    };
    let mut x = two_chains().await;
    let inbox = std::env::temp_dir().join(format!("kessai-xchain-a-halt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&inbox);
    let asset = Endpoint { chain_id: CHAIN_A, contract: x.delivery, confirmations: 0 };
    let payment = Endpoint { chain_id: CHAIN_B, contract: x.pay, confirmations: 0 };
    let mut attestors: Vec<Attestor> =
        x.attestors[..2].iter().map(|key| Attestor::new(key.clone(), asset, payment, inbox.clone())).collect();
    // One relayer per chain, as `kessai relay --only` runs them; the payment side's view of A gives up
    // on a request after a second, so a stopped A costs each of its passes a second.
    let mut on_b = Relayer::new(x.relayer, asset, payment, inbox.clone()).only(Side::Payment);
    let mut on_a = Relayer::new(x.relayer, asset, payment, inbox.clone()).only(Side::Asset);
    let impatient = RpcOptions { request_timeout: std::time::Duration::from_secs(1), retries: 1, ..Default::default() };
    let signer = vec![crate::support::key(x.relayer)];
    let mut a_seen_from_b = RpcChain::connect_with(&x._nodes.0.endpoint(), signer, impatient).expect("connect A");

    let paid = x.terms_due_in(20).await;
    let unpaid = x.terms_due_in(20).await;
    for t in [&paid, &unpaid] {
        x.lock(t).await.expect("lock on A");
    }
    x.pay_cash(&paid).await.expect("pay on B");
    for attestor in &mut attestors {
        attestor.step(&mut x.a, &mut x.b).await.expect("the locks attested");
    }
    on_b.step(&mut a_seen_from_b, &mut x.b).await.expect("the trades known, the paid one committed");
    assert_eq!(x.snapshot(&paid).await.state_b, states::COMMITTED, "committed on the attested lock before the halt");

    // A stops. B's clock passes the unpaid trade's deadline while A is stopped: the payment-side
    // relayer aborts it on B alone.
    signal(&x._nodes.0, "STOP");
    x.b.advance_time(21).await.expect("B passes T_B");
    let during = on_b.step(&mut a_seen_from_b, &mut x.b).await.expect("a pass on B while A is stopped");
    assert_eq!(during, vec![kessai_deployer::xchain::relay::Relayed::Aborted(terms_hash(&unpaid))]);
    for (t, want) in [(&unpaid, states::ABORTED), (&paid, states::COMMITTED)] {
        let call = CrossChainPayment::stateOfCall { termsHash: terms_hash(t) };
        assert_eq!(x.b.read(x.pay, &call).await.expect("stateOf"), want, "B decided while A was stopped");
    }

    // A resumes: each trade ends on A as B decided it, once.
    signal(&x._nodes.0, "CONT");
    for _ in 0..2 {
        for attestor in &mut attestors {
            attestor.step(&mut x.a, &mut x.b).await.expect("the outcomes attested");
        }
        on_a.step(&mut x.a, &mut x.b).await.expect("deliver and return");
    }
    let delivered = x.snapshot(&paid).await;
    assert!(!delivered.locked && !x.snapshot(&unpaid).await.locked, "both locks ended");
    assert_eq!(delivered.seller_units, (u(900), u(0)), "100 delivered, 100 returned");
    assert_eq!(delivered.buyer_units, u(101));
    assert_eq!(delivered.payer_cash, (u(9_000_000), u(0)));
    assert_eq!(delivered.payee_cash, u(1_000_001));
    let _ = std::fs::remove_dir_all(&inbox);
}
