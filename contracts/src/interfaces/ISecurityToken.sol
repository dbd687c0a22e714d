// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPermissionedToken} from "./IPermissionedToken.sol";

/// @title ISecurityToken
/// @notice A permissioned security token (bond units, beneficiary units) issued and redeemed by its issuer.
interface ISecurityToken is IPermissionedToken {
    /// @notice Emitted when the issuer issued `amount` units to `to`.
    event Issued(address indexed to, uint256 amount);

    /// @notice Emitted when the issuer redeemed `amount` units of `from`.
    event Redeemed(address indexed from, uint256 amount);

    /// @notice Issues `amount` new units to `to`.
    function issue(address to, uint256 amount) external;

    /// @notice Redeems (burns) `amount` free units of `from`.
    function redeem(address from, uint256 amount) external;
}
