//! The parser's tests: accepted files, and refusals with their spans.

use super::*;
use crate::scenario::model::Advance;

const HEAD: &str = r#"[scenario]
name = "t"
start = 2031-04-01

[parties.seller]
[parties.buyer]
[parties.agent]
role = "agent"

[funding]
seller = { units = 1_000 }
"#;

/// `HEAD` is 11 lines; the step starts on line 12.
fn with_step(step: &str) -> String {
    format!("{HEAD}[[step]]\n{step}")
}

fn error(src: &str) -> ParseError {
    match parse(src) {
        Ok(_) => panic!("expected a parse error for:\n{src}"),
        Err(e) => e,
    }
}

fn assert_at(e: &ParseError, line: usize, column: usize, needle: &str) {
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert!(e.message.contains(needle), "message {:?} lacks {needle:?}", e.message);
}

const TRADE: &str = "do = \"create_trade\"\ntrade = \"t1\"\nseller = \"seller\"\nbuyer = \"buyer\"\n";

#[test]
fn a_unknown_party_points_at_its_name_and_suggests_one() {
    let src = with_step(
        "do = \"create_trade\"\ntrade = \"t1\"\nseller = \"sellr\"\nbuyer = \"buyer\"\nunits = 1\namount = 1\ndeadline = \"1d\"\n",
    );
    let e = error(&src);
    assert_at(&e, 15, 10, "unknown party `sellr`");
    assert!(e.message.contains("did you mean `seller`"), "{e}");
    assert!(e.message.contains("expected a party declared under [parties]"), "{e}");
    assert!(e.to_string().contains("^^^^^^^"), "the name is underlined: {e}");
}

#[test]
fn an_unknown_party_in_funding_or_expectations_is_located() {
    let e = error(&HEAD.replace("seller = { units", "sellerr = { units"));
    assert_at(&e, 11, 1, "unknown party `sellerr`");
    let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 5\nexpect.balances.nobody = { units = 5 }\n"));
    assert_at(&e, 16, 17, "unknown party `nobody`");
}

#[test]
fn a_bad_amount_points_at_the_value() {
    let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = -5\n"));
    assert_at(&e, 15, 9, "bad amount -5");
    assert!(e.message.contains("expected a whole number"), "{e}");
    let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = \"12abc\"\n"));
    assert_at(&e, 15, 9, "bad amount \"12abc\"");
    let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 1.5\n"));
    assert_at(&e, 15, 9, "bad amount 1.5");
    let e = error(&HEAD.replace("units = 1_000", "units = -1"));
    assert_at(&e, 11, 20, "bad amount -1");
}

#[test]
fn a_value_of_the_wrong_type_says_what_was_expected() {
    let src = with_step("do = \"batch\"\ntrades = [\"t1\"]\nnetted = \"yes\"\n");
    let e = error(&src);
    assert_at(&e, 15, 10, "invalid type: string \"yes\", expected a boolean");
    let e = error(&HEAD.replace("role = \"agent\"", "role = 7"));
    assert_at(&e, 8, 8, "invalid type: integer `7`, expected a string");
    let e = error(&with_step("do = \"advance\"\nduration = \"2x\"\n"));
    assert_at(&e, 14, 12, "bad time \"2x\"");
    assert!(e.message.contains("expected a duration like"), "{e}");
}

#[test]
fn an_unknown_step_lists_the_kinds() {
    let e = error(&with_step("do = \"settle\"\ntrade = \"t1\"\n"));
    assert_at(&e, 13, 6, "unknown step `settle`");
    assert!(e.message.contains("`settle_signed`") && e.message.contains("`create_trade`"), "{e}");
}

#[test]
fn a_missing_field_points_at_its_table() {
    let e = error(&with_step(&format!("{TRADE}amount = 1\ndeadline = \"1d\"\n")));
    assert_at(&e, 12, 1, "missing field `units`");
    assert!(e.message.contains("states its terms"), "{e}");
    let e = error(&with_step("do = \"issue\"\nto = \"seller\"\n"));
    assert_at(&e, 12, 1, "missing field `units`: `issue` steps need `to` and `units`");
    let e = error(&with_step("trade = \"t1\"\n"));
    assert_at(&e, 12, 1, "missing field `do`");
    let e = error("[scenario]\nstart = 2031-04-01\n");
    assert_at(&e, 1, 1, "missing field `name`");
}

#[test]
fn a_field_another_kind_takes_is_refused_where_it_stands() {
    let src = with_step(&format!("{TRADE}units = 1\namount = 1\ndeadline = \"1d\"\nnetted = true\n"));
    let e = error(&src);
    assert_at(&e, 20, 10, "`netted` does not apply to `create_trade` steps");
    let e = error(&with_step("do = \"pay\"\ntrade = \"t1\"\ncolour = \"red\"\n"));
    assert_at(&e, 15, 1, "unknown field `colour`");
}

#[test]
fn trades_events_and_errors_are_checked_by_name() {
    let e = error(&with_step("do = \"pay\"\ntrade = \"t9\"\n"));
    assert_at(&e, 14, 9, "unknown trade `t9`");
    let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 5\nexpect.events = [\"Isued\"]\n"));
    assert_at(&e, 16, 18, "unknown event `Isued` (did you mean `Issued`?)");
    let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 5\nexpect.error = \"DvPTradeExpird\"\n"));
    assert_at(&e, 16, 16, "unknown error `DvPTradeExpird` (did you mean `DvPTradeExpired`?)");
    let e = error(&with_step(&format!(
        "{TRADE}units = 1\namount = 1\ndeadline = \"1d\"\n\n[[step]]\ndo = \"create_trade\"\ntrade = \"t1\"\nunits = 2\n"
    )));
    assert_at(&e, 24, 9, "trade `t1` was defined at line 14");
}

#[test]
fn a_valid_file_becomes_the_model_with_setup_steps_first() {
    let src = with_step(&format!(
        "{TRADE}agent = \"agent\"\nunits = 100\namount = 1_000_000\ndeadline = \"2d 12h\"\n\
         expect.balances.seller = {{ units = 1000, units_held = 100 }}\nexpect.trades.t1 = \"open\"\n\n\
         [[step]]\ndo = \"advance\"\nuntil = 2031-04-04T00:00:00Z\n"
    ));
    let s = parse(&src).expect("parses");
    assert_eq!(s.start, Some(1_932_768_000), "2031-04-01T00:00:00Z");
    let names: Vec<&str> = s.parties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["operator", "registrar", "issuer", "bank", "authority", "seller", "buyer", "agent"]);
    // Registration of both investors in both registries, the funding, then the timeline.
    let kinds: Vec<&str> = s.steps.iter().map(|s| s.action.kind()).collect();
    assert_eq!(kinds, ["register", "register", "register", "register", "issue", "create_trade", "advance"]);
    assert_eq!(s.trades[0].terms.deadline, 2 * DAY + 12 * 3_600);
    assert_eq!(s.trades[0].terms.agent, Some(7));
    assert_eq!(s.steps[5].origin, Origin::Timeline { number: 1, line: 12 });
    assert_eq!(s.steps[6].action, Action::Advance(Advance::Until(3 * DAY)));
    assert_eq!(s.watch, [Holder::Party(5), Holder::Party(6)]);
}

#[test]
fn a_party_address_with_a_wrong_checksum_is_refused_where_it_stands() {
    let src = HEAD
        .replace("role = \"agent\"\n", "role = \"agent\"\naddress = \"0x15d34AAf54267DB7D7c367839AAf71A00a2C6a65\"\n");
    let e = error(&src);
    assert_at(&e, 9, 11, "0x15d34AAf54267DB7D7c367839AAf71A00a2C6a65 has a wrong EIP-55 checksum");
    assert!(e.message.contains("did you mean 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65?"), "{e}");
    let e = error(&src.replace("0x15d34AAf54267DB7D7c367839AAf71A00a2C6a65", "agent-wallet"));
    assert_at(&e, 9, 11, "\"agent-wallet\" is not an address");
}

#[test]
fn a_party_address_is_checked_or_one_case_and_played_by_one_party() {
    let agent = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
    for written in [agent.to_string(), agent.to_lowercase()] {
        let src = HEAD.replace("role = \"agent\"\n", &format!("role = \"agent\"\naddress = \"{written}\"\n"));
        let s = parse(&src).expect("parses");
        assert_eq!(s.parties[7].address.map(|a| a.to_string()).as_deref(), Some(agent));
        assert_eq!(s.parties[5].address, None);
    }
    let src = HEAD
        .replace("[parties.buyer]\n", &format!("[parties.buyer]\naddress = \"{agent}\"\n"))
        .replace("role = \"agent\"\n", &format!("role = \"agent\"\naddress = \"{agent}\"\n"));
    let e = error(&src);
    assert_at(&e, 10, 11, &format!("{agent} already plays `buyer` (line 6)"));
}

#[test]
fn durations_and_dates() {
    assert_eq!(parse_duration("2d"), Some(2 * DAY));
    assert_eq!(parse_duration("1d 12h 30m 5s"), Some(DAY + 12 * 3_600 + 30 * 60 + 5));
    assert_eq!(parse_duration("+1w"), Some(7 * DAY));
    assert_eq!(parse_duration("0"), Some(0));
    for bad in ["", "2", "d", "2x", "1d 2", "-1d"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
    let dt: Datetime = "1970-01-02T00:00:01+09:00".parse().expect("datetime");
    assert_eq!(unix_time(&dt), Some(86_401 - 9 * 3_600));
    let dt: Datetime = "2000-03-01".parse().expect("date");
    assert_eq!(unix_time(&dt), Some(951_868_800));
}

#[test]
fn the_example_scenarios_parse() {
    for (name, src) in [
        ("dcjpy_pilot", include_str!("../../../../scenarios/dcjpy_pilot.toml")),
        ("municipal_bond", include_str!("../../../../scenarios/municipal_bond.toml")),
        ("failures", include_str!("../../../../scenarios/failures.toml")),
    ] {
        let s = parse(src).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(s.parties.len() <= 10, "{name} fits Anvil's ten development keys");
    }
}
