//! A real OpenID provider for the single sign-on tests: the certified `oidc-provider`
//! package from npm (installed into `.tools/` by `scripts/setup --test`), run by Node
//! from `e2e/oidc/provider.mjs` on a free loopback port, with one confidential client
//! and the accounts a test gives it. Its issuer is `http://localhost:PORT`: another site
//! than the broker's `127.0.0.1`, as a real provider is. Stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::broker::{quoted, workspace_root};

/// A running provider.
pub struct Provider {
    child: Child,
    pub port: u16,
    pub client_id: String,
    pub client_secret: String,
}

impl Provider {
    /// Starts a provider whose client redirects to `redirect_uri`, knowing `accounts`
    /// (`{"login": {"name": …, "groups": […]}}`: claims by login).
    pub fn start(redirect_uri: &str, accounts: Value) -> Provider {
        let root = workspace_root();
        let module = root.join(".tools/node_modules/oidc-provider/lib/index.js");
        assert!(
            module.exists(),
            "{} is missing: scripts/setup --test installs oidc-provider",
            module.display()
        );
        let client_id = "connectit-tests".to_string();
        let client_secret: String = format!("secret-{:016x}", rand::random::<u64>());
        let mut child = Command::new("node")
            .arg(root.join("e2e/oidc/provider.mjs"))
            .env("OIDC_MODULE", &module)
            .env("OIDC_CLIENT_ID", &client_id)
            .env("OIDC_CLIENT_SECRET", &client_secret)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start node (the OpenID provider): {e}"));
        let stdout = child.stdout.take().expect("the provider's stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("listening ") {
                    let _ = tx.send(port.trim().parse::<u16>().ok());
                }
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                panic!("the OpenID provider did not start: {other:?}");
            }
        };
        Provider {
            child,
            port,
            client_id,
            client_secret,
        }
    }

    /// `http://localhost:PORT`.
    pub fn issuer(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// The broker's configuration lines for this provider.
    pub fn broker_config(&self) -> Vec<(String, String)> {
        vec![
            ("oidc_issuer".into(), quoted(&self.issuer())),
            ("oidc_client_id".into(), quoted(&self.client_id)),
            ("oidc_client_secret".into(), quoted(&self.client_secret)),
            ("oidc_label".into(), quoted("Example University")),
            (
                "oidc_scopes".into(),
                r#"["profile", "email", "groups"]"#.into(),
            ),
            ("oidc_groups_claim".into(), quoted("groups")),
            ("oidc_admin_group".into(), quoted("helpdesk-admins")),
        ]
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
