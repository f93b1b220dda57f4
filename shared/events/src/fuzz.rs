//! Random and mutated events for the functions' fuzz tests (issue 9, "Bad input"): a seeded
//! generator, hostile values (huge numbers, long and unusual strings, deep nesting, large
//! arrays, DynamoDB attribute values of every type), mutations of valid events (keys deleted,
//! renamed or duplicated, types changed, values replaced) and of their serialized text
//! (truncated, bytes flipped, deleted or inserted). Each function supplies a generator of the
//! events it accepts; [`input`] turns it into one case of a fuzz run, and the two loops every
//! function's fuzz tests share, [`decode_cases`] and [`handle_cases`], run the cases through
//! the function's decoder and its handler, leaving the function only its own checks.
//!
//! Deterministic: case `i` of seed `s` is always the same input, so a failure is replayed from
//! the two numbers that [`CaseGuard`] prints when a case panics.
//!
//! Test support only (the `fuzz` feature): nothing here runs in a Lambda.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value, json};

/// SplitMix64: tiny, fast and good enough to pick mutations; not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for case `case` of the run seeded with `seed`: every case can be replayed
    /// alone.
    pub fn for_case(seed: u64, case: u64) -> Self {
        let mut rng = Rng(seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The run's seed: `FLEETOPT_FUZZ_SEED` when set (to replay or vary a run), else a fixed one.
pub fn seed() -> u64 {
    std::env::var("FLEETOPT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00F1_EE70_9710)
}

/// How many cases to run: `FLEETOPT_FUZZ_CASES` when set (more for a long run), else `default`.
pub fn cases(default: u64) -> u64 {
    std::env::var("FLEETOPT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Only this case, when `FLEETOPT_FUZZ_CASE` is set: to replay one failure and see its input.
pub fn only_case() -> Option<u64> {
    std::env::var("FLEETOPT_FUZZ_CASE")
        .ok()
        .and_then(|s| s.parse().ok())
}

/// The case numbers a fuzz test runs: only `FLEETOPT_FUZZ_CASE` when it is set, else
/// [`cases`]`(default)` of them from 0.
pub fn case_numbers(default: u64) -> Box<dyn Iterator<Item = u64>> {
    match only_case() {
        Some(case) => Box::new(std::iter::once(case)),
        None => Box::new(0..cases(default)),
    }
}

/// Prints a case's input (`None`: text that is not JSON) when one case is replayed.
pub fn replay(test: &str, input: &Option<Value>) {
    if only_case().is_some() {
        let text = input.as_ref().map(Value::to_string);
        eprintln!("{test} input: {text:?}");
    }
}

/// Says which case was running when a panic unwinds through it, so that it can be replayed.
#[derive(Debug)]
pub struct CaseGuard {
    /// The test.
    pub test: &'static str,
    /// The run's seed.
    pub seed: u64,
    /// The case.
    pub case: u64,
}

impl Drop for CaseGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "{}: case {} of seed {} panicked; replay it with FLEETOPT_FUZZ_SEED={} \
                 FLEETOPT_FUZZ_CASE={} (which prints the input)",
                self.test, self.case, self.seed, self.seed, self.case
            );
        }
    }
}

/// The shared AWS event shapes (`fixtures/`), compiled in.
pub const FIXTURES: [(&str, &str); 6] = [
    (
        "eventbridge-schedule.json",
        include_str!("../fixtures/eventbridge-schedule.json"),
    ),
    (
        "eventbridge-alarm-state-change.json",
        include_str!("../fixtures/eventbridge-alarm-state-change.json"),
    ),
    (
        "eventbridge-alarm-state-change-ok.json",
        include_str!("../fixtures/eventbridge-alarm-state-change-ok.json"),
    ),
    (
        "cloudwatch-alarm-lambda-action.json",
        include_str!("../fixtures/cloudwatch-alarm-lambda-action.json"),
    ),
    ("s3-put.json", include_str!("../fixtures/s3-put.json")),
    (
        "sqs-message.json",
        include_str!("../fixtures/sqs-message.json"),
    ),
];

/// The shards the fuzzed payloads name: the functions' own account and region, then a member's.
pub const SHARDS: [(&str, &str); 2] =
    [("123456789012", "us-east-1"), ("111122223333", "eu-west-1")];

/// Adds one of [`SHARDS`]' `accountId` and `region` to a manual payload, `percent` of the time.
pub fn shard_keys(rng: &mut Rng, payload: &mut Map<String, Value>, percent: u64) {
    if rng.chance(percent) {
        let (account, region) = *rng.pick(&SHARDS);
        payload.insert("accountId".into(), json!(account));
        payload.insert("region".into(), json!(region));
    }
}

/// One of the shared fixtures, parsed (`Null` for an unknown name).
pub fn fixture(name: &str) -> Value {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, text)| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null)
}

/// Strings that have broken parsers before: empty, blank, control characters, unicode that
/// is wide, combining, right-to-left or invisible, words the decoders look for in the wrong
/// place, times at and past chrono's limits, numbers as text.
const ODD_STRINGS: &[&str] = &[
    "",
    " ",
    "\t\n\r",
    "\u{0}",
    "web\u{0}",
    "\u{7f}\u{1b}[31m",
    "🚀🔥💥",
    "e\u{301}\u{301}\u{301}",
    "\u{202e}bew",
    "\u{feff}web",
    "we\u{200b}b",
    "自动伸缩组",
    "Ωμέγα",
    "𝕨𝕖𝕓",
    "\"",
    "\\",
    "{}",
    "[]",
    "null",
    "true",
    "%s%n%x",
    "' OR 1=1 --",
    "../../etc/passwd",
    "ALARM",
    "OK",
    "INSUFFICIENT_DATA",
    "alarm",
    "Scheduled Event",
    "CloudWatch Alarm State Change",
    "INSERT",
    "MODIFY",
    "REMOVE",
    "insert",
    "PENDING",
    "APPROVED",
    "IN_PROGRESS",
    "SNOOZED",
    "SCALE_UP",
    "SCALE_DOWN",
    "HIGH",
    "SET_DESIRED_CAPACITY",
    "aws:dynamodb",
    "aws:sqs",
    "web",
    "api",
    "account:reserved-instances",
    "2026-11-23T09:00:00Z",
    "2026-11-23T09:00:00.999999999Z",
    "2026-11-23T09:00:00+14:00",
    "2026-11-23T09:00:00-23:59",
    "2026-02-30T00:00:00Z",
    "2026-11-23 09:00:00",
    "1970-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "+262142-12-31T23:59:59Z",
    "-262143-01-01T00:00:00Z",
    "+999999-01-01T00:00:00Z",
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "9223372036854775807",
    "1e308",
    "1e400",
    "-1e400",
    "NaN",
    "inf",
    "-0",
    "0x10",
    "1_000",
    "３",
];

/// Numbers at the edges of every integer and float type the decoders use.
fn odd_number(rng: &mut Rng) -> Value {
    let n = match rng.below(20) {
        0 => Number::from(0u64),
        1 => Number::from(-1i64),
        2 => Number::from(u64::from(u32::MAX)),
        3 => Number::from(u64::from(u32::MAX) + 1),
        4 => Number::from(i64::MAX),
        5 => Number::from(i64::MIN),
        6 => Number::from(u64::MAX),
        7 => Number::from((1u64 << 53) + 1),
        8 => Number::from(-(1i64 << 53) - 1),
        9 => Number::from(rng.next_u64()),
        10 => Number::from(rng.next_u64() as i64),
        11 => Number::from(rng.between(0, 100)),
        12 => float(f64::MAX),
        13 => float(f64::MIN),
        14 => float(f64::MIN_POSITIVE),
        15 => float(-0.0),
        16 => float(1e-300),
        17 => float(0.5),
        18 => float(-1.5e10),
        _ => float(f64::from_bits(rng.next_u64())),
    };
    Value::Number(n)
}

/// A finite float as a JSON number (NaN and infinities are not JSON: 0 instead).
fn float(f: f64) -> Number {
    Number::from_f64(f).unwrap_or_else(|| Number::from(0u64))
}

/// A random string: mostly ordinary, often odd, sometimes long (a few thousand characters,
/// now and then 64 KiB; [`huge`] goes up to a megabyte, the order of Lambda's payload limit).
pub fn string(rng: &mut Rng) -> String {
    match rng.below(100) {
        0..=39 => (*rng.pick(ODD_STRINGS)).to_owned(),
        40..=64 => {
            let len = rng.below(24);
            (0..len)
                .map(|_| char::from(b'a' + rng.below(26) as u8))
                .collect()
        }
        65..=79 => {
            // Any scalar value, including the unassigned, private-use and noncharacters.
            let len = 1 + rng.below(16);
            (0..len)
                .filter_map(|_| char::from_u32(rng.below(0x11_0000) as u32))
                .collect()
        }
        80..=91 => {
            let unit = *rng.pick(&["a", "é", "🚀", "\u{301}", "web,", "\\\"", "\u{0}"]);
            unit.repeat(rng.between(100, 2_000) as usize)
        }
        92..=98 => "x".repeat(rng.between(250, 260) as usize),
        _ => "w".repeat(1 << 16),
    }
}

/// A DynamoDB attribute value of any type, in the stream's JSON.
pub fn attribute(rng: &mut Rng, depth: u32) -> Value {
    let scalar = |rng: &mut Rng| -> Value {
        match rng.below(4) {
            0 => json!(string(rng)),
            1 => json!(rng.pick(ODD_STRINGS)),
            2 => odd_number(rng),
            _ => json!(rng.next_u64().to_string()),
        }
    };
    let kind = if depth == 0 {
        rng.below(9)
    } else {
        rng.below(11)
    };
    match kind {
        0 => json!({ "S": scalar(rng) }),
        1 => json!({ "N": scalar(rng) }),
        2 => json!({ "BOOL": scalar(rng) }),
        3 => json!({ "NULL": true }),
        4 => json!({ "B": "AAEC" }),
        5 => json!({ "SS": [scalar(rng), scalar(rng)] }),
        6 => json!({ "NS": ["1", scalar(rng)] }),
        7 => json!({ "BS": ["AAEC", scalar(rng)] }),
        8 => json!({ "S": "x", "N": "1" }),
        9 => {
            let items: Vec<Value> = (0..rng.below(4))
                .map(|_| attribute(rng, depth - 1))
                .collect();
            json!({ "L": items })
        }
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                map.insert(string(rng), attribute(rng, depth - 1));
            }
            json!({ "M": map })
        }
    }
}

/// A random JSON value, at most `depth` levels deep.
pub fn value(rng: &mut Rng, depth: u32) -> Value {
    let kind = if depth == 0 {
        rng.below(5)
    } else {
        rng.below(9)
    };
    match kind {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => odd_number(rng),
        3 | 4 => Value::String(string(rng)),
        5 => Value::Array((0..rng.below(5)).map(|_| value(rng, depth - 1)).collect()),
        6 => attribute(rng, 2),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(6) {
                let key = if rng.chance(30) {
                    (*rng.pick(KEYS)).to_owned()
                } else {
                    string(rng)
                };
                map.insert(key, value(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

/// Keys the decoders look for, to put in the wrong places.
const KEYS: &[&str] = &[
    "detail-type",
    "detail",
    "alarmData",
    "Records",
    "eventSource",
    "eventName",
    "dynamodb",
    "SequenceNumber",
    "NewImage",
    "OldImage",
    "state",
    "value",
    "configuration",
    "metrics",
    "dimensions",
    "AutoScalingGroupName",
    "autoScalingGroupName",
    "autoScalingGroupNames",
    "dryRun",
    "sweep",
    "time",
    "status",
    "version",
];

/// Something large: a deep nesting (up to the 128 levels the Lambda runtime's JSON parser
/// allows), a long array, a wide object or a long string.
pub fn huge(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => {
            let depth = rng.between(1, 120);
            let mut v = value(rng, 0);
            for _ in 0..depth {
                v = if rng.chance(50) {
                    Value::Array(vec![v])
                } else {
                    let mut m = Map::new();
                    m.insert((*rng.pick(KEYS)).to_owned(), v);
                    Value::Object(m)
                };
            }
            v
        }
        1 => {
            let len = if rng.chance(3) { 100_000 } else { 2_000 };
            let element = if rng.chance(50) {
                odd_number(rng)
            } else {
                json!(rng.pick(ODD_STRINGS))
            };
            Value::Array(vec![element; len])
        }
        2 => {
            let mut m = Map::new();
            for i in 0..rng.between(100, 5_000) {
                m.insert(format!("k{i}"), Value::from(i));
            }
            Value::Object(m)
        }
        _ => Value::String("z".repeat(1 << rng.between(16, 20))),
    }
}

/// A random node of `v`: the root or something under it, deeper nodes less often.
// `i < len`, the container's length, so the child exists.
#[allow(clippy::expect_used)]
fn node<'a>(rng: &mut Rng, v: &'a mut Value) -> &'a mut Value {
    let mut current = v;
    loop {
        let len = match &*current {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if len == 0 || rng.chance(20) {
            return current;
        }
        let i = rng.below(len);
        current = match current {
            Value::Object(m) => m.values_mut().nth(i).expect("i < len"),
            Value::Array(a) => &mut a[i],
            other => return other,
        };
    }
}

/// A random node of `v`, to copy elsewhere.
fn node_ref<'a>(rng: &mut Rng, v: &'a Value) -> &'a Value {
    let mut current = v;
    loop {
        let child = match current {
            Value::Object(m) if !m.is_empty() && !rng.chance(20) => {
                m.values().nth(rng.below(m.len()))
            }
            Value::Array(a) if !a.is_empty() && !rng.chance(20) => a.get(rng.below(a.len())),
            _ => None,
        };
        match child {
            Some(child) => current = child,
            None => return current,
        }
    }
}

/// A key like `key` but not it: another case, a typo, padding, a lookalike.
fn renamed(rng: &mut Rng, key: &str) -> String {
    match rng.below(6) {
        0 => key.to_uppercase(),
        1 => key.to_lowercase(),
        2 => format!("{key} "),
        3 => key.chars().rev().collect(),
        4 => key.replacen('e', "е", 1), // Cyrillic е
        _ => String::new(),
    }
}

/// A value of another type carrying the same information, the way a hand-written event
/// gets it wrong: a number as a string, a string as a number, an object as an array.
fn retyped(rng: &mut Rng, v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(b) => {
            if rng.chance(50) {
                json!(b.to_string())
            } else {
                json!(u8::from(*b))
            }
        }
        Value::Number(n) => json!(n.to_string()),
        Value::String(s) => match s.parse::<f64>() {
            Ok(f) => Value::Number(float(f)),
            Err(_) => {
                if rng.chance(50) {
                    json!([s])
                } else {
                    json!({ "S": s })
                }
            }
        },
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
        Value::Object(m) => Value::Array(m.values().cloned().collect()),
    }
}

/// One mutation somewhere in `v`.
pub fn mutate(rng: &mut Rng, v: &mut Value) {
    let donor = if rng.chance(30) {
        Some(node_ref(rng, v).clone())
    } else {
        None
    };
    let target = node(rng, v);
    match (target, rng.below(12)) {
        // Delete, rename or duplicate a member.
        (Value::Object(m), 0..=2) if !m.is_empty() => {
            let key = m
                .keys()
                .nth(rng.below(m.len()))
                .cloned()
                .unwrap_or_default();
            m.remove(&key);
        }
        (Value::Object(m), 3) if !m.is_empty() => {
            let key = m
                .keys()
                .nth(rng.below(m.len()))
                .cloned()
                .unwrap_or_default();
            if let Some(member) = m.remove(&key) {
                m.insert(renamed(rng, &key), member);
            }
        }
        (Value::Object(m), 4) => {
            let key = if rng.chance(50) {
                (*rng.pick(KEYS)).to_owned()
            } else {
                string(rng)
            };
            let member = donor.unwrap_or_else(|| value(rng, 2));
            m.insert(key, member);
        }
        (Value::Array(a), 0..=2) if !a.is_empty() => {
            a.remove(rng.below(a.len()));
        }
        (Value::Array(a), 3 | 4) if !a.is_empty() => {
            let copy = a[rng.below(a.len())].clone();
            for _ in 0..1 + rng.below(3) {
                a.push(copy.clone());
            }
        }
        // Change the type, or put something else entirely in its place.
        (target, 5 | 6) => *target = retyped(rng, target),
        (target, 7) => *target = odd_number(rng),
        (target, 8) => *target = Value::String(string(rng)),
        (target, 9) => *target = donor.unwrap_or_else(|| value(rng, 3)),
        (target, 10) => {
            *target = match target {
                Value::Object(_) => json!({}),
                Value::Array(_) => json!([]),
                Value::String(_) => json!(""),
                _ => Value::Null,
            }
        }
        (target, _) => *target = attribute(rng, 2),
    }
}

/// `event` with a key written twice in its text (JSON allows it; parsers keep the last).
fn duplicate_key(rng: &mut Rng, event: &Value) -> Vec<u8> {
    const MARK: &str = "\u{1}dup\u{1}";
    let mut marked = event.clone();
    if let Value::Object(m) = node(rng, &mut marked)
        && let Some(key) = m.keys().nth(rng.below(m.len())).cloned()
    {
        m.insert(format!("{MARK}{key}"), value(rng, 1));
    }
    serde_json::to_string(&marked)
        .unwrap_or_default()
        .replace("\\u0001dup\\u0001", "")
        .into_bytes()
}

/// Bytes that break JSON text in interesting ways.
const JUNK: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\\udc00\\ud800",
    b"\0",
    b"null",
    b"1e999",
    b"-",
    b"\xc3\xa9",
    b"\xf0\x9f\x9a\x80",
    b"\xff\xfe",
    b"\xc3",
    b" ",
    b"/*",
    b"NaN",
];

/// One mutation of serialized JSON: truncated at any byte, a byte changed, a range deleted
/// or duplicated, junk inserted.
pub fn mutate_text(rng: &mut Rng, text: &mut Vec<u8>) {
    if text.is_empty() {
        let junk: &[u8] = JUNK[rng.below(JUNK.len())];
        text.extend_from_slice(junk);
        return;
    }
    let at = rng.below(text.len() + 1);
    match rng.below(6) {
        0 | 1 => text.truncate(at),
        2 => {
            if at < text.len() {
                text[at] = rng.next_u64() as u8;
            }
        }
        3 => {
            let end = (at + 1 + rng.below(16)).min(text.len());
            text.drain(at..end);
        }
        4 => {
            let end = (at + 1 + rng.below(64)).min(text.len());
            let copy = text[at..end].to_vec();
            text.splice(at..at, copy);
        }
        _ => {
            let junk = rng.pick(JUNK);
            text.splice(at..at, junk.iter().copied());
        }
    }
}

/// Nesting deeper than any parser should follow, as text: the Lambda runtime's parser refuses
/// it past 128 levels, before any handler sees it.
fn deep_text(rng: &mut Rng) -> Vec<u8> {
    let depth = rng.between(100, 100_000) as usize;
    let (open, close) = if rng.chance(50) {
        ("[", "]")
    } else {
        ("{\"detail\":", "}")
    };
    let mut text = open.repeat(depth);
    text.push('1');
    if rng.chance(80) {
        text.push_str(&close.repeat(depth));
    }
    text.into_bytes()
}

/// Where a case's input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// An event the function accepts, from its generator: it must decode.
    Valid,
    /// A valid event with 1 to 4 mutations of its JSON.
    Mutated,
    /// A valid event's text, truncated or corrupted, then parsed as the runtime does.
    Text,
    /// Any JSON.
    Random,
    /// A valid event with something huge inside, or huge at the top.
    Huge,
    /// Another service's event (S3, SQS, another function's), perhaps mutated.
    Foreign,
}

/// One case's input: where it came from, and the JSON the handler would get (`None` when the
/// text does not parse, which the Lambda runtime refuses before any handler runs).
pub fn input(rng: &mut Rng, valid: &mut dyn FnMut(&mut Rng) -> Value) -> (Origin, Option<Value>) {
    let roll = rng.below(100);
    if roll < 15 {
        return (Origin::Valid, Some(valid(rng)));
    }
    if roll < 58 {
        let mut event = valid(rng);
        for _ in 0..1 + rng.below(4) {
            mutate(rng, &mut event);
        }
        return (Origin::Mutated, Some(event));
    }
    if roll < 78 {
        let event = valid(rng);
        let mut text = match rng.below(10) {
            0 => duplicate_key(rng, &event),
            1 => deep_text(rng),
            _ => serde_json::to_vec(&event).unwrap_or_default(),
        };
        for _ in 0..rng.below(3) {
            mutate_text(rng, &mut text);
        }
        return (Origin::Text, serde_json::from_slice(&text).ok());
    }
    if roll < 88 {
        return (Origin::Random, Some(value(rng, 4)));
    }
    if roll < 94 {
        let mut event = valid(rng);
        let big = huge(rng);
        if rng.chance(15) {
            return (Origin::Huge, Some(big));
        }
        *node(rng, &mut event) = big;
        return (Origin::Huge, Some(event));
    }
    let mut event = match rng.below(4) {
        0 => fixture("s3-put.json"),
        1 => fixture("sqs-message.json"),
        _ => {
            let (_, text) = rng.pick(&FIXTURES);
            serde_json::from_str(text).unwrap_or(Value::Null)
        }
    };
    if rng.chance(50) {
        mutate(rng, &mut event);
    }
    (Origin::Foreign, Some(event))
}

/// A valid RFC 3339 time in 2026, as EventBridge writes them.
pub fn time(rng: &mut Rng) -> String {
    format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        rng.between(1, 12),
        rng.between(1, 28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

/// An EventBridge "Scheduled Event", with its ids and time varied.
pub fn schedule(rng: &mut Rng) -> Value {
    let mut event = fixture("eventbridge-schedule.json");
    event["id"] = json!(format!("{:016x}", rng.next_u64()));
    event["time"] = json!(time(rng));
    if rng.chance(20) {
        event["resources"] = json!([]);
    }
    event
}

/// An alarm's state, as both alarm shapes carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// ALARM: the function acts.
    Alarm,
    /// OK: nothing to do.
    Ok,
    /// INSUFFICIENT_DATA: nothing to do.
    InsufficientData,
}

impl AlarmState {
    /// Any of the three.
    pub fn any(rng: &mut Rng) -> Self {
        *rng.pick(&[
            AlarmState::Alarm,
            AlarmState::Ok,
            AlarmState::InsufficientData,
        ])
    }

    fn as_str(self) -> &'static str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::Ok => "OK",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// The alarm's metrics: one per group, with the group in the `AutoScalingGroupName`
/// dimension, plus sometimes one about no group. (A metric math expression has no
/// `metricStat`, and `aws_lambda_events` refuses it: the project's alarms use none.)
fn metrics(rng: &mut Rng, groups: &[String]) -> Value {
    let metric = |id: String, dimensions: Value| {
        json!({
            "id": id,
            "metricStat": {
                "metric": {"namespace": "AWS/EC2", "name": "CPUUtilization", "dimensions": dimensions},
                "period": 300,
                "stat": "Average"
            },
            "returnData": true
        })
    };
    let mut metrics: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let dimensions = if i % 2 == 0 {
                json!({"AutoScalingGroupName": g, "Environment": "production"})
            } else {
                json!({"AutoScalingGroupName": g})
            };
            metric(format!("m{i}"), dimensions)
        })
        .collect();
    if groups.is_empty() || rng.chance(20) {
        metrics.push(metric("e1".into(), json!({"Environment": "production"})));
    }
    Value::Array(metrics)
}

/// An EventBridge "CloudWatch Alarm State Change" about these groups.
pub fn alarm_state_change(rng: &mut Rng, state: AlarmState, groups: &[String]) -> Value {
    let mut event = fixture("eventbridge-alarm-state-change.json");
    event["id"] = json!(format!("{:016x}", rng.next_u64()));
    event["time"] = json!(time(rng));
    let name = format!("app-production-{}", rng.below(1000));
    event["detail"]["alarmName"] = json!(name);
    event["detail"]["state"]["value"] = json!(state.as_str());
    event["detail"]["configuration"]["metrics"] = metrics(rng, groups);
    if rng.chance(30)
        && let Some(detail) = event["detail"].as_object_mut()
    {
        detail.remove("previousState");
    }
    event
}

/// A CloudWatch alarm's direct Lambda action about these groups.
pub fn alarm_action(rng: &mut Rng, state: AlarmState, groups: &[String]) -> Value {
    let mut event = fixture("cloudwatch-alarm-lambda-action.json");
    let name = format!("app-production-{}", rng.below(1000));
    event["alarmData"]["alarmName"] = json!(name);
    event["alarmData"]["state"]["value"] = json!(state.as_str());
    event["alarmData"]["configuration"]["metrics"] = metrics(rng, groups);
    event
}

/// A valid Auto Scaling group name (1 to 255 characters, not blank): mostly the targeted
/// ones, sometimes others, sometimes long or not ASCII.
pub fn group_name(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=5 => (*rng.pick(&["web", "api"])).to_owned(),
        6 => "g".repeat(rng.between(1, 255) as usize),
        7 => (*rng.pick(&["自动伸缩组", "Ωμέγα", "🚀-fleet", "e\u{301}"])).to_owned(),
        _ => format!("group-{}", rng.below(100)),
    }
}

/// 0 to `max` group names.
pub fn group_names(rng: &mut Rng, max: usize) -> Vec<String> {
    (0..rng.below(max + 1)).map(|_| group_name(rng)).collect()
}

/// A shared event any function accepts: the schedule or an alarm, either shape, any state.
pub fn shared_event(rng: &mut Rng) -> Value {
    match rng.below(3) {
        0 => schedule(rng),
        1 => {
            let (state, groups) = (AlarmState::any(rng), group_names(rng, 4));
            alarm_state_change(rng, state, &groups)
        }
        _ => {
            let (state, groups) = (AlarmState::any(rng), group_names(rng, 4));
            alarm_action(rng, state, &groups)
        }
    }
}

/// A shared event `percent` times in a hundred, else one of the function's own events.
pub fn shared_event_or(rng: &mut Rng, percent: u64, own: fn(&mut Rng) -> Value) -> Value {
    if rng.chance(percent) {
        shared_event(rng)
    } else {
        own(rng)
    }
}

/// The `FLEETOPT_*` settings of a function under fuzzing, as `Config::from_lookup` asks for
/// them: any environment, the application `app`, the targeted `groups`, dry run one time in
/// ten, and a topic of the test account for each variable named in `topics`.
pub fn settings(rng: &mut Rng, groups: &str, topics: &[&str]) -> impl Fn(&str) -> Option<String> {
    let environment = *rng.pick(&["production", "staging", "development"]);
    let dry_run = if rng.chance(10) { "true" } else { "false" };
    let mut settings: BTreeMap<String, String> = [
        ("FLEETOPT_ENVIRONMENT", environment),
        ("FLEETOPT_APPLICATION", "app"),
        ("FLEETOPT_TARGET_GROUPS", groups),
        ("FLEETOPT_DRY_RUN", dry_run),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    for (i, name) in topics.iter().enumerate() {
        let arn = format!("arn:aws:sns:us-east-1:111122223333:topic-{i}");
        settings.insert((*name).to_owned(), arn);
    }
    move |name| settings.get(name).cloned()
}

/// What a fuzz run saw, per origin: cases, inputs accepted, refused, text that did not
/// parse, and the time spent (generating, mutating, decoding, handling).
#[derive(Debug, Default)]
pub struct Stats {
    /// (cases, accepted, refused, unparsable) per origin.
    pub by_origin: BTreeMap<Origin, [u64; 4]>,
    /// Time per origin.
    pub elapsed: BTreeMap<Origin, std::time::Duration>,
}

impl Stats {
    /// Records a case begun at `started`: `None` for unparsable text, else whether the
    /// function accepted it.
    pub fn record(&mut self, origin: Origin, accepted: Option<bool>, started: std::time::Instant) {
        *self.elapsed.entry(origin).or_default() += started.elapsed();
        let counts = self.by_origin.entry(origin).or_default();
        counts[0] += 1;
        match accepted {
            Some(true) => counts[1] += 1,
            Some(false) => counts[2] += 1,
            None => counts[3] += 1,
        }
    }

    /// Cases run.
    pub fn cases(&self) -> u64 {
        self.by_origin.values().map(|c| c[0]).sum()
    }

    /// Inputs accepted.
    pub fn accepted(&self) -> u64 {
        self.by_origin.values().map(|c| c[1]).sum()
    }

    /// Inputs refused with an error.
    pub fn refused(&self) -> u64 {
        self.by_origin.values().map(|c| c[2]).sum()
    }

    /// One line per origin, for the test's output.
    pub fn report(&self, test: &str) -> String {
        let total: std::time::Duration = self.elapsed.values().sum();
        let mut out = format!(
            "{test}: {} cases, {} accepted, {} refused, {:.1} s\n",
            self.cases(),
            self.accepted(),
            self.refused(),
            total.as_secs_f64()
        );
        for (origin, [n, ok, err, unparsable]) in &self.by_origin {
            let seconds = self.elapsed.get(origin).map_or(0.0, |d| d.as_secs_f64());
            out.push_str(&format!(
                "  {origin:?}: {n} cases, {ok} accepted, {err} refused, {unparsable} unparsable \
                 text, {seconds:.1} s\n"
            ));
        }
        out
    }
}

/// How many events a fuzz test decodes when `FLEETOPT_FUZZ_CASES` is not set: enough to reach
/// every kind of input many times over in a few seconds of a debug build, so that the normal
/// test run stays fast. The long run sets `FLEETOPT_FUZZ_CASES=100000` (docs/development.md).
pub const DECODE_CASES: u64 = 10_000;

/// A long run hands one accepted event in this many decoded on to the function's run (on
/// fakes).
pub const HANDLED_SHARE: u64 = 50;

/// The fewest runs a handling test makes, whatever the case count: the rarest outcome the
/// tests wait for (the engine applying a change) comes about once in some 250 runs.
pub const HANDLED_RUNS: u64 = 2_000;

/// The decoding fuzz test of one function: [`cases`]`(`[`DECODE_CASES`]`)` inputs from
/// [`input`] over the function's `valid` events, each through `decode`. An accepted input
/// must pass the function's `check`; a refused one must carry a message and map to the
/// `InvalidEvent` error type (`error_type`), and a valid event must never be refused. A panic
/// names the case to replay ([`CaseGuard`]). A full run must have generated every kind of
/// input and seen inputs both accepted and refused.
pub fn decode_cases<T, E: std::fmt::Display>(
    test: &'static str,
    mut valid: impl FnMut(&mut Rng) -> Value,
    mut decode: impl FnMut(Value) -> Result<T, E>,
    mut error_type: impl FnMut(E) -> &'static str,
    mut check: impl FnMut(&T),
) {
    let seed = seed();
    let mut stats = Stats::default();
    for case in case_numbers(DECODE_CASES) {
        let _guard = CaseGuard { test, seed, case };
        let started = std::time::Instant::now();
        let mut rng = Rng::for_case(seed, case);
        let (origin, generated) = input(&mut rng, &mut valid);
        replay(test, &generated);
        let Some(event) = generated else {
            stats.record(origin, None, started);
            continue;
        };
        match decode(event) {
            Ok(decoded) => {
                check(&decoded);
                stats.record(origin, Some(true), started);
            }
            Err(e) => {
                assert_ne!(origin, Origin::Valid, "a valid event was refused: {e}");
                assert!(!e.to_string().is_empty());
                assert_eq!(error_type(e), "InvalidEvent");
                stats.record(origin, Some(false), started);
            }
        }
    }
    eprint!("{}", stats.report(test));
    if only_case().is_none() {
        assert_eq!(stats.cases(), cases(DECODE_CASES));
        assert_eq!(
            stats.by_origin.len(),
            6,
            "every kind of input was generated"
        );
        assert!(stats.accepted() > 0 && stats.refused() > 0);
    }
}

/// The handling fuzz test of one function: inputs as [`decode_cases`] makes them (from
/// another seed), until one in [`HANDLED_SHARE`] of [`cases`]`(`[`DECODE_CASES`]`)`, and at
/// least [`HANDLED_RUNS`], has been decoded and handed to `handle` with the case's generator
/// and number. `handle` runs the
/// function on its fakes and checks the response (a panic names the case to replay); what
/// does not decode is counted and skipped.
pub async fn handle_cases<T, E>(
    test: &'static str,
    mut valid: impl FnMut(&mut Rng) -> Value,
    mut decode: impl FnMut(Value) -> Result<T, E>,
    mut handle: impl AsyncFnMut(&mut Rng, u64, T),
) {
    let seed = seed();
    let target = (cases(DECODE_CASES) / HANDLED_SHARE).max(HANDLED_RUNS);
    let mut stats = Stats::default();
    let mut handled = 0u64;
    let numbers = match only_case() {
        Some(case) => case..=case,
        None => 0..=u64::MAX,
    };
    for case in numbers {
        if handled == target {
            break;
        }
        let _guard = CaseGuard { test, seed, case };
        let started = std::time::Instant::now();
        let mut rng = Rng::for_case(seed ^ 0x4A4E, case);
        let (origin, generated) = input(&mut rng, &mut valid);
        replay(test, &generated);
        let Some(Ok(decoded)) = generated.map(&mut decode) else {
            stats.record(origin, Some(false), started);
            continue;
        };
        stats.record(origin, Some(true), started);
        handle(&mut rng, case, decoded).await;
        handled += 1;
    }
    eprint!("{}", stats.report(test));
    eprintln!("{test}: {handled} runs");
    if only_case().is_none() {
        assert_eq!(handled, target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_replays_the_same_input() {
        let mut valid = |rng: &mut Rng| shared_event(rng);
        let a = input(&mut Rng::for_case(7, 42), &mut valid);
        let b = input(&mut Rng::for_case(7, 42), &mut valid);
        assert_eq!(a, b);
    }

    #[test]
    fn mutations_reach_every_origin_and_change_the_event() {
        let mut stats = Stats::default();
        let mut changed = 0;
        for case in 0..2_000 {
            let mut rng = Rng::for_case(1, case);
            let (origin, event) = input(&mut rng, &mut |rng| schedule(rng));
            if origin == Origin::Mutated
                && event.as_ref().and_then(|e| e.get("detail-type"))
                    != Some(&json!("Scheduled Event"))
            {
                changed += 1;
            }
            stats.record(origin, event.map(|_| true), std::time::Instant::now());
        }
        assert_eq!(stats.by_origin.len(), 6, "{stats:?}");
        assert!(changed > 0);
    }
}
