// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Status flags of a DvP trade, one bit each.
type TradeStatus is uint8;

using TradeStatusLib for TradeStatus global;

/// @title TradeStatusLib
/// @notice Flags of a trade's progress. A trade is open while neither SETTLED, CANCELLED nor EXPIRED is set.
library TradeStatusLib {
    /// @notice The trade exists and the seller's units are held.
    uint8 internal constant CREATED = 1;
    /// @notice The buyer's payment is held.
    uint8 internal constant PAID = 2;
    /// @notice The settlement agent approved.
    uint8 internal constant APPROVED = 4;
    /// @notice Both legs moved.
    uint8 internal constant SETTLED = 8;
    /// @notice A party cancelled; holds released.
    uint8 internal constant CANCELLED = 16;
    /// @notice The deadline passed and the holds were released.
    uint8 internal constant EXPIRED = 32;

    uint8 private constant FINAL = SETTLED | CANCELLED | EXPIRED;

    /// @notice True when every flag of `flags` is set.
    function has(TradeStatus self, uint8 flags) internal pure returns (bool) {
        return TradeStatus.unwrap(self) & flags == flags;
    }

    /// @notice True when the trade exists and has not reached a final state.
    function isOpen(TradeStatus self) internal pure returns (bool) {
        uint8 s = TradeStatus.unwrap(self);
        return s & CREATED != 0 && s & FINAL == 0;
    }

    /// @notice `self` with `flags` added.
    function with(TradeStatus self, uint8 flags) internal pure returns (TradeStatus) {
        return TradeStatus.wrap(TradeStatus.unwrap(self) | flags);
    }
}

/// @notice A stored trade: the terms hash with its low byte replaced by the status flags.
type TradeRecord is bytes32;

using TradeRecordLib for TradeRecord global;

/// @title TradeRecordLib
/// @notice Packs a trade's terms hash (its top 248 bits, still collision resistant) and its status
/// into one storage slot, so a trade costs one slot however many parties and amounts it names.
library TradeRecordLib {
    uint256 private constant STATUS_MASK = 0xff;

    /// @notice Packs `termsHash` and the status `flags`.
    function pack(bytes32 termsHash, TradeStatus flags) internal pure returns (TradeRecord) {
        return TradeRecord.wrap(bytes32((uint256(termsHash) & ~STATUS_MASK) | TradeStatus.unwrap(flags)));
    }

    /// @notice The status flags of the record.
    function status(TradeRecord self) internal pure returns (TradeStatus) {
        return TradeStatus.wrap(uint8(uint256(TradeRecord.unwrap(self)) & STATUS_MASK));
    }

    /// @notice True when the record was made from `termsHash`.
    function matches(TradeRecord self, bytes32 termsHash) internal pure returns (bool) {
        return (uint256(TradeRecord.unwrap(self)) ^ uint256(termsHash)) & ~STATUS_MASK == 0;
    }
}
