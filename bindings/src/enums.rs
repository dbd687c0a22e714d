//! The suite's Solidity enums with their member names, read from the sources that declare them (the
//! interfaces, where the style puts them, and the value-type libraries) so a `uint8` such as
//! `canSettle`'s `(6, 0)` can be named: `AwaitingApproval`, `None`. ABIs carry only an enum's type
//! (`internalType: "enum IDvP.SettleCheck"`), never its members, and `sol!` over an ABI types an enum
//! as its `uint8`.
//!
//! ```
//! assert_eq!(kessai_bindings::enums::member("CrossChainTerms.State", 3), Some("Committed"));
//! assert_eq!(kessai_bindings::enums::member("CrossChainTerms.State", 99), None);
//! ```

use std::{collections::BTreeMap, sync::LazyLock};

/// `contracts/src/interfaces/*.sol` and the libraries that declare enums, embedded when the crate is
/// built (a unit test keeps the list equal to the folders).
const SOURCES: &[(&str, &str)] = &[
    ("IBeneficiaryUnits.sol", include_str!("../../contracts/src/interfaces/IBeneficiaryUnits.sol")),
    ("IDepositToken.sol", include_str!("../../contracts/src/interfaces/IDepositToken.sol")),
    ("IDvP.sol", include_str!("../../contracts/src/interfaces/IDvP.sol")),
    ("IInvestorRegistry.sol", include_str!("../../contracts/src/interfaces/IInvestorRegistry.sol")),
    ("IMunicipalBond.sol", include_str!("../../contracts/src/interfaces/IMunicipalBond.sol")),
    ("IPaymentRounds.sol", include_str!("../../contracts/src/interfaces/IPaymentRounds.sol")),
    ("IPermissionedToken.sol", include_str!("../../contracts/src/interfaces/IPermissionedToken.sol")),
    ("ISecurityToken.sol", include_str!("../../contracts/src/interfaces/ISecurityToken.sol")),
    ("IStraightBond.sol", include_str!("../../contracts/src/interfaces/IStraightBond.sol")),
    ("ITransferApprovals.sol", include_str!("../../contracts/src/interfaces/ITransferApprovals.sol")),
    ("IAttestationVerifier.sol", include_str!("../../contracts/src/interfaces/IAttestationVerifier.sol")),
    ("ICrossChainDelivery.sol", include_str!("../../contracts/src/interfaces/ICrossChainDelivery.sol")),
    ("ICrossChainPayment.sol", include_str!("../../contracts/src/interfaces/ICrossChainPayment.sol")),
    ("IVerifier.sol", include_str!("../../contracts/src/interfaces/IVerifier.sol")),
    ("../libraries/CrossChainTerms.sol", include_str!("../../contracts/src/libraries/CrossChainTerms.sol")),
];

/// Every enum of the suite, keyed as ABIs name its type (`IDvP.SettleCheck` for
/// `internalType: "enum IDvP.SettleCheck"`), with its members in value order (member `i` is `i`).
pub fn suite_enums() -> &'static BTreeMap<String, Vec<String>> {
    static ENUMS: LazyLock<BTreeMap<String, Vec<String>>> =
        LazyLock::new(|| collect().unwrap_or_else(|e| panic!("the embedded Solidity sources: {e}")));
    &ENUMS
}

/// The name of member `value` of enum `name` (`CrossChainTerms.State`), if both exist.
pub fn member(name: &str, value: u8) -> Option<&'static str> {
    suite_enums().get(name)?.get(usize::from(value)).map(String::as_str)
}

fn collect() -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut all = BTreeMap::new();
    for (file, source) in SOURCES {
        for (name, members) in parse(source).map_err(|e| format!("contracts/src/interfaces/{file}: {e}"))? {
            if all.insert(name.clone(), members).is_some() {
                return Err(format!("the enum {name} is declared twice (again in contracts/src/interfaces/{file})"));
            }
        }
    }
    Ok(all)
}

/// The enums declared in Solidity `source`, each named after its enclosing contract, interface or
/// library (`IDvP.SettleCheck`), or alone when declared at file level.
fn parse(source: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let tokens = tokens(source);
    let mut enums = Vec::new();
    let (mut depth, mut container) = (0usize, None::<&str>);
    let mut i = 0;
    while let Some(&token) = tokens.get(i) {
        match token {
            "{" => depth += 1,
            "}" => {
                depth = depth.checked_sub(1).ok_or("unbalanced braces")?;
                if depth == 0 {
                    container = None;
                }
            }
            "contract" | "interface" | "library" if depth == 0 => container = tokens.get(i + 1).copied(),
            "enum" => {
                let (name, members, next) = enum_at(&tokens, i + 1)?;
                enums.push((container.map_or_else(|| name.to_string(), |c| format!("{c}.{name}")), members));
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(enums)
}

/// The enum whose name is `tokens[at]`: its name, members and the index after its closing brace.
fn enum_at<'a>(tokens: &[&'a str], at: usize) -> Result<(&'a str, Vec<String>, usize), String> {
    let name = tokens.get(at).copied().filter(|t| is_identifier(t)).ok_or("an enum without a name")?;
    if tokens.get(at + 1) != Some(&"{") {
        return Err(format!("enum {name}: expected `{{` after the name"));
    }
    let mut members = Vec::new();
    let mut i = at + 2;
    loop {
        match tokens.get(i).copied() {
            Some(member) if is_identifier(member) => members.push(member.to_string()),
            _ => return Err(format!("enum {name}: expected a member name")),
        }
        match tokens.get(i + 1).copied() {
            Some(",") => i += 2,
            Some("}") => return Ok((name, members, i + 2)),
            _ => return Err(format!("enum {name}: expected `,` or `}}` after {}", members.len())),
        }
    }
}

fn is_identifier(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
}

/// Identifiers (and numbers) and single punctuation characters, without comments and string
/// literals.
fn tokens(source: &str) -> Vec<&str> {
    let bytes = source.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        let end = if rest.starts_with("//") {
            rest.find('\n').map_or(source.len(), |n| i + n)
        } else if rest.starts_with("/*") {
            rest.find("*/").map_or(source.len(), |n| i + n + 2)
        } else if bytes[i] == b'"' || bytes[i] == b'\'' {
            let quote = bytes[i];
            (i + 1..bytes.len()).find(|&j| bytes[j] == quote && bytes[j - 1] != b'\\').map_or(source.len(), |j| j + 1)
        } else if word(bytes[i]) {
            let end = (i..bytes.len()).find(|&j| !word(bytes[j])).unwrap_or(bytes.len());
            tokens.push(&source[i..end]);
            end
        } else {
            let width = rest.chars().next().map_or(1, char::len_utf8);
            if !rest.starts_with(char::is_whitespace) {
                tokens.push(&source[i..i + width]);
            }
            i + width
        };
        i = end;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_named_after_their_interface_with_members_in_value_order() {
        let source = r#"
            // enum Commented { No }
            /* enum Block { No } */
            enum Top { A }
            interface IThing {
                /// @notice Docs mention enum Docs { No } too.
                enum Kind { First, Second , Third }
                function f(string calldata s) external; // "enum Quoted { No }"
                struct S { Kind kind; }
            }
            library L { enum Flag { On, Off } }
        "#;
        let parsed = parse(source).expect("parses");
        let names: Vec<_> = parsed.iter().map(|(n, m)| (n.as_str(), m.join(","))).collect();
        assert_eq!(
            names,
            [("Top", "A".into()), ("IThing.Kind", "First,Second,Third".into()), ("L.Flag", "On,Off".into())]
        );
        assert!(parse("enum Broken { A B }").is_err());
        assert!(parse("enum { A }").is_err());
    }

    #[test]
    fn the_embedded_sources_are_every_interface_and_every_library_with_an_enum() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/src");
        let mut files = Vec::new();
        for (folder, prefix, only_enums) in [("interfaces", "", false), ("libraries", "../libraries/", true)] {
            for entry in std::fs::read_dir(src.join(folder)).expect("folder") {
                let path = entry.expect("entry").path();
                let text = std::fs::read_to_string(&path).expect("source");
                let name = path.file_name().expect("name").to_string_lossy().into_owned();
                if name.ends_with(".sol") && (!only_enums || !parse(&text).expect("parses").is_empty()) {
                    files.push(format!("{prefix}{name}"));
                }
            }
        }
        files.sort();
        let mut embedded: Vec<String> = SOURCES.iter().map(|(f, _)| f.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, files, "list every interface, and every library that declares an enum, in SOURCES");
    }

    #[test]
    fn the_suite_enums_match_the_bindings_and_name_every_enum_of_the_abis() {
        let enums = suite_enums();
        assert_eq!(enums["IDvP.SettleCheck"][6], "AwaitingApproval");
        let restrictions: Vec<String> = crate::Restriction::ALL.iter().map(|r| format!("{r:?}")).collect();
        assert_eq!(enums["IPermissionedToken.Restriction"], restrictions);
        // Every enum an ABI types a value with (`enum I.E`, or an array of them), at any depth.
        fn enum_types(params: &[alloy::json_abi::Param], out: &mut Vec<String>) {
            for p in params {
                if let Some(t) = p.internal_type().map(ToString::to_string)
                    && let Some(name) = t.strip_prefix("enum ")
                {
                    out.push(name.split('[').next().unwrap_or(name).to_string());
                }
                enum_types(&p.components, out);
            }
        }
        for artifact in crate::artifacts() {
            let abi = &artifact.abi;
            let mut found = Vec::new();
            for f in abi.functions() {
                enum_types(&f.inputs, &mut found);
                enum_types(&f.outputs, &mut found);
            }
            for e in abi.errors() {
                enum_types(&e.inputs, &mut found);
            }
            for e in abi.events() {
                for p in &e.inputs {
                    if let Some(name) = p
                        .internal_type()
                        .map(ToString::to_string)
                        .and_then(|t| t.strip_prefix("enum ").map(str::to_string))
                    {
                        found.push(name.split('[').next().unwrap_or(&name).to_string());
                    }
                    enum_types(&p.components, &mut found);
                }
            }
            assert!(
                found.iter().any(|n| n == "IPermissionedToken.Restriction")
                    || artifact.contract_name != "SecurityToken"
            );
            for name in found {
                assert!(enums.contains_key(&name), "{}: enum {name} is named", artifact.contract_name);
            }
        }
    }
}
