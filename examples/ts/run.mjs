// `npm run test:examples`: tests the TypeScript example against a real suite. Starts the pinned Anvil
// on a free port, deploys the demo suite with `kessai deploy`, exports the ABIs with `kessai abi`
// into examples/ts/abi, type-checks and compiles with the pinned `tsc` (the type checks in
// types.check.ts included), runs the tests with `node --test`, and stops Anvil whatever happened.
//
// The kessai binary is $KESSAI_BIN, else target/debug/kessai after `cargo build` (a no-op when built).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const example = join(root, 'examples/ts');
const tool = (name) => join(root, 'node_modules/.bin', name);
// The keys, node and log settings of the caller's shell must not reach the commands under test.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KESSAI_') && k !== 'RUST_LOG'));

/** Runs a step to completion, printing its time; throws when it fails. */
function step(what, command, args, { extraEnv = {}, quiet = false } = {}) {
  const start = performance.now();
  const stdio = ['inherit', quiet ? 'ignore' : 'inherit', 'inherit'];
  const result = spawnSync(command, args, { cwd: root, stdio, env: { ...env, ...extraEnv } });
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  if (result.error) throw new Error(`${what}: cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} failed (${result.signal ?? `exit ${result.status}`})`);
  console.log(`[test:examples] ${what}: ${seconds} s`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until the node answers eth_chainId, or fails after ten seconds. */
async function ready(url, anvil) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] });
  for (const start = Date.now(); Date.now() - start < 10_000; await new Promise((r) => setTimeout(r, 100))) {
    if (anvil.exitCode !== null) throw new Error(`anvil exited (${anvil.exitCode}) before answering`);
    try {
      const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (answer.ok) return;
    } catch {
      // Not listening yet.
    }
  }
  throw new Error(`anvil did not answer at ${url} within 10 s`);
}

function kessaiBinary() {
  if (process.env.KESSAI_BIN) return process.env.KESSAI_BIN;
  step('cargo build', 'cargo', ['build', '-q']);
  return join(root, 'target/debug/kessai');
}

async function main() {
  for (const name of ['anvil', 'tsc']) {
    if (!existsSync(tool(name))) throw new Error(`the pinned ${name} is missing: run \`npm ci\``);
  }
  const kessai = kessaiBinary();
  const scratch = mkdtempSync(join(tmpdir(), 'kessai-ts-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const anvil = spawn(tool('anvil'), ['--port', String(port), '--silent'], { stdio: 'inherit', env });
  const started = performance.now();
  try {
    await ready(url, anvil);
    console.log(`[test:examples] anvil on ${url}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const manifest = join(scratch, 'manifest.json');
    step('kessai deploy', kessai, ['deploy', '--rpc-url', url, '--out', manifest]);
    step('kessai abi', kessai, ['abi', '--out', join(example, 'abi'), '--manifest', manifest], { quiet: true });
    rmSync(join(example, 'dist'), { recursive: true, force: true });
    step('tsc (type check and build)', tool('tsc'), ['-p', example]);
    step('node --test', process.execPath, ['--test', join(example, 'dist/kessai.test.js')], {
      extraEnv: { KESSAI_RPC_URL: url, KESSAI_DEPLOYMENT: join(example, 'abi/deployment.json') },
    });
  } finally {
    anvil.kill();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const start = performance.now();
main().then(
  () => console.log(`[test:examples] passed in ${((performance.now() - start) / 1000).toFixed(1)} s`),
  (error) => {
    console.error(`[test:examples] ${error.message}`);
    process.exitCode = 1;
  },
);
