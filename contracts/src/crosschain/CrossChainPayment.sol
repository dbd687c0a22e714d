// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ICrossChainPayment} from "../interfaces/ICrossChainPayment.sol";
import {IPermissionedToken} from "../interfaces/IPermissionedToken.sol";
import {IVerifier} from "../interfaces/IVerifier.sol";
import {CrossChainTerms} from "../libraries/CrossChainTerms.sol";
import {SignatureLib} from "../libraries/SignatureLib.sol";

/// @title CrossChainPayment
/// @notice Records the outcome of cross-chain DvP trades and moves their cash leg on the payment chain
/// (see {ICrossChainPayment}). The contract needs NOTARY_ROLE (paid trades) and SETTLER_ROLE (signed
/// payments) on each deposit token it serves. It has no admin: nobody can change an outcome.
contract CrossChainPayment is EIP712, ICrossChainPayment {
    using CrossChainTerms for CrossChainTerms.Terms;

    bytes32 private constant PAY_TYPEHASH = keccak256("PayCrossChain(bytes32 termsHash)");

    /// @dev Agreement bits of an abort before the deadline, kept beside the state.
    uint8 private constant PAYER_AGREED = 1;
    uint8 private constant PAYEE_AGREED = 2;

    struct Record {
        CrossChainTerms.State state;
        uint8 abortAgreed;
    }

    IVerifier private immutable _verifier;

    mapping(bytes32 termsHash => Record) private _trades;

    /// @param verifier_ Verifies the asset chain's locks.
    constructor(IVerifier verifier_) EIP712("kessai cross-chain payment", "1") {
        if (address(verifier_) == address(0)) revert XPaymentInvalidTerms();
        _verifier = verifier_;
    }

    /// @inheritdoc ICrossChainPayment
    function verifier() external view returns (IVerifier) {
        return _verifier;
    }

    /// @inheritdoc ICrossChainPayment
    function stateOf(bytes32 termsHash) external view returns (CrossChainTerms.State) {
        return _trades[termsHash].state;
    }

    /// @inheritdoc ICrossChainPayment
    function paymentDigest(bytes32 termsHash) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(PAY_TYPEHASH, termsHash)));
    }

    /// @notice Locks `terms.amount` of the payer's deposit tokens as this contract's hold until the trade
    /// commits (paid to the payee) or aborts (released).
    /// @dev Requirements: the caller is `terms.payer`; the terms are well formed and name this chain and
    /// contract as the payment side; the deadline has not passed; the trade is neither paid nor ended.
    function pay(CrossChainTerms.Terms calldata terms) external {
        bytes32 h = _open(terms);
        if (msg.sender != terms.payer) revert XPaymentUnauthorized(h, msg.sender);
        CrossChainTerms.State state = _trades[h].state;
        if (state != CrossChainTerms.State.None) revert XPaymentInvalidState(h, state);
        _trades[h].state = CrossChainTerms.State.Paid;
        emit Paid(h, terms.payer, terms.amount);
        IPermissionedToken(terms.cash).notaryHold(terms.payer, h, terms.amount);
    }

    /// @notice Commits the trade: the payer's cash goes to the payee and the outcome is `Committed`.
    /// @dev Requirements: the terms are well formed and name this chain and contract as the payment side;
    /// the deadline has not passed; the trade has not ended; `lockProof` proves that the delivery contract
    /// named in the terms recorded `Locked` for it on the asset chain; the payment is authorised: the
    /// trade is paid ({pay}), or the caller is the payer (paying and committing at once), or
    /// `payerSignature` is the payer's EIP-712 signature over {paymentDigest}; the deposit token's rules
    /// allow the payment. Anyone may submit a paid or signed commit (a relayer).
    function commit(CrossChainTerms.Terms calldata terms, bytes calldata lockProof, bytes calldata payerSignature)
        external
    {
        bytes32 h = _open(terms);
        Record storage r = _trades[h];
        bool paid = r.state == CrossChainTerms.State.Paid;
        if (!paid && msg.sender != terms.payer) {
            if (!SignatureLib.isValidCalldata(terms.payer, paymentDigest(h), payerSignature)) {
                revert XPaymentInvalidSignature(h, terms.payer);
            }
        }
        _verifier.verify(terms.assetChainId, terms.delivery, terms.id, CrossChainTerms.State.Locked, h, lockProof);
        r.state = CrossChainTerms.State.Committed;
        emit Committed(h, terms.id, terms.payee, terms.amount);
        IPermissionedToken cash = IPermissionedToken(terms.cash);
        if (paid) cash.notaryExecute(terms.payer, h, terms.payee, terms.amount);
        else cash.notaryTransfer(terms.payer, terms.payee, terms.amount);
    }

    /// @notice Aborts the trade after its deadline; a paid hold goes back to the payer.
    /// @dev Requirements: the terms are well formed and name this chain and contract as the payment side;
    /// the deadline has passed on this chain's clock; the trade has not ended. Anyone may call it.
    function abort(CrossChainTerms.Terms calldata terms) external {
        _checkTerms(terms);
        bytes32 h = terms.hash();
        if (block.timestamp <= terms.deadline) revert XPaymentDeadlineNotPassed(h, terms.deadline);
        _end(terms, h, _trades[h]);
    }

    /// @notice Records the caller's agreement to abort before the deadline; the second party's agreement
    /// aborts the trade.
    /// @dev Requirements: the caller is the payer or the payee; the terms are well formed and name this
    /// chain and contract as the payment side; the trade has not ended.
    function agreeAbort(CrossChainTerms.Terms calldata terms) external {
        _checkTerms(terms);
        bytes32 h = terms.hash();
        uint8 bit = msg.sender == terms.payer ? PAYER_AGREED : (msg.sender == terms.payee ? PAYEE_AGREED : 0);
        if (bit == 0) revert XPaymentUnauthorized(h, msg.sender);
        Record storage r = _trades[h];
        _requireOpen(h, r.state);
        uint8 agreed = r.abortAgreed | bit;
        if (agreed != PAYER_AGREED | PAYEE_AGREED) {
            r.abortAgreed = agreed;
            emit AbortAgreed(h, msg.sender);
            return;
        }
        emit AbortAgreed(h, msg.sender);
        _end(terms, h, r);
    }

    /// @dev Aborts an open trade, releasing a paid hold.
    function _end(CrossChainTerms.Terms calldata terms, bytes32 h, Record storage r) private {
        CrossChainTerms.State state = r.state;
        _requireOpen(h, state);
        r.state = CrossChainTerms.State.Aborted;
        emit Aborted(h, terms.id, msg.sender);
        if (state == CrossChainTerms.State.Paid) {
            IPermissionedToken(terms.cash).notaryRelease(terms.payer, h, terms.amount);
        }
    }

    /// @dev The hash of well-formed terms whose trade can still commit or be paid.
    function _open(CrossChainTerms.Terms calldata terms) private view returns (bytes32 h) {
        _checkTerms(terms);
        h = terms.hash();
        if (block.timestamp > terms.deadline) revert XPaymentDeadlinePassed(h, terms.deadline);
        _requireOpen(h, _trades[h].state);
    }

    function _requireOpen(bytes32 h, CrossChainTerms.State state) private pure {
        if (state != CrossChainTerms.State.None && state != CrossChainTerms.State.Paid) {
            revert XPaymentInvalidState(h, state);
        }
    }

    /// @dev Well-formed terms whose payment side is this contract on this chain.
    function _checkTerms(CrossChainTerms.Terms calldata t) private view {
        if (
            !t.isWellFormed() || t.paymentChainId != block.chainid || t.payment != address(this)
                || t.delivery == address(0)
        ) revert XPaymentInvalidTerms();
    }
}
