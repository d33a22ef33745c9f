//! `connectit-broker`: serve; create, disable or enable a technician account; make
//! teams and give them members; make a new setup code; print the record-signing key;
//! verify a session record; back the database up while serving, and restore it.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use connectit_broker::config::Config;
use connectit_broker::{auth, db, run, AppState};

const USAGE: &str = "\
Usage:
  connectit-broker [OPTIONS] [serve]
  connectit-broker [OPTIONS] create-technician --username NAME --display-name \"Full Name\" --password-stdin
  connectit-broker [OPTIONS] disable-technician --username NAME
      the account can no longer sign in; its open sockets close within a second
  connectit-broker [OPTIONS] enable-technician --username NAME
  connectit-broker [OPTIONS] create-team --slug SLUG --name \"Team name\"
      a team whose customers join its queue at /t/SLUG (letters a-z, digits, dashes)
  connectit-broker [OPTIONS] add-to-team --slug SLUG --username NAME
  connectit-broker [OPTIONS] remove-from-team --slug SLUG --username NAME
  connectit-broker [OPTIONS] close-team --slug SLUG [--message \"Back at 8:00\"]
      the queue takes no new customers (those in it stay); the message says why
  connectit-broker [OPTIONS] open-team --slug SLUG
  connectit-broker [OPTIONS] set-team-hours --slug SLUG --hours \"mon-fri 08:00-17:30; sat 09:00-12:00\" [--time-zone Europe/Paris]
      outside them the queue takes nobody, and those still waiting are told it closed;
      --hours \"\" for always open (the time zone defaults to the broker's time_zone)
  connectit-broker [OPTIONS] teams
      lists the teams, their links and members
  connectit-broker [OPTIONS] setup-code
      while no account exists: a new one-time setup code for the first one
  connectit-broker [OPTIONS] record-key
      prints the public key that checks session records' signatures (base64)
  connectit-broker [OPTIONS] backup FILE
      copies the database, also while the broker serves (SQLite's online backup: the
      database as it was at one instant), into the new FILE, then checks the copy
      (integrity, every session's hash chain)
  connectit-broker [OPTIONS] restore FILE
      with the broker stopped: checks the backup FILE and puts it in place of the
      database, which is kept aside as connectit.sqlite3.before-restore-<time>
  connectit-broker [OPTIONS] apply-retention
      now rather than at the daily run: deletes or anonymises (retention_action) the
      sessions that ended more than retention_days ago, but those under legal hold
  connectit-broker [OPTIONS] legal-hold --session ID [--off]
      keeps a session whole whatever its age (--off lifts the hold)
  connectit-broker [OPTIONS] migrate-to-postgres [--to postgres://USER@HOST/DB]
      with the broker stopped: copies the embedded database (in --data) into an empty
      PostgreSQL database (--to, or database_url), ids and hash chains intact, in one
      transaction, checking every table's rows and every session's chain before it
      commits; then set database_url (and redis_url) to serve from it
  connectit-broker [OPTIONS] verify-record [--public-key KEY] FILE.json
      checks a downloaded session record: with --public-key (base64 or hex, or a file
      holding it), on its own, with no database; without, against the database (and
      its signature with this broker's key). Exit 0 if intact, 1 if not

Options (each also settable in the config file and as CONNECTIT_<NAME> in the environment):
  --config FILE           TOML configuration file
  --listen ADDR           address and port to listen on (default 127.0.0.1:8080)
  --data DIR              folder for the database and keys (default data)
  --dist DIR              folder of the built app (default dist)
  --public-url URL        address people use to reach the broker (default: http:// and the listening address)
  --organisation NAME     organisation name shown to customers
  --pin-validity-secs N   how long a PIN stays valid (default 1200)
  --tls-cert FILE         PEM certificate chain: serve HTTPS and WSS (with --tls-key)
  --tls-key FILE          PEM private key of that certificate
  -h, --help              this text
";

enum Command {
    Serve,
    VerifyRecord {
        file: PathBuf,
        public_key: Option<String>,
    },
    Backup {
        file: PathBuf,
    },
    ApplyRetention,
    LegalHold {
        session: String,
        hold: bool,
    },
    Restore {
        file: PathBuf,
    },
    MigrateToPostgres {
        to: Option<String>,
    },
    CreateTechnician {
        username: String,
        display_name: String,
    },
    SetDisabled {
        username: String,
        disabled: bool,
    },
    SetupCode,
    RecordKey,
    CreateTeam {
        slug: String,
        name: String,
    },
    Membership {
        slug: String,
        username: String,
        member: bool,
    },
    TeamOpen {
        slug: String,
        open: bool,
        message: String,
    },
    Teams,
    TeamHours {
        slug: String,
        hours: String,
        time_zone: String,
    },
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("connectit-broker: {message}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut config_file: Option<PathBuf> = None;
    let mut overrides: Vec<(String, String)> = Vec::new();
    let mut command = None;
    let mut username = None;
    let mut display_name = None;
    let mut password_stdin = false;
    let mut record_file: Option<PathBuf> = None;
    let mut public_key: Option<String> = None;
    let mut slug: Option<String> = None;
    let mut team_name: Option<String> = None;
    let mut message = String::new();
    let mut hours: Option<String> = None;
    let mut time_zone = String::new();
    let mut session: Option<String> = None;
    let mut off = false;
    let mut to = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            "--config" => config_file = Some(value("--config")?.into()),
            "--listen" => overrides.push(("listen".into(), value("--listen")?)),
            "--data" => overrides.push(("data_dir".into(), value("--data")?)),
            "--dist" => overrides.push(("dist_dir".into(), value("--dist")?)),
            "--public-url" => overrides.push(("public_url".into(), value("--public-url")?)),
            "--organisation" => overrides.push(("organisation".into(), value("--organisation")?)),
            "--pin-validity-secs" => {
                overrides.push(("pin_validity_secs".into(), value("--pin-validity-secs")?))
            }
            "--tls-cert" => overrides.push(("tls_cert".into(), value("--tls-cert")?)),
            "--tls-key" => overrides.push(("tls_key".into(), value("--tls-key")?)),
            "--username" => username = Some(value("--username")?),
            "--display-name" => display_name = Some(value("--display-name")?),
            "--password-stdin" => password_stdin = true,
            "--public-key" => public_key = Some(value("--public-key")?),
            "--slug" => slug = Some(value("--slug")?),
            "--name" => team_name = Some(value("--name")?),
            "--message" => message = value("--message")?,
            "--hours" => hours = Some(value("--hours")?),
            "--time-zone" => time_zone = value("--time-zone")?,
            "--session" => session = Some(value("--session")?),
            "--off" => off = true,
            "--to" => to = Some(value("--to")?),
            "migrate-to-postgres" if command.is_none() => command = Some("migrate-to-postgres"),
            "apply-retention" if command.is_none() => command = Some("apply-retention"),
            "legal-hold" if command.is_none() => command = Some("legal-hold"),
            "create-team" | "add-to-team" | "remove-from-team" | "close-team" | "open-team"
            | "teams" | "set-team-hours"
                if command.is_none() =>
            {
                command = Some(match arg.as_str() {
                    "create-team" => "create-team",
                    "add-to-team" => "add-to-team",
                    "remove-from-team" => "remove-from-team",
                    "close-team" => "close-team",
                    "open-team" => "open-team",
                    "set-team-hours" => "set-team-hours",
                    _ => "teams",
                });
            }
            "serve" if command.is_none() => command = Some("serve"),
            "create-technician" if command.is_none() => command = Some("create-technician"),
            "disable-technician" | "enable-technician" | "setup-code" | "record-key"
                if command.is_none() =>
            {
                command = Some(match arg.as_str() {
                    "disable-technician" => "disable-technician",
                    "enable-technician" => "enable-technician",
                    "setup-code" => "setup-code",
                    _ => "record-key",
                });
            }
            "verify-record" if command.is_none() => command = Some("verify-record"),
            "backup" if command.is_none() => command = Some("backup"),
            "restore" if command.is_none() => command = Some("restore"),
            file if matches!(command, Some("verify-record" | "backup" | "restore"))
                && record_file.is_none()
                && !file.starts_with('-') =>
            {
                record_file = Some(file.into());
            }
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    let command = match command.unwrap_or("serve") {
        "create-technician" => Command::CreateTechnician {
            username: username.ok_or("create-technician needs --username")?,
            display_name: display_name.ok_or("create-technician needs --display-name")?,
        },
        "verify-record" => Command::VerifyRecord {
            file: record_file.ok_or("verify-record needs a file")?,
            public_key,
        },
        "apply-retention" => Command::ApplyRetention,
        "migrate-to-postgres" => Command::MigrateToPostgres { to },
        "legal-hold" => Command::LegalHold {
            session: session.ok_or("legal-hold needs --session ID")?,
            hold: !off,
        },
        "backup" => Command::Backup {
            file: record_file.ok_or("backup needs the file to write")?,
        },
        "restore" => Command::Restore {
            file: record_file.ok_or("restore needs the backup file")?,
        },
        "disable-technician" | "enable-technician" => Command::SetDisabled {
            username: username.ok_or("this command needs --username")?,
            disabled: command == Some("disable-technician"),
        },
        "setup-code" => Command::SetupCode,
        "record-key" => Command::RecordKey,
        "create-team" => Command::CreateTeam {
            slug: slug.ok_or("create-team needs --slug")?,
            name: team_name.ok_or("create-team needs --name")?,
        },
        "add-to-team" | "remove-from-team" => Command::Membership {
            slug: slug.ok_or("this command needs --slug")?,
            username: username.ok_or("this command needs --username")?,
            member: command == Some("add-to-team"),
        },
        "close-team" | "open-team" => Command::TeamOpen {
            slug: slug.ok_or("this command needs --slug")?,
            open: command == Some("open-team"),
            message,
        },
        "teams" => Command::Teams,
        "set-team-hours" => Command::TeamHours {
            slug: slug.ok_or("set-team-hours needs --slug")?,
            hours: hours.ok_or("set-team-hours needs --hours (\"\" for always open)")?,
            time_zone,
        },
        _ => Command::Serve,
    };
    let config = Config::load(config_file.as_deref(), std::env::vars(), &overrides)
        .map_err(|e| e.to_string())?;
    match command {
        Command::Serve => serve(config),
        Command::VerifyRecord { file, public_key } => match public_key {
            Some(key) => verify_offline(&key, &file),
            None => verify_record(config, &file),
        },
        Command::ApplyRetention => apply_retention(config),
        Command::LegalHold { session, hold } => legal_hold(config, &session, hold),
        Command::MigrateToPostgres { to } => {
            let url = to.unwrap_or_else(|| config.database_url.clone());
            if url.is_empty() {
                return Err("migrate-to-postgres needs --to postgres://… (or database_url)".into());
            }
            let copied = connectit_broker::migrate::to_postgres(&config.database_path(), &url)
                .map_err(|e| e.to_string())?;
            println!("Copied into PostgreSQL: {copied}.");
            Ok(())
        }
        Command::Backup { .. } | Command::Restore { .. } if !config.database_url.is_empty() => Err(
            "backup and restore are the embedded database's: PostgreSQL's are its own \
                 (pg_dump, or its base backups and WAL archive; docs/deployment.md)"
                .into(),
        ),
        Command::Backup { file } => {
            let summary = connectit_broker::backup::backup(&config.database_path(), &file)?;
            println!("Backed up to {}: {summary}.", file.display());
            Ok(())
        }
        Command::Restore { file } => {
            let (summary, kept) = connectit_broker::backup::restore(
                &config.data_dir,
                &config.database_path(),
                &file,
            )?;
            println!("Restored {}: {summary}.", file.display());
            if let Some(kept) = kept {
                println!("The database it replaced is kept as {}.", kept.display());
            }
            Ok(())
        }
        Command::SetDisabled { username, disabled } => set_disabled(config, &username, disabled),
        Command::SetupCode => setup_code(config),
        Command::CreateTeam { slug, name } => create_team(config, &slug, &name),
        Command::Membership {
            slug,
            username,
            member,
        } => membership(config, &slug, &username, member),
        Command::TeamOpen {
            slug,
            open,
            message,
        } => team_open(config, &slug, open, &message),
        Command::Teams => list_teams(config),
        Command::TeamHours {
            slug,
            hours,
            time_zone,
        } => team_hours(config, &slug, &hours, &time_zone),
        Command::RecordKey => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
            let key = connectit_broker::signing::RecordSigner::load_or_create(&config.data_dir)
                .map_err(|e| format!("cannot read or create the record-signing key: {e}"))?;
            println!("{}", key.public_key_base64());
            Ok(())
        }
        Command::CreateTechnician {
            username,
            display_name,
        } => {
            if !password_stdin {
                return Err("create-technician reads the password from standard input: add --password-stdin".into());
            }
            create_technician(config, &username, &display_name)
        }
    }
}

fn create_technician(config: Config, username: &str, display_name: &str) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    let db = open_or_create_db(&config)?;
    let row = db
        .blocking(|conn| Ok(auth::create_account(conn, username, display_name, password)))
        .map_err(|e| e.to_string())?
        .map_err(|e| match e.0 {
            connectit_protocol::ErrorCode::InvalidInput { field } => format!(
                "invalid {field:?}: user names are 1-64 letters, digits or ._-@ and must be new; \
                 passwords need at least 8 characters"
            ),
            other => format!("{other}"),
        })?;
    println!(
        "Technician account {:?} ({}) created.",
        row.username, row.display_name
    );
    Ok(())
}

/// The database the broker with `config` uses: PostgreSQL at `database_url`, or the
/// SQLite file in the data folder, which must exist already.
fn open_db(config: &Config) -> Result<db::Db, String> {
    if !config.database_url.is_empty() {
        return db::Db::postgres(&config.database_url, 2).map_err(|e| e.to_string());
    }
    let path = config.database_path();
    if !path.exists() {
        return Err(format!("no database at {}", path.display()));
    }
    db::Db::open(&path).map_err(|e| e.to_string())
}

/// [`open_db`], making the SQLite file (and the data folder) if there is none yet.
fn open_or_create_db(config: &Config) -> Result<db::Db, String> {
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
        return db::Db::open(&config.database_path()).map_err(|e| e.to_string());
    }
    open_db(config)
}

fn set_disabled(config: Config, username: &str, disabled: bool) -> Result<(), String> {
    let db = open_db(&config)?;
    let found = db
        .blocking(|conn| db::set_disabled(conn, username, disabled))
        .map_err(|e| e.to_string())?;
    if !found {
        return Err(format!("no technician account {username:?}"));
    }
    if disabled {
        println!("Technician account {username:?} disabled: it cannot sign in, and its open sessions close within a second.");
    } else {
        println!("Technician account {username:?} enabled.");
    }
    Ok(())
}

fn apply_retention(config: Config) -> Result<(), String> {
    if config.retention_days == 0 {
        return Err("retention_days is 0: sessions are kept for ever; set it first".into());
    }
    let db = open_db(&config)?;
    let (days, action) = (config.retention_days, config.retention_action);
    let cutoff = connectit_broker::hub::now_ms().saturating_sub(days * 24 * 3600 * 1000);
    let applied = db
        .blocking(|conn| connectit_broker::retention::apply(conn, cutoff, action))
        .map_err(|e| e.to_string())?;
    let (kind, detail) = connectit_broker::retention::describe(applied, action, days);
    db.blocking(|conn| connectit_broker::audit::record_now(conn, kind, None, &detail))
        .map_err(|e| e.to_string())?;
    println!("Retention: {detail}.");
    Ok(())
}

fn legal_hold(config: Config, session: &str, hold: bool) -> Result<(), String> {
    let db = open_db(&config)?;
    let id = connectit_protocol::SessionId(session.to_string());
    let found = db
        .blocking(|conn| connectit_broker::retention::set_hold(conn, &id, hold))
        .map_err(|e| e.to_string())?;
    if found.is_none() {
        return Err(format!("no session {session}"));
    }
    let detail = if hold {
        format!("session {session} is under legal hold: kept whatever its age")
    } else {
        format!("session {session}: legal hold lifted")
    };
    db.blocking(|conn| {
        connectit_broker::audit::record_now(
            conn,
            connectit_protocol::api::AuditKind::LegalHold,
            None,
            &detail,
        )
    })
    .map_err(|e| e.to_string())?;
    println!("{detail}.");
    Ok(())
}

fn create_team(config: Config, slug: &str, name: &str) -> Result<(), String> {
    let slug = slug.to_ascii_lowercase();
    if !connectit_broker::api::valid_slug(&slug) {
        return Err(format!(
            "invalid slug {slug:?}: 1-{} letters a-z, digits or dashes, not starting with a dash",
            connectit_protocol::limits::SLUG_MAX_CHARS
        ));
    }
    let name = name.trim();
    if connectit_protocol::check_name(name, connectit_protocol::limits::SLUG_MAX_CHARS).is_err() {
        return Err(format!(
            "invalid name {name:?}: 1-{} characters on one line",
            connectit_protocol::limits::SLUG_MAX_CHARS
        ));
    }
    let db = open_or_create_db(&config)?;
    let now = connectit_broker::hub::now_ms();
    let created = db
        .blocking(|conn| db::create_team(conn, &slug, name, now))
        .map_err(|e| e.to_string())?;
    if created.is_none() {
        return Err(format!("a team {slug:?} exists already"));
    }
    println!(
        "Team {name:?} created: its link is {}/t/{slug}",
        config.base_url()
    );
    Ok(())
}

fn find_team(db: &db::Db, slug: &str) -> Result<db::TeamRow, String> {
    let slug = slug.to_ascii_lowercase();
    db.blocking(|conn| db::team_by_slug(conn, &slug))
        .map_err(|e| e.to_string())?
        .ok_or(format!("no team {slug:?}"))
}

fn membership(config: Config, slug: &str, username: &str, member: bool) -> Result<(), String> {
    let db = open_db(&config)?;
    let team = find_team(&db, slug)?;
    let technician = db
        .blocking(|conn| db::technician_by_username(conn, username))
        .map_err(|e| e.to_string())?
        .ok_or(format!("no technician account {username:?}"))?;
    let changed = db
        .blocking(|conn| db::set_member(conn, team.id, technician.id, member))
        .map_err(|e| e.to_string())?;
    let what = match (member, changed) {
        (true, true) => "is now a member of",
        (true, false) => "was already a member of",
        (false, true) => "is no longer a member of",
        (false, false) => "was not a member of",
    };
    println!(
        "{username:?} {what} {:?} (a console open now sees the change when it reconnects).",
        team.name
    );
    Ok(())
}

fn team_open(config: Config, slug: &str, open: bool, message: &str) -> Result<(), String> {
    let db = open_db(&config)?;
    let team = find_team(&db, slug)?;
    let message = message.trim();
    if !message.is_empty()
        && connectit_protocol::check_text(message, connectit_protocol::limits::REASON_MAX_CHARS)
            .is_err()
    {
        return Err(format!(
            "the message must be at most {} characters, without control characters",
            connectit_protocol::limits::REASON_MAX_CHARS
        ));
    }
    db.blocking(|conn| db::set_team_open(conn, team.id, open, message))
        .map_err(|e| e.to_string())?;
    match open {
        true => println!("{:?} takes customers again.", team.name),
        false => println!("{:?} takes no new customers.", team.name),
    }
    Ok(())
}

fn team_hours(config: Config, slug: &str, hours: &str, time_zone: &str) -> Result<(), String> {
    use connectit_broker::hours;
    let hours = hours.trim();
    hours::Hours::parse(hours).map_err(|e| format!("--hours: {e}"))?;
    hours::time_zone(time_zone).map_err(|e| format!("--time-zone: {e}"))?;
    let db = open_db(&config)?;
    let team = find_team(&db, slug)?;
    let zone = time_zone.trim();
    db.blocking(|conn| db::set_team_hours(conn, team.id, hours, zone))
        .map_err(|e| e.to_string())?;
    match hours {
        "" => println!("{:?} is open at all hours.", team.name),
        hours => println!(
            "{:?} takes customers {hours} ({}).",
            team.name,
            if zone.is_empty() {
                config.time_zone.as_str()
            } else {
                zone
            }
        ),
    }
    Ok(())
}

fn list_teams(config: Config) -> Result<(), String> {
    let db = open_db(&config)?;
    let teams = db
        .blocking(|conn| db::teams(conn))
        .map_err(|e| e.to_string())?;
    if teams.is_empty() {
        println!("No teams yet (create-team makes one).");
    }
    for (team, members) in teams {
        let now = connectit_broker::hub::now_ms();
        let state = match (team.closed, team.hours.as_str()) {
            (true, _) => "closed".to_string(),
            (false, "") => "open".to_string(),
            (false, hours) => {
                let open = connectit_broker::hours::team_is_open(&team, &config.time_zone, now);
                format!(
                    "{}, hours {hours}",
                    if open { "open now" } else { "closed now" }
                )
            }
        };
        println!(
            "{} ({state}): {}/t/{}
  members: {}",
            team.name,
            config.base_url(),
            team.slug,
            if members.is_empty() {
                "none".to_string()
            } else {
                members.join(", ")
            }
        );
    }
    Ok(())
}

fn setup_code(config: Config) -> Result<(), String> {
    let db = open_or_create_db(&config)?;
    let validity = config.setup_code_validity_secs;
    match db
        .blocking(|conn| auth::prepare_setup_code(conn, validity))
        .map_err(|e| e.to_string())?
    {
        Some(code) => {
            println!(
                "One-time setup code for the first account: {code} (valid {} minutes; open /console and enter it)",
                validity.div_ceil(60)
            );
            Ok(())
        }
        None => {
            Err("a technician account exists already: sign in, or use create-technician".into())
        }
    }
}

fn read_record(file: &std::path::Path) -> Result<connectit_protocol::api::SessionRecord, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a ConnectIT session record (JSON): {e}",
            file.display()
        )
    })
}

/// `verify-record --public-key KEY FILE`: no database, only the broker's public key.
fn verify_offline(key: &str, file: &std::path::Path) -> Result<(), String> {
    use connectit_broker::record::{verify_signed, Signed};
    use connectit_broker::signing::parse_public_key;
    // The key itself, or a file holding it.
    let text = match std::fs::read_to_string(key) {
        Ok(text) => text,
        Err(_) => key.to_string(),
    };
    let public = parse_public_key(&text).map_err(|e| format!("--public-key: {e}"))?;
    let record = read_record(file)?;
    match verify_signed(&public, &record) {
        Signed::Intact {
            entries,
            final_hash,
        } => {
            println!(
                "INTACT: session {}, {entries} entries, final hash {final_hash}, signed by key {}",
                record.session,
                connectit_broker::signing::key_id(&public)
            );
            Ok(())
        }
        other => {
            let why = match other {
                Signed::Unsigned => "the record carries no signature (an older format): check it against the database instead".to_string(),
                Signed::OtherKey { key_id } => format!("it was signed by another key ({key_id})"),
                Signed::BadSignature => "the signature does not cover it: a header field, the number of entries or the final hash was changed".to_string(),
                Signed::BrokenChain { seq } => format!("entry {seq} does not match its hash: the file was changed"),
                Signed::WrongFinalHash => "the final hash is not the last entry's: entries were changed, added or cut off".to_string(),
                Signed::Intact { .. } => unreachable!(),
            };
            println!("NOT INTACT: session {}: {why}", record.session);
            std::process::exit(1);
        }
    }
}

fn verify_record(config: Config, file: &std::path::Path) -> Result<(), String> {
    use connectit_broker::record::{verify, verify_signed, Signed, Verdict};
    let record = read_record(file)?;
    // This broker's own key, when the record is signed: a changed header shows here.
    if record.signature.is_some() {
        let key = connectit_broker::signing::RecordSigner::load_or_create(&config.data_dir)
            .map_err(|e| format!("cannot read the record-signing key: {e}"))?;
        if let bad @ (Signed::BadSignature | Signed::OtherKey { .. }) =
            verify_signed(key.public_key(), &record)
        {
            println!(
                "NOT INTACT: session {}: {}",
                record.session,
                match bad {
                    Signed::OtherKey { key_id } => format!("signed by another key ({key_id})"),
                    _ => "the signature does not cover it: a header field, the number of entries or the final hash was changed".to_string(),
                }
            );
            std::process::exit(1);
        }
    }
    let db = open_db(&config)?;
    let verdict = db
        .blocking(|conn| verify(conn, &record))
        .map_err(|e| e.to_string())?;
    match verdict {
        Verdict::Intact {
            entries,
            final_hash,
        } => {
            println!(
                "INTACT: session {}, {entries} entries, final hash {final_hash}",
                record.session
            );
            Ok(())
        }
        other => {
            let why = match other {
                Verdict::BrokenChain { seq } => {
                    format!("entry {seq} does not match its hash: the file was changed")
                }
                Verdict::Differs { seq } => format!("entry {seq} differs from the stored log"),
                Verdict::WrongFinalHash => "the final hash is not the last entry's".to_string(),
                Verdict::UnknownSession => "the database has no such session".to_string(),
                Verdict::Intact { .. } => unreachable!(),
            };
            println!("NOT INTACT: session {}: {why}", record.session);
            std::process::exit(1);
        }
    }
}

fn serve(mut config: Config) -> Result<(), String> {
    limit_malloc_arenas();
    connectit_broker::logging::init(config.log_format)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        config.settle(address);
        if !config.dist_dir.join("index.html").exists() {
            tracing::warn!(dist = %config.dist_dir.display(), "the app is not built here: pages will say so");
        }
        let cluster = connectit_broker::state::connect_cluster(&config)
            .await
            .map_err(|e| e.to_string())?;
        let state = AppState::open_with(config, cluster).map_err(|e| e.to_string())?;
        // Says this process serves the folder (a restore refuses meanwhile).
        let _pid = connectit_broker::backup::PidFile::create(&state.config.data_dir)
            .map_err(|e| format!("cannot write {}: {e}", state.config.data_dir.display()))?;
        for warning in state.config.warnings() {
            match warning {
                connectit_protocol::api::ConfigWarning::NoRelay => tracing::warn!(
                    public_url = %state.config.public_url,
                    "no TURN relay: customers behind strict firewalls or proxies may not be able \
                     to share their screen or send files; set stun_urls, turn_urls and turn_secret \
                     (docs/deployment.md, TURN)"
                ),
            }
        }
        let mut out = std::io::stdout().lock();
        let scheme = if state.config.serves_tls() { "https" } else { "http" };
        let _ = writeln!(out, "ConnectIT listening on {scheme}://{address}");
        let base = state.config.base_url().to_string();
        let _ = writeln!(out, "  customer page: {base}/");
        let _ = writeln!(out, "  console:       {base}/console");
        if let Some(code) = state.setup_code() {
            // The command as this process was started, so it can be pasted as it is.
            let program = std::env::args().next().unwrap_or_else(|| "connectit-broker".into());
            let data = state.config.data_dir.display();
            let _ = writeln!(
                out,
                "  No technician account yet. Open {base}/console and use the one-time setup code {code},\n  \
                 or run: echo 'a long password' | {program} --data {data} create-technician \\\n      \
                 --username NAME --display-name \"Full Name\" --password-stdin"
            );
        }
        let _ = out.flush();
        drop(out);
        run(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stopping: closing sockets");
}

/// Caps glibc's malloc arenas at one per core (at least two). By default it makes up to
/// eight per core, one per thread that allocates at once, and the blocking pool's
/// threads (SQLite, password hashing) each leave one behind with memory it rarely gives
/// back: at 5,000 sessions that was about 2 KiB per connection. `MALLOC_ARENA_MAX` in
/// the environment overrides it. Called before any other thread exists.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // The operator's own setting (glibc reads it itself) wins.
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return;
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(2);
        // SAFETY: mallopt only sets a tunable of the allocator; this runs on the main
        // thread before the runtime or any other thread is started.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
