//! A network namespace for a browser whose network is locked down, as a customer's
//! corporate one: a veth pair to this machine (`10.231.N.1` here, `10.231.N.2` there),
//! and an nftables firewall inside that lets out only TCP to the ports named (the
//! broker's, the TURN relay's): no UDP at all, so WebRTC must relay over TCP or TLS.
//! The browser runs in it through [`Netns::chromium_wrapper`] while its driver stays
//! here (the two speak over a pipe). Made and removed by the test itself; creating one
//! needs root and `ip`, `nft` (`scripts/setup --test` installs nftables).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

/// A namespace with its veth pair and firewall; removed when dropped.
pub struct Netns {
    pub name: String,
    /// This machine's end of the veth pair.
    pub host_ip: Ipv4Addr,
    /// The namespace's end.
    pub inner_ip: Ipv4Addr,
    wrapper: PathBuf,
    _dir: TempDir,
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Netns {
    /// Makes the namespace, or says why it cannot be made here.
    pub fn create() -> Result<Netns, String> {
        let n = (std::process::id() % 200) as u8 + 10;
        let name = format!("connectit-e2e-{}", std::process::id());
        let (host_if, inner_if) = (format!("cith{n}"), format!("citn{n}"));
        let (host_ip, inner_ip) = (Ipv4Addr::new(10, 231, n, 1), Ipv4Addr::new(10, 231, n, 2));
        run(&["ip", "netns", "add", &name])?;
        let mut ns = Netns {
            name: name.clone(),
            host_ip,
            inner_ip,
            wrapper: PathBuf::new(),
            _dir: tempfile::Builder::new()
                .prefix("connectit-e2e-netns-")
                .tempdir()
                .map_err(|e| e.to_string())?,
        };
        let host_cidr = format!("{host_ip}/30");
        let inner_cidr = format!("{inner_ip}/30");
        let host_addr = host_ip.to_string();
        for step in [
            vec![
                "ip", "link", "add", &host_if, "type", "veth", "peer", "name", &inner_if,
            ],
            vec!["ip", "link", "set", &inner_if, "netns", &name],
            vec!["ip", "addr", "add", &host_cidr, "dev", &host_if],
            vec!["ip", "link", "set", &host_if, "up"],
            vec![
                "ip", "netns", "exec", &name, "ip", "link", "set", "lo", "up",
            ],
            vec![
                "ip",
                "netns",
                "exec",
                &name,
                "ip",
                "addr",
                "add",
                &inner_cidr,
                "dev",
                &inner_if,
            ],
            vec![
                "ip", "netns", "exec", &name, "ip", "link", "set", &inner_if, "up",
            ],
            vec![
                "ip", "netns", "exec", &name, "ip", "route", "add", "default", "via", &host_addr,
            ],
        ] {
            run(&step)?;
        }
        let wrapper = ns._dir.path().join("chromium-in-netns");
        let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        std::fs::write(
            &wrapper,
            format!("#!/bin/sh\nexec ip netns exec {name} {chrome} \"$@\"\n"),
        )
        .map_err(|e| e.to_string())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| e.to_string())?;
        }
        ns.wrapper = wrapper;
        Ok(ns)
    }

    /// Lets out of the namespace only TCP to `ports` on this machine's end (and what
    /// answers it); everything else, UDP first of all, is dropped and counted.
    pub fn allow_only_tcp_to(&self, ports: &[u16]) -> Result<(), String> {
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        let rules = format!(
            "table inet lockdown {{\n\
               chain output {{\n\
                 type filter hook output priority 0; policy drop;\n\
                 oif \"lo\" accept\n\
                 ct state established,related accept\n\
                 ip daddr {host} tcp dport {{ {ports} }} accept\n\
                 meta l4proto udp counter name udp_dropped drop\n\
               }}\n\
               counter udp_dropped {{ }}\n\
             }}\n",
            host = self.host_ip,
            ports = ports.join(", "),
        );
        let file = self._dir.path().join("lockdown.nft");
        std::fs::write(&file, rules).map_err(|e| e.to_string())?;
        run(&[
            "ip",
            "netns",
            "exec",
            &self.name,
            "nft",
            "-f",
            &file.to_string_lossy(),
        ])
    }

    /// UDP packets the firewall dropped so far.
    pub fn udp_dropped(&self) -> u64 {
        let out = Command::new("ip")
            .args([
                "netns", "exec", &self.name, "nft", "list", "counter", "inet",
            ])
            .args(["lockdown", "udp_dropped"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        out.split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// A script to give ChromeDriver as the browser's binary: Chromium, started inside
    /// the namespace (with `--remote-debugging-pipe`, the driver reaches it from here).
    pub fn chromium_wrapper(&self) -> String {
        self.wrapper.to_string_lossy().into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes both ends of the veth pair.
        let _ = run(&["ip", "netns", "del", &self.name]);
    }
}
