// A viem client of a deployed kessai suite, typed by the modules `kessai abi` writes to ./abi:
// reads whose results TypeScript knows, refusals decoded by name whichever suite contract raised
// them, enum values named, and the DvP's events followed.

import { readFileSync } from 'node:fs';
import {
  BaseError,
  ContractFunctionRevertedError,
  concat,
  decodeErrorResult,
  keccak256,
  slice,
  toBytes,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { dvpAbi, enums, errorsAbi, securityTokenAbi } from './abi/index.js';

/** The `deployment.json` that `kessai abi --manifest` writes. */
export interface Deployment {
  chainId: number;
  contracts: Record<string, { address: Address; abi: string }>;
}

/** Reads a `deployment.json`. */
export function readDeployment(path: string | URL): Deployment {
  return JSON.parse(readFileSync(path, 'utf8')) as Deployment;
}

/** The address of the contract labelled `label` (`dvp`, `security`, `deposit`, `registry`, …). */
export function addressOf(deployment: Deployment, label: string): Address {
  const contract = deployment.contracts[label];
  if (!contract) {
    const labels = Object.keys(deployment.contracts).join(', ');
    throw new Error(`the deployment has no contract labelled ${label} (it has ${labels})`);
  }
  return contract.address;
}

/** The DvP trade id of `seller`'s reference: the seller's address, then keccak256(reference)[0..12]. */
export function tradeId(seller: Address, reference: string): Hex {
  // Lower case, as ids arrive in events and reads (the address may be checksummed).
  return concat([seller, slice(keccak256(toBytes(reference)), 0, 12)]).toLowerCase() as Hex;
}

/** Balances of `holders` in a permissioned token, read with the typed ABI (each a bigint). */
export async function balances(client: PublicClient, token: Address, holders: readonly Address[]): Promise<bigint[]> {
  return Promise.all(
    holders.map((holder) =>
      client.readContract({ address: token, abi: securityTokenAbi, functionName: 'balanceOf', args: [holder] }),
    ),
  );
}

/** A custom error a contract reverted with, by name. */
export interface Refusal {
  name: string;
  args: readonly unknown[];
  /** The raw revert data. */
  data: Hex;
}

/**
 * The custom error behind a failed viem call, simulation or transaction, or undefined when the
 * failure was no revert. Every exported ABI carries all the suite's errors, so a DvP call failing
 * inside a token decodes with the DvP's ABI.
 */
export function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError) || !reverted.data || !reverted.raw) return undefined;
  return { name: reverted.data.errorName, args: reverted.data.args ?? [], data: reverted.raw };
}

/** Raw revert data (from a log, a trace, another tool) decoded with `errors.abi.json`. */
export function decodeRefusal(data: Hex): Refusal {
  const decoded = decodeErrorResult({ abi: errorsAbi, data });
  return { name: decoded.errorName, args: decoded.args ?? [], data };
}

/** The member names of `DvP.canSettle`'s answer, e.g. `(6, 0)` is AwaitingApproval, None. */
export function settleCheckNames([check, restriction]: readonly [number, number]) {
  return {
    check: enums['IDvP.SettleCheck'][check],
    restriction: enums['IPermissionedToken.Restriction'][restriction],
  };
}

/** A DvP event as it arrives: its name, the trade id when it has one, and its block. */
export interface TradeEvent {
  eventName: string;
  id: Hex | undefined;
  blockNumber: bigint | null;
}

/** Calls `onEvent` for every DvP event from now on, polling every `pollingInterval` ms; returns the stop function. */
export function followTrades(
  client: PublicClient,
  dvp: Address,
  onEvent: (event: TradeEvent) => void,
  pollingInterval = 100,
): () => void {
  return client.watchContractEvent({
    address: dvp,
    abi: dvpAbi,
    pollingInterval,
    onLogs: (logs) => {
      for (const log of logs) {
        const id = 'id' in log.args ? log.args.id : undefined;
        onEvent({ eventName: log.eventName, id, blockNumber: log.blockNumber });
      }
    },
  });
}
