//! The deposit token's fixture: a deployed suite with three customers of the bank, the state every
//! refusal must leave unchanged ([`refused!`]), signing for the token's EIP-712 domain, and the
//! EIP-2612 / EIP-3009 structs and calls the signature tests send.

use crate::support::{self, u};
use kessai_bindings::{
    RevertError,
    alloy::{
        primitives::{Address, Bytes, U256, keccak256},
        signers::{SignerSync, local::PrivateKeySigner},
        sol,
        sol_types::{Eip712Domain, SolCall, SolStruct, eip712_domain},
    },
    deposit_token::DepositToken as Dt,
    investor_registry::InvestorRegistry,
};
use kessai_deployer::{
    DeployerError, anvil,
    chain::{Chain, Tx},
    ops::Suite,
    plan,
};
use kessai_sim::{RevmChain, demo};

sol! {
    struct Permit { address owner; address spender; uint256 value; uint256 nonce; uint256 deadline; }
    struct TransferWithAuthorization { address from; address to; uint256 value; uint256 validAfter; uint256 validBefore; bytes32 nonce; }
    struct ReceiveWithAuthorization { address from; address to; uint256 value; uint256 validAfter; uint256 validBefore; bytes32 nonce; }
    struct CancelAuthorization { address authorizer; bytes32 nonce; }
}

/// A deployed suite with three customers of the bank (Alice holds ¥1,000,000) and the accounts whose
/// state each refusal must leave unchanged.
pub struct F {
    pub chain: RevmChain,
    pub suite: Suite,
    pub bank: Address,
    pub alice: PrivateKeySigner,
    pub bob: PrivateKeySigner,
    pub carol: Address,
    pub now: u64,
    watched: Vec<Address>,
}

/// A watched account as the token records it.
#[derive(Debug, PartialEq, Eq)]
pub struct Account {
    who: Address,
    balance: U256,
    held: U256,
    frozen: U256,
    permit_nonce: U256,
}

/// What a refused call must leave unchanged: the watched accounts, the non-zero allowances among
/// them, and the total supply.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    accounts: Vec<Account>,
    allowances: Vec<(Address, Address, U256)>,
    supply: U256,
}

/// An account that is not a customer of the bank.
pub const OUTSIDER: Address = Address::repeat_byte(0x45);

impl F {
    pub async fn new() -> Self {
        let mut chain = support::revm();
        let p = support::parties();
        let d = plan::execute(&mut chain, &plan::suite_plan(&demo::demo_spec(&p))).await.expect("deploy");
        let suite = Suite::from_deployment(&d).expect("suite");
        let now = chain.timestamp().await.expect("time");
        let keys = anvil::dev_signers();
        let (alice, bob) = (keys[5].clone(), keys[6].clone());
        let carol = Address::repeat_byte(0xc0);
        let watched = vec![alice.address(), bob.address(), carol, p.suite.bank];
        let mut f = Self { chain, suite, bank: p.suite.bank, alice, bob, carol, now, watched };
        for who in [f.alice.address(), f.bob.address(), carol] {
            f.customer(who).await;
        }
        f.bank_send(Dt::issueCall { to: f.alice.address(), amount: u(1_000_000), depositRef: keccak256("D-1") })
            .await
            .expect("issue");
        f
    }

    /// Registers `who` as a customer of the bank for a year.
    pub async fn customer(&mut self, who: Address) {
        self.customer_until(who, self.now + 365 * 86_400).await;
    }

    /// Registers `who` as a customer of the bank whose KYC expires at `kyc_expiry`.
    pub async fn customer_until(&mut self, who: Address, kyc_expiry: u64) {
        let call = InvestorRegistry::registerCall {
            account: who,
            investorClass: 0,
            country: 392,
            kycExpiry: kyc_expiry,
            dataHash: keccak256(who),
        };
        self.chain.send_call(self.bank, self.suite.bank_registry, &call).await.expect("register customer");
    }

    /// Adds `who` to the accounts every snapshot records.
    pub fn watch(&mut self, who: Address) {
        self.watched.push(who);
    }

    /// Deploys an ERC-1271 contract wallet controlled by `owner`'s key.
    pub async fn wallet(&mut self, owner: Address) -> Address {
        let creation =
            plan::creation_code("OwnedWallet", &[kessai_bindings::alloy::dyn_abi::DynSolValue::Address(owner)])
                .expect("code");
        let receipt = self.chain.send(Tx { from: owner, to: None, data: creation }).await.expect("deploy wallet");
        receipt.contract_address.expect("wallet")
    }

    pub async fn send<T: SolCall>(&mut self, from: Address, call: T) -> Result<(), DeployerError> {
        self.chain.send_call(from, self.suite.deposit, &call).await.map(|_| ())
    }
    pub async fn bank_send<T: SolCall>(&mut self, call: T) -> Result<(), DeployerError> {
        self.send(self.bank, call).await
    }
    pub async fn read<T: SolCall>(&mut self, call: T) -> T::Return {
        self.chain.read(self.suite.deposit, &call).await.expect("read")
    }
    pub async fn balance(&mut self, account: Address) -> U256 {
        self.read(Dt::balanceOfCall { account }).await
    }
    pub async fn state(&mut self) -> State {
        let watched = self.watched.clone();
        let mut accounts = Vec::new();
        let mut allowances = Vec::new();
        for &who in &watched {
            accounts.push(Account {
                who,
                balance: self.balance(who).await,
                held: self.read(Dt::heldBalanceOfCall { account: who }).await,
                frozen: self.read(Dt::frozenBalanceOfCall { account: who }).await,
                permit_nonce: self.read(Dt::noncesCall { owner: who }).await,
            });
            for &spender in &watched {
                let allowance = self.read(Dt::allowanceCall { owner: who, spender }).await;
                if !allowance.is_zero() {
                    allowances.push((who, spender, allowance));
                }
            }
        }
        State { accounts, allowances, supply: self.read(Dt::totalSupplyCall {}).await }
    }
    /// Checks a refused call's `result`: the revert `name`, and nothing moved since `before`.
    pub async fn refused(&mut self, result: Result<(), DeployerError>, name: &str, before: State) -> RevertError {
        let err = match result {
            Err(DeployerError::Revert(e)) => e,
            other => panic!("expected {name}, got {other:?}"),
        };
        assert_eq!(err.name, name, "{err}");
        assert_eq!(self.state().await, before, "{name} moved something");
        err
    }
    fn domain(&self) -> Eip712Domain {
        eip712_domain! {
            name: "DCJPY (Kessai Bank)",
            version: "1",
            chain_id: 31337,
            verifying_contract: self.suite.deposit,
        }
    }
    pub fn sign<S: SolStruct>(&self, key: &PrivateKeySigner, data: &S) -> Bytes {
        let hash = data.eip712_signing_hash(&self.domain());
        Bytes::from(key.sign_hash_sync(&hash).expect("sign").as_bytes().to_vec())
    }

    /// `key`'s signature of `data` for its contract wallet `wallet` (bound to that wallet).
    pub fn sign_for_wallet<S: SolStruct>(&self, key: &PrivateKeySigner, wallet: Address, data: &S) -> Bytes {
        let hash = kessai_deployer::signing::wallet_digest(wallet, data.eip712_signing_hash(&self.domain()));
        Bytes::from(key.sign_hash_sync(&hash).expect("sign").as_bytes().to_vec())
    }
}

/// Snapshots `$f`'s [`State`], runs `$op`, and asserts that it reverted with `$name` and that nothing
/// moved; yields the decoded error.
macro_rules! refused {
    ($f:ident, $op:expr, $name:expr) => {{
        let before = $f.state().await;
        let result = $op;
        $f.refused(result, $name, before).await
    }};
}
pub(crate) use refused;

/// An EIP-3009 transfer authorization, valid strictly after `valid_after` and before `valid_before`.
pub fn authorization(
    from: Address,
    to: Address,
    value: u64,
    valid_after: u64,
    valid_before: u64,
    nonce: &str,
) -> TransferWithAuthorization {
    TransferWithAuthorization {
        from,
        to,
        value: u(value),
        validAfter: u(valid_after),
        validBefore: u(valid_before),
        nonce: keccak256(nonce),
    }
}

/// The `transferWithAuthorization` call carrying `a` and its signature.
pub fn authorized_transfer(a: &TransferWithAuthorization, signature: Bytes) -> Dt::transferWithAuthorizationCall {
    let TransferWithAuthorization { from, to, value, validAfter, validBefore, nonce } = a.clone();
    Dt::transferWithAuthorizationCall { from, to, value, validAfter, validBefore, nonce, signature }
}

/// The same terms as `a` as an EIP-3009 receive authorization: only the payee may collect it.
pub fn receivable(a: TransferWithAuthorization) -> ReceiveWithAuthorization {
    let TransferWithAuthorization { from, to, value, validAfter, validBefore, nonce } = a;
    ReceiveWithAuthorization { from, to, value, validAfter, validBefore, nonce }
}

/// The `receiveWithAuthorization` call carrying `r` and its signature.
pub fn authorized_receipt(r: &ReceiveWithAuthorization, signature: Bytes) -> Dt::receiveWithAuthorizationCall {
    let ReceiveWithAuthorization { from, to, value, validAfter, validBefore, nonce } = r.clone();
    Dt::receiveWithAuthorizationCall { from, to, value, validAfter, validBefore, nonce, signature }
}
