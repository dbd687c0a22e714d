// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {ISecurityToken} from "../interfaces/ISecurityToken.sol";
import {PermissionedToken} from "./PermissionedToken.sol";

/// @title SecurityToken
/// @notice A permissioned security token: bond units or beneficiary units that only eligible
/// investors hold, issued and redeemed by the issuer.
/// @dev Roles:
/// - DEFAULT_ADMIN_ROLE grants and revokes roles (and NOTARY_ROLE to settlement contracts).
/// - ISSUER_ROLE issues new units and redeems units.
contract SecurityToken is PermissionedToken, ISecurityToken {
    /// @notice Issues and redeems units.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @param name_ Token name, e.g. the bond's name.
    /// @param symbol_ Token symbol.
    /// @param registry_ The operator's investor registry.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param issuer Receives ISSUER_ROLE.
    constructor(
        string memory name_,
        string memory symbol_,
        IInvestorRegistry registry_,
        address admin,
        address issuer
    ) PermissionedToken(name_, symbol_, registry_, admin) {
        _grantRole(ISSUER_ROLE, issuer);
    }

    /// @notice Issues `amount` new units to `to`.
    /// @dev Requirements:
    /// - the caller has ISSUER_ROLE;
    /// - `amount` is not zero; `to` is eligible.
    function issue(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        if (amount == 0) revert TokenZeroAmount();
        _mint(to, amount);
        emit Issued(to, amount);
    }

    /// @notice Redeems (burns) `amount` free units of `from`.
    /// @dev Requirements:
    /// - the caller has ISSUER_ROLE;
    /// - `amount` is not zero and not above `from`'s free balance.
    function redeem(address from, uint256 amount) external onlyRole(ISSUER_ROLE) {
        if (amount == 0) revert TokenZeroAmount();
        _burn(from, amount);
        emit Redeemed(from, amount);
    }
}
