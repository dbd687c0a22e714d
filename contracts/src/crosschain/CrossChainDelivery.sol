// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICrossChainDelivery} from "../interfaces/ICrossChainDelivery.sol";
import {IPermissionedToken} from "../interfaces/IPermissionedToken.sol";
import {IVerifier} from "../interfaces/IVerifier.sol";
import {CrossChainTerms} from "../libraries/CrossChainTerms.sol";

/// @title CrossChainDelivery
/// @notice Locks and delivers the security leg of a cross-chain DvP on the asset chain (see
/// {ICrossChainDelivery}). The contract needs NOTARY_ROLE on each security token it serves.
/// @dev Roles: DEFAULT_ADMIN_ROLE grants and revokes roles; AUTHORITY_ROLE proposes and approves
/// emergency resolutions (several distinct holders must agree). Nobody can move locked units otherwise.
contract CrossChainDelivery is AccessControl, ICrossChainDelivery {
    using CrossChainTerms for CrossChainTerms.Terms;

    /// @notice Approves emergency resolutions of trades whose payment chain has stopped.
    bytes32 public constant AUTHORITY_ROLE = keccak256("AUTHORITY_ROLE");

    /// @dev An emergency resolution under way: when it may be carried out, and the approvals of each
    /// destination (index 1: the buyer).
    struct Resolution {
        uint64 notBefore;
        uint64[2] approvals;
    }

    IVerifier private immutable _verifier;
    uint64 private immutable _unwindDelay;
    uint8 private immutable _unwindApprovals;

    /// @dev Used trade ids, a bit each: word `id >> 8`, bit `id & 0xff`.
    mapping(address seller => mapping(uint256 word => uint256 bits)) private _usedIds;
    mapping(bytes32 termsHash => Resolution) private _resolutions;
    mapping(bytes32 termsHash => mapping(bool toBuyer => mapping(address authority => bool))) private _approved;

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param verifier_ Verifies the payment chain's outcomes.
    /// @param unwindDelay_ Seconds from an emergency resolution's first approval until it may be carried
    /// out (long: weeks).
    /// @param unwindApprovals_ Distinct AUTHORITY_ROLE approvals an emergency resolution needs (at least 2).
    constructor(address admin, IVerifier verifier_, uint64 unwindDelay_, uint8 unwindApprovals_) {
        if (admin == address(0) || address(verifier_) == address(0) || unwindApprovals_ < 2) {
            revert XDeliveryInvalidTerms();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _verifier = verifier_;
        _unwindDelay = unwindDelay_;
        _unwindApprovals = unwindApprovals_;
    }

    /// @inheritdoc ICrossChainDelivery
    function verifier() external view returns (IVerifier) {
        return _verifier;
    }

    /// @inheritdoc ICrossChainDelivery
    function unwindDelay() external view returns (uint64) {
        return _unwindDelay;
    }

    /// @inheritdoc ICrossChainDelivery
    function unwindApprovals() external view returns (uint8) {
        return _unwindApprovals;
    }

    /// @inheritdoc ICrossChainDelivery
    function isIdUsed(address seller, bytes32 id) public view returns (bool) {
        return _usedIds[seller][uint256(id) >> 8] & (1 << (uint256(id) & 0xff)) != 0;
    }

    /// @inheritdoc ICrossChainDelivery
    function isLocked(CrossChainTerms.Terms calldata terms) public view returns (bool) {
        // slither-disable-next-line unused-return — a lock is a hold without expiry: only its amount matters
        (uint256 amount,) = IPermissionedToken(terms.security).holdOf(terms.seller, address(this), terms.hash());
        return amount != 0;
    }

    /// @inheritdoc ICrossChainDelivery
    function termsHash(CrossChainTerms.Terms calldata terms) external pure returns (bytes32) {
        return terms.hash();
    }

    /// @notice Locks `terms.units` of the seller's units as this contract's hold under the terms hash.
    /// @dev Requirements: the caller is `terms.seller`; the terms are well formed and name this chain
    /// and contract as the asset side; the deadline has not passed on this chain's clock; the seller has
    /// not used `terms.id` before; the delivery to the buyer would pass the token's rules now (buyer
    /// eligible, nothing paused or frozen, enough free units).
    function lock(CrossChainTerms.Terms calldata terms) external {
        _checkTerms(terms);
        if (msg.sender != terms.seller) revert XDeliveryNotSeller(msg.sender, terms.seller);
        bytes32 h = terms.hash();
        if (block.timestamp > terms.deadline) revert XDeliveryTermsExpired(h, terms.deadline);
        mapping(uint256 => uint256) storage used = _usedIds[terms.seller];
        uint256 word = uint256(terms.id) >> 8;
        uint256 bit = 1 << (uint256(terms.id) & 0xff);
        uint256 bits = used[word];
        if (bits & bit != 0) revert XDeliveryIdUsed(terms.seller, terms.id);
        IPermissionedToken token = IPermissionedToken(terms.security);
        IPermissionedToken.Restriction code = token.canDeliver(terms.seller, terms.buyer, terms.units, false);
        if (code != IPermissionedToken.Restriction.None) revert XDeliveryRestricted(h, code);
        used[word] = bits | bit;
        emit Locked(h, terms.seller, terms.buyer, terms);
        token.notaryHold(terms.seller, h, terms.units);
    }

    /// @notice Delivers the locked units to the buyer.
    /// @dev Requirements: `commitProof` proves that the payment contract named in the terms recorded
    /// `Committed` for the trade on the payment chain; the units are locked here. Anyone may submit it.
    function deliver(CrossChainTerms.Terms calldata terms, bytes calldata commitProof) external {
        (bytes32 h, IPermissionedToken token) = _proven(terms, commitProof, CrossChainTerms.State.Committed);
        emit Delivered(h, terms.buyer, terms.units);
        token.notaryExecute(terms.seller, h, terms.buyer, terms.units);
    }

    /// @notice Frees the locked units for the seller.
    /// @dev Requirements: `abortProof` proves that the payment contract named in the terms recorded
    /// `Aborted` for the trade on the payment chain; the units are locked here. Anyone may submit it.
    function returnUnits(CrossChainTerms.Terms calldata terms, bytes calldata abortProof) external {
        (bytes32 h, IPermissionedToken token) = _proven(terms, abortProof, CrossChainTerms.State.Aborted);
        emit Returned(h, terms.seller, terms.units);
        token.notaryRelease(terms.seller, h, terms.units);
    }

    /// @notice Approves the emergency resolution of a locked trade towards the buyer (`toBuyer`) or the
    /// seller. The first approval of a trade starts {unwindDelay}.
    /// @dev Requirements: the caller has AUTHORITY_ROLE and has not approved this destination for this
    /// trade; the units are locked here. Use only when the payment chain can no longer give a proof (it
    /// has stopped for good): the authorities must establish its outcome elsewhere, since moving the units
    /// against it leaves one party both legs.
    function approveResolution(CrossChainTerms.Terms calldata terms, bool toBuyer, bytes32 documentRef)
        external
        onlyRole(AUTHORITY_ROLE)
    {
        bytes32 h = terms.hash();
        _requireLocked(IPermissionedToken(terms.security), terms, h);
        if (_approved[h][toBuyer][msg.sender]) revert XDeliveryAlreadyApproved(h, msg.sender);
        _approved[h][toBuyer][msg.sender] = true;
        Resolution storage r = _resolutions[h];
        if (r.notBefore == 0) r.notBefore = uint64(block.timestamp) + _unwindDelay;
        uint256 index = toBuyer ? 1 : 0;
        // Cannot overflow: one approval per authority account.
        uint64 approvals;
        unchecked {
            approvals = r.approvals[index] + 1;
        }
        r.approvals[index] = approvals;
        emit ResolutionApproved(h, msg.sender, toBuyer, documentRef, approvals, r.notBefore);
    }

    /// @notice Carries out an approved emergency resolution: the units go to the buyer (`toBuyer`) or are
    /// freed for the seller.
    /// @dev Requirements: the units are locked here; at least {unwindApprovals} authorities approved this
    /// destination; {unwindDelay} has passed since the first approval. Anyone may call it.
    function resolve(CrossChainTerms.Terms calldata terms, bool toBuyer) external {
        bytes32 h = terms.hash();
        IPermissionedToken token = IPermissionedToken(terms.security);
        _requireLocked(token, terms, h);
        Resolution storage r = _resolutions[h];
        uint64 approvals = r.approvals[toBuyer ? 1 : 0];
        uint64 notBefore = r.notBefore;
        if (approvals < _unwindApprovals || block.timestamp < notBefore) {
            revert XDeliveryResolutionNotReady(h, notBefore, approvals, _unwindApprovals);
        }
        emit Resolved(h, toBuyer, terms.units);
        if (toBuyer) token.notaryExecute(terms.seller, h, terms.buyer, terms.units);
        else token.notaryRelease(terms.seller, h, terms.units);
    }

    /// @dev The terms hash and token of a locked trade whose outcome `state` on the payment chain `proof`
    /// proves; reverts otherwise.
    function _proven(CrossChainTerms.Terms calldata terms, bytes calldata proof, CrossChainTerms.State state)
        private
        view
        returns (bytes32 h, IPermissionedToken token)
    {
        h = terms.hash();
        _verifier.verify(terms.paymentChainId, terms.payment, terms.id, state, h, proof);
        token = IPermissionedToken(terms.security);
        _requireLocked(token, terms, h);
    }

    /// @dev Reverts unless this contract's hold for the trade holds its units.
    function _requireLocked(IPermissionedToken token, CrossChainTerms.Terms calldata terms, bytes32 h) private view {
        // slither-disable-next-line unused-return — a lock is a hold without expiry: only its amount matters
        (uint256 amount,) = token.holdOf(terms.seller, address(this), h);
        if (amount != terms.units) revert XDeliveryNotLocked(h);
    }

    /// @dev Well-formed terms whose asset side is this contract on this chain.
    function _checkTerms(CrossChainTerms.Terms calldata t) private view {
        if (
            !t.isWellFormed() || t.assetChainId != block.chainid || t.delivery != address(this)
                || t.payment == address(0)
        ) revert XDeliveryInvalidTerms();
    }
}
