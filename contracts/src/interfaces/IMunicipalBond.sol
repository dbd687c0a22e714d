// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IMunicipalBond
/// @notice Benefit programmes of a digital municipal bond: non-monetary perks (local products,
/// lodging vouchers, experiences) granted per units held at a record date. Each eligible holder
/// claims once per programme; the claim event is the record the municipality verifies off-chain.
interface IMunicipalBond {
    /// @notice Thrown when the programme does not exist, its record date has not passed, or its claim
    /// window has closed.
    error BenefitNotClaimable(uint256 programme);

    /// @notice Thrown when the programme's parameters are invalid.
    error BenefitInvalidProgramme();

    /// @notice Thrown when `holder` already claimed `programme`.
    error BenefitAlreadyClaimed(uint256 programme, address holder);

    /// @notice Thrown when `holder` is not eligible or held too few units at the record date.
    error BenefitNotEntitled(uint256 programme, address holder);

    /// @notice Emitted when the municipality added a programme.
    event ProgrammeAdded(
        uint256 indexed programme, string name, uint256 unitsPerBenefit, uint16 record, uint64 claimUntil
    );

    /// @notice Emitted when `holder` claimed `benefits` benefits; `claimRef` identifies the claim.
    event BenefitClaimed(uint256 indexed programme, address indexed holder, uint256 benefits, bytes32 claimRef);

    /// @notice Emitted with {BenefitClaimed} when the claim for lost wallet `holder` was made by
    /// `wallet`, the wallet it was recovered to (the benefits go to its investor).
    event BenefitClaimedByRecoveredWallet(uint256 indexed programme, address indexed holder, address indexed wallet);
}
