// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMunicipalBond} from "../interfaces/IMunicipalBond.sol";
import {SecurityToken} from "../token/SecurityToken.sol";
import {StraightBond} from "./StraightBond.sol";

/// @title MunicipalBond
/// @notice A digital municipal bond: a straight bond plus benefit programmes for its holders, e.g.
/// "one lodging voucher per 10 units held at the record date".
/// @dev The municipality (ISSUER_ROLE) adds programmes on a record date of the unit token; holders
/// who are eligible when they claim, and held enough units at that record date, claim once.
contract MunicipalBond is StraightBond, IMunicipalBond {
    struct Programme {
        uint128 unitsPerBenefit;
        uint16 record;
        uint64 claimUntil;
    }

    Programme[] private _programmes;
    mapping(uint256 programme => mapping(address holder => bool)) private _claimed;

    /// @param units_ The bond's unit token.
    /// @param cash_ The deposit token payments are made in.
    /// @param terms_ The bond's terms.
    /// @param couponDates_ Coupon payment dates, increasing, the last equal to the maturity date.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param issuer Receives ISSUER_ROLE (the municipality).
    /// @param payingAgent Receives PAYING_AGENT_ROLE.
    constructor(
        SecurityToken units_,
        IERC20 cash_,
        Terms memory terms_,
        uint64[] memory couponDates_,
        address admin,
        address issuer,
        address payingAgent
    ) StraightBond(units_, cash_, terms_, couponDates_, admin, issuer, payingAgent) {}

    /// @notice Adds a programme granting one benefit per `unitsPerBenefit` units held at record date
    /// number `record`, claimable until `claimUntil`.
    /// @dev Requirements: the caller has ISSUER_ROLE; `unitsPerBenefit` is positive; `record` is a
    /// scheduled record date; `claimUntil` is after that record date.
    function addProgramme(string calldata name, uint128 unitsPerBenefit, uint16 record, uint64 claimUntil)
        external
        onlyRole(ISSUER_ROLE)
        returns (uint256 programme)
    {
        if (unitsPerBenefit == 0 || claimUntil <= _units.recordDate(record)) revert BenefitInvalidProgramme();
        programme = _programmes.length;
        _programmes.push(Programme({unitsPerBenefit: unitsPerBenefit, record: record, claimUntil: claimUntil}));
        emit ProgrammeAdded(programme, name, unitsPerBenefit, record, claimUntil);
    }

    /// @notice Claims the caller's benefits under `programme`.
    /// @dev Requirements: the programme's record date has passed and its window is open; the caller is
    /// eligible now, was not recovered to another wallet (a lost key claims nothing), held at least
    /// `unitsPerBenefit` units at the record date, and has not claimed.
    function claimBenefit(uint256 programme) external returns (uint256 benefits) {
        if (_units.recoveredTo(msg.sender) != address(0)) revert BenefitNotEntitled(programme, msg.sender);
        benefits = _claim(programme, msg.sender);
    }

    /// @notice Claims, for the caller, the benefits of the units `holder` held at the programme's
    /// record date, when `holder` is a lost wallet recovered to the caller: the investor keeps the
    /// benefits its old wallet earned.
    /// @dev Requirements: the caller is the wallet `holder` was (last) recovered to; otherwise as for
    /// {claimBenefit}, with `holder`'s record-date units and claim.
    function claimBenefitOf(uint256 programme, address holder) external returns (uint256 benefits) {
        if (holder == msg.sender || _units.recoveredTo(holder) != msg.sender) {
            revert BenefitNotEntitled(programme, msg.sender);
        }
        benefits = _claim(programme, holder);
        emit BenefitClaimedByRecoveredWallet(programme, holder, msg.sender);
    }

    /// @dev Claims `holder`'s benefits for the caller (eligible now).
    function _claim(uint256 programme, address holder) private returns (uint256 benefits) {
        if (programme >= _programmes.length) revert BenefitNotClaimable(programme);
        Programme memory p = _programmes[programme];
        if (block.timestamp > p.claimUntil || p.record > _units.recordsPassed()) revert BenefitNotClaimable(programme);
        if (_claimed[programme][holder]) revert BenefitAlreadyClaimed(programme, holder);
        benefits = _units.balanceAtRecord(holder, p.record) / p.unitsPerBenefit;
        if (benefits == 0 || !_units.registry().isEligible(msg.sender)) revert BenefitNotEntitled(programme, msg.sender);
        _claimed[programme][holder] = true;
        emit BenefitClaimed(programme, holder, benefits, keccak256(abi.encode(address(this), programme, holder)));
    }

    /// @notice Whether `holder` claimed `programme`.
    function hasClaimed(uint256 programme, address holder) external view returns (bool) {
        return _claimed[programme][holder];
    }

    /// @notice Number of programmes.
    function programmeCount() external view returns (uint256) {
        return _programmes.length;
    }
}
