//! The session log as a page shows it (`#chat-log`), read as typed entries.

use connectit_protocol::{Author, EntryType};
use serde_json::{json, Value};

use super::Browser;

/// One entry of a `#chat-log`, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEntry {
    /// `data-seq`, parsed (`None` when missing or not a number).
    pub seq: Option<u64>,
    /// `data-author`, read as the protocol's author (`None` when missing or unknown).
    pub author: Option<Author>,
    /// `data-kind`, read as the protocol's entry type (`None` when missing or unknown).
    pub kind: Option<EntryType>,
    /// The text of `.entry-text` (`None` when the entry has none, e.g. system entries).
    pub text: Option<String>,
}

impl Browser {
    /// The entries of `#chat-log` (`log` selects another log element).
    pub async fn chat_entries(&self, log: &str) -> Vec<ChatEntry> {
        self.try_chat_entries(log)
            .await
            .unwrap_or_else(|e| panic!("read {log}: {e}"))
    }

    async fn try_chat_entries(&self, log: &str) -> Result<Vec<ChatEntry>, String> {
        let script = "const log = document.querySelector(arguments[0]); \
             if (!log) return null; \
             return Array.from(log.querySelectorAll('.entry')).map((e) => { \
               const t = e.querySelector('.entry-text'); \
               return [e.getAttribute('data-seq'), e.getAttribute('data-author'), \
                       t ? t.textContent : null, e.getAttribute('data-kind')]; });";
        let value = self.try_eval(script, vec![json!(log)]).await?;
        let rows = match value {
            Value::Array(rows) => rows,
            Value::Null => return Err(format!("no {log} on the page")),
            other => return Err(format!("unexpected {log} contents: {other}")),
        };
        Ok(rows
            .into_iter()
            .map(|row| ChatEntry {
                seq: row[0].as_str().and_then(|s| s.trim().parse().ok()),
                author: row[1]
                    .as_str()
                    .and_then(|a| serde_json::from_value(json!(a)).ok()),
                kind: row[3].as_str().and_then(EntryType::from_name),
                text: row[2].as_str().map(|s| s.trim().to_owned()),
            })
            .collect())
    }

    /// Waits until `#chat-log` satisfies `check` (which explains itself when it fails).
    pub async fn wait_chat<F>(&self, what: &str, check: F) -> Vec<ChatEntry>
    where
        F: Fn(&[ChatEntry]) -> Result<(), String>,
    {
        let check = &check;
        self.wait_for(what, || {
            let fut = self.try_chat_entries("#chat-log");
            async move {
                let entries = fut.await?;
                match check(&entries) {
                    Ok(()) => Ok(entries),
                    Err(why) => Err(format!("{why}; log: {entries:?}")),
                }
            }
        })
        .await
    }

    /// Waits until `#chat-log` holds a message `text` by `author`.
    pub async fn wait_chat_message(&self, author: Author, text: &str) -> Vec<ChatEntry> {
        self.wait_chat(
            &format!("a {author:?} message {text:?} in #chat-log"),
            |entries| {
                if entries
                    .iter()
                    .any(|e| e.author == Some(author) && e.text.as_deref() == Some(text))
                {
                    Ok(())
                } else {
                    Err("not there".into())
                }
            },
        )
        .await
    }

    /// Waits until `#chat-log` has more lines than it can show at once and shows its
    /// newest line whole (the log keeps the newest line in view as lines arrive).
    pub async fn wait_newest_line_in_view(&self) {
        let script = "const log = document.querySelector('#chat-log'); \
             if (!log) return 'no #chat-log'; \
             const lines = log.querySelectorAll('li.entry'); \
             if (!lines.length) return 'no lines'; \
             if (log.scrollHeight <= log.clientHeight + 1) \
               return `the log does not overflow yet (${log.scrollHeight} in ${log.clientHeight})`; \
             const box = log.getBoundingClientRect(); \
             const last = lines[lines.length - 1].getBoundingClientRect(); \
             if (last.top < box.top - 1 || last.bottom > box.bottom + 1) \
               return `the newest line is at ${last.top}..${last.bottom}, the log shows ${box.top}..${box.bottom}`; \
             return null;";
        self.wait_for(
            "the newest line of an overflowing #chat-log in view",
            || async {
                match self.try_eval(script, vec![]).await? {
                    Value::Null => Ok(()),
                    why => Err(why.to_string()),
                }
            },
        )
        .await
    }

    /// The type of every entry of `#chat-log`, top to bottom (`None`: a line with no
    /// known type).
    pub async fn entry_kinds(&self) -> Vec<Option<EntryType>> {
        self.chat_entries("#chat-log")
            .await
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    /// Waits until `#chat-log` holds at least `count` entries with `data-kind = kind`.
    pub async fn wait_entry_kind_count(&self, kind: EntryType, count: usize) -> Vec<ChatEntry> {
        self.wait_chat(
            &format!("{count} entry line(s) of type {} in #chat-log", kind.name()),
            |entries| {
                let have = entries.iter().filter(|e| e.kind == Some(kind)).count();
                if have >= count {
                    Ok(())
                } else {
                    Err(format!("{have} of kind {kind:?}"))
                }
            },
        )
        .await
    }

    /// Waits until `#chat-log` holds an entry with `data-kind = kind`.
    pub async fn wait_entry_kind(&self, kind: EntryType) -> Vec<ChatEntry> {
        self.wait_entry_kind_count(kind, 1).await
    }

    /// How many entries of `#chat-log` have `data-kind = kind` now.
    pub async fn count_entry_kind(&self, kind: EntryType) -> usize {
        self.entry_kinds()
            .await
            .iter()
            .filter(|k| **k == Some(kind))
            .count()
    }
}
