// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IDepositToken} from "../interfaces/IDepositToken.sol";
import {PermissionedToken} from "../token/PermissionedToken.sol";
import {SignatureLib} from "../libraries/SignatureLib.sol";

/// @title DepositToken
/// @notice A bank's tokenized deposit (1 token = 1 yen), held only by the bank's verified customers and
/// settlement facilities, with per-minter allowances and rate limits, EIP-2612 permits and EIP-3009
/// authorizations (ERC-1271 contract wallets included).
/// @dev Roles (besides those of {PermissionedToken}):
/// - MASTER_MINTER_ROLE configures and removes minters (their allowances and rate limits).
/// - REDEEMER_ROLE redeems a customer's tokens on the customer's instruction to the bank.
/// Several banks deploy this same contract, each with its own customer registry.
contract DepositToken is PermissionedToken, EIP712, Nonces, IDepositToken {
    /// @notice Configures minters.
    bytes32 public constant MASTER_MINTER_ROLE = keccak256("MASTER_MINTER_ROLE");
    /// @notice Redeems on a customer's instruction.
    bytes32 public constant REDEEMER_ROLE = keccak256("REDEEMER_ROLE");

    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 private constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    mapping(bytes32 depositRef => bool) private _usedReferences;
    mapping(address minter => Minter) private _minters;
    mapping(address authorizer => mapping(bytes32 nonce => bool)) private _authorizations;

    /// @param name_ Token name, e.g. "DCJPY (Example Bank)"; also the EIP-712 domain name.
    /// @param symbol_ Token symbol.
    /// @param registry_ The bank's customer registry.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param masterMinter Receives MASTER_MINTER_ROLE.
    /// @param settlement The suite's DvP contract (see {PermissionedToken}); zero for none.
    constructor(
        string memory name_,
        string memory symbol_,
        IInvestorRegistry registry_,
        address admin,
        address masterMinter,
        address settlement
    ) PermissionedToken(name_, symbol_, registry_, admin, settlement) EIP712(name_, "1") {
        if (masterMinter == address(0)) revert TokenZeroAddress();
        _grantRole(MASTER_MINTER_ROLE, masterMinter);
    }

    // ---------------------------------------------------------------- minting

    /// @notice Sets `minter`'s remaining allowance and its rate limit of `limitPerPeriod` per `period`
    /// seconds (a new period starts now). The window is fixed, not rolling: a window starts with the
    /// first issue after the previous one ended, so within any `period` seconds a minter can issue up
    /// to twice `limitPerPeriod` (the end of one window and the start of the next); the allowance
    /// bounds the total either way.
    /// @dev Requirements: the caller has MASTER_MINTER_ROLE; `minter` is not zero; `period` is positive.
    function configureMinter(address minter, uint128 allowance, uint128 limitPerPeriod, uint64 period)
        external
        onlyRole(MASTER_MINTER_ROLE)
    {
        if (minter == address(0)) revert TokenZeroAddress();
        if (period == 0) revert DepositInvalidMinterConfig();
        _minters[minter] = Minter({
            allowance: allowance,
            limitPerPeriod: limitPerPeriod,
            period: period,
            windowStart: uint64(block.timestamp),
            issuedInWindow: 0
        });
        emit MinterConfigured(minter, allowance, limitPerPeriod, period);
    }

    /// @notice Removes `minter`: it can no longer issue.
    /// @dev Requirements: the caller has MASTER_MINTER_ROLE.
    function removeMinter(address minter) external onlyRole(MASTER_MINTER_ROLE) {
        delete _minters[minter];
        emit MinterRemoved(minter);
    }

    /// @inheritdoc IDepositToken
    function minterOf(address minter) external view returns (Minter memory) {
        return _minters[minter];
    }

    /// @notice Issues `amount` to `to` against the deposit ledger entry `depositRef`.
    /// @dev Requirements:
    /// - the caller is a configured minter with enough allowance and rate limit left;
    /// - the token is not paused; `amount` and `depositRef` are not zero; `depositRef` was never used;
    /// - `to` is an eligible customer (or facility), neither blocked nor frozen.
    function issue(address to, uint256 amount, bytes32 depositRef) external {
        Minter memory m = _minters[msg.sender];
        // slither-disable-next-line incorrect-equality — a configuration field: zero means no minter
        if (m.period == 0) revert DepositNotMinter(msg.sender);
        if (depositRef == bytes32(0)) revert DepositZeroReference();
        if (_usedReferences[depositRef]) revert DepositReferenceUsed(depositRef);
        if (amount > m.allowance) revert DepositMinterAllowanceExceeded(msg.sender, m.allowance, amount);
        if (block.timestamp >= uint256(m.windowStart) + m.period) {
            m.windowStart = uint64(block.timestamp);
            m.issuedInWindow = 0;
        }
        uint256 remaining = m.limitPerPeriod - m.issuedInWindow;
        if (amount > remaining) {
            revert DepositRateLimitExceeded(msg.sender, remaining, amount, m.windowStart + m.period);
        }
        // Both fit: amount <= allowance and amount <= remaining, each below 2^128.
        m.allowance -= uint128(amount);
        m.issuedInWindow += uint128(amount);
        _minters[msg.sender] = m;
        _usedReferences[depositRef] = true;
        _mint(to, amount);
        emit DepositIssued(to, amount, depositRef, msg.sender);
    }

    /// @notice Burns `amount` of the caller's free balance; the bank credits deposit account `accountRef`.
    /// @dev Requirements:
    /// - the token is not paused; the caller is neither blocked nor frozen;
    /// - `amount` and `accountRef` are not zero; `amount` is within the caller's free balance.
    function redeem(uint256 amount, bytes32 accountRef) external {
        _redeem(msg.sender, amount, accountRef);
    }

    /// @notice Redeems `amount` of `holder`'s free balance on the holder's instruction to the bank,
    /// crediting deposit account `accountRef`.
    /// @dev Requirements: the caller has REDEEMER_ROLE; otherwise as for {redeem}.
    function redeemFor(address holder, uint256 amount, bytes32 accountRef) external onlyRole(REDEEMER_ROLE) {
        _redeem(holder, amount, accountRef);
    }

    /// @inheritdoc IDepositToken
    function isReferenceUsed(bytes32 depositRef) external view returns (bool) {
        return _usedReferences[depositRef];
    }

    // ---------------------------------------------------------------- signatures

    /// @notice The EIP-712 domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice EIP-2612: approves `spender` for `value` on `owner`'s signature.
    /// @dev Requirements: `deadline` not passed; the signature is `owner`'s (ECDSA or ERC-1271) over
    /// the current nonce; the approval rules (not paused, neither side blocked or frozen).
    function permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _permit(owner, spender, value, deadline, abi.encodePacked(r, s, v));
    }

    /// @notice EIP-2612 with a signature in bytes, for ERC-1271 contract wallets.
    /// @dev Requirements: as for the (v, r, s) variant.
    function permit(address owner, address spender, uint256 value, uint256 deadline, bytes calldata signature)
        external
    {
        _permit(owner, spender, value, deadline, signature);
    }

    /// @notice EIP-3009: transfers `value` from `from` to `to` on `from`'s signed authorization.
    /// @dev Requirements: now within (validAfter, validBefore); the nonce unused; the signature is
    /// `from`'s; the transfer rules ({canTransfer}).
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce)
        );
        _useAuthorization(from, nonce, validAfter, validBefore, structHash, signature);
        _transferChecked(from, to, value);
    }

    /// @notice EIP-3009: the payee `to` collects `value` from `from` on `from`'s signed authorization
    /// (prevents front-running of the authorization by anyone else).
    /// @dev Requirements: the caller is `to`; otherwise as for {transferWithAuthorization}.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes calldata signature
    ) external {
        if (msg.sender != to) revert DepositCallerNotPayee(msg.sender, to);
        bytes32 structHash = keccak256(
            abi.encode(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce)
        );
        _useAuthorization(from, nonce, validAfter, validBefore, structHash, signature);
        _transferChecked(from, to, value);
    }

    /// @notice EIP-3009: cancels an unused authorization.
    /// @dev Requirements: the nonce unused; the signature is `authorizer`'s.
    function cancelAuthorization(address authorizer, bytes32 nonce, bytes calldata signature) external {
        if (_authorizations[authorizer][nonce]) revert DepositAuthorizationUsed(authorizer, nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)));
        if (!SignatureLib.isValid(authorizer, digest, signature)) {
            revert DepositInvalidSignature(authorizer);
        }
        _authorizations[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    /// @notice EIP-3009: whether `nonce` of `authorizer` was used or cancelled.
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizations[authorizer][nonce];
    }

    /// @notice EIP-2612: the next permit nonce of `owner`.
    function nonces(address owner) public view override returns (uint256) {
        return super.nonces(owner);
    }

    // ---------------------------------------------------------------- internal

    function _redeem(address holder, uint256 amount, bytes32 accountRef) private {
        if (accountRef == bytes32(0)) revert DepositZeroReference();
        _burn(holder, amount);
        emit DepositRedeemed(holder, amount, accountRef);
    }

    function _permit(address owner, address spender, uint256 value, uint256 deadline, bytes memory signature)
        private
    {
        if (block.timestamp > deadline) revert DepositPermitExpired(deadline);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline))
        );
        if (!SignatureLib.isValid(owner, digest, signature)) revert DepositInvalidSignature(owner);
        _approve(owner, spender, value);
    }

    function _useAuthorization(
        address from,
        bytes32 nonce,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 structHash,
        bytes calldata signature
    ) private {
        if (block.timestamp <= validAfter) revert DepositAuthorizationNotYetValid(validAfter);
        if (block.timestamp >= validBefore) revert DepositAuthorizationExpired(validBefore);
        if (_authorizations[from][nonce]) revert DepositAuthorizationUsed(from, nonce);
        if (!SignatureLib.isValid(from, _hashTypedDataV4(structHash), signature)) {
            revert DepositInvalidSignature(from);
        }
        _authorizations[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
    }
}
