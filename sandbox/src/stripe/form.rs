//! Stripe's request encoding: form fields with bracketed keys
//! (`line_items[0][price]=price_1`, `metadata[k]=v`, `expand[]=x`), turned
//! into a JSON tree. Values stay strings; handlers read them as they need.

use serde_json::{Map, Value};

pub fn parse(body: &str) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in form_urlencoded::parse(body.as_bytes()) {
        let segments = segments(&key);
        insert(&mut root, &segments, Value::String(value.into_owned()));
    }
    arrays(root)
}

/// `a[b][0][]` → ["a", "b", "0", ""].
fn segments(key: &str) -> Vec<String> {
    let (head, rest) = key.split_once('[').map(|(h, r)| (h, format!("[{r}"))).unwrap_or((key, String::new()));
    let mut out = vec![head.to_owned()];
    for part in rest.split('[').skip(1) {
        out.push(part.trim_end_matches(']').to_owned());
    }
    out
}

fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some(map) = node.as_object_mut() else { return };
    let (first, rest) = (&path[0], &path[1..]);
    // "[]" appends: give it the next free index.
    let key = if first.is_empty() { map.len().to_string() } else { first.clone() };
    if rest.is_empty() {
        map.insert(key, value);
        return;
    }
    let child = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        *child = Value::Object(Map::new());
    }
    insert(child, rest, value);
}

/// Objects whose keys are all indices become arrays, in index order.
fn arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let numeric = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if numeric {
                let mut items: Vec<(usize, Value)> =
                    map.into_iter().map(|(k, v)| (k.parse().unwrap_or(0), arrays(v))).collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        other => other,
    }
}

/// Reads `a.b.c` (dots between segments) from a parsed form.
pub fn get<'a>(form: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(form, |node, key| match node {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

pub fn string(form: &Value, path: &str) -> Option<String> {
    get(form, path).and_then(Value::as_str).map(str::to_owned).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn brackets_become_a_tree() {
        let form = parse(
            "mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=1&line_items[1][price]=price_2\
             &metadata[purchase_id]=42&expand[]=line_items&expand[]=customer&subscription_data%5Btrial_period_days%5D=14\
             &success_url=https://x.test/ok?session_id={CHECKOUT_SESSION_ID}&customer_email=a%2Bb@example.com",
        );
        assert_eq!(
            form,
            json!({
                "mode": "subscription",
                "line_items": [{"price": "price_1", "quantity": "1"}, {"price": "price_2"}],
                "metadata": {"purchase_id": "42"},
                "expand": ["line_items", "customer"],
                "subscription_data": {"trial_period_days": "14"},
                "success_url": "https://x.test/ok?session_id={CHECKOUT_SESSION_ID}",
                "customer_email": "a+b@example.com",
            })
        );
        assert_eq!(string(&form, "line_items.1.price").as_deref(), Some("price_2"));
    }
}
