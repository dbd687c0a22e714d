//! Tests of the parent module.

use super::*;

use crate::plan::{Arg, Plan};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-journal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("m.json.journal")
}

fn plan(symbol: &str) -> Plan {
    let from = Address::repeat_byte(1);
    Plan {
        steps: vec![
            Step::Deploy { label: "dvp".into(), artifact: "DvP".into(), from, args: vec![] },
            Step::Deploy {
                label: "registry".into(),
                artifact: "InvestorRegistry".into(),
                from,
                args: vec![Arg::Address(from), Arg::Address(from)],
            },
            Step::Deploy {
                label: "security".into(),
                artifact: "SecurityToken".into(),
                from,
                args: vec![
                    Arg::String("Bond".into()),
                    Arg::String(symbol.into()),
                    Arg::Contract("registry".into()),
                    Arg::Address(from),
                    Arg::Address(from),
                    Arg::Contract("dvp".into()),
                ],
            },
        ],
        ..Default::default()
    }
}

fn sending(step: &PreparedStep<'_>) -> Entry {
    Entry::Sending {
        step: step.index,
        description: step.step.describe(),
        spec: step.step.clone(),
        from: step.tx.from,
        nonce: step.index as u64,
        predicted: step.predicted(),
        block: 1,
        tx_hash: None,
    }
}

#[test]
fn a_torn_last_line_is_dropped_and_appending_continues() {
    let path = temp("torn");
    let mut journal = Journal::open(&path).expect("open");
    journal.append(Entry::Complete { time: 1, sent: 2, resumed: 3 }).expect("append");
    drop(journal);
    let mut file = OpenOptions::new().append(true).open(&path).expect("file");
    file.write_all(br#"{"event":"confirmed","step":1,"tx_h"#).expect("torn write");
    drop(file);
    let mut journal = Journal::open(&path).expect("reopen");
    assert_eq!(journal.entries().len(), 1);
    journal.append(Entry::Complete { time: 2, sent: 0, resumed: 0 }).expect("append");
    assert_eq!(Journal::open(&path).expect("reopen").entries().len(), 2);
}

#[test]
fn a_corrupt_line_before_the_last_is_an_error() {
    let path = temp("corrupt");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&path, "not json\n{\"event\":\"complete\",\"time\":1,\"sent\":0,\"resumed\":0}\n").expect("write");
    let err = Journal::open(&path).expect_err("corrupt");
    assert!(err.to_string().contains("line 1 is not a journal entry"), "{err}");
}

#[test]
fn appended_steps_are_compatible_and_changed_ones_are_shown_step_by_step() {
    let path = temp("diff");
    let mut journal = Journal::open(&path).expect("open");
    let old = plan("KGB31");
    let prepared = old.prepare_all().expect("prepare");
    for step in &prepared {
        journal.append(sending(step)).expect("append");
    }
    journal.check_plan(&prepared).expect("the same plan");

    let mut longer = old.clone();
    longer.steps.push(Step::GrantRole {
        contract: "security".into(),
        role: "PAUSER_ROLE".into(),
        account: Arg::Address(Address::repeat_byte(2)),
        from: Address::repeat_byte(1),
    });
    journal.check_plan(&longer.prepare_all().expect("prepare")).expect("an appended step");

    let changed = plan("KGB32");
    let err = journal.check_plan(&changed.prepare_all().expect("prepare")).expect_err("changed");
    let text = err.to_string();
    assert!(text.contains("step 2 (deploy SecurityToken as security, sent)"), "{text}");
    assert!(text.contains("journal: deploy SecurityToken as security(\"Bond\", \"KGB31\""), "{text}");
    assert!(text.contains("now:     deploy SecurityToken as security(\"Bond\", \"KGB32\""), "{text}");
    assert!(!text.contains("step 0"), "unchanged steps are not listed: {text}");

    let salted = old.clone().with_salt("other");
    let text = journal.check_plan(&salted.prepare_all().expect("prepare")).expect_err("salt").to_string();
    assert!(text.contains("step 0 (deploy DvP as dvp, sent)"), "a new salt moves every contract: {text}");

    // A step refused before sending (it would have reverted) may change.
    journal.append(Entry::Refused { step: 2, error: "reverted".into() }).expect("append");
    journal.check_plan(&changed.prepare_all().expect("prepare")).expect("step 2 was never sent");

    let shorter = Plan { steps: old.steps[..1].to_vec(), ..old };
    let text = journal.check_plan(&shorter.prepare_all().expect("prepare")).expect_err("shorter").to_string();
    assert!(text.contains("step 1 (deploy InvestorRegistry as registry, sent)"), "{text}");
    assert!(text.contains("now:     (no such step: the plan has 1 steps)"), "{text}");
}

#[test]
fn a_sending_entry_without_a_hash_reads_as_before_and_every_hash_of_a_step_is_kept() {
    let path = temp("hashes");
    let prepared_plan = plan("KGB31");
    let prepared = prepared_plan.prepare_all().expect("prepare");
    let mut journal = Journal::open(&path).expect("open");
    // An entry as journals wrote it before hashes were recorded.
    let old = serde_json::to_value(sending(&prepared[0])).expect("json");
    assert!(old.get("tx_hash").is_none(), "no hash, no field: {old}");
    let line = serde_json::to_string(&old).expect("json") + "\n";
    journal.file.write_all(line.as_bytes()).expect("write");
    let (first, second) = (B256::repeat_byte(1), B256::repeat_byte(2));
    for hash in [first, second] {
        let mut entry = sending(&prepared[1]);
        if let Entry::Sending { tx_hash, .. } = &mut entry {
            *tx_hash = Some(hash);
        }
        journal.append(entry).expect("append");
    }
    let journal = Journal::open(&path).expect("reopen");
    let records = journal.records();
    assert!(records[&0].sending.is_some() && records[&0].hashes.is_empty(), "{:?}", records[&0]);
    assert_eq!(records[&1].hashes, vec![first, second], "the original and its replacement");
    journal.check_plan(&prepared).expect("the same plan");
}

#[test]
fn the_journal_lives_next_to_the_manifest() {
    assert_eq!(Journal::path_for(Path::new("deployments/1.json")), PathBuf::from("deployments/1.json.journal"));
}
