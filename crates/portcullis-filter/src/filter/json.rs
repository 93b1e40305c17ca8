//! JSON documents: the shape kept, long arrays and strings cut with their sizes.

use serde_json::Value;

/// JSON: the document's shape, arrays cut to their first items with the total, long strings cut with their
/// length. `None` when it does not parse after all.
pub(super) fn json(text: &str) -> Option<String> {
    const ITEMS: usize = 3;
    const STRING_CHARS: usize = 200;
    fn shrink(v: &mut Value) {
        match v {
            Value::Array(items) => {
                let total = items.len();
                if total > ITEMS {
                    items.truncate(ITEMS);
                    items.push(Value::String(format!(
                        "… {} more items ({total} in all)",
                        total - ITEMS
                    )));
                }
                for item in items.iter_mut() {
                    shrink(item);
                }
            }
            Value::Object(map) => {
                for (_, item) in map.iter_mut() {
                    shrink(item);
                }
            }
            Value::String(s) if s.chars().count() > STRING_CHARS => {
                let head: String = s.chars().take(STRING_CHARS).collect();
                *s = format!("{head}… ({} chars)", s.chars().count());
            }
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(text).ok()?;
    shrink(&mut v);
    serde_json::to_string_pretty(&v).ok().map(|s| s + "\n")
}
