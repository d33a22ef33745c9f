//! The SQL the broker speaks, on either database: SQLite (embedded, the default) or
//! PostgreSQL (shared by a cluster of brokers).
//!
//! Queries are written once, in the dialect both understand, with `?1`-style
//! parameters; on PostgreSQL they are rewritten (`$1`, `ILIKE` for SQLite's
//! case-insensitive `LIKE`) and prepared once per connection. Values cross as
//! [`Value`]s, the five types SQLite stores; PostgreSQL's columns are `BIGINT`, `TEXT`,
//! `BYTEA` (and `BOOLEAN` where a condition is bound), converted both ways.
//!
//! [`Connection`] is what the queries in [`crate::db`] and the modules beside it run on:
//! `execute`, `query_row`, `prepare`/`query_map`, `transaction`/`commit`, the shape of
//! rusqlite's own API. PostgreSQL is driven by tokio-postgres on a runtime of its own
//! ([`Postgres`]); a query waits for its answer on the calling (blocking) thread, as
//! SQLite's do.

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

/// A value as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What can be bound as a parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! integer_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(*self as i64)
            }
        }
    )*};
}
integer_to_value!(i64, i32, u32, u16, u8, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

/// Parameters: `params![a, b]`, an array of one type, or a list built at run time.
pub trait Params {
    fn into_values(self) -> Vec<Value>;
}
impl Params for &[Value] {
    fn into_values(self) -> Vec<Value> {
        self.to_vec()
    }
}
impl Params for Vec<Value> {
    fn into_values(self) -> Vec<Value> {
        self
    }
}
impl<T: ToValue, const N: usize> Params for [T; N] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(ToValue::to_value).collect()
    }
}

/// The parameters of a query, in order: `params![id, now]`, or `params![]` for none.
#[macro_export]
macro_rules! params {
    () => {
        ::std::vec::Vec::<$crate::sql::Value>::new()
    };
    ($($x:expr),+ $(,)?) => {
        ::std::vec![$($crate::sql::ToValue::to_value(&$x)),+]
    };
}
pub use params;

/// What a column can be read as.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Option<Self>;
}

macro_rules! integer_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Option<Self> {
                match value {
                    Value::Integer(i) => <$t>::try_from(*i).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
integer_from_value!(i64, i32, u32, u16, u8, u64, usize);

impl FromValue for bool {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(i) => Some(*i != 0),
            _ => None,
        }
    }
}
impl FromValue for f64 {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Real(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}
impl FromValue for Value {
    fn from_value(value: &Value) -> Option<Self> {
        Some(value.clone())
    }
}

/// One row of an answer.
#[derive(Debug, Clone)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// Column `index` (from 0) as a `T`.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, DbError> {
        let value = self
            .values
            .get(index)
            .ok_or_else(|| DbError::Corrupt(format!("no column {index} in the answer")))?;
        T::from_value(value).ok_or_else(|| {
            DbError::Corrupt(format!(
                "column {index} holds {value:?}, not a {}",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// `Ok(None)` for a query that found no row.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>, DbError>;
}

impl<T> OptionalExtension<T> for Result<T, DbError> {
    fn optional(self) -> Result<Option<T>, DbError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Which database a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection to either database.
pub struct Connection {
    backend: Backend,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(PgConnection),
}

impl Connection {
    pub fn sqlite(conn: rusqlite::Connection) -> Connection {
        Connection {
            backend: Backend::Sqlite(conn),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection underneath, for what only SQLite has (pragmas, backups);
    /// `None` on PostgreSQL.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.backend {
            Backend::Sqlite(c) => Some(c),
            Backend::Postgres(_) => None,
        }
    }

    /// Runs one statement; how many rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> Result<usize, DbError> {
        let params = params.into_values();
        match &self.backend {
            Backend::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))?)
            }
            Backend::Postgres(c) => c.execute(sql, params),
        }
    }

    /// Runs statements separated by `;`, with no parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match &self.backend {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => c.batch(sql),
        }
    }

    /// Every row of the answer.
    pub fn query(&self, sql: &str, params: impl Params) -> Result<Vec<Row>, DbError> {
        let params = params.into_values();
        match &self.backend {
            Backend::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let columns = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let values = (0..columns)
                        .map(|i| row.get::<_, rusqlite::types::Value>(i).map(from_sqlite))
                        .collect::<Result<_, _>>()?;
                    out.push(Row { values });
                }
                Ok(out)
            }
            Backend::Postgres(c) => c.query(sql, params),
        }
    }

    /// The first row of the answer through `f`; [`DbError::NoRow`] if there is none
    /// (see [`OptionalExtension::optional`]).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let rows = self.query(sql, params)?;
        f(rows.first().ok_or(DbError::NoRow)?)
    }

    /// A statement to run (the same as passing the SQL each time: statements are
    /// cached by their text on both databases).
    pub fn prepare<'c>(&'c self, sql: &str) -> Result<Statement<'c>, DbError> {
        Ok(Statement {
            conn: self,
            sql: sql.to_owned(),
        })
    }

    /// The same as [`Connection::prepare`].
    pub fn prepare_cached<'c>(&'c self, sql: &str) -> Result<Statement<'c>, DbError> {
        self.prepare(sql)
    }

    /// Begins a transaction, rolled back unless committed.
    pub fn transaction(&mut self) -> Result<Transaction<'_>, DbError> {
        self.execute_batch(match self.dialect() {
            // Takes the write lock at once: no deadlock upgrading a read.
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })?;
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }
}

/// A prepared query, rusqlite's way.
pub struct Statement<'c> {
    conn: &'c Connection,
    sql: String,
}

impl Statement<'_> {
    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        f: impl FnMut(&Row) -> Result<T, DbError>,
    ) -> Result<std::vec::IntoIter<Result<T, DbError>>, DbError> {
        let rows = self.conn.query(&self.sql, params)?;
        Ok(rows.iter().map(f).collect::<Vec<_>>().into_iter())
    }

    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.conn.query_row(&self.sql, params, f)
    }

    pub fn exists(&mut self, params: impl Params) -> Result<bool, DbError> {
        Ok(!self.conn.query(&self.sql, params)?.is_empty())
    }

    pub fn execute(&mut self, params: impl Params) -> Result<usize, DbError> {
        self.conn.execute(&self.sql, params)
    }
}

/// A transaction: commit it, or it is rolled back when dropped.
pub struct Transaction<'c> {
    conn: &'c mut Connection,
    done: bool,
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<(), DbError> {
        self.done = true;
        self.conn.execute_batch("COMMIT")
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Bound by reference: nothing is copied on its way to SQLite.
impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn from_sqlite(v: rusqlite::types::Value) -> Value {
    use rusqlite::types::Value as V;
    match v {
        V::Null => Value::Null,
        V::Integer(i) => Value::Integer(i),
        V::Real(f) => Value::Real(f),
        V::Text(s) => Value::Text(s),
        V::Blob(b) => Value::Blob(b),
    }
}

// ---- PostgreSQL ---------------------------------------------------------------------

/// SQL as written for both, rewritten for PostgreSQL: `?N` and `?` become `$N`, and
/// `LIKE` becomes `ILIKE` (SQLite's `LIKE` ignores ASCII case); string literals and
/// quoted names are left as they are.
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next_bare = 1;
    let mut quote: Option<char> = None;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.eq_ignore_ascii_case("LIKE") {
            out.push_str("ILIKE");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next_bare.to_string());
                    next_bare += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            c => out.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

impl tokio_postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("{self:?} cannot be stored as {ty}").into()
        };
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i).map_err(|_| mismatch())?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i).map_err(|_| mismatch())?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.as_str().to_sql(&Type::TEXT, out)
                }
                _ => Err(mismatch()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(mismatch()),
            },
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn from_postgres(row: &tokio_postgres::Row) -> Result<Row, DbError> {
    use tokio_postgres::types::Type;
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = match *ty {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Integer),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Integer(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Integer(v.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Integer(v.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(v.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            _ => {
                return Err(DbError::Corrupt(format!(
                    "column {} is of type {ty}, which the broker does not read",
                    column.name()
                )))
            }
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row { values })
}

/// A pool of connections to one PostgreSQL database, driven by a runtime of its own
/// (so a query can be waited for from any thread, in a task or not).
pub struct Postgres {
    runtime: Option<tokio::runtime::Runtime>,
    config: tokio_postgres::Config,
    pool: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
}

struct PoolState {
    idle: Vec<PgClient>,
    open: usize,
}

struct PgClient {
    client: Arc<tokio_postgres::Client>,
    statements: HashMap<String, tokio_postgres::Statement>,
}

/// How long a caller waits for a free connection before storage counts as unavailable.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// How long one statement may take.
const STATEMENT_TIMEOUT_MS: u64 = 15_000;

impl Postgres {
    /// A pool of at most `max` connections to `url` (`postgres://user@host:port/db`).
    /// Connects once to check the address.
    pub fn connect(url: &str, max: usize) -> Result<Arc<Postgres>, DbError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| DbError::Config(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.options(format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"));
        config.application_name("connectit-broker");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("postgres")
            .enable_all()
            .build()
            .map_err(|e| DbError::Config(format!("could not start PostgreSQL's runtime: {e}")))?;
        let pg = Arc::new(Postgres {
            runtime: Some(runtime),
            config,
            pool: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            max: max.max(1),
        });
        let first = pg.take()?;
        pg.give_back(first);
        Ok(pg)
    }

    /// Runs `fut` on the pool's runtime and waits for it on this thread.
    fn wait<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, DbError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let runtime = self.runtime.as_ref().ok_or(DbError::Poisoned)?;
        runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| DbError::TaskFailed("PostgreSQL's runtime stopped".into()))
    }

    fn take(&self) -> Result<PgClient, DbError> {
        let mut state = self.pool.lock().map_err(|_| DbError::Poisoned)?;
        let deadline = std::time::Instant::now() + POOL_WAIT;
        loop {
            while let Some(c) = state.idle.pop() {
                if !c.client.is_closed() {
                    return Ok(c);
                }
                state.open -= 1;
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                let config = self.config.clone();
                let made = self.wait(async move {
                    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::warn!("PostgreSQL connection ended: {e}");
                        }
                    });
                    Ok::<_, tokio_postgres::Error>(client)
                });
                return match made {
                    Ok(Ok(client)) => Ok(PgClient {
                        client: Arc::new(client),
                        statements: HashMap::new(),
                    }),
                    failed => {
                        let mut state = self.pool.lock().map_err(|_| DbError::Poisoned)?;
                        state.open -= 1;
                        self.freed.notify_one();
                        Err(failed
                            .and_then(|r| r.map_err(DbError::from))
                            .err()
                            .unwrap_or(DbError::Unavailable("no connection to PostgreSQL".into())))
                    }
                };
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(DbError::Unavailable(
                    "every PostgreSQL connection stayed busy".into(),
                ));
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .map_err(|_| DbError::Poisoned)?
                .0;
        }
    }

    fn give_back(&self, client: PgClient) {
        if let Ok(mut state) = self.pool.lock() {
            if client.client.is_closed() {
                state.open -= 1;
            } else {
                state.idle.push(client);
            }
            self.freed.notify_one();
        }
    }

    /// Runs `f` with one connection of the pool (a transaction it begins stays on it).
    pub fn with<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let client = self.take()?;
        let mut conn = Connection {
            backend: Backend::Postgres(PgConnection {
                pool: self.clone(),
                client: Mutex::new(Some(client)),
            }),
        };
        let result = f(&mut conn);
        if let Backend::Postgres(pg) = conn.backend {
            if let Some(mut client) = pg.client.lock().ok().and_then(|mut c| c.take()) {
                if result.is_err() && !client.client.is_closed() {
                    // Whatever failed, the connection goes back with no transaction open.
                    let c = client.client.clone();
                    let _ = self.wait(async move { c.batch_execute("ROLLBACK").await });
                    client.statements.clear();
                }
                self.give_back(client);
            }
        }
        result
    }
}

/// The schema's migrations, `broker/migrations/V<n>__<name>.sql`, applied in order and
/// recorded in `refinery_schema_history`.
mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The advisory lock brokers take while migrating, so that one applies each migration.
const MIGRATION_LOCK: i64 = 0x636f_6e6e_6563_7469;

impl Postgres {
    /// Applies the migrations this broker knows and the database lacks, under an
    /// advisory lock.
    pub fn migrate(&self) -> Result<(), DbError> {
        let config = self.config.clone();
        self.wait(async move {
            let (mut client, connection) = config.connect(tokio_postgres::NoTls).await?;
            let driver = tokio::spawn(connection);
            client
                .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            let applied = embedded::migrations::runner()
                .run_async(&mut client)
                .await
                .map_err(|e| DbError::Migration(e.to_string()));
            let _ = client
                .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
                .await;
            drop(client);
            let _ = driver.await;
            applied.map(|report| {
                for m in report.applied_migrations() {
                    tracing::info!("PostgreSQL: applied migration {}", m);
                }
            })
        })?
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// One pooled PostgreSQL connection, lent to a [`Connection`].
struct PgConnection {
    pool: Arc<Postgres>,
    client: Mutex<Option<PgClient>>,
}

impl PgConnection {
    fn statement(
        &self,
        client: &mut PgClient,
        sql: &str,
    ) -> Result<tokio_postgres::Statement, DbError> {
        if let Some(s) = client.statements.get(sql) {
            return Ok(s.clone());
        }
        let c = client.client.clone();
        let text = to_postgres(sql);
        let stmt = self.pool.wait(async move { c.prepare(&text).await })??;
        client.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn run<T: Send + 'static>(
        &self,
        sql: &str,
        params: Vec<Value>,
        go: impl FnOnce(
                Arc<tokio_postgres::Client>,
                tokio_postgres::Statement,
                Vec<Value>,
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<T, tokio_postgres::Error>> + Send>,
            > + Send
            + 'static,
    ) -> Result<T, DbError> {
        let mut guard = self.client.lock().map_err(|_| DbError::Poisoned)?;
        let client = guard.as_mut().ok_or(DbError::Poisoned)?;
        let stmt = self.statement(client, sql)?;
        let c = client.client.clone();
        Ok(self.pool.wait(go(c, stmt, params))??)
    }

    fn execute(&self, sql: &str, params: Vec<Value>) -> Result<usize, DbError> {
        self.run(sql, params, |c, stmt, params| {
            Box::pin(async move {
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                c.execute(&stmt, &refs).await.map(|n| n as usize)
            })
        })
    }

    fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, DbError> {
        let rows = self.run(sql, params, |c, stmt, params| {
            Box::pin(async move {
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                c.query(&stmt, &refs).await
            })
        })?;
        rows.iter().map(from_postgres).collect()
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        let guard = self.client.lock().map_err(|_| DbError::Poisoned)?;
        let c = guard.as_ref().ok_or(DbError::Poisoned)?.client.clone();
        let sql = sql.to_owned();
        Ok(self
            .pool
            .wait(async move { c.batch_execute(&sql).await })??)
    }
}

// ---- errors -------------------------------------------------------------------------

/// A storage failure. The detail is for the broker's log only: callers answer
/// `storage_unavailable`.
#[derive(Debug)]
pub enum DbError {
    /// SQLite failed (a full disk or database cap, a lock held too long, I/O).
    Sqlite(rusqlite::Error),
    /// PostgreSQL failed or could not be reached.
    Postgres(tokio_postgres::Error),
    /// No connection could be had in time (the database is down or overloaded).
    Unavailable(String),
    /// The database's address or settings are wrong.
    Config(String),
    /// A query that must find a row found none.
    NoRow,
    /// PostgreSQL's schema could not be brought up to date.
    Migration(String),
    /// An earlier panic poisoned the connection's lock.
    Poisoned,
    /// The blocking task that held the connection did not finish.
    TaskFailed(String),
    /// Something stored does not read back as it was written.
    Corrupt(String),
    /// An entry could not be encoded for storage.
    Encode(serde_json::Error),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Sqlite(e) => write!(f, "SQLite: {e}"),
            DbError::Postgres(e) => match e.as_db_error() {
                Some(db) => write!(f, "PostgreSQL: {}: {}", db.code().code(), db.message()),
                None => write!(f, "PostgreSQL: {e}"),
            },
            DbError::Unavailable(why) => write!(f, "database unavailable: {why}"),
            DbError::Config(why) => write!(f, "database settings: {why}"),
            DbError::NoRow => f.write_str("no such row"),
            DbError::Migration(why) => write!(f, "PostgreSQL's migrations: {why}"),
            DbError::Poisoned => f.write_str("database lock poisoned"),
            DbError::TaskFailed(e) => write!(f, "database task failed: {e}"),
            DbError::Corrupt(what) => write!(f, "stored data is corrupt: {what}"),
            DbError::Encode(e) => write!(f, "could not encode an entry: {e}"),
        }
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DbError::Sqlite(e) => Some(e),
            DbError::Postgres(e) => Some(e),
            DbError::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => DbError::NoRow,
            e => DbError::Sqlite(e),
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::Postgres(e)
    }
}

impl DbError {
    /// Whether a uniqueness or other constraint refused the write.
    pub fn is_conflict(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            DbError::Postgres(e) => e.code().is_some_and(|c| {
                *c == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
                    || *c == tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION
                    || *c == tokio_postgres::error::SqlState::CHECK_VIOLATION
                    || *c == tokio_postgres::error::SqlState::NOT_NULL_VIOLATION
            }),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_postgres;

    #[test]
    fn parameters_and_like_are_rewritten_outside_literals() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE b = ?1 AND c LIKE ? ESCAPE '\\' AND d = '?2 like'"),
            "SELECT a FROM t WHERE b = $1 AND c ILIKE $1 ESCAPE '\\' AND d = '?2 like'"
        );
        assert_eq!(
            to_postgres("SELECT \"likes\" FROM t WHERE x = ?12"),
            "SELECT \"likes\" FROM t WHERE x = $12"
        );
    }
}
