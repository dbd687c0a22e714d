// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title CrossChainTerms
/// @notice The terms of a trade whose two legs live on two chains, and the one hash that binds them.
///
/// The hash is EIP-712 under a domain that names no chain and no contract ("kessai cross-chain DvP",
/// version 1): the terms name both chains and both contracts themselves, so the asset chain and the
/// payment chain compute the same hash, and parties sign (and attestors attest) one value.
library CrossChainTerms {
    /// @notice What a cross-chain trade moves, where, between whom, and until when.
    /// @param id The seller's reference for the trade (non-zero); the terms hash identifies the trade.
    /// @param assetChainId The chain holding the security token (chain A).
    /// @param delivery The {CrossChainDelivery} contract on chain A that locks and delivers the units.
    /// @param security The security token on chain A.
    /// @param seller The account on chain A whose units are locked and delivered.
    /// @param buyer The account on chain A that receives the units.
    /// @param units Security units delivered.
    /// @param paymentChainId The chain holding the deposit token (chain B); it decides the outcome.
    /// @param payment The {CrossChainPayment} contract on chain B that records the outcome.
    /// @param cash The deposit token on chain B.
    /// @param payer The buyer's account on chain B.
    /// @param payee The seller's account on chain B.
    /// @param amount Deposit tokens paid.
    /// @param deadline Last second, on chain B's clock, at which the trade can commit.
    struct Terms {
        bytes32 id;
        uint256 assetChainId;
        address delivery;
        address security;
        address seller;
        address buyer;
        uint256 units;
        uint256 paymentChainId;
        address payment;
        address cash;
        address payer;
        address payee;
        uint256 amount;
        uint64 deadline;
    }

    /// @notice Where a trade stands. The asset chain records `Locked`, then `Delivered` or `Returned`
    /// (or `Resolved` by the authority's emergency procedure); the payment chain records `Paid`, then
    /// `Committed` or `Aborted`. `Locked`, `Committed` and `Aborted` are what attestors attest.
    enum State {
        None,
        Locked,
        Paid,
        Committed,
        Aborted,
        Delivered,
        Returned,
        Resolved
    }

    /// @dev keccak256 of the EIP-712 type of {Terms}.
    bytes32 internal constant TERMS_TYPEHASH = keccak256(
        "CrossChainTerms(bytes32 id,uint256 assetChainId,address delivery,address security,address seller,"
        "address buyer,uint256 units,uint256 paymentChainId,address payment,address cash,address payer,"
        "address payee,uint256 amount,uint64 deadline)"
    );

    /// @dev The EIP-712 domain separator of the terms: name and version only.
    bytes32 internal constant DOMAIN_SEPARATOR = keccak256(
        abi.encode(
            keccak256("EIP712Domain(string name,string version)"),
            keccak256("kessai cross-chain DvP"),
            keccak256("1")
        )
    );

    /// @notice The EIP-712 digest of `t`: the trade's identity on both chains.
    function hash(Terms calldata t) internal pure returns (bytes32 digest) {
        bytes32 structHash = keccak256(abi.encode(TERMS_TYPEHASH, t));
        digest = keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash));
    }

    /// @notice True when `t` has a reference, positive amounts, every token and party named, distinct
    /// parties on each chain and two distinct chains.
    function isWellFormed(Terms calldata t) internal pure returns (bool) {
        return t.id != bytes32(0) && t.units != 0 && t.amount != 0 && t.security != address(0)
            && t.seller != address(0) && t.buyer != address(0) && t.seller != t.buyer && t.cash != address(0)
            && t.payer != address(0) && t.payee != address(0) && t.payer != t.payee
            && t.assetChainId != t.paymentChainId;
    }
}
