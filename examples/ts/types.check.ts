// Compile-time checks, never run: the exported modules give viem its types. Each `@ts-expect-error`
// marks a mistake TypeScript must reject; if the ABIs stopped being typed (a plain JSON import, a
// missing `as const`), the mistake would compile, the directive would be unused, and `tsc` fails.

import { createPublicClient, http, type Address, type Hex } from 'viem';
import { dvpAbi, enums, errorsAbi, securityTokenAbi } from './abi/index.js';
import { decodeRefusal } from './kessai.js';

const client = createPublicClient({ transport: http() });

export async function typedReads(token: Address, dvp: Address, holder: Address, id: Hex): Promise<void> {
  const units: bigint = await client.readContract({
    address: token,
    abi: securityTokenAbi,
    functionName: 'balanceOf',
    args: [holder],
  });
  const status: number = await client.readContract({ address: dvp, abi: dvpAbi, functionName: 'statusOf', args: [id] });

  // @ts-expect-error: the DvP has no such function.
  await client.readContract({ address: dvp, abi: dvpAbi, functionName: 'noSuchFunction', args: [] });

  // @ts-expect-error: balanceOf takes an address, not an amount.
  await client.readContract({ address: token, abi: securityTokenAbi, functionName: 'balanceOf', args: [units] });

  // @ts-expect-error: statusOf answers a number (uint8), not a bigint.
  const wide: bigint = await client.readContract({ address: dvp, abi: dvpAbi, functionName: 'statusOf', args: [id] });

  void [status, wide];
}

export function namedValues(): void {
  const first: 'TradeNotFound' | undefined = enums['IDvP.SettleCheck'][0];
  // @ts-expect-error: SettleCheck has no such member.
  const missing: 'Settled' | undefined = enums['IDvP.SettleCheck'][0];
  // @ts-expect-error: errors.abi.json holds errors only.
  const notAnError: 'function' = errorsAbi[0].type;
  void [first, missing, notAnError, decodeRefusal];
}
