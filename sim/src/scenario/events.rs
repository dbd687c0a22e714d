//! Naming what happened: every event and error of the suite's contracts, known by selector from
//! the committed ABIs, decoded into names and rendered arguments for step outcomes.
//!
//! The tables are built once per process from [`kessai_bindings::artifacts`]; decoding a log is then
//! a hash lookup and an ABI decode. Addresses and trade ids are rendered through a caller-supplied
//! [`Names`] so reports say `seller` and `t1` rather than hex.

use alloy::{
    dyn_abi::{DynSolEvent, DynSolType, DynSolValue, Specifier},
    primitives::{Address, B256, Log, U256, hex},
};
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeSet, HashMap},
    sync::OnceLock,
};

/// One decoded event of a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The emitting contract's label in the deployment (`dvp`, `security`, `deposit`, …), or its
    /// address when it is not one of the suite's.
    pub contract: String,
    /// The event's name, or `Unknown` when its selector is not in any committed ABI.
    pub name: String,
    /// Arguments in declaration order: (parameter name, rendered value).
    pub args: Vec<(String, String)>,
}

impl std::fmt::Display for EventRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}(", self.contract, self.name)?;
        for (i, (name, value)) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {value}")?;
        }
        f.write_str(")")
    }
}

struct KnownEvent {
    name: String,
    /// Parameter names and whether each is indexed, in declaration order.
    params: Vec<(String, bool)>,
    /// Each parameter's one-word type, when every parameter has one (the common case, decoded
    /// straight from the log's words); `None` sends the event through `decoder`.
    words: Option<Vec<Word>>,
    decoder: DynSolEvent,
}

/// A parameter type that is one ABI word, decoded without the dynamic decoder.
#[derive(Clone, Copy)]
enum Word {
    Address,
    Bytes32,
    Bool,
    /// `uintN`, with N.
    Uint(usize),
}

impl Word {
    fn of(ty: &DynSolType) -> Option<Self> {
        match ty {
            DynSolType::Address => Some(Self::Address),
            DynSolType::FixedBytes(32) => Some(Self::Bytes32),
            DynSolType::Bool => Some(Self::Bool),
            DynSolType::Uint(bits) => Some(Self::Uint(*bits)),
            _ => None,
        }
    }

    /// `word` as a value of this type, for [`render`]; `None` when the word is not a canonical
    /// encoding of the type (the dynamic decoder then decides).
    fn value(self, word: &B256) -> Option<DynSolValue> {
        let value = U256::from_be_bytes(word.0);
        match self {
            Self::Address => (value.bit_len() <= 160).then(|| DynSolValue::Address(Address::from_word(*word))),
            Self::Bytes32 => Some(DynSolValue::FixedBytes(*word, 32)),
            Self::Bool => (value <= U256::from(1u8)).then(|| DynSolValue::Bool(value == U256::from(1u8))),
            Self::Uint(bits) => (value.bit_len() <= bits).then_some(DynSolValue::Uint(value, bits)),
        }
    }
}

struct Tables {
    events: HashMap<B256, KnownEvent>,
    event_names: BTreeSet<String>,
    error_names: BTreeSet<String>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = Tables { events: HashMap::new(), event_names: BTreeSet::new(), error_names: BTreeSet::new() };
        for artifact in kessai_bindings::artifacts() {
            for error in artifact.abi.errors() {
                tables.error_names.insert(error.name.clone());
            }
            for event in artifact.abi.events() {
                tables.event_names.insert(event.name.clone());
                if event.anonymous || tables.events.contains_key(&event.selector()) {
                    continue;
                }
                let Ok(decoder) = event.resolve() else { continue };
                let params = event.inputs.iter().map(|p| (p.name.clone(), p.indexed)).collect();
                let words = event.inputs.iter().map(|p| p.resolve().ok().and_then(|t| Word::of(&t))).collect();
                tables.events.insert(event.selector(), KnownEvent { name: event.name.clone(), params, words, decoder });
            }
        }
        tables
    })
}

/// Whether some contract of the suite declares an event called `name`.
pub fn is_known_event(name: &str) -> bool {
    tables().event_names.contains(name)
}

/// Whether some contract of the suite (or a library it inherits) declares an error called `name`.
pub fn is_known_error(name: &str) -> bool {
    tables().error_names.contains(name)
}

/// Every event name of the suite, sorted (for "expected one of" messages).
pub fn event_names() -> impl Iterator<Item = &'static str> {
    tables().event_names.iter().map(String::as_str)
}

/// Every error name of the suite, sorted.
pub fn error_names() -> impl Iterator<Item = &'static str> {
    tables().error_names.iter().map(String::as_str)
}

/// How addresses and 32-byte words are shown: party and contract names, trade names.
pub trait Names {
    /// The name of `address`, if it has one.
    fn address(&self, address: &Address) -> Option<&str>;
    /// The name of a 32-byte word (a trade id), if it has one.
    fn word(&self, word: &B256) -> Option<&str>;
}

/// Decodes `log` with the suite's ABIs, rendering values through `names`.
pub fn decode(log: &Log, names: &impl Names) -> EventRecord {
    let contract = names.address(&log.address).map_or_else(|| log.address.to_string(), str::to_string);
    let known = log.topics().first().and_then(|topic| tables().events.get(topic));
    if let Some(known) = known
        && let Some(args) = decode_words(known, log, names)
    {
        return EventRecord { contract, name: known.name.clone(), args };
    }
    decode_dynamic(known, log, contract, names)
}

/// Decodes `log` with the dynamic ABI decoder (any parameter types), or as `Unknown`.
fn decode_dynamic(known: Option<&KnownEvent>, log: &Log, contract: String, names: &impl Names) -> EventRecord {
    let decoded = known.and_then(|k| k.decoder.decode_log_data(&log.data).ok().map(|d| (k, d)));
    let Some((known, decoded)) = decoded else {
        let args = vec![
            ("topics".to_string(), log.topics().iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" ")),
            ("data".to_string(), format!("0x{}", hex::encode(&log.data.data))),
        ];
        return EventRecord { contract, name: "Unknown".into(), args };
    };
    let (mut indexed, mut body) = (decoded.indexed.iter(), decoded.body.iter());
    let args = known
        .params
        .iter()
        .map(|(name, is_indexed)| {
            let value = if *is_indexed { indexed.next() } else { body.next() };
            (name.clone(), value.map_or_else(|| "?".to_string(), |v| render(v, names)))
        })
        .collect();
    EventRecord { contract, name: known.name.clone(), args }
}

/// The arguments of an event whose parameters are all one-word types, read straight from the log;
/// `None` when the event has another type or the log does not have exactly its words.
fn decode_words(known: &KnownEvent, log: &Log, names: &impl Names) -> Option<Vec<(String, String)>> {
    let words = known.words.as_ref()?;
    let indexed = known.params.iter().filter(|(_, i)| *i).count();
    let topics = log.topics();
    let data = &log.data.data;
    if topics.len() != indexed + 1 || data.len() != 32 * (known.params.len() - indexed) {
        return None;
    }
    let (mut topic, mut body) = (topics[1..].iter(), data.chunks_exact(32));
    known
        .params
        .iter()
        .zip(words)
        .map(|((name, is_indexed), ty)| {
            let word = if *is_indexed { *topic.next()? } else { B256::from_slice(body.next()?) };
            Some((name.clone(), render(&ty.value(&word)?, names)))
        })
        .collect()
}

/// Renders an ABI value for a report: names for known addresses and words, decimal integers.
pub fn render(value: &DynSolValue, names: &impl Names) -> String {
    match value {
        DynSolValue::Address(a) => names.address(a).map_or_else(|| a.to_string(), str::to_string),
        DynSolValue::FixedBytes(w, 32) => names.word(w).map_or_else(|| w.to_string(), str::to_string),
        DynSolValue::FixedBytes(w, size) => format!("0x{}", hex::encode(&w[..*size])),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            format!("[{}]", items.iter().map(|v| render(v, names)).collect::<Vec<_>>().join(", "))
        }
        DynSolValue::Tuple(items) => {
            format!("({})", items.iter().map(|v| render(v, names)).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::{primitives::U256, sol_types::SolEvent};
    use kessai_bindings::dvp::DvP;

    struct NoNames;
    impl Names for NoNames {
        fn address(&self, _: &Address) -> Option<&str> {
            None
        }
        fn word(&self, w: &B256) -> Option<&str> {
            (*w == B256::repeat_byte(7)).then_some("t1")
        }
    }

    #[test]
    fn decodes_a_dvp_event_with_names_in_declaration_order() {
        let event = DvP::BatchSettled {
            batchId: B256::repeat_byte(7),
            agent: Address::repeat_byte(1),
            trades: U256::from(2),
            grossCash: U256::from(300),
            netCash: U256::from(100),
        };
        let log = Log { address: Address::repeat_byte(9), data: event.encode_log_data() };
        let record = decode(&log, &NoNames);
        assert_eq!(record.name, "BatchSettled");
        let names: Vec<&str> = record.args.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["batchId", "agent", "trades", "grossCash", "netCash"]);
        assert_eq!(record.args[0].1, "t1");
        assert_eq!(record.args[4].1, "100");
        assert!(is_known_event("TradeSettled") && is_known_error("DvPTradeExpired"));
        assert!(!is_known_event("TradeSettle"));
    }

    #[test]
    fn the_one_word_fast_path_renders_every_event_as_the_dynamic_decoder_does() {
        let mut checked = 0;
        for (selector, known) in &tables().events {
            let Some(words) = &known.words else { continue };
            let mut topics = vec![*selector];
            let mut data = Vec::new();
            for (i, ((_, indexed), ty)) in known.params.iter().zip(words).enumerate() {
                let word = match ty {
                    Word::Address => Address::repeat_byte(i as u8 + 1).into_word(),
                    Word::Bytes32 if i % 2 == 0 => B256::repeat_byte(7),
                    Word::Bytes32 => B256::repeat_byte(i as u8 + 1),
                    Word::Bool => B256::with_last_byte(1),
                    Word::Uint(_) => B256::with_last_byte(i as u8 + 3),
                };
                if *indexed { topics.push(word) } else { data.extend_from_slice(word.as_slice()) }
            }
            let log = Log::new_unchecked(Address::repeat_byte(9), topics, data.into());
            let fast = decode_words(known, &log, &NoNames).expect("canonical words decode on the fast path");
            let dynamic = decode_dynamic(Some(known), &log, String::new(), &NoNames);
            assert_eq!(fast, dynamic.args, "{}", known.name);
            checked += 1;
        }
        assert!(checked > 30, "most of the suite's events take the fast path ({checked})");
        // A word that is not a canonical encoding goes to the dynamic decoder.
        let event = &tables().events[&DvP::TradeApproved::SIGNATURE_HASH];
        let dirty = Log::new_unchecked(
            Address::ZERO,
            vec![DvP::TradeApproved::SIGNATURE_HASH, B256::ZERO, B256::repeat_byte(0xff)],
            Default::default(),
        );
        assert!(decode_words(event, &dirty, &NoNames).is_none());
    }
}
