// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IPermissionedToken} from "../interfaces/IPermissionedToken.sol";
import {PackedAccount, AccountLib} from "../libraries/PackedAccount.sol";
import {TokenConfig} from "../libraries/TokenConfig.sol";

/// @title PermissionedToken
/// @notice The ERC-20 core shared by security and deposit tokens: eligibility on every move, holds that
/// keep units in the holder's balance, pause, full and partial freezes, forced transfers and wallet
/// recovery.
/// @dev Each account is one storage slot (balance, held, frozen, flags, record epoch), and the token's
/// configuration another, so a compliant transfer touches three slots and makes one registry call.
/// Amounts are capped at 2^80 − 1 (about 1.2e24 units), far above any bond or yen supply.
///
/// Roles:
/// - DEFAULT_ADMIN_ROLE grants and revokes roles.
/// - PAUSER_ROLE pauses and unpauses all transfers, holds, approvals, issues and redemptions.
/// - BLOCKLISTER_ROLE puts accounts on and off the blocklist (they can neither send, receive nor approve).
/// - FREEZER_ROLE freezes and unfreezes whole accounts and parts of balances.
/// - ENFORCER_ROLE makes forced transfers (court orders, regulator instructions, seizure to a bank's
///   escrow account); these work while paused.
/// - RECOVERY_ROLE moves a lost wallet's holdings to the investor's new wallet.
/// - NOTARY_ROLE is for settlement contracts that place holds: on a holder's units for themselves
///   (with an expiry, `holdFor`, or as locks under records they keep, `notaryHold`), and execute or
///   release their own holds, never another notary's. The transfer agent's desk needs only this.
/// - SETTLER_ROLE is for settlement contracts that move any holder's free units without a hold
///   (`notaryTransfer`: one-step signed settlement, net cash positions). Grant both only to audited
///   settlement contracts. Any account may be named notary of a hold its holder places directly.
/// The suite's own DvP contract, fixed at deployment (`settlement`), has both powers without the roles
/// (saving a storage read on every settlement leg); DEFAULT_ADMIN_ROLE can switch them off.
abstract contract PermissionedToken is IERC20, IERC20Metadata, IERC20Errors, AccessControl, IPermissionedToken {
    /// @notice Pauses and unpauses the token.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Puts accounts on and off the blocklist.
    bytes32 public constant BLOCKLISTER_ROLE = keccak256("BLOCKLISTER_ROLE");
    /// @notice Freezes and unfreezes accounts and units.
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    /// @notice Makes forced transfers and seizures.
    bytes32 public constant ENFORCER_ROLE = keccak256("ENFORCER_ROLE");
    /// @notice Recovers lost wallets.
    bytes32 public constant RECOVERY_ROLE = keccak256("RECOVERY_ROLE");
    /// @notice Settlement contracts that may place holds on behalf of holders and settle their own holds.
    bytes32 public constant NOTARY_ROLE = keccak256("NOTARY_ROLE");
    /// @notice Settlement contracts that may move holders' free units without a hold.
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");

    uint256 internal constant MAX_AMOUNT = type(uint80).max;

    /// @dev A hold's record, one slot. A notary's lock ({notaryHold}) never expires.
    struct Hold {
        uint192 amount;
        uint64 expiry;
    }

    uint64 private constant NO_EXPIRY = type(uint64).max;

    /// @dev One account's storage: a struct around the packed word so that a function hashes the
    /// account's slot once (a storage pointer) and reads and writes through it.
    struct AccountCell {
        PackedAccount word;
    }

    IInvestorRegistry private immutable _registry;
    address private immutable _settlement;
    string private _name;
    string private _symbol;
    uint256 private _totalSupply;
    /// @dev The token's configuration, one slot, read on every transfer (see {TokenConfig}).
    TokenConfig internal _config;
    mapping(address account => AccountCell) internal _accounts;
    mapping(address owner => mapping(address spender => uint256)) private _allowances;
    mapping(bytes32 key => Hold) private _holds;
    mapping(address lostWallet => address) private _recoveredTo;
    /// @dev How many recoveries lead to a wallet (0 for a wallet nobody was recovered to): bounds the
    /// forwarding chains {_holderOf} follows.
    mapping(address wallet => uint256) private _recoveryDepth;

    /// @notice The longest chain of recoveries a wallet can end (lost -> w1 -> ... -> w8).
    uint256 public constant MAX_RECOVERIES = 8;

    /// @param settlement The suite's settlement (DvP) contract, trusted as a notary without a role
    /// lookup (it is read on every settlement leg, so it is immutable; the admin can still switch it
    /// off with {setSettlementEnabled}); zero for none.
    constructor(
        string memory name_,
        string memory symbol_,
        IInvestorRegistry registry_,
        address admin,
        address settlement
    ) {
        if (address(registry_) == address(0) || admin == address(0)) revert TokenZeroAddress();
        _name = name_;
        _symbol = symbol_;
        _registry = registry_;
        _settlement = settlement;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- ERC-20

    /// @inheritdoc IERC20Metadata
    function name() external view returns (string memory) {
        return _name;
    }

    /// @inheritdoc IERC20Metadata
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @notice Units are indivisible: one unit is one bond unit, one fund unit or one yen.
    function decimals() external pure returns (uint8) {
        return 0;
    }

    /// @inheritdoc IERC20
    function totalSupply() public view returns (uint256) {
        return _totalSupply;
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) public view returns (uint256) {
        return _accounts[account].word.balance();
    }

    /// @inheritdoc IERC20
    function allowance(address owner, address spender) external view returns (uint256) {
        return _allowances[owner][spender];
    }

    /// @notice Moves `amount` free units from the caller to `to`.
    /// @dev Requirements: {canTransfer}(caller, to, amount) is `None`.
    function transfer(address to, uint256 amount) external returns (bool) {
        _transferChecked(msg.sender, to, amount);
        return true;
    }

    /// @notice Moves `amount` free units from `from` to `to` using the caller's allowance.
    /// @dev Requirements: the caller is neither blocked nor frozen; the allowance covers `amount`;
    /// {canTransfer}(from, to, amount) is `None`.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _requireUnrestricted(msg.sender, _accounts[msg.sender].word);
        _spendAllowance(from, msg.sender, amount);
        _transferChecked(from, to, amount);
        return true;
    }

    /// @notice Lets `spender` move up to `amount` of the caller's units.
    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    /// @notice Moves units from the caller to many receivers; all-or-nothing.
    /// @dev Requirements: as for {transfer}, for every entry; arrays have the same length.
    function batchTransfer(address[] calldata to, uint256[] calldata amounts) external {
        if (to.length != amounts.length) revert TokenLengthMismatch();
        for (uint256 i; i < to.length; ++i) {
            _transferChecked(msg.sender, to[i], amounts[i]);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IPermissionedToken
    function registry() external view returns (IInvestorRegistry) {
        return _registry;
    }

    /// @inheritdoc IPermissionedToken
    function canTransfer(address from, address to, uint256 amount) external view returns (Restriction) {
        if (_config.approvalRequired()) return Restriction.ApprovalRequired;
        return _restriction(from, to, amount);
    }

    /// @inheritdoc IPermissionedToken
    function messageFor(Restriction code) external pure returns (string memory) {
        if (code == Restriction.None) return "Allowed";
        if (code == Restriction.Paused) return "Token paused";
        if (code == Restriction.SenderNotEligible) return "Sender not eligible";
        if (code == Restriction.ReceiverNotEligible) return "Receiver not eligible";
        if (code == Restriction.SenderFrozen) return "Sender frozen";
        if (code == Restriction.ReceiverFrozen) return "Receiver frozen";
        if (code == Restriction.InsufficientFreeBalance) return "Free balance too small";
        if (code == Restriction.InvestorClassNotAllowed) return "Receiver class not allowed";
        if (code == Restriction.CountryNotAllowed) return "Receiver country not allowed";
        if (code == Restriction.HolderLimitReached) return "Holder limit reached";
        if (code == Restriction.LockedUp) return "In lock-up period";
        if (code == Restriction.ApprovalRequired) return "Transfer approval required";
        if (code == Restriction.SenderBlocked) return "Sender blocked";
        if (code == Restriction.ReceiverBlocked) return "Receiver blocked";
        if (code == Restriction.TransfersEnded) return "Transfers ended for redemption";
        return "Invalid receiver";
    }

    /// @inheritdoc IPermissionedToken
    function heldBalanceOf(address account) external view returns (uint256) {
        return _accounts[account].word.held();
    }

    /// @inheritdoc IPermissionedToken
    function frozenBalanceOf(address account) external view returns (uint256) {
        return _accounts[account].word.frozen();
    }

    /// @inheritdoc IPermissionedToken
    function freeBalanceOf(address account) public view returns (uint256) {
        return _accounts[account].word.free();
    }

    /// @inheritdoc IPermissionedToken
    function isFrozen(address account) external view returns (bool) {
        return _accounts[account].word.flags() & AccountLib.FROZEN != 0;
    }

    /// @inheritdoc IPermissionedToken
    function paused() external view returns (bool) {
        return _config.paused();
    }

    /// @inheritdoc IPermissionedToken
    function recoveredTo(address lostWallet) external view returns (address) {
        if (_accounts[lostWallet].word.flags() & AccountLib.RECOVERED == 0) return address(0);
        return _forward(lostWallet);
    }

    /// @inheritdoc IPermissionedToken
    function holdOf(address holder, address notary, bytes32 id) external view returns (uint256, uint64) {
        Hold storage h = _holds[_holdKey(holder, notary, id)];
        return (h.amount, h.expiry);
    }

    // ---------------------------------------------------------------- holds

    /// @notice Holds `amount` of the caller's free units for `notary` until `expiry`.
    /// @dev Requirements:
    /// - the token is not paused; the caller is eligible and not frozen;
    /// - `notary` is neither the caller nor the zero address;
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
    /// - in approval mode, the caller has NOTARY_ROLE (its execution is the transfer agent's approval);
    /// - the token is not paused; holder and receiver are eligible and not frozen, and the token's
    ///   rules allow the receiver (see {canTransfer}; the held units count as free here).
    function executeHold(address holder, bytes32 id, address to, uint256 amount) external {
        _executeHold(holder, msg.sender, id, to, amount);
        emit HoldExecuted(holder, msg.sender, id, to, amount);
    }

    /// @notice Ends the hold (holder, notary, id) without moving units.
    /// @dev Requirements:
    /// - the hold exists;
    /// - the caller is the notary, or, once the hold has expired, the holder or the wallet the holder
    ///   was (last) recovered to (the held units moved there with the recovery).
    function releaseHold(address holder, address notary, bytes32 id) external {
        bytes32 key = _holdKey(holder, notary, id);
        Hold memory h = _holds[key];
        if (h.amount == 0) revert TokenHoldNotFound(holder, notary, id);
        if (msg.sender != notary) {
            if (msg.sender != holder && msg.sender != _forward(holder)) {
                revert TokenHoldUnauthorized(id, msg.sender);
            }
            if (block.timestamp <= h.expiry) revert TokenHoldNotExpired(id, h.expiry);
        }
        delete _holds[key];
        _unlock(holder, h.amount);
        emit HoldReleased(holder, notary, id, h.amount);
    }

    /// @notice Ends the hold (holder, notary, id) on an authority's order, whoever placed it and
    /// whatever its expiry, so that a forced transfer can reach its units. The notary can no longer
    /// execute it; the notary's release does nothing, so its records still close (a DvP trade cancels).
    /// @param documentRef Reference (hash) of the order.
    /// @dev Requirements: the caller has ENFORCER_ROLE; works while paused; the hold exists.
    function forceReleaseHold(address holder, address notary, bytes32 id, bytes32 documentRef)
        external
        onlyRole(ENFORCER_ROLE)
    {
        bytes32 key = _holdKey(holder, notary, id);
        uint256 amount = _holds[key].amount;
        if (amount == 0) revert TokenHoldNotFound(holder, notary, id);
        delete _holds[key];
        _unlock(holder, amount);
        emit HoldForceReleased(holder, notary, id, amount, documentRef);
    }

    /// @notice A notary locks `amount` of `holder`'s free units as its hold (holder, caller, `id`),
    /// without expiry. The notary keeps the lock's record (a DvP trade) and emits the events that report
    /// it; the token keeps the hold's amount and the holder's held total, so the units stay in the
    /// holder's balance but cannot move until this notary executes or releases the hold.
    /// @dev Requirements: the caller has NOTARY_ROLE or is the enabled built-in settlement contract;
    /// the rules of {hold}.
    function notaryHold(address holder, bytes32 id, uint256 amount) external {
        _requireNotary(_config.settlementDisabled(), NOTARY_ROLE);
        _storeHold(holder, msg.sender, id, amount, NO_EXPIRY);
    }

    /// @notice A notary moves `amount` units of its hold (holder, caller, `id`) to `to`; the hold ends
    /// when nothing is left in it (a netted batch pays net positions out of several holds in parts).
    /// @dev Requirements: the caller has NOTARY_ROLE (or is the enabled built-in settlement contract
    /// while approval mode is off); the hold exists and has not expired; `amount` is positive and at
    /// most what it holds; the transfer rules allow the move (held units count as free here).
    function notaryExecute(address holder, bytes32 id, address to, uint256 amount) external {
        if (!_takeFromHold(holder, id, amount)) revert TokenHoldNotFound(holder, msg.sender, id);
        _unlockAndMove(holder, to, amount, true);
    }

    /// @notice A notary frees `amount` units of its hold (holder, caller, `id`); the hold ends when
    /// nothing is left in it. Does nothing when no such hold exists (an authority ended it with
    /// {forceReleaseHold}), so the notary's records can always be closed.
    /// @dev Requirements: the caller has NOTARY_ROLE or is the built-in settlement contract, even when
    /// switched off (a release only frees the holder's own units, and a switched-off contract must
    /// still be able to cancel and release the trades it locked); `amount` is positive and at most
    /// what an existing hold holds.
    function notaryRelease(address holder, bytes32 id, uint256 amount) external {
        _requireNotary(false, NOTARY_ROLE);
        if (_takeFromHold(holder, id, amount)) _unlock(holder, amount);
    }

    /// @dev Takes `amount` out of the caller's hold (holder, caller, id), deleting it when emptied;
    /// false when no such hold exists.
    function _takeFromHold(address holder, bytes32 id, uint256 amount) private returns (bool) {
        bytes32 key = _holdKey(holder, msg.sender, id);
        Hold storage h = _holds[key];
        uint256 held = h.amount;
        if (held == 0) return false;
        uint64 expiry = h.expiry;
        if (block.timestamp > expiry) revert TokenHoldExpired(id, expiry);
        if (amount == 0 || amount > held) revert TokenHoldAmountMismatch(id, held, amount);
        if (amount == held) {
            delete _holds[key];
        } else {
            // Cannot underflow: amount < held, which fits the field.
            unchecked {
                h.amount = uint192(held - amount);
            }
        }
        return true;
    }

    /// @notice A settler moves `amount` of `from`'s free units to `to` without a prior hold (one-step
    /// signed settlement, the net cash positions of a netted batch).
    /// @dev Requirements: the caller has SETTLER_ROLE (or is the enabled built-in settlement contract;
    /// in approval mode it needs NOTARY_ROLE as well); the transfer rules allow the move.
    function notaryTransfer(address from, address to, uint256 amount) external {
        TokenConfig c = _config;
        _requireNotary(c.settlementDisabled(), SETTLER_ROLE);
        if (c.approvalRequired()) _requireApprover(from, to, amount);
        AccountCell storage receiver;
        PackedAccount b;
        (to, receiver, b) = _holderOf(to);
        AccountCell storage sender = _accounts[from];
        PackedAccount a = from == to ? b : sender.word;
        Restriction r = _check(from, to, amount, a, b, c);
        if (r != Restriction.None) revert TokenTransferRestricted(r, from, to, amount);
        _apply(from, sender, to, receiver, amount, a, b, c);
    }

    /// @inheritdoc IPermissionedToken
    function canDeliver(address from, address to, uint256 amount, bool fromHeld) external view returns (Restriction) {
        if (_config.approvalRequired() && !hasRole(NOTARY_ROLE, msg.sender)) return Restriction.ApprovalRequired;
        to = _forward(to);
        if (fromHeld) from = _forward(from);
        PackedAccount a = _accounts[from].word;
        if (fromHeld) {
            uint256 held = a.held();
            if (amount > held) return Restriction.InsufficientFreeBalance;
            // Cannot underflow: checked just above.
            unchecked {
                a = a.withHeld(held - amount);
            }
        }
        return _check(from, to, amount, a, from == to ? a : _accounts[to].word, _config);
    }

    /// @notice The settlement contract trusted as a notary without NOTARY_ROLE (zero for none).
    function settlement() external view returns (address) {
        return _settlement;
    }

    /// @notice True while the built-in settlement contract may act as a notary.
    function settlementEnabled() external view returns (bool) {
        return _settlement != address(0) && !_config.settlementDisabled();
    }

    /// @notice Switches the built-in settlement contract's powers to lock and move units off (or back
    /// on), e.g. when a flaw is found in it. It can still release the locks it placed (its trades can be
    /// cancelled or released), and the enforcement roles reach held units.
    /// @dev Requirements: the caller has DEFAULT_ADMIN_ROLE.
    function setSettlementEnabled(bool enabled) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _config = _config.withSettlementDisabled(!enabled);
        emit SettlementEnabledSet(msg.sender, _settlement, enabled);
    }

    /// @dev Reverts unless the caller is the enabled built-in settlement contract or has `role`.
    function _requireNotary(bool settlementDisabled, bytes32 role) private view {
        if (msg.sender == _settlement && !settlementDisabled) return;
        _checkRole(role);
    }

    /// @dev In approval mode units move only on the decision of a notary the admin trusts with
    /// NOTARY_ROLE (the transfer agent's desk): the built-in settlement contract, whose trades any two
    /// parties can set up, and notaries a holder names itself, are refused as a direct transfer would be.
    function _requireApprover(address from, address to, uint256 amount) private view {
        if (!hasRole(NOTARY_ROLE, msg.sender)) revert TokenTransferRestricted(Restriction.ApprovalRequired, from, to, amount);
    }

    // ---------------------------------------------------------------- enforcement

    /// @notice Pauses or unpauses transfers, holds, issues and redemptions.
    /// @dev Requirements: the caller has PAUSER_ROLE.
    function setPaused(bool paused_) external onlyRole(PAUSER_ROLE) {
        _config = _config.withPaused(paused_);
        emit PauseSet(msg.sender, paused_);
    }

    /// @notice Freezes or unfreezes the whole of `account`: it can neither send nor receive.
    /// @dev Requirements: the caller has FREEZER_ROLE; `account` is not the zero address.
    function setAccountFrozen(address account, bool frozen) external onlyRole(FREEZER_ROLE) {
        _setFlag(account, AccountLib.FROZEN, frozen);
        emit AccountFrozenSet(account, frozen);
    }

    /// @notice Puts `account` on or takes it off the blocklist: a blocked account can neither send,
    /// receive, approve nor sign authorizations.
    /// @dev Requirements: the caller has BLOCKLISTER_ROLE; `account` is not the zero address.
    function setBlocked(address account, bool blocked) external onlyRole(BLOCKLISTER_ROLE) {
        _setFlag(account, AccountLib.BLOCKED, blocked);
        emit AccountBlockedSet(account, blocked);
    }

    /// @notice True when `account` is on the blocklist.
    function isBlocked(address account) external view returns (bool) {
        return _accounts[account].word.flags() & AccountLib.BLOCKED != 0;
    }

    function _setFlag(address account, uint256 flag, bool on) private {
        if (account == address(0)) revert TokenZeroAddress();
        AccountCell storage cell = _accounts[account];
        PackedAccount a = cell.word;
        uint256 f = a.flags();
        cell.word = a.withFlags(on ? f | flag : f & ~flag);
    }

    /// @notice Freezes `amount` of `account`'s free units.
    /// @dev Requirements: the caller has FREEZER_ROLE; `amount` is positive and within the free balance.
    function freezeUnits(address account, uint256 amount) external onlyRole(FREEZER_ROLE) {
        if (amount == 0) revert TokenZeroAmount();
        AccountCell storage cell = _accounts[account];
        PackedAccount a = cell.word;
        uint256 free = a.free();
        if (amount > free) revert TokenInsufficientFreeBalance(account, free, amount);
        // The frozen field has 72 bits, fewer than a balance's 80: refuse a total it cannot hold.
        uint256 total = a.frozen() + amount;
        if (total > type(uint72).max) revert TokenFrozenCapExceeded(account, total, type(uint72).max);
        cell.word = a.withFrozen(total);
        emit UnitsFrozen(account, amount, total);
    }

    /// @notice Unfreezes `amount` of `account`'s frozen units.
    /// @dev Requirements: the caller has FREEZER_ROLE; `amount` is positive and at most the frozen units.
    function unfreezeUnits(address account, uint256 amount) external onlyRole(FREEZER_ROLE) {
        if (amount == 0) revert TokenZeroAmount();
        AccountCell storage cell = _accounts[account];
        PackedAccount a = cell.word;
        uint256 frozen = a.frozen();
        if (amount > frozen) revert TokenInsufficientFrozen(account, frozen, amount);
        // Cannot underflow: checked just above.
        unchecked {
            frozen -= amount;
        }
        cell.word = a.withFrozen(frozen);
        emit UnitsUnfrozen(account, amount, frozen);
    }

    /// @notice Moves `amount` units from `from` to `to` on the order of an authority: free units first,
    /// then frozen units (unfrozen as needed). Held units belong to holds that settlements rely on:
    /// end each one by name first ({forceReleaseHold}), so no hold keeps units from an order and no
    /// settlement finds its hold emptied silently.
    /// @param reason Why (quoted in the event).
    /// @param documentRef Reference (hash) of the order.
    /// @param courtOrderOverride When true, the receiver need not be eligible or unfrozen.
    /// @dev Requirements:
    /// - the caller has ENFORCER_ROLE; works while paused;
    /// - `amount` is positive and at most `from`'s free and frozen units; `to` (or the wallet it was
    ///   recovered to) is not `from`;
    /// - unless `courtOrderOverride`, `to` is eligible and not frozen.
    function forcedTransfer(
        address from,
        address to,
        uint256 amount,
        string calldata reason,
        bytes32 documentRef,
        bool courtOrderOverride
    ) external onlyRole(ENFORCER_ROLE) {
        to = _forcedMove(from, to, amount, courtOrderOverride);
        emit ForcedTransfer(from, to, amount, reason, documentRef, courtOrderOverride);
    }

    /// @dev The checks and the move of {forcedTransfer}; returns the receiving wallet.
    function _forcedMove(address from, address to, uint256 amount, bool courtOrderOverride) private returns (address) {
        if (amount == 0) revert TokenZeroAmount();
        if (to == address(0)) revert TokenZeroAddress();
        AccountCell storage receiver;
        PackedAccount b;
        (to, receiver, b) = _holderOf(to);
        // A move to the same wallet moves nothing, but would still unfreeze units and take held
        // units out of their holds: refuse it.
        if (from == to) revert TokenForcedTransferToSelf(from);
        AccountCell storage sender = _accounts[from];
        PackedAccount a = _freeForForcedMove(from, sender.word, amount);
        if (!courtOrderOverride) {
            if (!_registry.isEligible(to)) revert TokenAccountNotEligible(to);
            _requireUnrestricted(to, b);
        }
        _apply(from, sender, to, receiver, amount, a, b, _config);
        return to;
    }

    /// @dev `from`'s record `a` with `amount` units made free for a forced move: free units first, then
    /// frozen units (unfrozen). Held units are out of reach until their holds are ended by name.
    function _freeForForcedMove(address from, PackedAccount a, uint256 amount) private returns (PackedAccount) {
        uint256 balance = a.balance();
        if (amount > balance) revert ERC20InsufficientBalance(from, balance, amount);
        uint256 free = a.free();
        if (amount <= free) return a;
        uint256 frozen = a.frozen();
        // Cannot overflow: free + frozen <= balance.
        if (amount > free + frozen) revert TokenUnitsHeld(from, free + frozen, amount);
        // Cannot underflow: free < amount <= free + frozen.
        unchecked {
            uint256 left = frozen - (amount - free);
            a = a.withFrozen(left);
            emit UnitsUnfrozen(from, amount - free, left);
        }
        return a;
    }

    /// @notice Moves everything of `lostWallet` — balance, held and frozen units, the account freeze and
    /// the blocklist flag — to `newWallet`, and forwards anything later sent to the lost wallet. Holds
    /// placed by the lost wallet stay valid and settle from the new wallet. A recovered wallet can be
    /// lost in turn: every wallet of the chain then forwards to the last one.
    /// @param documentRef Reference (hash) of the investor's recovery request and identity check.
    /// @dev Requirements:
    /// - the caller has RECOVERY_ROLE; works while paused;
    /// - `newWallet` is eligible, differs from `lostWallet`, holds nothing, has no frozen units, no
    ///   flags (it was not itself recovered, frozen or blocked); `lostWallet` was not recovered before;
    /// - the chain of recoveries ending at `newWallet` stays within {MAX_RECOVERIES}.
    function recoverWallet(address lostWallet, address newWallet, bytes32 documentRef)
        external
        onlyRole(RECOVERY_ROLE)
    {
        PackedAccount lost = _accounts[lostWallet].word;
        PackedAccount fresh = _accounts[newWallet].word;
        if (
            newWallet == address(0) || newWallet == lostWallet || lost.flags() & AccountLib.RECOVERED != 0
                || fresh.balance() != 0 || fresh.flags() != 0
        ) revert TokenRecoveryInvalid(lostWallet, newWallet);
        if (!_registry.isEligible(newWallet)) revert TokenAccountNotEligible(newWallet);
        uint256 depth = _recoveryDepth[lostWallet] + 1;
        if (depth > MAX_RECOVERIES) revert TokenRecoveryChainTooLong(lostWallet, MAX_RECOVERIES);
        // An empty lost wallet leaves `newWallet` empty, so it may end several chains: keep the longest.
        if (depth > _recoveryDepth[newWallet]) _recoveryDepth[newWallet] = depth;

        uint16 epoch = _currentEpoch(_config);
        lost = _checkpoint(lostWallet, lost, epoch);
        fresh = _checkpoint(newWallet, fresh, epoch);
        uint256 moved = lost.balance();
        fresh = fresh.withBalance(moved).withHeld(lost.held()).withFrozen(lost.frozen()).withFlags(
            lost.flags() & (AccountLib.FROZEN | AccountLib.BLOCKED)
        );
        _accounts[lostWallet].word = PackedAccount.wrap(0).withEpoch(lost.epoch()).withFlags(AccountLib.RECOVERED);
        _accounts[newWallet].word = fresh;
        _recoveredTo[lostWallet] = newWallet;
        emit Transfer(lostWallet, newWallet, moved);
        emit WalletRecovered(lostWallet, newWallet, documentRef);
    }

    // ---------------------------------------------------------------- internal

    /// @dev The reason a transfer would be refused now (approval mode aside).
    function _restriction(address from, address to, uint256 amount) internal view returns (Restriction) {
        to = _forward(to);
        return _check(from, to, amount, _accounts[from].word, _accounts[to].word, _config);
    }

    /// @dev The checks shared by {canTransfer}, transfers and hold execution, on records already
    /// loaded. Security tokens add their rules through {_ruleRestriction}.
    function _check(address from, address to, uint256 amount, PackedAccount a, PackedAccount b, TokenConfig c)
        internal
        view
        returns (Restriction)
    {
        if (c.paused()) return Restriction.Paused;
        if (to == address(0)) return Restriction.InvalidReceiver;
        uint256 af = a.flags();
        if (af != 0) return af & AccountLib.BLOCKED != 0 ? Restriction.SenderBlocked : Restriction.SenderFrozen;
        uint256 bf = b.flags() & (AccountLib.BLOCKED | AccountLib.FROZEN);
        if (bf != 0) return bf & AccountLib.BLOCKED != 0 ? Restriction.ReceiverBlocked : Restriction.ReceiverFrozen;
        if (amount > a.free()) return Restriction.InsufficientFreeBalance;
        (uint256 pf, uint256 pt) = _registry.packedProfiles(from, to);
        if (pf & 1 == 0) return Restriction.SenderNotEligible;
        if (pt & 1 == 0) return Restriction.ReceiverNotEligible;
        return _ruleRestriction(from, b.balance(), pt, c);
    }

    /// @dev Hook for per-token rules (class, country, holder limit, lock-up); none by default.
    /// `receiverProfile` is packed as {IInvestorRegistry-packedProfiles}.
    function _ruleRestriction(
        address, /* from (zero for issues) */
        uint256, /* receiverBalance */
        uint256, /* receiverProfile */
        TokenConfig /* config */
    ) internal view virtual returns (Restriction) {
        return Restriction.None;
    }

    /// @dev Hook: the record epoch in force now (security tokens advance it over passed record dates).
    function _currentEpoch(TokenConfig) internal virtual returns (uint16) {
        return 0;
    }

    /// @dev Hook run on an account before its balance changes (record-date checkpoints on security
    /// tokens); returns the account to write back.
    function _checkpoint(address, PackedAccount a, uint16) internal virtual returns (PackedAccount) {
        return a;
    }

    function _transferChecked(address from, address to, uint256 amount) internal {
        TokenConfig c = _config;
        if (c.approvalRequired()) revert TokenTransferRestricted(Restriction.ApprovalRequired, from, to, amount);
        AccountCell storage receiver;
        PackedAccount b;
        (to, receiver, b) = _holderOf(to);
        AccountCell storage sender = _accounts[from];
        PackedAccount a = from == to ? b : sender.word;
        Restriction r = _check(from, to, amount, a, b, c);
        if (r != Restriction.None) revert TokenTransferRestricted(r, from, to, amount);
        _apply(from, sender, to, receiver, amount, a, b, c);
    }

    /// @dev Moves units whose checks are done (`amount` <= balance of `a`, the sender's record as the
    /// caller has it; `b` the receiver's), writes both accounts through their cells and keeps the
    /// holder count when a limit is set: a holder leaves when its balance falls from non-zero to zero
    /// and joins when it rises from zero. A move to oneself changes nothing but is reported.
    function _apply(
        address from,
        AccountCell storage sender,
        address to,
        AccountCell storage receiver,
        uint256 amount,
        PackedAccount a,
        PackedAccount b,
        TokenConfig c
    ) internal {
        uint16 epoch = _currentEpoch(c);
        a = _checkpoint(from, a, epoch);
        if (from != to) {
            b = _checkpoint(to, b, epoch);
            // Cannot overflow or underflow: amount <= balance of a, and b's balance + amount <= supply <= MAX_AMOUNT.
            uint256 left;
            uint256 received;
            unchecked {
                left = a.balance() - amount;
                received = b.balance() + amount;
            }
            // Only a real change of balance moves the count: a zero-unit move (valid ERC-20, which
            // anyone can make from an empty account) neither empties the sender nor fills the receiver.
            if (c.maxHolders() != 0 && amount != 0) _countHolders(left == 0, received == amount);
            receiver.word = b.withBalance(received);
            a = a.withBalance(left);
        }
        sender.word = a;
        emit Transfer(from, to, amount);
    }

    function _countHolders(bool senderLeft, bool receiverJoined) private {
        if (senderLeft == receiverJoined) return;
        TokenConfig c = _config;
        _config = c.withHolderCount(receiverJoined ? c.holderCount() + 1 : c.holderCount() - 1);
    }

    /// @dev Creates units for an eligible, unfrozen receiver (issuer and minter paths). Lock-up does
    /// not apply to issues; the other rules do.
    function _mint(address to, uint256 amount) internal {
        TokenConfig c = _config;
        if (c.paused()) revert TokenPaused();
        if (amount == 0) revert TokenZeroAmount();
        if (to == address(0)) revert TokenZeroAddress();
        AccountCell storage receiver;
        PackedAccount b;
        (to, receiver, b) = _holderOf(to);
        // slither-disable-next-line unused-return — both answers are the receiver's; one is enough
        (, uint256 pt) = _registry.packedProfiles(to, to);
        if (pt & 1 == 0) revert TokenAccountNotEligible(to);
        _requireUnrestricted(to, b);
        Restriction r = _ruleRestriction(address(0), b.balance(), pt, c);
        if (r != Restriction.None) revert TokenTransferRestricted(r, address(0), to, amount);
        uint256 supply = _totalSupply + amount;
        if (supply > MAX_AMOUNT) revert TokenSupplyCapExceeded(MAX_AMOUNT);
        b = _checkpoint(to, b, _currentEpoch(c));
        _totalSupply = supply;
        // Cannot overflow: balance + amount <= supply <= MAX_AMOUNT.
        uint256 received;
        unchecked {
            received = b.balance() + amount;
        }
        if (c.maxHolders() != 0 && received == amount) {
            _config = _config.withHolderCount(_config.holderCount() + 1);
        }
        receiver.word = b.withBalance(received);
        emit Transfer(address(0), to, amount);
    }

    /// @dev Destroys free units of `from` (redemption). Eligibility is not required, so a revoked
    /// investor's units can still be redeemed; frozen and held units cannot.
    function _burn(address from, uint256 amount) internal {
        TokenConfig c = _config;
        if (c.paused()) revert TokenPaused();
        if (amount == 0) revert TokenZeroAmount();
        AccountCell storage cell = _accounts[from];
        PackedAccount a = cell.word;
        _requireUnrestricted(from, a);
        uint256 free = a.free();
        if (amount > free) revert TokenInsufficientFreeBalance(from, free, amount);
        a = _checkpoint(from, a, _currentEpoch(c));
        // Cannot underflow: amount <= free <= balance <= totalSupply.
        uint256 left;
        unchecked {
            left = a.balance() - amount;
            _totalSupply -= amount;
        }
        if (c.maxHolders() != 0 && left == 0) _config = _config.withHolderCount(_config.holderCount() - 1);
        cell.word = a.withBalance(left);
        emit Transfer(from, address(0), amount);
    }

    function _placeHold(address holder, address notary, bytes32 id, uint256 amount, uint64 expiry) internal {
        if (notary == address(0)) revert TokenZeroAddress();
        if (expiry <= block.timestamp) revert TokenHoldExpiryInPast(expiry);
        _storeHold(holder, notary, id, amount, expiry);
        emit HoldPlaced(holder, notary, id, amount, expiry);
    }

    /// @dev Records the hold (holder, notary, id) of `amount` units until `expiry` and adds them to the
    /// holder's held total: the one place a hold begins, so the holds' amounts always sum to the
    /// held totals.
    function _storeHold(address holder, address notary, bytes32 id, uint256 amount, uint64 expiry) private {
        // A holder that notarises its own hold could execute it past approval mode: a hold always
        // names someone else.
        if (notary == holder) revert TokenHoldSelfNotary(holder);
        bytes32 key = _holdKey(holder, notary, id);
        if (_holds[key].amount != 0) revert TokenHoldExists(holder, notary, id);
        _lock(holder, amount);
        // amount <= free balance <= MAX_AMOUNT fits the field.
        _holds[key] = Hold({amount: uint192(amount), expiry: expiry});
    }

    /// @dev Executes the whole hold (holder, notary, id): checks the record, ends it, then moves the units.
    function _executeHold(address holder, address notary, bytes32 id, address to, uint256 amount) private {
        bytes32 key = _holdKey(holder, notary, id);
        Hold memory h = _holds[key];
        if (h.amount == 0) revert TokenHoldNotFound(holder, notary, id);
        if (block.timestamp > h.expiry) revert TokenHoldExpired(id, h.expiry);
        if (h.amount != amount) revert TokenHoldAmountMismatch(id, h.amount, amount);
        delete _holds[key];
        _unlockAndMove(holder, to, amount, false);
    }

    /// @dev Adds `amount` of `holder`'s free units to its held units: the token must be unpaused, the
    /// holder eligible, neither blocked, frozen nor recovered.
    function _lock(address holder, uint256 amount) private {
        TokenConfig c = _config;
        if (c.paused()) revert TokenPaused();
        if (amount == 0) revert TokenZeroAmount();
        AccountCell storage cell = _accounts[holder];
        PackedAccount a = cell.word;
        _requireUnrestricted(holder, a);
        if (a.flags() != 0) revert TokenAccountRecovered(holder, _forward(holder));
        if (!_registry.isEligible(holder)) revert TokenAccountNotEligible(holder);
        uint256 free = a.free();
        if (amount > free) revert TokenInsufficientFreeBalance(holder, free, amount);
        // held + amount <= balance <= MAX_AMOUNT fits the field.
        cell.word = a.withHeld(a.held() + amount);
    }

    /// @dev Frees `amount` held units of `holder` (or of the wallet it was recovered to) whose hold
    /// just ended. The holds' amounts sum to the held total, so the subtraction cannot underflow; it is
    /// checked all the same.
    function _unlock(address holder, uint256 amount) private {
        (, AccountCell storage cell, PackedAccount a) = _holderOf(holder);
        cell.word = a.withHeld(a.held() - amount);
    }

    /// @dev Frees `amount` held units of `holder` and moves them to `to` under the transfer rules. In
    /// approval mode only a notary holding NOTARY_ROLE (the transfer agent's desk) may move them: its
    /// execution is the approval. A hold placed by a wallet that was later recovered settles from the
    /// wallet it was last recovered to.
    function _unlockAndMove(address holder, address to, uint256 amount, bool asNotary) private {
        TokenConfig c = _config;
        if (asNotary) _requireNotary(c.settlementDisabled(), NOTARY_ROLE);
        if (c.approvalRequired()) _requireApprover(holder, to, amount);
        (address owner, AccountCell storage sender, PackedAccount a) = _holderOf(holder);
        AccountCell storage receiver;
        PackedAccount b;
        (to, receiver, b) = _holderOf(to);
        uint256 held = a.held();
        if (amount > held) revert TokenInsufficientHeld(owner, held, amount);
        // Cannot underflow: checked just above.
        unchecked {
            a = a.withHeld(held - amount);
        }
        if (owner == to) b = a;
        Restriction r = _check(owner, to, amount, a, b, c);
        if (r != Restriction.None) revert TokenTransferRestricted(r, owner, to, amount);
        _apply(owner, sender, to, receiver, amount, a, b, c);
    }

    function _spendAllowance(address owner, address spender, uint256 amount) internal {
        uint256 current = _allowances[owner][spender];
        if (current != type(uint256).max) {
            if (current < amount) revert ERC20InsufficientAllowance(spender, current, amount);
            // Cannot underflow: checked above.
            unchecked {
                _allowances[owner][spender] = current - amount;
            }
        }
    }

    /// @dev Approvals (direct or by signature) need an unpaused token and neither side blocked or frozen.
    function _approve(address owner, address spender, uint256 amount) internal {
        if (owner == address(0)) revert ERC20InvalidApprover(address(0));
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        if (_config.paused()) revert TokenPaused();
        _requireUnrestricted(owner, _accounts[owner].word);
        _requireUnrestricted(spender, _accounts[spender].word);
        _allowances[owner][spender] = amount;
        emit Approval(owner, spender, amount);
    }

    /// @dev Reverts when `account` is blocked or frozen.
    function _requireUnrestricted(address account, PackedAccount a) internal pure {
        uint256 f = a.flags();
        if (f & AccountLib.BLOCKED != 0) revert TokenAccountBlocked(account);
        if (f & AccountLib.FROZEN != 0) revert TokenAccountFrozen(account);
    }

    /// @dev The wallet that receives for `account`: the last wallet of its recovery chain when it was
    /// recovered.
    function _forward(address account) internal view returns (address owner) {
        (owner,,) = _holderOf(account);
    }

    /// @dev The wallet that holds for `account` (the last wallet of its recovery chain when it was
    /// recovered), with that wallet's account cell and record: the slot is hashed and read once for the
    /// checks and the write that follow. The loop runs only over recovered wallets, at most
    /// {MAX_RECOVERIES} times ({recoverWallet} bounds every chain, and a recovered wallet is never a
    /// recovery target, so chains have no cycles).
    function _holderOf(address account)
        internal
        view
        returns (address owner, AccountCell storage cell, PackedAccount word)
    {
        owner = account;
        cell = _accounts[account];
        word = cell.word;
        while (word.flags() & AccountLib.RECOVERED != 0) {
            owner = _recoveredTo[owner];
            cell = _accounts[owner];
            word = cell.word;
        }
    }

    function _holdKey(address holder, address notary, bytes32 id) internal pure returns (bytes32) {
        return keccak256(abi.encode(holder, notary, id));
    }
}
