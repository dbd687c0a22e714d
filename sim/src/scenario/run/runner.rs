//! The runner: deploys the suite for a scenario and executes its steps one by one.

use super::*;

/// Addresses and trade ids by name, for rendering events.
#[derive(Debug, Default)]
pub(super) struct NameTable {
    pub(super) addresses: HashMap<Address, String>,
    pub(super) words: HashMap<B256, String>,
}

impl Names for NameTable {
    fn address(&self, address: &Address) -> Option<&str> {
        self.addresses.get(address).map(String::as_str)
    }

    fn word(&self, word: &B256) -> Option<&str> {
        self.words.get(word).map(String::as_str)
    }
}

/// What an action left: its receipts, and the error that stopped it (if any).
pub(super) type Executed = (Vec<Receipt>, Option<StepResult>);

/// A scenario deployed on a chain, ready to execute its steps one by one.
///
/// [`run`] drives a whole scenario; generated workloads and benchmarks may instead call
/// [`Runner::step`] for each step (or their own steps of the same scenario's parties and trades).
#[derive(Debug)]
pub struct Runner<'s> {
    pub(super) scenario: &'s Scenario,
    pub(super) suite: Suite,
    pub(super) instrument: Option<Address>,
    pub(super) contracts: Vec<(String, Address)>,
    pub(super) deployment_gas: u64,
    pub(super) accounts: Vec<Address>,
    pub(super) keys: Vec<PrivateKeySigner>,
    pub(super) chain_id: u64,
    pub(super) start: u64,
    pub(super) trade_ids: Vec<B256>,
    pub(super) trades: Vec<Trade>,
    pub(super) names: NameTable,
    /// Watched holders' balances after the last step.
    pub(super) last_state: Vec<Balances>,
    pub(super) next: usize,
    /// Buyers' payment instructions signed ahead by [`Runner::presign`], by trade.
    pub(super) presigned: Vec<Option<Bytes>>,
    /// On-chain ids of the transfer requests made so far, by their scenario names.
    pub(super) requests: std::sync::Mutex<HashMap<String, B256>>,
    /// The scenario's clock (see [`RunReport::step_times`]).
    pub(super) clock: u64,
    /// When each executed step ended on the scenario's clock.
    pub(super) times: Vec<u64>,
}

impl NameTable {
    /// Names for the addresses a report shows: the zero address, the suite's contracts (by label)
    /// and the parties' accounts.
    fn of(scenario: &Scenario, contracts: &[(String, Address)], accounts: &[Address]) -> Self {
        let mut names = Self::default();
        names.addresses.insert(Address::ZERO, "address(0)".into());
        for (label, address) in contracts {
            names.addresses.insert(*address, label.clone());
        }
        for (party, address) in scenario.parties.iter().zip(accounts) {
            names.addresses.insert(*address, party.name.clone());
        }
        names
    }
}

/// Moves the chain's clock to the scenario's start (by default the next UTC midnight); a start
/// already past on the chain is refused.
async fn fix_start<C: Chain>(chain: &mut C, scenario: &Scenario) -> Result<u64, ScenarioError> {
    let now = chain.timestamp().await?;
    let start = scenario.start.unwrap_or((now / DAY + 1) * DAY);
    if start < now {
        return Err(ScenarioError::Setup(format!(
            "the scenario starts at {} but the chain's clock is already at {}: choose a later start, or run on a \
             fresh chain",
            crate::scenario::write::datetime(start),
            crate::scenario::write::datetime(now)
        )));
    }
    if start > now {
        chain.advance_time(start - now).await?;
    }
    Ok(start)
}

/// The deployment spec: the suite roles' accounts, the tokens' names, and the bond (its dates fixed
/// from the start).
fn suite_spec(scenario: &Scenario, accounts: &[Address], start: u64) -> SuiteSpec {
    let role = |r: Role| accounts[scenario.suite_party(r)];
    let bond = scenario.instrument.bond.as_ref().map(|b| {
        Instrument::Bond(BondSpec {
            face_value: b.face_value,
            coupon_rate_bps: b.coupon_rate_bps,
            coupons_per_year: b.coupons_per_year,
            redemption_value: b.redemption_value,
            issue_date: start + b.issue_date,
            coupon_dates: b.coupon_dates.iter().map(|d| start + d).collect(),
            record_offset: b.record_offset,
            paying_agent: accounts[b.paying_agent],
            municipal: b.municipal,
        })
    });
    SuiteSpec {
        accounts: SuiteAccounts {
            operator: role(Role::Operator),
            registrar: role(Role::Registrar),
            issuer: role(Role::Issuer),
            bank: role(Role::Bank),
            authority: role(Role::Authority),
        },
        security: (scenario.instrument.token.name.clone(), scenario.instrument.token.symbol.clone()),
        deposit: (scenario.cash.name.clone(), scenario.cash.symbol.clone()),
        minting: Default::default(),
        extra_banks: Vec::new(),
        instrument: bond,
    }
}

/// Each scenario trade's id (its seller's, from its name) and on-chain terms.
fn onchain_trades(scenario: &Scenario, suite: &Suite, accounts: &[Address], start: u64) -> (Vec<B256>, Vec<Trade>) {
    scenario
        .trades
        .iter()
        .map(|def| {
            let t = &def.terms;
            let id = kessai_bindings::trade_id(accounts[t.seller], def.name.as_bytes());
            let trade = Trade {
                security: suite.security,
                seller: accounts[t.seller],
                buyer: accounts[t.buyer],
                cash: suite.deposit,
                agent: t.agent.map_or(Address::ZERO, |a| accounts[a]),
                units: t.units,
                amount: t.amount,
                deadline: start + t.deadline,
            };
            (id, trade)
        })
        .unzip()
}

/// Each party's key: the key of the account the scenario names for it, else the next key that no
/// party names.
pub(super) fn assign_keys(
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
) -> Result<Vec<PrivateKeySigner>, ScenarioError> {
    let n = scenario.parties.len();
    let too_few = || {
        let declared = n - Role::SUITE.len();
        ScenarioError::Setup(format!(
            "the scenario has {n} parties (the {} suite roles and {declared} others) but the engine holds only \
             {} keys: remove parties, or give more keys",
            Role::SUITE.len(),
            keys.len()
        ))
    };
    if keys.len() < n {
        return Err(too_few());
    }
    let named: Vec<Address> = scenario.parties.iter().filter_map(|p| p.address).collect();
    let mut free = keys.iter().filter(|k| !named.contains(&k.address()));
    let mut assigned = Vec::with_capacity(n);
    for party in &scenario.parties {
        let key = match party.address {
            Some(account) => keys.iter().find(|k| k.address() == account).ok_or_else(|| {
                ScenarioError::Setup(format!(
                    "party `{}` is played by {account}, but the engine holds no key for it: add its key to the \
                     engine's keys (KESSAI_KEYS or KESSAI_KEYSTORE), or remove the party's `address`",
                    party.name
                ))
            })?,
            None => free.next().ok_or_else(too_few)?,
        };
        assigned.push(key.clone());
    }
    Ok(assigned)
}

impl<'s> Runner<'s> {
    /// Fixes the start on the chain's clock, deploys the suite, and assigns keys to parties (a party
    /// whose account the scenario names gets that account's key; the others get the remaining keys in
    /// order, so without named accounts party `i` gets `keys[i]`; the chain must be able to send from
    /// each).
    pub async fn deploy<C: Chain>(
        chain: &mut C,
        scenario: &'s Scenario,
        keys: &[PrivateKeySigner],
    ) -> Result<Self, ScenarioError> {
        let keys = assign_keys(scenario, keys)?;
        let accounts: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
        let start = fix_start(chain, scenario).await?;
        let deployment = plan::execute(chain, &plan::suite_plan(&suite_spec(scenario, &accounts, start))).await?;
        let suite = Suite::from_deployment(&deployment)?;
        let instrument = deployment.contracts.get(labels::INSTRUMENT).map(|c| c.address);
        let deployment_gas = deployment.contracts.values().map(|c| c.gas_used).sum::<u64>()
            + deployment.steps.iter().map(|s| s.gas_used).sum::<u64>();
        let contracts: Vec<(String, Address)> =
            deployment.contracts.iter().map(|(label, c)| (label.clone(), c.address)).collect();
        let mut names = NameTable::of(scenario, &contracts, &accounts);
        let (trade_ids, trades) = onchain_trades(scenario, &suite, &accounts, start);
        for (id, def) in trade_ids.iter().zip(&scenario.trades) {
            names.words.insert(*id, def.name.clone());
        }
        let chain_id = chain.chain_id().await?;
        let mut runner = Self {
            scenario,
            suite,
            instrument,
            contracts,
            deployment_gas,
            accounts,
            keys,
            chain_id,
            start,
            trade_ids,
            trades,
            names,
            last_state: Vec::new(),
            next: 0,
            presigned: Vec::new(),
            requests: Default::default(),
            clock: start,
            times: Vec::new(),
        };
        runner.last_state = runner.read_watched(chain).await?;
        Ok(runner)
    }

    /// The deployed suite.
    pub fn suite(&self) -> &Suite {
        &self.suite
    }

    /// The account of party `party`.
    pub fn account(&self, party: PartyId) -> Address {
        self.accounts[party]
    }

    /// The id of the scenario's trade number `trade` (bound to its seller, see
    /// [`kessai_bindings::trade_id`]).
    pub fn trade_id(&self, trade: usize) -> B256 {
        self.trade_ids[trade]
    }

    /// The scenario's start on the chain (unix time).
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The scenario's clock after the last step (unix time; see [`RunReport::step_times`]).
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// The scenario's clock after `action` mined `blocks` blocks: a second per block, then the advance.
    pub(super) fn clock_after(&self, action: &Action, blocks: u64) -> u64 {
        let clock = self.clock + blocks;
        match action {
            Action::Advance(Advance::By(seconds)) => clock + seconds,
            Action::Advance(Advance::Until(offset)) => clock.max(self.start + offset),
            _ => clock,
        }
    }

    pub(super) fn holder_address(&self, holder: Holder) -> Address {
        match holder {
            Holder::Party(p) => self.accounts[p],
            // The parser allows `instrument` only when the scenario has a bond.
            Holder::Instrument => self.instrument.unwrap_or_default(),
        }
    }

    pub(super) async fn balances<C: Chain>(&self, chain: &mut C, holder: Holder) -> Result<Balances, ScenarioError> {
        Ok(self.suite.position(chain, self.holder_address(holder)).await?.into())
    }

    pub(super) async fn read_watched<C: Chain>(&self, chain: &mut C) -> Result<Vec<Balances>, ScenarioError> {
        let mut state = Vec::with_capacity(self.scenario.watch.len());
        for holder in &self.scenario.watch {
            state.push(self.balances(chain, *holder).await?);
        }
        Ok(state)
    }

    /// Executes the next step of the scenario and checks its expectations.
    pub async fn step<C: Chain>(&mut self, chain: &mut C) -> Result<Option<StepOutcome>, ScenarioError> {
        let Some(step) = self.scenario.steps.get(self.next) else { return Ok(None) };
        let index = self.next;
        self.next += 1;
        self.execute_step(chain, index, step).await.map(Some)
    }

    /// Executes `step` (one of this scenario's, or a step over its parties and trades built by a
    /// generator) and checks its expectations.
    pub async fn execute_step<C: Chain>(
        &mut self,
        chain: &mut C,
        index: usize,
        step: &Step,
    ) -> Result<StepOutcome, ScenarioError> {
        let (receipts, failure) = self.execute(chain, &step.action).await?;
        self.clock = self.clock_after(&step.action, receipts.len() as u64);
        self.times.push(self.clock);
        let result = failure.unwrap_or(StepResult::Ok);
        let gas_used = receipts.iter().map(|r| r.gas_used).sum();
        let events: Vec<EventRecord> =
            receipts.iter().flat_map(|r| &r.logs).map(|log| events::decode(log, &self.names)).collect();
        // A step that mined nothing and did not fail (advancing the clock) moved no balance.
        let state = if receipts.is_empty() && result == StepResult::Ok {
            self.last_state.clone()
        } else {
            self.read_watched(chain).await?
        };
        let mut outcome = StepOutcome {
            index,
            origin: step.origin,
            kind: step.action.kind().to_string(),
            description: describe(self.scenario, &step.action),
            note: step.note.clone(),
            result,
            gas_used,
            transactions: receipts.len() as u32,
            events,
            state: self
                .scenario
                .watch
                .iter()
                .zip(&state)
                .map(|(h, b)| HolderState { holder: self.scenario.holder_name(*h).to_string(), balances: *b })
                .collect(),
            checks: Vec::new(),
        };
        outcome.checks = self.check(chain, &step.expect, &outcome, &state).await?;
        self.last_state = state;
        Ok(outcome)
    }

    /// Signatures of trade `of`'s parties giving `instruction` for its (id, terms).
    pub(super) fn signatures(&self, of: TradeId, instruction: Instruction) -> Result<TradeSignatures, DeployerError> {
        let terms = &self.scenario.trades[of].terms;
        let (id, trade) = (self.trade_ids[of], &self.trades[of]);
        let sign = |party: PartyId| {
            signing::sign_trade(&self.keys[party], self.chain_id, self.suite.dvp, id, trade, instruction)
        };
        Ok(TradeSignatures { seller: sign(terms.seller)?, buyer: sign(terms.buyer)? })
    }

    /// Signs now every buyer's payment instruction that a `settle_with_payment` step of the scenario
    /// submits, so those steps do not sign while they run (benchmarks time execution alone).
    pub fn presign(&mut self) -> Result<(), ScenarioError> {
        let mut presigned = vec![None; self.scenario.trades.len()];
        for step in &self.scenario.steps {
            if let Action::SettleWithPayment { signatures_of, .. } = step.action
                && presigned[signatures_of].is_none()
            {
                presigned[signatures_of] = Some(self.buyer_signature(signatures_of)?);
            }
        }
        self.presigned = presigned;
        Ok(())
    }

    /// The buyer's payment instruction (`PayTrade`) for trade `of`, signed ahead or now.
    pub fn buyer_signature(&self, of: TradeId) -> Result<Bytes, DeployerError> {
        if let Some(Some(signature)) = self.presigned.get(of) {
            return Ok(signature.clone());
        }
        let terms = &self.scenario.trades[of].terms;
        signing::sign_trade(
            &self.keys[terms.buyer],
            self.chain_id,
            self.suite.dvp,
            self.trade_ids[of],
            &self.trades[of],
            Instruction::Pay,
        )
    }

    pub(super) fn registration(&self, party: PartyId) -> Registration {
        let p = &self.scenario.parties[party];
        Registration {
            class: p.class,
            country: p.country,
            kyc_expiry: self.start + p.kyc_valid_for,
            data_hash: keccak256(p.name.as_bytes()),
        }
    }

    pub(super) fn role(&self, role: Role) -> Address {
        self.accounts[self.scenario.suite_party(role)]
    }

    pub(super) fn registries(&self, registry: Registry) -> Vec<(Address, Address)> {
        let securities = (self.suite.registry, self.role(Role::Registrar));
        let bank = (self.suite.bank_registry, self.role(Role::Bank));
        match registry {
            Registry::Securities => vec![securities],
            Registry::Bank => vec![bank],
            Registry::Both => vec![securities, bank],
        }
    }

    /// A rendered revert argument, with known addresses and trade ids by name.
    pub(super) fn rename(&self, arg: &str) -> String {
        let named = match arg.len() {
            42 => arg.parse::<Address>().ok().and_then(|a| self.names.address(&a).map(str::to_string)),
            66 => arg.parse::<B256>().ok().and_then(|w| self.names.word(&w).map(str::to_string)),
            _ => None,
        };
        named.unwrap_or_else(|| arg.to_string())
    }

    /// Runs one action through the operator actions; a revert ends it as a failed step.
    pub(super) async fn execute<C: Chain>(&self, chain: &mut C, action: &Action) -> Result<Executed, ScenarioError> {
        let mut receipts = Vec::new();
        let result = self.transact(chain, action, &mut receipts).await;
        let failure = match result {
            Ok(()) => None,
            Err(DeployerError::Revert(e)) => {
                let args = e.args.iter().map(|a| self.rename(a)).collect();
                Some(StepResult::Failed { error: e.name, args, message: e.message })
            }
            Err(DeployerError::TxFailed { tx, gas_used }) => Some(StepResult::Failed {
                error: "TxFailed".into(),
                args: vec![tx, gas_used.to_string()],
                message: "the transaction failed without revert data (out of gas or an invalid opcode)".into(),
            }),
            Err(e) => return Err(e.into()),
        };
        Ok((receipts, failure))
    }

    pub(super) async fn check<C: Chain>(
        &self,
        chain: &mut C,
        expect: &Expect,
        outcome: &StepOutcome,
        state: &[Balances],
    ) -> Result<Vec<Check>, ScenarioError> {
        let mut checks = vec![result_check(expect, outcome)];
        if outcome.result != StepResult::Ok && !self.scenario.watch.is_empty() {
            checks.push(self.nothing_moved(state));
        }
        if !expect.events.is_empty() {
            checks.push(events_check(expect, outcome));
        }
        for (holder, want) in &expect.balances {
            let got = match self.scenario.watch.iter().position(|h| h == holder) {
                Some(i) => state[i],
                None => self.balances(chain, *holder).await?,
            };
            checks.push(balance_check(self.scenario.holder_name(*holder), want, &got));
        }
        if let Some(supply) = &expect.supply {
            checks.push(supply_check(supply, self.suite.supplies(chain).await?));
        }
        for (trade, want) in &expect.trades {
            let flags = self.suite.trade_status(chain, self.trade_ids[*trade]).await?;
            let got = TradeState::from_flags(flags);
            checks.push(Check {
                expected: format!("trade {} is {}", self.scenario.trades[*trade].name, want.name()),
                passed: got == *want,
                found: (got != *want).then(|| format!("{} (status flags {flags})", got.name())),
            });
        }
        Ok(checks)
    }

    /// A failed step must leave every watched position as it was.
    fn nothing_moved(&self, state: &[Balances]) -> Check {
        let moved: Vec<String> = self
            .scenario
            .watch
            .iter()
            .zip(state.iter().zip(&self.last_state))
            .filter(|(_, (now, before))| now != before)
            .map(|(h, (now, before))| format!("{}: {before} -> {now}", self.scenario.holder_name(*h)))
            .collect();
        Check {
            expected: "a failed step moves nothing".into(),
            passed: moved.is_empty(),
            found: (!moved.is_empty()).then(|| moved.join("; ")),
        }
    }

    /// Reads the final state: every party, the instrument, both supplies, every trade.
    pub async fn final_state<C: Chain>(&self, chain: &mut C) -> Result<FinalState, ScenarioError> {
        let mut holders = Vec::new();
        let mut all: Vec<Holder> = (0..self.scenario.parties.len()).map(Holder::Party).collect();
        if self.instrument.is_some() {
            all.push(Holder::Instrument);
        }
        for holder in all {
            holders.push(HolderState {
                holder: self.scenario.holder_name(holder).to_string(),
                balances: self.balances(chain, holder).await?,
            });
        }
        let (units_supply, cash_supply) = self.suite.supplies(chain).await?;
        let mut trades = Vec::new();
        for (def, id) in self.scenario.trades.iter().zip(&self.trade_ids) {
            let flags = self.suite.trade_status(chain, *id).await?;
            trades.push((def.name.clone(), TradeState::from_flags(flags)));
        }
        Ok(FinalState { holders, units_supply, cash_supply, trades })
    }

    /// The report of a finished run.
    pub fn report(&self, steps: Vec<StepOutcome>, final_state: FinalState) -> RunReport {
        RunReport {
            scenario: self.scenario.name.clone(),
            start: self.start,
            parties: self
                .scenario
                .parties
                .iter()
                .zip(&self.accounts)
                .map(|(p, a)| PartyAccount { name: p.name.clone(), role: p.role, address: *a })
                .collect(),
            contracts: self.contracts.clone(),
            deployment_gas: self.deployment_gas,
            steps,
            step_times: self.times.clone(),
            final_state,
        }
    }
}

/// The step succeeded, or failed with the expected error.
fn result_check(expect: &Expect, outcome: &StepOutcome) -> Check {
    let found = || match &outcome.result {
        StepResult::Ok => "the step succeeded".to_string(),
        StepResult::Failed { error, args, message } => {
            format!("it failed with {error}({}): {message}", args.join(", "))
        }
    };
    let (expected, passed) = match &expect.error {
        Some(name) => (format!("fails with {name}"), outcome.result.error() == Some(name.as_str())),
        None => ("succeeds".to_string(), outcome.result == StepResult::Ok),
    };
    Check { expected, passed, found: (!passed).then(found) }
}

/// The expected events were emitted, in order (others may come between).
fn events_check(expect: &Expect, outcome: &StepOutcome) -> Check {
    let mut emitted = outcome.events.iter();
    let missing: Vec<String> = expect
        .events
        .iter()
        .filter(|p| !emitted.by_ref().any(|e| e.name == p.name && p.contract.as_ref().is_none_or(|c| *c == e.contract)))
        .map(ToString::to_string)
        .collect();
    let wanted: Vec<String> = expect.events.iter().map(ToString::to_string).collect();
    let names: Vec<String> = outcome.events.iter().map(|e| format!("{}.{}", e.contract, e.name)).collect();
    Check {
        expected: format!("emits {}", wanted.join(", ")),
        passed: missing.is_empty(),
        found: (!missing.is_empty())
            .then(|| format!("missing or out of order: {}; emitted: [{}]", missing.join(", "), names.join(", "))),
    }
}

/// The total supplies are as expected (unset ones are not checked).
fn supply_check(supply: &SupplyExpect, (units, cash): (U256, U256)) -> Check {
    let mut wanted = Vec::new();
    let mut wrong = Vec::new();
    for (name, want, got) in [("units", supply.units, units), ("cash", supply.cash, cash)] {
        if let Some(want) = want {
            wanted.push(format!("{name} {want}"));
            if want != got {
                wrong.push(format!("{name} {got}"));
            }
        }
    }
    Check {
        expected: format!("supply: {}", wanted.join(", ")),
        passed: wrong.is_empty(),
        found: (!wrong.is_empty()).then(|| wrong.join(", ")),
    }
}

pub(super) fn balance_check(name: &str, want: &BalanceExpect, got: &Balances) -> Check {
    let mut wanted = Vec::new();
    let mut wrong = Vec::new();
    for (field, want, got) in [
        ("units", want.units, got.units),
        ("units_held", want.units_held, got.units_held),
        ("cash", want.cash, got.cash),
        ("cash_held", want.cash_held, got.cash_held),
    ] {
        if let Some(want) = want {
            wanted.push(format!("{field} {want}"));
            if want != got {
                wrong.push(format!("{field} {got}"));
            }
        }
    }
    Check {
        expected: format!("{name}: {}", wanted.join(", ")),
        passed: wrong.is_empty(),
        found: (!wrong.is_empty()).then(|| wrong.join(", ")),
    }
}

/// Runs a whole scenario on `chain` with `keys` (party `i` signs and sends with `keys[i]`);
/// `on_step` sees each outcome as it completes.
pub async fn run<C: Chain>(
    chain: &mut C,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    mut on_step: impl FnMut(&StepOutcome),
) -> Result<RunReport, ScenarioError> {
    run_timed(chain, scenario, keys, |outcome, _| on_step(outcome)).await
}

/// [`run`], giving `on_step` each outcome with the time it ended on the scenario's clock (unix time).
pub async fn run_timed<C: Chain>(
    chain: &mut C,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    mut on_step: impl FnMut(&StepOutcome, u64),
) -> Result<RunReport, ScenarioError> {
    let mut runner = Runner::deploy(chain, scenario, keys).await?;
    let mut steps = Vec::with_capacity(scenario.steps.len());
    while let Some(outcome) = runner.step(chain).await? {
        on_step(&outcome, runner.clock());
        steps.push(outcome);
    }
    let final_state = runner.final_state(chain).await?;
    Ok(runner.report(steps, final_state))
}
