// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {ISecurityToken} from "../interfaces/ISecurityToken.sol";
import {PermissionedToken} from "./PermissionedToken.sol";
import {PackedAccount} from "../libraries/PackedAccount.sol";
import {TokenConfig} from "../libraries/TokenConfig.sol";

/// @title SecurityToken
/// @notice A permissioned security token: bond units or beneficiary units that only eligible
/// investors hold, with optional transfer rules, an approval mode, and record dates.
/// @dev Record dates cost nothing on ordinary transfers: an account's record epoch lives in its
/// balance slot, and only the first balance change after a record date writes a checkpoint of the
/// balance it had on that date.
///
/// Roles (besides those of {PermissionedToken}):
/// - ISSUER_ROLE issues and redeems units, singly or in batches, schedules record dates and sets the
///   end of transfers (a bond's redemption record date).
/// - RULES_ROLE sets the transfer rules (investor classes, countries, holder limit, lock-up,
///   approval mode).
/// In approval mode direct transfers are refused; investors request transfers through a
/// {TransferApprovals} contract (a notary of this token), whose transfer agent approves or rejects.
contract SecurityToken is PermissionedToken, ISecurityToken {
    /// @notice Issues and redeems units; schedules record dates.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Sets the transfer rules.
    bytes32 public constant RULES_ROLE = keccak256("RULES_ROLE");

    struct Checkpoint {
        uint16 from;
        uint16 upTo;
        uint80 balance;
    }

    uint64[] private _recordDates;
    mapping(uint16 record => uint256) private _supplyAt;
    mapping(address account => Checkpoint[]) private _history;
    mapping(uint16 country => bool) private _allowedCountries;

    /// @param name_ Token name, e.g. the bond's name.
    /// @param symbol_ Token symbol.
    /// @param registry_ The operator's investor registry.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param issuer Receives ISSUER_ROLE.
    /// @param settlement The suite's DvP contract (see {PermissionedToken}); zero for none.
    constructor(
        string memory name_,
        string memory symbol_,
        IInvestorRegistry registry_,
        address admin,
        address issuer,
        address settlement
    ) PermissionedToken(name_, symbol_, registry_, admin, settlement) {
        if (issuer == address(0)) revert TokenZeroAddress();
        _grantRole(ISSUER_ROLE, issuer);
    }

    // ---------------------------------------------------------------- issuer

    /// @notice Issues `amount` new units to `to`.
    /// @dev Requirements:
    /// - the caller has ISSUER_ROLE; the token is not paused;
    /// - `amount` is not zero; `to` is eligible, not frozen, and allowed by the token's rules.
    function issue(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _issue(to, amount);
    }

    /// @notice Issues to many receivers; all-or-nothing.
    /// @dev Requirements: as for {issue}, for every entry; arrays have the same length.
    function batchIssue(address[] calldata to, uint256[] calldata amounts) external onlyRole(ISSUER_ROLE) {
        if (to.length != amounts.length) revert TokenLengthMismatch();
        for (uint256 i; i < to.length; ++i) {
            _issue(to[i], amounts[i]);
        }
    }

    /// @notice Redeems (burns) `amount` free units of `from`.
    /// @dev Requirements:
    /// - the caller has ISSUER_ROLE; the token is not paused;
    /// - `amount` is not zero and within `from`'s free balance; `from` is not frozen.
    function redeem(address from, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _redeem(from, amount);
    }

    /// @notice Redeems from many holders; all-or-nothing.
    /// @dev Requirements: as for {redeem}, for every entry; arrays have the same length.
    function batchRedeem(address[] calldata from, uint256[] calldata amounts) external onlyRole(ISSUER_ROLE) {
        if (from.length != amounts.length) revert TokenLengthMismatch();
        for (uint256 i; i < from.length; ++i) {
            _redeem(from[i], amounts[i]);
        }
    }

    /// @notice Schedules the next record date and returns its number (1-based).
    /// @dev Requirements:
    /// - the caller has ISSUER_ROLE;
    /// - `date` is in the future and after every scheduled record date.
    function scheduleRecordDate(uint64 date) external onlyRole(ISSUER_ROLE) returns (uint16 record) {
        return _scheduleRecordDate(date);
    }

    // ---------------------------------------------------------------- rules

    /// @notice Sets the transfer rules.
    /// @param allowedClasses Bit i set: investor class i may receive; 0 allows every class.
    /// @param maxHolders Maximum number of holders; 0 for no limit.
    /// @param lockupUntil Transfers between investors are refused before this time (issues are not).
    /// @param approvalRequired When true, direct transfers are refused: transfers go through requests
    /// that a transfer agent approves ({TransferApprovals}).
    /// @dev Requirements:
    /// - the caller has RULES_ROLE;
    /// - a holder limit can be introduced only while no units exist (holders are counted from the
    ///   first issue on).
    function setRules(uint8 allowedClasses, uint32 maxHolders, uint64 lockupUntil, bool approvalRequired)
        external
        onlyRole(RULES_ROLE)
    {
        TokenConfig c = _config;
        if (maxHolders != 0 && c.maxHolders() == 0 && totalSupply() != 0) revert SecurityHolderLimitNeedsEmptySupply();
        if (maxHolders == 0) c = c.withHolderCount(0);
        _config = c.withAllowedClasses(allowedClasses).withMaxHolders(maxHolders).withLockupUntil(lockupUntil)
            .withApprovalRequired(approvalRequired);
        emit RulesSet(allowedClasses, maxHolders, lockupUntil, approvalRequired);
    }

    /// @notice Sets whether receivers from `country` are allowed while the country rule is on. It sets
    /// the country's entry to `allowed` (calling it twice changes nothing) and leaves the rule's switch
    /// alone ({setCountryRule}).
    /// @dev Requirements: the caller has RULES_ROLE.
    function setCountryAllowed(uint16 country, bool allowed) external onlyRole(RULES_ROLE) {
        _allowedCountries[country] = allowed;
        emit CountryAllowed(country, allowed);
    }

    /// @notice Switches the country rule on (only receivers from allowed countries) or off.
    /// @dev Requirements: the caller has RULES_ROLE.
    function setCountryRule(bool on) external onlyRole(RULES_ROLE) {
        _config = _config.withCountryRule(on);
        emit CountryRuleSet(on);
    }

    /// @notice True when receivers from `country` are allowed while the country rule is on.
    function isCountryAllowed(uint16 country) external view returns (bool) {
        return _allowedCountries[country];
    }

    /// @notice Ends transfers between investors at `date`: from then on units move only by redemption,
    /// forced transfer or wallet recovery, so the register of a redemption's record date is the one it
    /// pays, and no trade settles units that are being redeemed. 0 removes the end.
    /// @dev Requirements: the caller has ISSUER_ROLE (a bond sets its redemption record date); `date` is
    /// 0, or in the future and before 2106.
    function setTransfersEnd(uint64 date) external onlyRole(ISSUER_ROLE) {
        if (date != 0 && (date <= block.timestamp || date > type(uint32).max)) revert SecurityTransfersEndInvalid(date);
        // Fits: checked just above.
        _config = _config.withTransfersEnd(uint32(date));
        emit TransfersEndSet(date);
    }

    /// @notice When transfers between investors end (0: never).
    function transfersEnd() external view returns (uint64) {
        return _config.transfersEnd();
    }

    /// @notice The current rules and counters.
    function rules()
        external
        view
        returns (
            uint8 allowedClasses,
            bool countryRule,
            uint32 maxHolders,
            uint32 holderCount,
            uint64 lockupUntil,
            bool approvalRequired
        )
    {
        TokenConfig c = _config;
        return (
            c.allowedClasses(), c.countryRule(), c.maxHolders(), c.holderCount(), c.lockupUntil(), c.approvalRequired()
        );
    }

    // ---------------------------------------------------------------- record dates

    /// @inheritdoc ISecurityToken
    function recordsPassed() public view returns (uint16 passed) {
        passed = _config.epoch();
        while (passed < _recordDates.length && _recordDates[passed] <= block.timestamp) ++passed;
    }

    /// @notice How many record dates are scheduled (passed or not).
    function recordCount() external view returns (uint16) {
        // At most 65,535 record dates can be scheduled.
        return uint16(_recordDates.length);
    }

    /// @inheritdoc ISecurityToken
    function recordDate(uint16 record) external view returns (uint64) {
        if (record == 0 || record > _recordDates.length) revert SecurityRecordNotReached(record);
        return _recordDates[record - 1];
    }

    /// @inheritdoc ISecurityToken
    function balanceAtRecord(address account, uint16 record) public view returns (uint256) {
        if (record == 0 || record > recordsPassed()) revert SecurityRecordNotReached(record);
        PackedAccount a = _accounts[account].word;
        if (record > a.epoch()) return a.balance();
        Checkpoint[] storage h = _history[account];
        (uint256 lo, uint256 hi) = (0, h.length);
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (h[mid].upTo < record) lo = mid + 1;
            else hi = mid;
        }
        if (lo == h.length) return 0;
        Checkpoint memory cp = h[lo];
        return cp.from <= record ? cp.balance : 0;
    }

    /// @inheritdoc ISecurityToken
    function supplyAtRecord(uint16 record) public view returns (uint256) {
        if (record == 0 || record > recordsPassed()) revert SecurityRecordNotReached(record);
        return record <= _config.epoch() ? _supplyAt[record] : totalSupply();
    }

    // ---------------------------------------------------------------- internal

    function _issue(address to, uint256 amount) internal {
        _mint(to, amount);
        emit Issued(to, amount);
    }

    function _redeem(address from, uint256 amount) internal {
        _burn(from, amount);
        emit Redeemed(from, amount);
    }

    function _scheduleRecordDate(uint64 date) internal returns (uint16 record) {
        uint256 n = _recordDates.length;
        if (date <= block.timestamp || (n != 0 && date <= _recordDates[n - 1]) || n >= type(uint16).max) {
            revert SecurityRecordDateInvalid(date);
        }
        _syncEpoch();
        _recordDates.push(date);
        TokenConfig c = _config;
        if (c.nextRecordDate() == 0) _config = c.withNextRecordDate(date);
        // Fits: n < 65,535 was checked above (an explicit cast would truncate, not revert).
        record = uint16(n + 1);
        emit RecordDateScheduled(record, date);
    }

    /// @dev Advances the record epoch over every record date that has passed, fixing the supply at
    /// each. Runs before any balance or supply change, so the values it fixes are those of the date.
    function _syncEpoch() internal returns (uint16 epoch) {
        TokenConfig c = _config;
        epoch = c.epoch();
        uint64 next = c.nextRecordDate();
        if (next == 0 || block.timestamp < next) return epoch;
        uint256 supply = totalSupply();
        uint256 n = _recordDates.length;
        while (next != 0 && block.timestamp >= next) {
            ++epoch;
            _supplyAt[epoch] = supply;
            next = epoch < n ? _recordDates[epoch] : 0;
        }
        _config = c.withEpoch(epoch).withNextRecordDate(next);
    }

    function _currentEpoch(TokenConfig c) internal override returns (uint16) {
        uint64 next = c.nextRecordDate();
        if (next == 0 || block.timestamp < next) return c.epoch();
        return _syncEpoch();
    }

    function _checkpoint(address account, PackedAccount a, uint16 epoch) internal override returns (PackedAccount) {
        uint16 last = a.epoch();
        if (last >= epoch) return a;
        uint256 balance = a.balance();
        // balance < 2^80 by the supply cap.
        if (balance != 0) _history[account].push(Checkpoint({from: last + 1, upTo: epoch, balance: uint80(balance)}));
        return a.withEpoch(epoch);
    }

    function _ruleRestriction(address from, uint256 receiverBalance, uint256 receiverProfile, TokenConfig c)
        internal
        view
        override
        returns (Restriction)
    {
        if (from != address(0)) {
            if (block.timestamp < c.lockupUntil()) return Restriction.LockedUp;
            uint256 end = c.transfersEnd();
            if (end != 0 && block.timestamp >= end) return Restriction.TransfersEnded;
        }
        uint8 classes = c.allowedClasses();
        if (classes != 0 && (classes >> ((receiverProfile >> 8) & 0xff)) & 1 == 0) {
            return Restriction.InvestorClassNotAllowed;
        }
        if (c.countryRule() && !_allowedCountries[uint16(receiverProfile >> 16)]) return Restriction.CountryNotAllowed;
        uint32 limit = c.maxHolders();
        if (limit != 0 && receiverBalance == 0 && c.holderCount() >= limit) return Restriction.HolderLimitReached;
        return Restriction.None;
    }
}
