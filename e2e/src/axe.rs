//! Accessibility scans with axe-core (`scripts/setup --test` installs it under
//! `.tools/node_modules/axe-core`): the library's text is run in the page through
//! WebDriver, then `axe.run` checks the whole document against the WCAG 2.0, 2.1 and 2.2
//! A and AA rules.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::broker::workspace_root;
use crate::browser::Browser;

/// The rule sets a scan runs: WCAG 2.0, 2.1 and 2.2, levels A and AA.
pub const WCAG_TAGS: [&str; 6] = [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

/// One broken axe rule and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// minor, moderate, serious or critical.
    pub impact: String,
    /// What the rule asks for.
    pub help: String,
    /// The failing nodes: their CSS selectors, and axe's summary of what is wrong.
    pub nodes: Vec<(String, String)>,
}

/// `axe.min.js`: `$AXE_CORE_JS`, or the copy `scripts/setup --test` installs.
pub fn axe_path() -> PathBuf {
    std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".tools/node_modules/axe-core/axe.min.js"))
}

/// Resolves (through the async script's callback) to the violations, or to
/// `{error: "…"}`.
const RUN: &str = r#"
const done = arguments[arguments.length - 1];
const tags = arguments[0];
if (!window.axe) { done({ error: 'axe-core is not loaded' }); return; }
window.axe.run(document, { runOnly: { type: 'tag', values: tags } })
  .then((r) => done(r.violations.map((v) => ({
    id: v.id, impact: v.impact || '', help: v.help,
    nodes: v.nodes.map((n) => [n.target.join(' '), n.failureSummary || '']),
  }))))
  .catch((e) => done({ error: String(e) }));
"#;

impl Browser {
    /// Runs axe-core on the page as it is now; the WCAG A/AA violations it finds.
    pub async fn axe_violations(&self) -> Vec<Violation> {
        let path = axe_path();
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "read {} (run scripts/setup --test, or set AXE_CORE_JS): {e}",
                path.display()
            )
        });
        // Run as a function body: the UMD wrapper sets `window.axe`.
        self.eval(&format!("{source}\n;return typeof window.axe;"), vec![])
            .await;
        let answer = self
            .client()
            .execute_async(RUN, vec![json!(WCAG_TAGS)])
            .await
            .unwrap_or_else(|e| panic!("run axe-core in the page: {e}"));
        let list = match answer {
            Value::Array(list) => list,
            other => panic!("axe-core failed: {other}"),
        };
        list.into_iter()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or_default().to_owned(),
                impact: v["impact"].as_str().unwrap_or_default().to_owned(),
                help: v["help"].as_str().unwrap_or_default().to_owned(),
                nodes: v["nodes"]
                    .as_array()
                    .map(|nodes| {
                        nodes
                            .iter()
                            .map(|n| {
                                (
                                    n[0].as_str().unwrap_or_default().to_owned(),
                                    n[1].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Scans the page and panics, listing every violation, unless there is none.
    /// `screen` names what is shown, for the message.
    pub async fn assert_accessible(&self, screen: &str) {
        if let Some(report) = self.accessibility_report(screen).await {
            panic!("{report}");
        }
    }

    /// Scans the page; `None` when axe-core finds nothing, else a report naming `screen`
    /// and listing every violation with its nodes.
    pub async fn accessibility_report(&self, screen: &str) -> Option<String> {
        let violations = self.axe_violations().await;
        if violations.is_empty() {
            return None;
        }
        let report: Vec<String> = violations
            .iter()
            .map(|v| {
                let nodes: Vec<String> = v
                    .nodes
                    .iter()
                    .map(|(target, why)| format!("    {target}: {}", why.replace('\n', " / ")))
                    .collect();
                format!(
                    "  {} ({}): {}\n{}",
                    v.id,
                    v.impact,
                    v.help,
                    nodes.join("\n")
                )
            })
            .collect();
        Some(format!(
            "axe-core found {} WCAG A/AA violation(s) on {screen}:\n{}",
            violations.len(),
            report.join("\n")
        ))
    }
}
