//! Where the attestors put their signatures and the relayers find them: a folder, shared by the
//! processes `kessai attest` and `kessai relay` run as, or memory, shared by the actors of one
//! process (the simulator's, which runs hundreds of thousands of events and should not list a
//! folder for each). Both hold the same thing under the same names: one attestation per statement
//! and attestor, written whole, never changed after ([`name`]).

use super::{Attestation, Statement};
use crate::error::DeployerError;
use alloy::primitives::{Address, B256};
use std::{
    collections::{HashMap, HashSet},
    ffi::OsString,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

/// The name `attestor`'s signature of `statement` goes under: the trade, the state and the
/// attestor, so each attestor signs each record once and a reader finds a trade's signatures by
/// name.
pub fn name(statement: &Statement, attestor: Address) -> String {
    format!("{}-{}-{attestor}.json", statement.terms_hash, statement.state)
}

/// The file `attestor` writes its signature of `statement` into, in the folder `inbox`.
pub fn attestation_file(inbox: &Path, statement: &Statement, attestor: Address) -> PathBuf {
    inbox.join(name(statement, attestor))
}

/// The attestations in the folder `inbox` (every `*.json` file; unreadable ones are skipped: a
/// half-written or foreign file is not an attestation).
pub fn read_inbox(inbox: &Path) -> Vec<Attestation> {
    let Ok(entries) = std::fs::read_dir(inbox) else { return Vec::new() };
    entries.filter_map(Result::ok).filter_map(|e| read_attestation(&e.path())).collect()
}

fn read_attestation(path: &Path) -> Option<Attestation> {
    if path.extension().is_none_or(|x| x != "json") {
        return None;
    }
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// An inbox: a folder, or memory shared by clones of one value.
#[derive(Clone, Debug)]
pub enum Inbox {
    /// One file per attestation in this folder.
    Folder(PathBuf),
    /// In this process's memory.
    Memory(Arc<Mutex<Memory>>),
}

/// An inbox in memory: the attestations by name, and the names in the order they came. Each is
/// checked once for the whole process: the readers share its check.
#[derive(Debug, Default)]
pub struct Memory {
    by_name: HashMap<String, Arc<Checked>>,
    order: Vec<String>,
    /// The same attestations by (terms hash, state): readers look here rather than keep a copy, so
    /// a reader started late costs nothing however full the inbox.
    by_record: HashMap<(B256, u8), Vec<Arc<Checked>>>,
}

impl From<PathBuf> for Inbox {
    fn from(folder: PathBuf) -> Self {
        Self::Folder(folder)
    }
}

impl From<&Path> for Inbox {
    fn from(folder: &Path) -> Self {
        Self::Folder(folder.to_path_buf())
    }
}

impl Inbox {
    /// A new, empty inbox in memory.
    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    fn lock(memory: &Mutex<Memory>) -> std::sync::MutexGuard<'_, Memory> {
        memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes sure it can be written to (creates the folder).
    pub fn prepare(&self) -> Result<(), DeployerError> {
        if let Self::Folder(dir) = self {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }

    /// Whether something is under `name`.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Self::Folder(dir) => dir.join(name).exists(),
            Self::Memory(m) => Self::lock(m).by_name.contains_key(name),
        }
    }

    /// The attestation under `name`, if there is a readable one.
    pub fn get(&self, name: &str) -> Option<Attestation> {
        match self {
            Self::Folder(dir) => read_attestation(&dir.join(name)),
            Self::Memory(m) => Self::lock(m).by_name.get(name).map(|c| c.attestation.clone()),
        }
    }

    /// Puts `attestation` under `name`, whole or not at all (in a folder: a temporary file, then a
    /// rename).
    pub fn put(&self, name: &str, attestation: &Attestation) -> Result<(), DeployerError> {
        match self {
            Self::Folder(dir) => {
                let path = dir.join(name);
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, serde_json::to_vec_pretty(attestation)?)?;
                std::fs::rename(tmp, path)?;
            }
            Self::Memory(m) => {
                let mut memory = Self::lock(m);
                let checked = Arc::new(Checked::new(attestation.clone()));
                let s = attestation.statement;
                let record = memory.by_record.entry((s.terms_hash, s.state)).or_default();
                record.push(Arc::clone(&checked));
                match memory.by_name.insert(name.to_owned(), checked) {
                    None => memory.order.push(name.to_owned()),
                    Some(old) => {
                        let o = old.attestation.statement;
                        if let Some(record) = memory.by_record.get_mut(&(o.terms_hash, o.state)) {
                            record.retain(|c| !Arc::ptr_eq(c, &old));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// What was put in a memory inbox from the `from`-th new name on, in the order it came, with
    /// its names (a folder keeps no order: nothing).
    pub fn entries_from(&self, from: usize) -> Vec<(String, Attestation)> {
        match self {
            Self::Folder(_) => Vec::new(),
            Self::Memory(m) => {
                let memory = Self::lock(m);
                let names = memory.order.get(from..).unwrap_or_default();
                names.iter().filter_map(|n| Some((n.clone(), memory.by_name.get(n)?.attestation.clone()))).collect()
            }
        }
    }

    /// Every attestation in it.
    pub fn all(&self) -> Vec<Attestation> {
        match self {
            Self::Folder(dir) => read_inbox(dir),
            Self::Memory(m) => {
                let memory = Self::lock(m);
                memory.order.iter().filter_map(|n| Some(memory.by_name.get(n)?.attestation.clone())).collect()
            }
        }
    }
}

/// An inbox as a reader keeps it between passes: a folder's attestations each parsed once (they are
/// written whole and never changed) and kept by trade and state; a memory inbox's looked up in its
/// own index. Each signature is checked the first time a proof of its statement is looked for (a
/// relayer started late checks only the open trades').
#[derive(Debug, Default)]
pub(super) struct Read {
    /// The files read from a folder (an unreadable one is tried again next pass).
    seen: HashSet<OsString>,
    /// How many of a memory inbox's attestations were seen.
    taken: usize,
    /// A folder's attestations by (terms hash, state).
    by_record: HashMap<(B256, u8), Vec<Arc<Checked>>>,
    /// A memory inbox, whose own index the reader looks in.
    shared: Option<Arc<Mutex<Memory>>>,
}

/// An attestation and, once checked, whether its signature recovers to its attestor.
#[derive(Debug)]
pub struct Checked {
    attestation: Attestation,
    valid: OnceLock<bool>,
}

impl Checked {
    fn new(attestation: Attestation) -> Self {
        Self { attestation, valid: OnceLock::new() }
    }

    /// The attestation.
    pub(super) fn attestation(&self) -> &Attestation {
        &self.attestation
    }

    fn is_valid(&self) -> bool {
        *self.valid.get_or_init(|| self.attestation.is_valid())
    }
}

impl Read {
    /// Reads what appeared in `inbox` since the last call; returns how many.
    pub(super) fn refresh(&mut self, inbox: &Inbox) -> usize {
        let mut new = Vec::new();
        match inbox {
            Inbox::Folder(dir) => {
                let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
                for entry in entries.filter_map(Result::ok) {
                    let name = entry.file_name();
                    if self.seen.contains(&name) {
                        continue;
                    }
                    let Some(attestation) = read_attestation(&entry.path()) else { continue };
                    self.seen.insert(name);
                    new.push(Arc::new(Checked::new(attestation)));
                }
            }
            Inbox::Memory(m) => {
                let seen = Inbox::lock(m).order.len();
                self.shared = Some(Arc::clone(m));
                return seen - std::mem::replace(&mut self.taken, seen);
            }
        }
        let count = new.len();
        for checked in new {
            let s = checked.attestation.statement;
            self.by_record.entry((s.terms_hash, s.state)).or_default().push(checked);
        }
        count
    }

    /// The valid attestations of exactly `statement` by members of `set`.
    pub(super) fn of(&self, statement: &Statement, set: &[Address]) -> Vec<Arc<Checked>> {
        let key = (statement.terms_hash, statement.state);
        let all = match &self.shared {
            Some(m) => Inbox::lock(m).by_record.get(&key).cloned(),
            None => self.by_record.get(&key).cloned(),
        };
        let matching = all.unwrap_or_default().into_iter();
        let of = matching.filter(|c| c.attestation.statement == *statement && set.contains(&c.attestation.attestor));
        of.filter(|c| c.is_valid()).collect()
    }
}
