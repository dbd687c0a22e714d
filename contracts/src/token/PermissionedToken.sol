// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IPermissionedToken} from "../interfaces/IPermissionedToken.sol";

/// @title PermissionedToken
/// @notice The ERC-20 core shared by security and deposit tokens: eligibility on every move and holds
/// that keep units in the holder's balance until a notary executes or releases them.
/// @dev Roles:
/// - DEFAULT_ADMIN_ROLE grants and revokes roles.
/// - NOTARY_ROLE is for settlement contracts: they may place holds on a holder's units for themselves
///   (the DvP contract does so only for the party calling it). Any account may be named notary of a
///   hold its holder places directly.
abstract contract PermissionedToken is ERC20, AccessControl, IPermissionedToken {
    /// @notice Settlement contracts that may place holds on behalf of holders.
    bytes32 public constant NOTARY_ROLE = keccak256("NOTARY_ROLE");

    struct Hold {
        uint192 amount;
        uint64 expiry;
    }

    IInvestorRegistry private immutable _registry;
    mapping(address account => uint256) private _held;
    mapping(bytes32 key => Hold) private _holds;

    constructor(string memory name_, string memory symbol_, IInvestorRegistry registry_, address admin)
        ERC20(name_, symbol_)
    {
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Units are indivisible: one unit is one bond unit, one fund unit or one yen.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @inheritdoc IPermissionedToken
    function registry() external view returns (IInvestorRegistry) {
        return _registry;
    }

    /// @inheritdoc IPermissionedToken
    function heldBalanceOf(address account) external view returns (uint256) {
        return _held[account];
    }

    /// @inheritdoc IPermissionedToken
    function freeBalanceOf(address account) public view returns (uint256) {
        return balanceOf(account) - _held[account];
    }

    /// @inheritdoc IPermissionedToken
    function holdOf(address holder, address notary, bytes32 id) external view returns (uint256, uint64) {
        Hold storage h = _holds[_holdKey(holder, notary, id)];
        return (h.amount, h.expiry);
    }

    /// @notice Holds `amount` of the caller's free units for `notary` until `expiry`.
    /// @dev Requirements:
    /// - `amount` is not zero and not above the caller's free balance;
    /// - `expiry` is in the future; no hold (caller, notary, id) exists.
    function hold(address notary, bytes32 id, uint256 amount, uint64 expiry) external {
        _placeHold(msg.sender, notary, id, amount, expiry);
    }

    /// @notice Holds `amount` of `holder`'s free units for the caller until `expiry`.
    /// @dev Requirements:
    /// - the caller has NOTARY_ROLE;
    /// - as for {hold}.
    function holdFor(address holder, bytes32 id, uint256 amount, uint64 expiry) external onlyRole(NOTARY_ROLE) {
        _placeHold(holder, msg.sender, id, amount, expiry);
    }

    /// @notice Moves all units of the hold (holder, caller, id) to `to`, ending the hold.
    /// @dev Requirements:
    /// - the hold exists, has not expired and holds exactly `amount`;
    /// - `to` and `holder` are eligible.
    function executeHold(address holder, bytes32 id, address to, uint256 amount) external {
        bytes32 key = _holdKey(holder, msg.sender, id);
        Hold memory h = _holds[key];
        if (h.amount == 0) revert TokenHoldNotFound(holder, msg.sender, id);
        if (block.timestamp > h.expiry) revert TokenHoldExpired(id, h.expiry);
        if (h.amount != amount) revert TokenHoldAmountMismatch(id, h.amount, amount);
        delete _holds[key];
        // Cannot underflow: _held[holder] is the sum of the holder's holds, which includes this one.
        unchecked {
            _held[holder] -= amount;
        }
        _transfer(holder, to, amount);
        emit HoldExecuted(holder, msg.sender, id, to, amount);
    }

    /// @notice Ends the hold (holder, notary, id) without moving units.
    /// @dev Requirements:
    /// - the hold exists;
    /// - the caller is the notary, or the holder once the hold has expired.
    function releaseHold(address holder, address notary, bytes32 id) external {
        bytes32 key = _holdKey(holder, notary, id);
        Hold memory h = _holds[key];
        if (h.amount == 0) revert TokenHoldNotFound(holder, notary, id);
        if (msg.sender != notary) {
            if (msg.sender != holder) revert TokenHoldUnauthorized(id, msg.sender);
            if (block.timestamp <= h.expiry) revert TokenHoldNotExpired(id, h.expiry);
        }
        delete _holds[key];
        // Cannot underflow: _held[holder] includes this hold's amount.
        unchecked {
            _held[holder] -= h.amount;
        }
        emit HoldReleased(holder, notary, id, h.amount);
    }

    function _placeHold(address holder, address notary, bytes32 id, uint256 amount, uint64 expiry) private {
        if (amount == 0) revert TokenZeroAmount();
        if (expiry <= block.timestamp) revert TokenHoldExpiryInPast(expiry);
        if (!_registry.isEligible(holder)) revert TokenAccountNotEligible(holder);
        bytes32 key = _holdKey(holder, notary, id);
        if (_holds[key].amount != 0) revert TokenHoldExists(holder, notary, id);
        uint256 held = _held[holder];
        uint256 free = balanceOf(holder) - held;
        if (amount > free) revert TokenInsufficientFreeBalance(holder, free, amount);
        // amount <= free <= totalSupply, which fits in uint192 for any supply a bank or issuer can mint.
        _holds[key] = Hold({amount: uint192(amount), expiry: expiry});
        _held[holder] = held + amount;
        emit HoldPlaced(holder, notary, id, amount, expiry);
    }

    /// @dev Every balance change passes here. Issues need an eligible receiver, transfers an eligible
    /// sender and receiver, and every debit must fit in the sender's free balance. Redemptions do not
    /// require eligibility, so units of a revoked investor can still be redeemed.
    function _update(address from, address to, uint256 value) internal virtual override {
        if (from != address(0)) {
            if (to != address(0) && !_registry.isEligible(from)) revert TokenAccountNotEligible(from);
            uint256 free = balanceOf(from) - _held[from];
            if (value > free) revert TokenInsufficientFreeBalance(from, free, value);
        }
        if (to != address(0) && !_registry.isEligible(to)) revert TokenAccountNotEligible(to);
        super._update(from, to, value);
    }

    function _holdKey(address holder, address notary, bytes32 id) private pure returns (bytes32 key) {
        return keccak256(abi.encode(holder, notary, id));
    }
}
