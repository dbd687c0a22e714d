// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IDepositToken} from "../interfaces/IDepositToken.sol";
import {PermissionedToken} from "../token/PermissionedToken.sol";

/// @title DepositToken
/// @notice A bank's tokenized deposit (1 token = 1 yen), held only by the bank's verified customers and
/// settlement facilities.
/// @dev Roles (besides those of {PermissionedToken}):
/// - MINTER_ROLE issues tokens against debits of customers' deposit accounts.
/// Redemption is by the holder, naming the deposit account to credit.
contract DepositToken is PermissionedToken, IDepositToken {
    /// @notice Issues tokens against deposit ledger entries.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    mapping(bytes32 depositRef => bool) private _usedReferences;

    /// @param name_ Token name, e.g. "DCJPY (Example Bank)".
    /// @param symbol_ Token symbol.
    /// @param registry_ The bank's customer registry.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param minter Receives MINTER_ROLE.
    constructor(
        string memory name_,
        string memory symbol_,
        IInvestorRegistry registry_,
        address admin,
        address minter
    ) PermissionedToken(name_, symbol_, registry_, admin) {
        if (minter == address(0)) revert TokenZeroAddress();
        _grantRole(MINTER_ROLE, minter);
    }

    /// @notice Issues `amount` to `to` against the deposit ledger entry `depositRef`.
    /// @dev Requirements:
    /// - the caller has MINTER_ROLE; the token is not paused;
    /// - `amount` and `depositRef` are not zero; `depositRef` was never used;
    /// - `to` is an eligible customer and not frozen.
    function issue(address to, uint256 amount, bytes32 depositRef) external onlyRole(MINTER_ROLE) {
        if (depositRef == bytes32(0)) revert DepositZeroReference();
        if (_usedReferences[depositRef]) revert DepositReferenceUsed(depositRef);
        _usedReferences[depositRef] = true;
        _mint(to, amount);
        emit DepositIssued(to, amount, depositRef);
    }

    /// @notice Burns `amount` of the caller's free balance; the bank credits deposit account `accountRef`.
    /// @dev Requirements:
    /// - the token is not paused; the caller is not frozen;
    /// - `amount` and `accountRef` are not zero; `amount` is within the caller's free balance.
    function redeem(uint256 amount, bytes32 accountRef) external {
        if (accountRef == bytes32(0)) revert DepositZeroReference();
        _burn(msg.sender, amount);
        emit DepositRedeemed(msg.sender, amount, accountRef);
    }

    /// @inheritdoc IDepositToken
    function isReferenceUsed(bytes32 depositRef) external view returns (bool) {
        return _usedReferences[depositRef];
    }
}
