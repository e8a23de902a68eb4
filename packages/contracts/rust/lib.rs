//! The hot path's two conversions, compiled: WS frame bytes -> Kafka record (ingest) and Kafka record ->
//! Redis fields (stream-sink). `cryptoflow_contracts.hotpath` builds the plans from the models and falls
//! back to the models whenever a conversion here answers `None` (undecided).
//!
//! Nothing here knows a field name or a type of the contract: each plan lists the keys, the check of each
//! value and how the output is written. The checks are the models' (strict types, the same patterns, which
//! pydantic also runs with Rust's `regex`), but narrower: anything unusual (an escaped string, an
//! exponent, a duplicated key, a key of the other WS format) is left undecided for the models to accept
//! or refuse with their reason.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use regex::Regex;
use rustc_hash::FxHashMap as HashMap;
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// How an object's levels are read: the key that holds them, each level's four keys in the record's order,
/// the other WS format's level keys (undecided), and whether the values are JSON strings (records) or
/// JSON numbers (frames).
struct LevelKeys {
    key: Option<String>,
    units: [String; 4],
    foreign: Vec<String>,
    strings: bool,
}

/// One JSON object read in one pass: every key's raw value, but the levels, read and checked.
struct Parsed<'a> {
    pairs: Vec<(&'a str, &'a RawValue)>,
    levels: Option<Vec<[&'a str; 4]>>,
}

fn parse<'a>(raw: &'a [u8], keys: &LevelKeys) -> Decided<Parsed<'a>> {
    // One UTF-8 check of the whole text (vectorized) instead of one per string.
    let mut deserializer = serde_json::Deserializer::from_str(std::str::from_utf8(raw)?);
    let parsed = ObjectSeed(keys).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(parsed)
}

struct ObjectSeed<'k>(&'k LevelKeys);

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Parsed<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Parsed<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut parsed = Parsed {
            pairs: Vec::with_capacity(40),
            levels: None,
        };
        while let Some(key) = map.next_key::<&'de str>()? {
            if Some(key) == self.0.key.as_deref() {
                if parsed.levels.is_some() {
                    return Err(A::Error::custom("levels twice"));
                }
                parsed.levels = Some(map.next_value_seed(LevelsSeed(self.0))?);
            } else {
                parsed.pairs.push((key, map.next_value()?));
            }
        }
        Ok(parsed)
    }
}

struct LevelsSeed<'k>(&'k LevelKeys);

impl<'de> DeserializeSeed<'de> for LevelsSeed<'_> {
    type Value = Vec<[&'de str; 4]>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LevelsSeed<'_> {
    type Value = Vec<[&'de str; 4]>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of levels")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut levels = Vec::with_capacity(32);
        while let Some(level) = seq.next_element_seed(LevelSeed(self.0))? {
            levels.push(level);
        }
        Ok(levels)
    }
}

/// One level: its four decimals' texts, in the record's order.
struct LevelSeed<'k>(&'k LevelKeys);

impl<'de> DeserializeSeed<'de> for LevelSeed<'_> {
    type Value = [&'de str; 4];
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LevelSeed<'_> {
    type Value = [&'de str; 4];
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a level")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let undecided = || A::Error::custom("undecided");
        let mut found: [Option<&'de str>; 4] = [None; 4];
        while let Some(key) = map.next_key::<&'de str>()? {
            match self.0.units.iter().position(|k| k == key) {
                Some(i) => {
                    let raw: &'de RawValue = map.next_value()?;
                    let text = if self.0.strings {
                        record_decimal(raw.get())
                    } else {
                        ws_decimal(raw.get())
                    };
                    if found[i].is_some() {
                        return Err(undecided());
                    }
                    found[i] = Some(text.map_err(|_| undecided())?);
                }
                None if self.0.foreign.iter().any(|k| k == key) => return Err(undecided()),
                None => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        match found {
            [Some(a), Some(b), Some(c), Some(d)] => Ok([a, b, c, d]),
            _ => Err(undecided()),
        }
    }
}

/// Undecided: the models decide this input.
struct Undecided;
type Decided<T> = Result<T, Undecided>;

impl<E: std::error::Error> From<E> for Undecided {
    fn from(_: E) -> Self {
        Undecided
    }
}

fn decide(condition: bool) -> Decided<()> {
    if condition { Ok(()) } else { Err(Undecided) }
}

// -- checks of one value -----------------------------------------------------------------------------

enum Check {
    Int {
        min: Option<i64>,
    },
    Bool,
    Str {
        choices: Option<Vec<String>>,
        pattern: Option<Regex>,
        min_len: usize,
    },
    /// A JSON number (ingest) or a JSON string holding one (sink), in plain notation.
    Decimal,
    /// The orderbook's levels: an array of objects of four decimals.
    Levels,
}

impl Check {
    fn from_spec(spec: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let kind: String = spec.get_item(0)?.extract()?;
        Ok(match kind.as_str() {
            "int" => Check::Int {
                min: spec.get_item(1)?.extract()?,
            },
            "bool" => Check::Bool,
            "str" => {
                let pattern: Option<String> = spec.get_item(2)?.extract()?;
                let pattern = match pattern {
                    Some(p) => Some(Regex::new(&p).map_err(|e| PyValueError::new_err(e.to_string()))?),
                    None => None,
                };
                Check::Str {
                    choices: spec.get_item(1)?.extract()?,
                    pattern,
                    min_len: spec.get_item(3)?.extract()?,
                }
            }
            "decimal" => Check::Decimal,
            "levels" => Check::Levels,
            other => return Err(PyValueError::new_err(format!("unknown check {other:?}"))),
        })
    }

    /// The value's text once checked: an int or bool as written, a string's characters, a decimal's
    /// digits. `strings`: decimals are JSON strings (records), not JSON numbers (frames).
    fn read<'a>(&self, raw: &'a str, strings: bool) -> Decided<&'a str> {
        match self {
            Check::Int { min } => int_value(raw, *min).map(|_| raw),
            // Records have no bool: the models would write Python's `True` to Redis.
            Check::Bool if !strings && (raw == "true" || raw == "false") => Ok(raw),
            Check::Bool => Err(Undecided),
            Check::Str {
                choices,
                pattern,
                min_len,
            } => {
                let text = string_text(raw)?;
                decide(text.len() >= *min_len)?;
                if let Some(choices) = choices {
                    decide(choices.iter().any(|c| c == text))?;
                }
                if let Some(pattern) = pattern {
                    decide(pattern.is_match(text))?;
                }
                Ok(text)
            }
            Check::Decimal if strings => record_decimal(raw),
            Check::Decimal => ws_decimal(raw),
            // Read with the rest of the object (`LevelSeed`), never from a raw value.
            Check::Levels => Err(Undecided),
        }
    }
}

/// The text of a JSON string of printable ASCII without escapes (anything else is left to the models).
fn string_text(raw: &str) -> Decided<&str> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or(Undecided)?;
    decide(
        inner
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'\\' && b != b'"'),
    )?;
    Ok(inner)
}

/// A JSON integer as the models write it back: no fraction, no exponent, not `-0`, within i64.
fn int_value(raw: &str, min: Option<i64>) -> Decided<i64> {
    decide(raw != "-0")?;
    let value: i64 = raw.parse()?;
    decide(min.is_none_or(|m| value >= m))?;
    Ok(value)
}

/// JSON's number grammar, which is `DECIMAL_PATTERN` without the exponent (exponents are left to the
/// models, which write plain notation).
fn is_plain_number(raw: &str) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let raw = raw.as_bytes();
    let mut rest = raw.strip_prefix(b"-").unwrap_or(raw);
    let whole = digits(rest);
    if whole == 0 || (whole > 1 && rest[0] == b'0') {
        return false;
    }
    rest = &rest[whole..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = digits(fraction);
        return n > 0 && n == fraction.len();
    }
    rest.is_empty()
}

/// A WS decimal (a JSON number) written as the models write it: as it is, unless it has an exponent or is
/// the integer `-0` (then undecided).
fn ws_decimal(raw: &str) -> Decided<&str> {
    decide(raw != "-0" && is_plain_number(raw))?;
    Ok(raw)
}

/// A record decimal (a JSON string of a plain-notation number): its text.
fn record_decimal(raw: &str) -> Decided<&str> {
    let text = string_text(raw)?;
    decide(is_plain_number(text))?;
    Ok(text)
}

// -- one field of a plan -----------------------------------------------------------------------------

struct Field {
    check: Check,
    required: bool,
    nullable: bool,
    /// Ingest: the JSON written for this field when the frame does not have it.
    absent: Vec<u8>,
}

impl Field {
    fn from_spec(spec: &Bound<'_, PyTuple>) -> PyResult<Self> {
        Ok(Field {
            check: Check::from_spec(spec.get_item(0)?.downcast()?)?,
            required: spec.get_item(1)?.extract()?,
            nullable: spec.get_item(2)?.extract()?,
            absent: spec.get_item(3)?.extract()?,
        })
    }

    /// The value's checked text (`Check::read`), `None` when absent or null, after checking presence and
    /// nullability.
    fn read<'a>(&self, found: Option<&'a RawValue>, strings: bool) -> Decided<Option<&'a str>> {
        match found {
            None => decide(!self.required).map(|_| None),
            Some(raw) if raw.get() == "null" => decide(self.nullable).map(|_| None),
            Some(raw) => self.check.read(raw.get(), strings).map(Some),
        }
    }
}

fn fields(spec: &Bound<'_, PyAny>) -> PyResult<Vec<Field>> {
    spec.try_iter()?
        .map(|f| Field::from_spec(f?.downcast()?))
        .collect()
}

/// Each key's value, by the position of the key in `keys`; undecided on a duplicated or `foreign` key.
fn slots<'a>(
    pairs: &[(&'a str, &'a RawValue)],
    keys: &HashMap<String, usize>,
    foreign: &[String],
    count: usize,
) -> Decided<Vec<Option<&'a RawValue>>> {
    let mut found = vec![None; count];
    for &(key, value) in pairs {
        if let Some(&slot) = keys.get(key) {
            decide(found[slot].is_none())?;
            found[slot] = Some(value);
        } else {
            decide(!foreign.iter().any(|f| f == key))?;
        }
    }
    Ok(found)
}

fn key_slots(keys: &[String]) -> HashMap<String, usize> {
    keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect()
}

/// What the record's levels are written with: `{"ask_price":"`, `","bid_price":"`, ...
fn unit_prefixes(names: &[String; 4]) -> [Vec<u8>; 4] {
    std::array::from_fn(|i| format!("{}\"{}\":\"", if i == 0 { "{" } else { "\"," }, names[i]).into_bytes())
}

/// `[{"ask_price":"1","bid_price":"2",...},...]`, the record's levels, compact.
fn write_levels(out: &mut Vec<u8>, prefixes: &[Vec<u8>; 4], levels: &[[&str; 4]]) {
    out.push(b'[');
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        for (prefix, value) in prefixes.iter().zip(level) {
            out.extend_from_slice(prefix);
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(b"\"}");
    }
    out.push(b']');
}

fn py_int(py: Python<'_>, value: i64) -> PyObject {
    value
        .into_pyobject(py)
        .map_or_else(|never| match never {}, |v| v.into_any().unbind())
}

// -- ingest: WS frame -> Kafka record ----------------------------------------------------------------

/// What ingest publishes for one frame (`hotpath.WsRecord`).
#[pyclass(module = "cryptoflow_contracts._hotpath", frozen, get_all)]
struct WsRecord {
    kind: Py<PyString>,
    /// A `Topic`.
    topic: PyObject,
    market: Py<PyString>,
    /// The frame's message time (exchange clock).
    timestamp: PyObject,
    /// The record's JSON value.
    value: Py<PyBytes>,
    sequential_id: Option<PyObject>,
    trade_timestamp: Option<PyObject>,
}

#[pymethods]
impl WsRecord {
    #[new]
    #[pyo3(signature = (*, kind, topic, market, timestamp, value, sequential_id=None, trade_timestamp=None))]
    fn new(
        kind: Py<PyString>,
        topic: PyObject,
        market: Py<PyString>,
        timestamp: PyObject,
        value: Py<PyBytes>,
        sequential_id: Option<PyObject>,
        trade_timestamp: Option<PyObject>,
    ) -> Self {
        WsRecord {
            kind,
            topic,
            market,
            timestamp,
            value,
            sequential_id,
            trade_timestamp,
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let (kind, market, timestamp) = (self.kind.bind(py), self.market.bind(py), self.timestamp.bind(py));
        format!("WsRecord(kind={kind}, market={market}, timestamp={timestamp})")
    }
}

enum Piece {
    Text(Vec<u8>),
    /// The field's JSON as it is (an int, a bool, a string).
    Plain(usize),
    /// The field's number as a JSON string.
    Decimal(usize),
    /// The market code: the frame's code without an orderbook's `.N` depth suffix.
    Market,
    Levels,
    Received,
    Source,
}

impl Piece {
    fn from_spec(spec: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let op: String = spec.get_item(0)?.extract()?;
        let arg = spec.get_item(1)?;
        Ok(match op.as_str() {
            "text" => Piece::Text(arg.extract()?),
            "plain" => Piece::Plain(arg.extract()?),
            "decimal" => Piece::Decimal(arg.extract()?),
            "market" => Piece::Market,
            "levels" => Piece::Levels,
            "received" => Piece::Received,
            "source" => Piece::Source,
            other => return Err(PyValueError::new_err(format!("unknown piece {other:?}"))),
        })
    }
}

/// `KRW-BTC.15` -> `KRW-BTC`, as `ws.split_depth`.
fn without_depth(code: &str) -> &str {
    match code.rsplit_once('.') {
        Some((market, depth))
            if !market.is_empty() && !depth.is_empty() && depth.bytes().all(|b| b.is_ascii_digit()) =>
        {
            market
        }
        _ => code,
    }
}

/// One frame kind in one WS format.
struct FramePlan {
    kind: Py<PyString>,
    topic: PyObject,
    fields: Vec<Field>,
    keys: HashMap<String, usize>,
    foreign: Vec<String>,
    pieces: Vec<Piece>,
    code: usize,
    timestamp: usize,
    /// Trades: the slots of `sequential_id` and `trade_timestamp`.
    trade: Option<(usize, usize)>,
    split_depth: bool,
}

impl FramePlan {
    fn from_spec(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let get = |name: &str| spec.get_item(name);
        let keys: Vec<String> = get("keys")?.extract()?;
        let fields = fields(&get("fields")?)?;
        if fields.len() != keys.len() {
            return Err(PyValueError::new_err("one field per key"));
        }
        Ok(FramePlan {
            kind: get("kind")?.extract()?,
            topic: get("topic")?.extract()?,
            fields,
            keys: key_slots(&keys),
            foreign: get("foreign")?.extract()?,
            pieces: get("pieces")?
                .try_iter()?
                .map(|p| Piece::from_spec(p?.downcast()?))
                .collect::<PyResult<_>>()?,
            code: get("code")?.extract()?,
            timestamp: get("timestamp")?.extract()?,
            trade: get("trade")?.extract()?,
            split_depth: get("split_depth")?.extract()?,
        })
    }

    fn convert(
        &self,
        py: Python<'_>,
        frame: &Parsed<'_>,
        prefixes: &[Vec<u8>; 4],
        received_ms: u64,
        source: &[u8],
    ) -> Decided<WsRecord> {
        let found = slots(&frame.pairs, &self.keys, &self.foreign, self.fields.len())?;
        // Each field checked; what is written is its raw JSON (`found`), as the frame has it.
        for (field, raw) in self.fields.iter().zip(&found) {
            match field.check {
                Check::Levels => decide(frame.levels.is_some())?,
                _ => drop(field.read(*raw, false)?),
            }
        }
        let raw = |slot: usize| found[slot].map(RawValue::get).filter(|v| *v != "null");
        let code = string_text(raw(self.code).ok_or(Undecided)?)?;
        let market = if self.split_depth {
            without_depth(code)
        } else {
            code
        };
        let int = |slot: usize| Ok::<_, Undecided>(py_int(py, int_value(raw(slot).ok_or(Undecided)?, None)?));

        let mut out =
            Vec::with_capacity(frame.pairs.iter().map(|(_, v)| v.get().len() + 24).sum::<usize>() + 256);
        for piece in &self.pieces {
            match *piece {
                Piece::Text(ref text) => out.extend_from_slice(text),
                Piece::Plain(slot) | Piece::Decimal(slot) => {
                    let quote = matches!(piece, Piece::Decimal(_));
                    match (raw(slot), found[slot]) {
                        (Some(raw), _) if quote => {
                            out.push(b'"');
                            out.extend_from_slice(raw.as_bytes());
                            out.push(b'"');
                        }
                        (Some(raw), _) => out.extend_from_slice(raw.as_bytes()),
                        (None, None) => out.extend_from_slice(&self.fields[slot].absent),
                        (None, Some(_)) => out.extend_from_slice(b"null"),
                    }
                }
                Piece::Market => {
                    out.push(b'"');
                    out.extend_from_slice(market.as_bytes());
                    out.push(b'"');
                }
                Piece::Levels => write_levels(&mut out, prefixes, frame.levels.as_deref().ok_or(Undecided)?),
                Piece::Received => out.extend_from_slice(received_ms.to_string().as_bytes()),
                Piece::Source => out.extend_from_slice(source),
            }
        }
        let (sequential_id, trade_timestamp) = match self.trade {
            Some((seq, ts)) => (Some(int(seq)?), Some(int(ts)?)),
            None => (None, None),
        };
        Ok(WsRecord {
            kind: self.kind.clone_ref(py),
            topic: self.topic.clone_ref(py),
            market: PyString::new(py, market).unbind(),
            timestamp: int(self.timestamp)?,
            value: PyBytes::new(py, &out).unbind(),
            sequential_id,
            trade_timestamp,
        })
    }
}

/// Every frame kind of one WS format, by the value of its type key.
#[pyclass(module = "cryptoflow_contracts._hotpath", frozen)]
struct FrameConverter {
    type_key: String,
    levels: LevelKeys,
    prefixes: [Vec<u8>; 4],
    plans: HashMap<String, FramePlan>,
}

#[pymethods]
impl FrameConverter {
    /// `levels`: (the key of an orderbook's levels, a level's four keys in the record's order, the other
    /// format's level keys); `unit_names`: the record's level fields; `plans`: one per frame kind (see
    /// `hotpath._frame_plan`).
    #[new]
    fn new(
        type_key: String,
        levels: (String, [String; 4], Vec<String>),
        unit_names: [String; 4],
        plans: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let mut by_kind = HashMap::default();
        for plan in plans.try_iter()? {
            let plan = FramePlan::from_spec(&plan?)?;
            by_kind.insert(plan.kind.to_string(), plan);
        }
        let (key, units, foreign) = levels;
        Ok(FrameConverter {
            type_key,
            levels: LevelKeys {
                key: Some(key),
                units,
                foreign,
                strings: false,
            },
            prefixes: unit_prefixes(&unit_names),
            plans: by_kind,
        })
    }

    /// The record of a trade, ticker or orderbook frame; None when the models must decide.
    fn convert(&self, py: Python<'_>, raw: &[u8], received_ms: u64, source: &[u8]) -> Option<WsRecord> {
        let frame = parse(raw, &self.levels).ok()?;
        let (_, kind) = frame.pairs.iter().find(|(k, _)| *k == self.type_key)?;
        let plan = self.plans.get(string_text(kind.get()).ok()?)?;
        plan.convert(py, &frame, &self.prefixes, received_ms, source).ok()
    }
}

// -- stream-sink: Kafka record -> Redis fields -------------------------------------------------------

/// What the sink writes for one record (`hotpath.StoredRecord`).
#[pyclass(module = "cryptoflow_contracts._hotpath", frozen, get_all)]
struct StoredRecord {
    kind: Py<PyString>,
    market: Py<PyString>,
    /// `trade_timestamp` of a trade, `timestamp` of a ticker or orderbook: what orders them.
    time_ms: PyObject,
    /// The Redis hash or stream entry: field, value, field, value, ...
    fields: Py<PyTuple>,
    sequential_id: Option<PyObject>,
    market_state: Option<Py<PyString>>,
}

#[pymethods]
impl StoredRecord {
    #[new]
    #[pyo3(signature = (*, kind, market, time_ms, fields, sequential_id=None, market_state=None))]
    fn new(
        kind: Py<PyString>,
        market: Py<PyString>,
        time_ms: PyObject,
        fields: Py<PyTuple>,
        sequential_id: Option<PyObject>,
        market_state: Option<Py<PyString>>,
    ) -> Self {
        StoredRecord {
            kind,
            market,
            time_ms,
            fields,
            sequential_id,
            market_state,
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let (kind, market, time_ms) = (self.kind.bind(py), self.market.bind(py), self.time_ms.bind(py));
        format!("StoredRecord(kind={kind}, market={market}, time_ms={time_ms})")
    }
}

/// One record topic: which fields there are, how each is checked, which ones the sink needs.
#[pyclass(module = "cryptoflow_contracts._hotpath", frozen)]
struct RecordConverter {
    kind: Py<PyString>,
    names: Vec<Py<PyString>>,
    fields: Vec<Field>,
    keys: HashMap<String, usize>,
    /// Not written to Redis (`kind`).
    hidden: Vec<bool>,
    market: usize,
    time: usize,
    sequential_id: Option<usize>,
    market_state: Option<usize>,
    levels: LevelKeys,
    prefixes: [Vec<u8>; 4],
}

#[pymethods]
impl RecordConverter {
    /// `plan`: see `hotpath._record_plan`.
    #[new]
    fn new(plan: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = plan.py();
        let get = |name: &str| plan.get_item(name);
        let names: Vec<String> = get("names")?.extract()?;
        let hidden: Vec<String> = get("hidden")?.extract()?;
        let unit_names: [String; 4] = get("unit_names")?.extract()?;
        Ok(RecordConverter {
            kind: get("kind")?.extract()?,
            keys: key_slots(&names),
            hidden: names.iter().map(|n| hidden.contains(n)).collect(),
            names: names.iter().map(|n| PyString::intern(py, n).unbind()).collect(),
            fields: fields(&get("fields")?)?,
            market: get("market")?.extract()?,
            time: get("time")?.extract()?,
            sequential_id: get("sequential_id")?.extract()?,
            market_state: get("market_state")?.extract()?,
            levels: LevelKeys {
                key: get("levels_key")?.extract()?,
                units: unit_names.clone(),
                foreign: vec![],
                strings: true,
            },
            prefixes: unit_prefixes(&unit_names),
        })
    }

    /// The record's Redis fields; None when the models must decide.
    fn convert(&self, py: Python<'_>, value: &[u8]) -> Option<StoredRecord> {
        self.read(py, value).ok()
    }
}

impl RecordConverter {
    fn read(&self, py: Python<'_>, value: &[u8]) -> Decided<StoredRecord> {
        let record = parse(value, &self.levels)?;
        let found = slots(&record.pairs, &self.keys, &[], self.fields.len())?;
        let levels_text = match &record.levels {
            Some(levels) => {
                let mut out = Vec::with_capacity(value.len());
                write_levels(&mut out, &self.prefixes, levels);
                Some(String::from_utf8(out)?)
            }
            None => None,
        };
        let mut texts: Vec<Option<&str>> = Vec::with_capacity(found.len());
        for (field, raw) in self.fields.iter().zip(&found) {
            texts.push(match field.check {
                Check::Levels => Some(levels_text.as_deref().ok_or(Undecided)?),
                _ => field.read(*raw, true)?,
            });
        }
        let text = |slot: usize| texts[slot].map(|t| PyString::new(py, t).unbind());
        let int =
            |slot: usize| -> Decided<PyObject> { Ok(py_int(py, texts[slot].ok_or(Undecided)?.parse()?)) };
        let mut fields: Vec<Py<PyString>> = Vec::with_capacity(2 * texts.len());
        for ((name, value), hidden) in self.names.iter().zip(&texts).zip(&self.hidden) {
            if let (Some(value), false) = (value, hidden) {
                fields.push(name.clone_ref(py));
                fields.push(PyString::new(py, value).unbind());
            }
        }
        Ok(StoredRecord {
            kind: self.kind.clone_ref(py),
            market: text(self.market).ok_or(Undecided)?,
            time_ms: int(self.time)?,
            sequential_id: self.sequential_id.map(int).transpose()?,
            market_state: self.market_state.and_then(text),
            fields: PyTuple::new(py, fields).map_err(|_| Undecided)?.unbind(),
        })
    }
}

#[pymodule]
fn _hotpath(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<WsRecord>()?;
    m.add_class::<StoredRecord>()?;
    m.add_class::<FrameConverter>()?;
    m.add_class::<RecordConverter>()?;
    Ok(())
}
