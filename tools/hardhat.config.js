// Hardhat's node as a second, independent EVM for kessai's tests: no Solidity tasks are used
// (kessai compiles with its own pinned solc). The hard fork and chain id come from the environment
// so the launcher can emulate different chains.
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.KESSAI_HARDHAT_CHAIN_ID || 31337),
      hardfork: process.env.KESSAI_HARDHAT_HARDFORK || 'cancun',
      // A fixed genesis time (unix seconds) keeps runs independent of the day.
      initialDate: process.env.KESSAI_HARDHAT_GENESIS_TIMESTAMP === undefined ? undefined : new Date(Number(process.env.KESSAI_HARDHAT_GENESIS_TIMESTAMP) * 1000).toISOString(),
      initialBaseFeePerGas: process.env.KESSAI_HARDHAT_BASE_FEE === undefined ? undefined : Number(process.env.KESSAI_HARDHAT_BASE_FEE),
    },
  },
};
