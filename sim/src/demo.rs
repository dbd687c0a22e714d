//! The DCJPY pilot's seven-step DvP flow (DESIGN.md §1), written once over the [`Chain`] trait so
//! it runs unchanged on the in-process engine and on a real node.

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    signers::local::PrivateKeySigner,
};
use kessai_deployer::{
    DeployerError,
    chain::{Chain, Receipt},
    ops::{Position, Registration, Suite, Trade},
    plan::{self, Deployment, SuiteAccounts, SuiteSpec},
    signing,
};
use serde::{Deserialize, Serialize};

/// Who plays which part in the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoParties {
    /// Suite role holders (operator, registrar, issuer, bank, authority).
    pub suite: SuiteAccounts,
    /// The settlement agent (DCP in the pilot).
    pub agent: Address,
    /// The selling investor.
    pub seller: Address,
    /// The buying investor.
    pub buyer: Address,
}

impl DemoParties {
    /// Assigns the parts to eight accounts in the one role order
    /// ([`SuiteAccounts::ROLES`]): operator, registrar, issuer, bank, authority, then agent, seller,
    /// buyer.
    pub fn from_accounts(accounts: &[Address]) -> Result<Self, DeployerError> {
        let (Some(suite), [_, _, _, _, _, agent, seller, buyer, ..]) =
            (SuiteAccounts::in_role_order(accounts), accounts)
        else {
            return Err(DeployerError::Plan(format!(
                "the demo needs 8 accounts (operator, registrar, issuer, bank, authority, agent, seller, buyer), {} \
                 given",
                accounts.len()
            )));
        };
        Ok(Self { suite, agent: *agent, seller: *seller, buyer: *buyer })
    }

    /// The accounts that send transactions (and need keys or funds).
    pub fn senders(&self) -> Vec<Address> {
        [&self.suite.to_array()[..], &[self.agent, self.seller, self.buyer]].concat()
    }
}

/// The demo's deployment spec.
pub fn demo_spec(parties: &DemoParties) -> SuiteSpec {
    SuiteSpec {
        accounts: parties.suite,
        security: ("Kessai Green Bond 2031".into(), "KGB31".into()),
        deposit: ("DCJPY (Kessai Bank)".into(), "DCJPY".into()),
        minting: Default::default(),
        extra_banks: Vec::new(),
        instrument: None,
    }
}

/// Units traded in the demo.
pub const TRADE_UNITS: u64 = 100;
/// Price paid, in yen (deposit tokens): ¥10,000 per unit.
pub const TRADE_AMOUNT: u64 = 1_000_000;
/// Units issued to the seller.
pub const ISSUED_UNITS: u64 = 1_000;

/// One transaction of the demo and the positions right after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoStep {
    /// Pilot step number(s), or "setup".
    pub pilot_step: String,
    /// What happened.
    pub description: String,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// Seller's position after the step.
    pub seller: Position,
    /// Buyer's position after the step.
    pub buyer: Position,
}

/// Everything the demo did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoReport {
    /// The deployed suite.
    pub deployment: Deployment,
    /// Each transaction after deployment.
    pub steps: Vec<DemoStep>,
    /// The trade id.
    pub trade_id: B256,
    /// The trade's deadline.
    pub deadline: u64,
    /// The trade's final status flags.
    pub trade_status: u8,
    /// Total supply of (security, deposit) after the flow.
    pub supplies: (U256, U256),
}

/// The demo trade's id (bound to its seller).
pub fn demo_trade_id(seller: Address) -> B256 {
    kessai_bindings::trade_id(seller, "kessai-demo-trade-0001")
}

/// A deadline two UTC midnights after `now`: the same value on every engine run the same day.
pub fn deadline_after(now: u64) -> u64 {
    (now / 86_400 + 2) * 86_400
}

/// A registration valid for a year after `now`.
pub fn registration(now: u64, name: &str) -> Registration {
    Registration { class: 0, country: 392, kyc_expiry: deadline_after(now) + 365 * 86_400, data_hash: keccak256(name) }
}

/// The demo's plan, under the first salt `kessai-demo-<n>` whose contracts are not on `chain` yet, so
/// the demo can run again on a node where an earlier run (or `kessai deploy`) left its suite; a fresh
/// chain always gets `kessai-demo-0`, the same addresses on every engine.
pub async fn demo_plan<C: Chain>(chain: &mut C, parties: &DemoParties) -> Result<plan::Plan, DeployerError> {
    for n in 0.. {
        let plan = plan::suite_plan(&demo_spec(parties)).with_salt(format!("kessai-demo-{n}"));
        let dvp = plan.predicted_addresses()?.get(plan::labels::DVP).copied();
        let taken = match dvp {
            Some(address) => !chain.code(address).await?.is_empty(),
            None => false,
        };
        if !taken {
            return Ok(plan);
        }
    }
    unreachable!("the salt counter is unbounded")
}

/// Deploys the suite and registers the demo's investors on both registries.
pub async fn setup<C: Chain>(
    chain: &mut C,
    parties: &DemoParties,
) -> Result<(Deployment, Suite, Vec<(String, Receipt)>), DeployerError> {
    let plan = demo_plan(chain, parties).await?;
    let deployment = plan::execute(chain, &plan).await?;
    let suite = Suite::from_deployment(&deployment)?;
    let now = chain.timestamp().await?;
    let s = parties.suite;
    let mut receipts = Vec::new();
    for (who, name) in [(parties.seller, "seller"), (parties.buyer, "buyer")] {
        let r = suite.register(chain, suite.registry, s.registrar, who, registration(now, name)).await?;
        receipts.push((format!("securities registrar registers the {name}"), r));
        let r = suite.register(chain, suite.bank_registry, s.bank, who, registration(now, name)).await?;
        receipts.push((format!("bank registers the {name} as a customer"), r));
    }
    Ok((deployment, suite, receipts))
}

/// The demo trade's terms, settling by `deadline`.
pub fn demo_trade(suite: &Suite, parties: &DemoParties, deadline: u64) -> Trade {
    Trade {
        security: suite.security,
        seller: parties.seller,
        buyer: parties.buyer,
        cash: suite.deposit,
        agent: parties.agent,
        units: U256::from(TRADE_UNITS),
        amount: U256::from(TRADE_AMOUNT),
        deadline,
    }
}

/// Runs the whole flow; `on_step` sees each step as it completes (the CLI prints it).
///
/// `buyer_key` signs the buyer's payment instruction (pilot step 4); it must be `parties.buyer`'s.
pub async fn run<C: Chain>(
    chain: &mut C,
    parties: &DemoParties,
    buyer_key: &PrivateKeySigner,
    mut on_step: impl FnMut(&DemoStep),
) -> Result<DemoReport, DeployerError> {
    let (deployment, suite, setup_receipts) = setup(chain, parties).await?;
    let mut steps = Vec::new();
    let mut record = async |chain: &mut C, pilot: &str, description: String, gas_used: u64| {
        let step = DemoStep {
            pilot_step: pilot.into(),
            description,
            gas_used,
            seller: suite.position(chain, parties.seller).await?,
            buyer: suite.position(chain, parties.buyer).await?,
        };
        on_step(&step);
        steps.push(step);
        Ok::<(), DeployerError>(())
    };
    for (description, receipt) in setup_receipts {
        record(chain, "setup", description, receipt.gas_used).await?;
    }
    let s = parties.suite;
    let r = suite.issue_security(chain, s.issuer, parties.seller, U256::from(ISSUED_UNITS)).await?;
    record(chain, "setup", format!("issuer issues {ISSUED_UNITS} bond units to the seller"), r.gas_used).await?;

    let id = demo_trade_id(parties.seller);
    let deadline = deadline_after(chain.timestamp().await?);
    let trade = demo_trade(&suite, parties, deadline);
    let r = suite.create_trade(chain, id, &trade).await?;
    record(chain, "1-2", format!("seller's side creates the trade; {TRADE_UNITS} units held for the DvP contract; terms shared in the TradeCreated event"), r.gas_used).await?;

    let r = suite.issue_deposit(chain, s.bank, parties.buyer, U256::from(TRADE_AMOUNT), keccak256("DEP-0001")).await?;
    record(chain, "3", format!("bank issues ¥{TRADE_AMOUNT} DCJPY to the buyer against deposit DEP-0001"), r.gas_used)
        .await?;

    // Step 4 happens off-chain: the buyer signs its payment instruction (EIP-712 `PayTrade` over the terms)
    // and hands it to the settlement agent. No DCJPY moves or is locked yet.
    if buyer_key.address() != parties.buyer {
        return Err(DeployerError::NoKey(parties.buyer));
    }
    let chain_id = chain.chain_id().await?;
    let instruction = signing::sign_trade(buyer_key, chain_id, suite.dvp, id, &trade, signing::Instruction::Pay)?;
    let description = "buyer signs its payment instruction (EIP-712, off-chain) and sends it to the agent".into();
    record(chain, "4", description, 0).await?;

    let r = suite.settle_with_payment(chain, parties.agent, id, &trade, &instruction).await?;
    record(
        chain,
        "5-6",
        "agent verifies the instruction; the DCJPY payment and the units move in this transaction".into(),
        r.gas_used,
    )
    .await?;

    let r = suite.redeem_deposit(chain, parties.seller, U256::from(TRADE_AMOUNT), keccak256("ACC-SELLER-01")).await?;
    record(chain, "7", format!("seller redeems ¥{TRADE_AMOUNT} DCJPY into deposit account ACC-SELLER-01"), r.gas_used)
        .await?;

    let trade_status = suite.trade_status(chain, id).await?;
    let supplies = suite.supplies(chain).await?;
    Ok(DemoReport { deployment, steps, trade_id: id, deadline, trade_status, supplies })
}
