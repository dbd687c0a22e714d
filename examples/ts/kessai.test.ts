// The example client against a suite that `kessai deploy` put on a fresh Anvil (run by
// `npm run test:examples`, which passes KESSAI_RPC_URL and KESSAI_DEPLOYMENT). Transactions are sent
// from Anvil's unlocked development accounts, in the demo suite's role order.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  keccak256,
  toBytes,
  type Address,
  type Hash,
} from 'viem';
import { depositTokenAbi, dvpAbi, enums, investorRegistryAbi, securityTokenAbi } from './abi/index.js';
import {
  addressOf,
  balances,
  decodeRefusal,
  followTrades,
  readDeployment,
  refusalOf,
  settleCheckNames,
  tradeId,
  type TradeEvent,
} from './kessai.js';

const rpcUrl = process.env.KESSAI_RPC_URL ?? 'http://127.0.0.1:8545';
const deployment = readDeployment(process.env.KESSAI_DEPLOYMENT ?? new URL('../abi/deployment.json', import.meta.url));
const chain = defineChain({
  id: deployment.chainId,
  name: 'kessai',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [rpcUrl] } },
});
const client = createPublicClient({ chain, transport: http(rpcUrl) });
const wallet = createWalletClient({ chain, transport: http(rpcUrl) });
const security = addressOf(deployment, 'security');
const deposit = addressOf(deployment, 'deposit');
const dvp = addressOf(deployment, 'dvp');

/** Anvil's development accounts in the demo's role order. */
let roles: { registrar: Address; issuer: Address; bank: Address; agent: Address; seller: Address; buyer: Address };

async function mined(hash: Hash): Promise<void> {
  const receipt = await client.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success', `transaction ${hash}`);
}

/** A trade of `units` units for `amount` yen from the seller to the buyer, agent-approved, due in two days. */
async function trade(units: bigint, amount: bigint) {
  const { timestamp } = await client.getBlock();
  const { seller, buyer, agent } = roles;
  return { security, seller, buyer, cash: deposit, agent, units, amount, deadline: timestamp + 2n * 86_400n };
}

describe('a viem client of the exported ABIs', () => {
  before(async () => {
    const accounts = await wallet.getAddresses();
    const [, registrar, issuer, bank, , agent, seller, buyer] = accounts;
    assert.ok(registrar && issuer && bank && agent && seller && buyer, 'Anvil has eight development accounts');
    roles = { registrar, issuer, bank, agent, seller, buyer };
    const { timestamp } = await client.getBlock();
    const kycExpiry = timestamp + 365n * 86_400n;
    const retail = enums['IInvestorRegistry.InvestorClass'].indexOf('Retail');
    for (const [registry, by] of [
      [addressOf(deployment, 'registry'), registrar],
      [addressOf(deployment, 'bank_registry'), bank],
    ] as const) {
      for (const investor of [seller, buyer]) {
        const args = [investor, retail, 392, kycExpiry, keccak256(toBytes(investor))] as const;
        await mined(
          await wallet.writeContract({ account: by, address: registry, abi: investorRegistryAbi, functionName: 'register', args }),
        );
      }
    }
    await mined(
      await wallet.writeContract({ account: issuer, address: security, abi: securityTokenAbi, functionName: 'issue', args: [seller, 1_000n] }),
    );
    const depositRef = keccak256(toBytes('TS-EXAMPLE'));
    await mined(
      await wallet.writeContract({
        account: bank,
        address: deposit,
        abi: depositTokenAbi,
        functionName: 'issue',
        args: [buyer, 5_000_000n, depositRef],
      }),
    );
  });

  it('reads balances with typed reads', async () => {
    const units: bigint[] = await balances(client, security, [roles.seller, roles.buyer]);
    assert.deepEqual(units, [1_000n, 0n]);
    const cash = await client.readContract({ address: deposit, abi: depositTokenAbi, functionName: 'balanceOf', args: [roles.buyer] });
    assert.equal(cash, 5_000_000n);
  });

  it('decodes a token refusal of a DvP call by name with the DvP ABI', async () => {
    const id = tradeId(roles.seller, 'TS-TOO-MANY');
    const terms = await trade(10_000n, 1_000_000n);
    const error = await client
      .simulateContract({ account: roles.seller, address: dvp, abi: dvpAbi, functionName: 'createTrade', args: [id, terms] })
      .then(() => undefined, (e: unknown) => e);
    const refusal = refusalOf(error);
    assert.ok(refusal, `a decoded revert: ${String(error)}`);
    assert.equal(refusal.name, 'TokenInsufficientFreeBalance');
    assert.deepEqual(refusal.args, [roles.seller, 1_000n, 10_000n]);

    // The raw revert data, as a trace or another tool hands it over, decodes with errors.abi.json.
    assert.equal(decodeRefusal(refusal.data).name, 'TokenInsufficientFreeBalance');

    // Nothing moved: no trade, the seller's units all free.
    assert.equal(await client.readContract({ address: dvp, abi: dvpAbi, functionName: 'statusOf', args: [id] }), 0);
    assert.deepEqual(await balances(client, security, [roles.seller]), [1_000n]);
  });

  it('follows a trade through its events and names canSettle answers', async () => {
    const events: TradeEvent[] = [];
    const stop = followTrades(client, dvp, (event) => events.push(event));
    try {
      const { seller, buyer, agent } = roles;
      const id = tradeId(seller, 'TS-TRADE-1');
      const terms = await trade(100n, 1_000_000n);
      const canSettle = async () =>
        settleCheckNames(await client.readContract({ address: dvp, abi: dvpAbi, functionName: 'canSettle', args: [id, terms] }));

      assert.deepEqual(await canSettle(), { check: 'TradeNotFound', restriction: 'None' });
      await mined(await wallet.writeContract({ account: seller, address: dvp, abi: dvpAbi, functionName: 'createTrade', args: [id, terms] }));
      assert.deepEqual(await canSettle(), { check: 'AwaitingPayment', restriction: 'None' });
      await mined(await wallet.writeContract({ account: buyer, address: dvp, abi: dvpAbi, functionName: 'pay', args: [id, terms] }));
      assert.deepEqual(await canSettle(), { check: 'AwaitingApproval', restriction: 'None' });
      await mined(await wallet.writeContract({ account: agent, address: dvp, abi: dvpAbi, functionName: 'approve', args: [id, terms] }));
      assert.deepEqual(await canSettle(), { check: 'NotOpen', restriction: 'None' });

      await until(() => events.some((e) => e.eventName === 'TradeSettled'), 'the TradeSettled event');
      const names = events.filter((e) => e.id === id).map((e) => e.eventName);
      assert.deepEqual(names, ['TradeCreated', 'TradePaid', 'TradeApproved', 'TradeSettled']);
      assert.deepEqual(await balances(client, security, [seller, buyer]), [900n, 100n]);

      // The same history from the logs: the units' transfer, with typed arguments.
      const transfers = await client.getContractEvents({ address: security, abi: securityTokenAbi, eventName: 'Transfer', fromBlock: 0n });
      const delivered = transfers.find((t) => t.args.from === seller && t.args.to === buyer);
      assert.equal(delivered?.args.value, 100n);
    } finally {
      stop();
    }
  });
});

/** Waits until `done()` holds, for at most ten seconds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (const start = Date.now(); !done(); await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (Date.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`);
  }
}
