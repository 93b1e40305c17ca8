//! Codex's own contract for hook output: the JSON schemas its binary embeds (`<event>.command.output`,
//! the same as `codex-rs/hooks/schema/generated/`), read out of the pinned binary, and the rules its
//! output parser adds on top (PROTOCOL-CODEX.md §5, and the parser's own error strings in the binary).
//!
//! The schemas use a small part of JSON Schema draft-07: `type`, `properties`, `additionalProperties`,
//! `required`, `enum`, `const`, `allOf`, `$ref` to `#/definitions/…`, and annotations. [`validate`] checks
//! exactly those, and [`unknown_keywords`] lists any other keyword a schema uses, so a newer binary whose
//! schemas need more fails the contract test instead of passing it unchecked. A full validator crate
//! (jsonschema, boon) would pull in an HTTP-capable resolver and a URL stack for what is a page of code
//! here, in a CI that is already close to its time limit.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// Keywords [`validate`] checks.
const CHECKED: &[&str] = &[
    "type",
    "properties",
    "additionalProperties",
    "required",
    "enum",
    "const",
    "allOf",
    "$ref",
    "definitions",
];

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &["$schema", "title", "description", "default"];

/// Every `*.command.input` / `*.command.output` schema embedded in the Codex binary, by title (e.g.
/// `pre-tool-use.command.output`).
pub fn embedded_schemas(binary: &Path) -> Result<BTreeMap<String, Value>, String> {
    let bytes = std::fs::read(binary).map_err(|e| format!("{}: {e}", binary.display()))?;
    let mut out = BTreeMap::new();
    for key in memchr::memmem::find_iter(&bytes, b"\"$schema\"") {
        // The object starts at the `{` just before the key (after whitespace).
        let Some(open) = bytes[..key]
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .filter(|&i| bytes[i] == b'{')
        else {
            continue;
        };
        let mut stream = serde_json::Deserializer::from_slice(&bytes[open..]).into_iter::<Value>();
        if let Some(Ok(schema)) = stream.next()
            && let Some(title) = schema["title"].as_str()
            && title.contains(".command.")
        {
            out.insert(title.to_owned(), schema);
        }
    }
    if out.is_empty() {
        return Err(format!("no hook schemas found in {}", binary.display()));
    }
    Ok(out)
}

/// The schema title for an event's output: `PreToolUse` → `pre-tool-use.command.output`.
#[must_use]
pub fn output_title(event: &str) -> String {
    let mut kebab = String::new();
    for (i, c) in event.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                kebab.push('-');
            }
            kebab.push(c.to_ascii_lowercase());
        } else {
            kebab.push(c);
        }
    }
    format!("{kebab}.command.output")
}

/// Keywords the schema uses that [`validate`] neither checks nor knows as annotations.
#[must_use]
pub fn unknown_keywords(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_keywords(schema, &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk_keywords(schema: &Value, out: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    for (k, v) in obj {
        if !CHECKED.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()) {
            out.push(k.clone());
        }
        match k.as_str() {
            "properties" | "definitions" => {
                for sub in v.as_object().into_iter().flat_map(|m| m.values()) {
                    walk_keywords(sub, out);
                }
            }
            "allOf" => {
                for sub in v.as_array().into_iter().flatten() {
                    walk_keywords(sub, out);
                }
            }
            "additionalProperties" if v.is_object() => walk_keywords(v, out),
            _ => {}
        }
    }
}

/// Every way `value` breaks `schema` (empty when it validates), each with its JSON path.
#[must_use]
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, value, "$", &mut errors);
    errors
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    reference
        .strip_prefix("#/definitions/")
        .and_then(|name| root["definitions"].get(name))
}

fn check(root: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        match resolve(root, reference) {
            Some(target) => check(root, target, value, path, errors),
            None => errors.push(format!("{path}: unresolvable $ref {reference}")),
        }
    }
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(root, sub, value, path, errors);
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "object" => value.is_object(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "null" => value.is_null(),
            _ => false,
        };
        if !ok {
            errors.push(format!("{path}: {value} is not of type {kind}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        errors.push(format!("{path}: {value} is not {expected}"));
    }
    let Some(obj) = value.as_object() else {
        return;
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = required.as_str()
            && !obj.contains_key(name)
        {
            errors.push(format!("{path}: missing required {name}"));
        }
    }
    for (key, v) in obj {
        match properties.and_then(|p| p.get(key)) {
            Some(sub) => check(root, sub, v, &format!("{path}.{key}"), errors),
            None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                errors.push(format!("{path}: unknown field {key}"));
            }
            None => {}
        }
    }
}

/// What Codex's output parser refuses beyond the schema (its "unsupported" errors, PROTOCOL-CODEX.md §5):
/// each makes the run "Failed", and the action goes ahead.
#[must_use]
pub fn parser_refusals(event: &str, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let hso = &value["hookSpecificOutput"];
    let has = |v: &Value, k: &str| v.get(k).is_some_and(|x| !x.is_null());
    let universal_unsupported = |out: &mut Vec<String>| {
        if value["continue"] == false {
            out.push("unsupported continue:false".into());
        }
        if has(value, "stopReason") {
            out.push("unsupported stopReason".into());
        }
        if value["suppressOutput"] == true {
            out.push("unsupported suppressOutput".into());
        }
    };
    match event {
        "PreToolUse" => {
            universal_unsupported(&mut out);
            let decision = hso["permissionDecision"].as_str();
            match decision {
                Some("ask") => out.push("unsupported permissionDecision:ask".into()),
                Some("allow") if !has(hso, "updatedInput") => {
                    out.push("unsupported permissionDecision:allow".into());
                }
                Some("deny")
                    if hso["permissionDecisionReason"]
                        .as_str()
                        .is_none_or(|r| r.trim().is_empty()) =>
                {
                    out.push(
                        "permissionDecision:deny without a non-empty permissionDecisionReason"
                            .into(),
                    );
                }
                _ => {}
            }
            if has(hso, "updatedInput") && decision != Some("allow") {
                out.push("updatedInput without permissionDecision:allow".into());
            }
            if has(hso, "permissionDecisionReason") && decision.is_none() {
                out.push("permissionDecisionReason without permissionDecision".into());
            }
            if value["decision"] == "approve" {
                out.push("unsupported decision:approve".into());
            }
            if has(value, "reason") && !has(value, "decision") {
                out.push("reason without decision".into());
            }
        }
        "PostToolUse" => {
            if value["suppressOutput"] == true {
                out.push("unsupported suppressOutput".into());
            }
            if has(hso, "updatedMCPToolOutput") {
                out.push("unsupported updatedMCPToolOutput".into());
            }
            if has(value, "reason") && !has(value, "decision") {
                out.push("reason without decision".into());
            }
        }
        "PermissionRequest" => {
            universal_unsupported(&mut out);
            let decision = &hso["decision"];
            for k in ["updatedInput", "updatedPermissions"] {
                if has(decision, k) {
                    out.push(format!("unsupported {k}"));
                }
            }
            if decision["interrupt"] == true {
                out.push("unsupported interrupt:true".into());
            }
        }
        "Stop" | "SubagentStop" | "UserPromptSubmit"
            if value["decision"] == "block"
                && value["reason"].as_str().is_none_or(|r| r.trim().is_empty()) =>
        {
            out.push("block without a reason".into());
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "additionalProperties": false,
               "definitions": {"D": {"enum": ["block"], "type": "string"},
                               "H": {"type": "object", "additionalProperties": false, "required": ["hookEventName"],
                                     "properties": {"hookEventName": {"const": "Stop", "type": "string"}}}},
               "properties": {"decision": {"allOf": [{"$ref": "#/definitions/D"}], "default": null},
                              "reason": {"type": "string"},
                              "hookSpecificOutput": {"$ref": "#/definitions/H"}}})
    }

    #[test]
    fn the_validator_catches_each_kind_of_break() {
        let s = schema();
        assert!(validate(&s, &json!({"decision": "block", "reason": "r"})).is_empty());
        assert_eq!(validate(&s, &json!({"decision": "allow"})).len(), 1);
        assert_eq!(validate(&s, &json!({"reason": 3})).len(), 1);
        assert_eq!(validate(&s, &json!({"extra": 1})).len(), 1);
        assert_eq!(validate(&s, &json!({"hookSpecificOutput": {}})).len(), 1);
        assert_eq!(
            validate(
                &s,
                &json!({"hookSpecificOutput": {"hookEventName": "Other", "x": 1}})
            )
            .len(),
            2
        );
        assert!(unknown_keywords(&s).is_empty());
        assert_eq!(
            unknown_keywords(&json!({"properties": {"a": {"oneOf": []}}})),
            ["oneOf"]
        );
    }

    #[test]
    fn titles_are_kebab_case() {
        assert_eq!(output_title("PreToolUse"), "pre-tool-use.command.output");
        assert_eq!(output_title("Stop"), "stop.command.output");
    }

    #[test]
    fn the_parser_rules() {
        assert!(
            !parser_refusals(
                "PreToolUse",
                &json!({"hookSpecificOutput": {"permissionDecision": "ask"}})
            )
            .is_empty()
        );
        assert!(
            !parser_refusals(
                "PreToolUse",
                &json!({"hookSpecificOutput": {"permissionDecision": "deny"}})
            )
            .is_empty()
        );
        assert!(parser_refusals("PreToolUse", &json!({"hookSpecificOutput": {"permissionDecision": "deny", "permissionDecisionReason": "r"}})).is_empty());
        assert!(
            !parser_refusals(
                "PreToolUse",
                &json!({"hookSpecificOutput": {"updatedInput": {}}})
            )
            .is_empty()
        );
        assert!(!parser_refusals("Stop", &json!({"decision": "block"})).is_empty());
    }
}
