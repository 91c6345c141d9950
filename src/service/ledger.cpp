#include "rstx/service/ledger.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

namespace rstx::service {

namespace {

constexpr std::array input_state_names{"queued", "running", "done", "failed", "quarantined", "duplicate"};
constexpr std::array grid_state_names{"pending", "running", "done", "failed"};

constexpr char const* schema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES('schema', '1');
CREATE TABLE IF NOT EXISTS inputs(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL DEFAULT 0,
  algorithm TEXT NOT NULL DEFAULT '', options TEXT NOT NULL DEFAULT '', grid_key TEXT NOT NULL DEFAULT '',
  output TEXT NOT NULL DEFAULT '', output_size INTEGER NOT NULL DEFAULT 0, output_sha256 TEXT NOT NULL DEFAULT '',
  records_in INTEGER NOT NULL DEFAULT 0, records_out INTEGER NOT NULL DEFAULT 0, records_skipped INTEGER NOT NULL DEFAULT 0,
  hash_seconds REAL NOT NULL DEFAULT 0, process_seconds REAL NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '', error_record INTEGER NOT NULL DEFAULT -1, error_offset INTEGER NOT NULL DEFAULT -1,
  moved_to TEXT NOT NULL DEFAULT '',
  discovered REAL NOT NULL DEFAULT 0, started REAL NOT NULL DEFAULT 0, finished REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS inputs_by_file ON inputs(path, size, mtime_ns);
CREATE INDEX IF NOT EXISTS inputs_by_sha ON inputs(sha256);
CREATE INDEX IF NOT EXISTS inputs_by_state ON inputs(state, next_attempt);
CREATE INDEX IF NOT EXISTS inputs_by_grid ON inputs(grid_key, state);
CREATE TABLE IF NOT EXISTS grids(
  key TEXT PRIMARY KEY, state TEXT NOT NULL, requested INTEGER NOT NULL DEFAULT 0, built INTEGER NOT NULL DEFAULT 0,
  due REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
  output TEXT NOT NULL DEFAULT '', output_size INTEGER NOT NULL DEFAULT 0, output_sha256 TEXT NOT NULL DEFAULT '',
  inputs INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0,
  finished REAL NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '');
)sql";

constexpr char const* input_columns =
    "id, path, size, mtime_ns, sha256, state, attempts, next_attempt, algorithm, options, grid_key, output, "
    "output_size, output_sha256, records_in, records_out, records_skipped, hash_seconds, process_seconds, error, "
    "error_record, error_offset, moved_to, discovered, started, finished";
constexpr char const* grid_columns =
    "key, state, requested, built, due, attempts, output, output_size, output_sha256, inputs, records, seconds, finished, error";

error db_error(sqlite3* db, std::string const& path, char const* what) {
  int const code = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  auto e = error(errc::io, fmt::format("ledger: {}: {}", what, db != nullptr ? sqlite3_errmsg(db) : "cannot open")).at(path);
  // A full disk is a transient condition the service waits out; say so in the errno.
  if ((code & 0xff) == SQLITE_FULL) e.os_error = ENOSPC;
  if ((code & 0xff) == SQLITE_IOERR) e.os_error = EIO;
  return e;
}

}  // namespace

char const* to_string(input_state s) noexcept { return input_state_names[static_cast<std::size_t>(s)]; }
char const* to_string(grid_state s) noexcept { return grid_state_names[static_cast<std::size_t>(s)]; }

std::optional<input_state> parse_input_state(std::string const& s) noexcept {
  for (std::size_t i = 0; i < input_state_names.size(); ++i)
    if (s == input_state_names[i]) return static_cast<input_state>(i);
  return std::nullopt;
}

/** One prepared statement; binds by position (1-based), steps, reads columns. */
struct ledger::statement {
  sqlite3* db;
  sqlite3_stmt* st = nullptr;
  int bound = 0;
  statement(sqlite3* d, char const* sql) : db(d) { sqlite3_prepare_v2(db, sql, -1, &st, nullptr); }
  ~statement() { sqlite3_finalize(st); }
  statement(statement const&) = delete;
  statement& operator=(statement const&) = delete;
  [[nodiscard]] bool ok() const { return st != nullptr; }
  statement& bind(std::int64_t v) { sqlite3_bind_int64(st, ++bound, v); return *this; }
  statement& bind(int v) { sqlite3_bind_int64(st, ++bound, v); return *this; }
  statement& bind(double v) { sqlite3_bind_double(st, ++bound, v); return *this; }
  statement& bind(std::string const& v) {
    sqlite3_bind_text(st, ++bound, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind(char const* v) { return bind(std::string(v)); }
  /** SQLITE_ROW, SQLITE_DONE or an error code. */
  int step() { return sqlite3_step(st); }
  [[nodiscard]] std::int64_t i64(int c) const { return sqlite3_column_int64(st, c); }
  [[nodiscard]] double real(int c) const { return sqlite3_column_double(st, c); }
  [[nodiscard]] std::string text(int c) const {
    auto const* t = sqlite3_column_text(st, c);
    return t != nullptr ? std::string(reinterpret_cast<char const*>(t)) : std::string();
  }
  [[nodiscard]] input_row input() const {
    input_row r;
    int c = 0;
    r.id = i64(c++);
    r.path = text(c++);
    r.size = i64(c++);
    r.mtime_ns = i64(c++);
    r.sha256 = text(c++);
    r.state = parse_input_state(text(c++)).value_or(input_state::failed);
    r.attempts = static_cast<int>(i64(c++));
    r.next_attempt = real(c++);
    r.algorithm = text(c++);
    r.options = text(c++);
    r.grid_key = text(c++);
    r.output = text(c++);
    r.output_size = i64(c++);
    r.output_sha256 = text(c++);
    r.records_in = i64(c++);
    r.records_out = i64(c++);
    r.records_skipped = i64(c++);
    r.hash_seconds = real(c++);
    r.process_seconds = real(c++);
    r.error = text(c++);
    r.error_record = i64(c++);
    r.error_offset = i64(c++);
    r.moved_to = text(c++);
    r.discovered = real(c++);
    r.started = real(c++);
    r.finished = real(c++);
    return r;
  }
  [[nodiscard]] grid_row grid() const {
    grid_row g;
    int c = 0;
    g.key = text(c++);
    auto const s = text(c++);
    for (std::size_t i = 0; i < grid_state_names.size(); ++i)
      if (s == grid_state_names[i]) g.state = static_cast<grid_state>(i);
    g.requested = i64(c++);
    g.built = i64(c++);
    g.due = real(c++);
    g.attempts = static_cast<int>(i64(c++));
    g.output = text(c++);
    g.output_size = i64(c++);
    g.output_sha256 = text(c++);
    g.inputs = i64(c++);
    g.records = i64(c++);
    g.seconds = real(c++);
    g.finished = real(c++);
    g.error = text(c++);
    return g;
  }
};

#define RSTX_LEDGER_STMT(name, sql)                                             \
  statement name(db_, sql);                                                     \
  if (!name.ok()) return unexpected(db_error(db_, path_.string(), "prepare"))
#define RSTX_LEDGER_DONE(st, what)                                              \
  if ((st).step() != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), what))

result<ledger> ledger::open(std::filesystem::path const& file, bool create) {
  ledger l;
  l.path_ = file;
  l.mutex_ = std::make_unique<std::mutex>();
  int const flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &l.db_, flags, nullptr) != SQLITE_OK) {
    auto e = db_error(l.db_, file.string(), "cannot open");
    if (!create && !std::filesystem::exists(file)) e = error(errc::not_found, "no ledger here (has the service run with this state folder?)").at(file.string());
    return unexpected(std::move(e));
  }
  sqlite3_busy_timeout(l.db_, 10000);
  if (auto r = l.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !r) return unexpected(r.error());
  if (create)
    if (auto r = l.exec(schema); !r) return unexpected(r.error());
  return l;
}

ledger::ledger(ledger&& o) noexcept : path_(std::move(o.path_)), db_(std::exchange(o.db_, nullptr)), mutex_(std::move(o.mutex_)) {}
ledger& ledger::operator=(ledger&& o) noexcept {
  if (this != &o) {
    if (db_ != nullptr) sqlite3_close(db_);
    path_ = std::move(o.path_);
    db_ = std::exchange(o.db_, nullptr);
    mutex_ = std::move(o.mutex_);
  }
  return *this;
}
ledger::~ledger() {
  if (db_ != nullptr) sqlite3_close(db_);
}

result<void> ledger::exec(char const* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    auto e = db_error(db_, path_.string(), "statement failed");
    sqlite3_free(msg);
    return unexpected(std::move(e));
  }
  return {};
}

result<std::int64_t> ledger::recover() {
  std::lock_guard lock(*mutex_);
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return unexpected(r.error());
  auto const before = sqlite3_total_changes64(db_);
  auto inputs = exec(
      "UPDATE inputs SET state='queued', next_attempt=0 WHERE state='running';"
      "UPDATE inputs SET state='queued', next_attempt=0, attempts=0 WHERE state='failed';");
  auto const requeued = sqlite3_total_changes64(db_) - before;
  auto grids = inputs ? exec("UPDATE grids SET state='pending' WHERE state='running';"
                             "UPDATE grids SET state='pending', attempts=0 WHERE state='failed';")
                      : inputs;
  if (!grids) {
    (void)exec("ROLLBACK");
    return unexpected(grids.error());
  }
  if (auto r = exec("COMMIT"); !r) return unexpected(r.error());
  return requeued;
}

result<std::optional<input_row>> ledger::find_file(std::string const& path, std::int64_t size, std::int64_t mtime_ns) {
  std::lock_guard lock(*mutex_);
  auto const sql = fmt::format("SELECT {} FROM inputs WHERE path=? AND size=? AND mtime_ns=? ORDER BY id DESC LIMIT 1", input_columns);
  RSTX_LEDGER_STMT(st, sql.c_str());
  st.bind(path).bind(size).bind(mtime_ns);
  int const rc = st.step();
  if (rc == SQLITE_ROW) return std::optional<input_row>(st.input());
  if (rc == SQLITE_DONE) return std::optional<input_row>();
  return unexpected(db_error(db_, path_.string(), "lookup"));
}

result<std::optional<input_row>> ledger::find_path(std::string const& path) {
  std::lock_guard lock(*mutex_);
  auto const sql = fmt::format("SELECT {} FROM inputs WHERE path=? ORDER BY id DESC LIMIT 1", input_columns);
  RSTX_LEDGER_STMT(st, sql.c_str());
  st.bind(path);
  int const rc = st.step();
  if (rc == SQLITE_ROW) return std::optional<input_row>(st.input());
  if (rc == SQLITE_DONE) return std::optional<input_row>();
  return unexpected(db_error(db_, path_.string(), "lookup"));
}

result<std::int64_t> ledger::add_queued(std::string const& path, std::int64_t size, std::int64_t mtime_ns, double now) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "INSERT INTO inputs(path, size, mtime_ns, state, discovered) VALUES(?, ?, ?, 'queued', ?)");
  st.bind(path).bind(size).bind(mtime_ns).bind(now);
  RSTX_LEDGER_DONE(st, "insert");
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

result<std::vector<input_row>> ledger::next_queued(double now, int limit, std::vector<std::int64_t> const& busy) {
  std::lock_guard lock(*mutex_);
  auto const sql = fmt::format("SELECT {} FROM inputs WHERE state='queued' AND next_attempt<=? ORDER BY next_attempt, id LIMIT ?",
                               input_columns);
  RSTX_LEDGER_STMT(st, sql.c_str());
  st.bind(now).bind(limit + static_cast<int>(busy.size()));
  std::vector<input_row> rows;
  int rc = 0;
  while ((rc = st.step()) == SQLITE_ROW) {
    auto r = st.input();
    if (std::find(busy.begin(), busy.end(), r.id) != busy.end()) continue;
    if (static_cast<int>(rows.size()) < limit) rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), "queue"));
  return rows;
}

result<std::int64_t> ledger::count(input_state s) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "SELECT count(*) FROM inputs WHERE state=?");
  st.bind(to_string(s));
  if (st.step() != SQLITE_ROW) return unexpected(db_error(db_, path_.string(), "count"));
  return st.i64(0);
}

result<std::optional<double>> ledger::next_due(double now) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "SELECT min(next_attempt) FROM inputs WHERE state='queued' AND next_attempt>?");
  st.bind(now);
  if (st.step() != SQLITE_ROW) return unexpected(db_error(db_, path_.string(), "queue"));
  if (sqlite3_column_type(st.st, 0) == SQLITE_NULL) return std::optional<double>();
  return std::optional<double>(std::max(0.0, st.real(0) - now));
}

result<std::int64_t> ledger::add_queued(std::vector<new_file> const& files, double now) {
  std::lock_guard lock(*mutex_);
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return unexpected(r.error());
  auto body = [&]() -> result<void> {
    RSTX_LEDGER_STMT(st, "INSERT INTO inputs(path, size, mtime_ns, state, discovered, grid_key) VALUES(?, ?, ?, 'queued', ?, ?)");
    for (auto const& f : files) {
      sqlite3_reset(st.st);
      st.bound = 0;
      st.bind(f.path).bind(f.size).bind(f.mtime_ns).bind(now).bind(f.grid_key);
      RSTX_LEDGER_DONE(st, "insert");
    }
    return {};
  };
  if (auto b = body(); !b) {
    (void)exec("ROLLBACK");
    return unexpected(b.error());
  }
  if (auto r = exec("COMMIT"); !r) return unexpected(r.error());
  return static_cast<std::int64_t>(files.size());
}

result<std::optional<input_row>> ledger::claim_content(input_row const& row) {
  std::lock_guard lock(*mutex_);
  {
    auto const sql = fmt::format(
        "SELECT {} FROM inputs WHERE sha256=? AND algorithm=? AND options=? AND id<>? AND state IN ('done','running') "
        "ORDER BY state='done' DESC, id LIMIT 1",
        input_columns);
    RSTX_LEDGER_STMT(st, sql.c_str());
    st.bind(row.sha256).bind(row.algorithm).bind(row.options).bind(row.id);
    int const rc = st.step();
    if (rc == SQLITE_ROW) return std::optional<input_row>(st.input());
    if (rc != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), "lookup"));
  }
  RSTX_LEDGER_STMT(up, "UPDATE inputs SET sha256=?, algorithm=?, options=?, hash_seconds=? WHERE id=?");
  up.bind(row.sha256).bind(row.algorithm).bind(row.options).bind(row.hash_seconds).bind(row.id);
  RSTX_LEDGER_DONE(up, "update");
  return std::optional<input_row>();
}

result<void> ledger::requeue_changed(std::int64_t id, std::int64_t size, std::int64_t mtime_ns, double not_before) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "UPDATE inputs SET state='queued', size=?, mtime_ns=?, next_attempt=? WHERE id=?");
  st.bind(size).bind(mtime_ns).bind(not_before).bind(id);
  RSTX_LEDGER_DONE(st, "update");
  return {};
}

result<void> ledger::mark_running(std::int64_t id, double now) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "UPDATE inputs SET state='running', started=? WHERE id=?");
  st.bind(now).bind(id);
  RSTX_LEDGER_DONE(st, "update");
  return {};
}

result<void> ledger::write_row(input_row const& r) {
  RSTX_LEDGER_STMT(st,
                   "UPDATE inputs SET path=?, size=?, mtime_ns=?, sha256=?, state=?, attempts=?, next_attempt=?, algorithm=?, "
                   "options=?, grid_key=?, output=?, output_size=?, output_sha256=?, records_in=?, records_out=?, "
                   "records_skipped=?, hash_seconds=?, process_seconds=?, error=?, error_record=?, error_offset=?, "
                   "moved_to=?, started=?, finished=? WHERE id=?");
  st.bind(r.path).bind(r.size).bind(r.mtime_ns).bind(r.sha256).bind(to_string(r.state)).bind(r.attempts).bind(r.next_attempt);
  st.bind(r.algorithm).bind(r.options).bind(r.grid_key).bind(r.output).bind(r.output_size).bind(r.output_sha256);
  st.bind(r.records_in).bind(r.records_out).bind(r.records_skipped).bind(r.hash_seconds).bind(r.process_seconds);
  st.bind(r.error).bind(r.error_record).bind(r.error_offset).bind(r.moved_to).bind(r.started).bind(r.finished).bind(r.id);
  RSTX_LEDGER_DONE(st, "update");
  return {};
}

result<void> ledger::mark_done(input_row const& row, std::optional<double> grid_due) {
  std::lock_guard lock(*mutex_);
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  auto body = [&]() -> result<void> {
    input_row r = row;
    r.state = input_state::done;
    if (auto w = write_row(r); !w) return w;
    if (grid_due && !r.grid_key.empty()) {
      RSTX_LEDGER_STMT(st,
                       "INSERT INTO grids(key, state, requested, due) VALUES(?, 'pending', 1, ?) "
                       "ON CONFLICT(key) DO UPDATE SET requested=requested+1, due=excluded.due, "
                       "state=CASE WHEN state='running' THEN 'running' ELSE 'pending' END, attempts=0");
      st.bind(r.grid_key).bind(*grid_due);
      RSTX_LEDGER_DONE(st, "grid request");
    }
    return {};
  };
  if (auto b = body(); !b) {
    (void)exec("ROLLBACK");
    return b;
  }
  return exec("COMMIT");
}

result<void> ledger::write_state(input_row const& row, input_state state) {
  std::lock_guard lock(*mutex_);
  input_row r = row;
  r.state = state;
  return write_row(r);
}

result<void> ledger::mark_duplicate(input_row const& row) { return write_state(row, input_state::duplicate); }

result<void> ledger::mark_quarantined(input_row const& row) { return write_state(row, input_state::quarantined); }

result<void> ledger::mark_retry(input_row const& row) { return write_state(row, input_state::queued); }

result<void> ledger::mark_failed(input_row const& row) { return write_state(row, input_state::failed); }

result<void> ledger::set_moved(std::int64_t id, std::string const& moved_to) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "UPDATE inputs SET moved_to=? WHERE id=?");
  st.bind(moved_to).bind(id);
  RSTX_LEDGER_DONE(st, "update");
  return {};
}

result<void> ledger::requeue(std::int64_t id) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "UPDATE inputs SET state='queued' WHERE id=? AND state='running'");
  st.bind(id);
  RSTX_LEDGER_DONE(st, "update");
  return {};
}

result<std::vector<grid_row>> ledger::due_grids(double now, bool ignore_due) {
  std::lock_guard lock(*mutex_);
  auto const sql = fmt::format(
      "SELECT {} FROM grids WHERE state='pending' AND requested>built AND (? OR due<=?) ORDER BY due, key", grid_columns);
  RSTX_LEDGER_STMT(st, sql.c_str());
  st.bind(ignore_due ? 1 : 0).bind(now);
  std::vector<grid_row> rows;
  int rc = 0;
  while ((rc = st.step()) == SQLITE_ROW) rows.push_back(st.grid());
  if (rc != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), "grids"));
  return rows;
}

result<bool> ledger::grid_inputs_pending(std::string const& key) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "SELECT count(*) FROM inputs WHERE grid_key=? AND state IN ('queued','running')");
  st.bind(key);
  if (st.step() != SQLITE_ROW) return unexpected(db_error(db_, path_.string(), "grids"));
  return st.i64(0) > 0;
}

result<std::vector<std::string>> ledger::grid_inputs(std::string const& key) {
  std::lock_guard lock(*mutex_);
  // One product per output name (a replaced input wrote the same name again), sorted by name,
  // which for SuperDARN names is time order.
  RSTX_LEDGER_STMT(st, "SELECT DISTINCT output FROM inputs WHERE grid_key=? AND state='done' AND output<>'' ORDER BY output");
  st.bind(key);
  std::vector<std::string> out;
  int rc = 0;
  while ((rc = st.step()) == SQLITE_ROW) out.push_back(st.text(0));
  if (rc != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), "grids"));
  return out;
}

result<void> ledger::mark_grid_running(std::string const& key) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "UPDATE grids SET state='running' WHERE key=?");
  st.bind(key);
  RSTX_LEDGER_DONE(st, "grid update");
  return {};
}

result<void> ledger::mark_grid_done(grid_row const& g) {
  std::lock_guard lock(*mutex_);
  // A newer request that arrived while this grid was built leaves it pending for another build.
  RSTX_LEDGER_STMT(st,
                   "UPDATE grids SET built=?, state=CASE WHEN requested>? THEN 'pending' ELSE 'done' END, attempts=0, output=?, "
                   "output_size=?, output_sha256=?, inputs=?, records=?, seconds=?, finished=?, error='' WHERE key=?");
  st.bind(g.built).bind(g.built).bind(g.output).bind(g.output_size).bind(g.output_sha256).bind(g.inputs).bind(g.records);
  st.bind(g.seconds).bind(g.finished).bind(g.key);
  RSTX_LEDGER_DONE(st, "grid update");
  return {};
}

result<void> ledger::mark_grid_failed(grid_row const& g) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "UPDATE grids SET state=?, attempts=?, due=?, error=?, finished=? WHERE key=?");
  st.bind(to_string(g.state)).bind(g.attempts).bind(g.due).bind(g.error).bind(g.finished).bind(g.key);
  RSTX_LEDGER_DONE(st, "grid update");
  return {};
}

result<std::optional<double>> ledger::next_grid_due(double now) {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "SELECT min(due) FROM grids WHERE state='pending' AND requested>built AND due>?");
  st.bind(now);
  if (st.step() != SQLITE_ROW) return unexpected(db_error(db_, path_.string(), "grids"));
  if (sqlite3_column_type(st.st, 0) == SQLITE_NULL) return std::optional<double>();
  return std::optional<double>(st.real(0));
}

result<std::vector<std::pair<std::string, std::int64_t>>> ledger::counts_by_state() {
  std::lock_guard lock(*mutex_);
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (auto const* name : input_state_names) out.emplace_back(name, 0);
  RSTX_LEDGER_STMT(st, "SELECT state, count(*) FROM inputs GROUP BY state");
  int rc = 0;
  while ((rc = st.step()) == SQLITE_ROW)
    for (auto& [name, n] : out)
      if (name == st.text(0)) n = st.i64(1);
  if (rc != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), "count"));
  return out;
}

result<std::string> ledger::quick_check() {
  std::lock_guard lock(*mutex_);
  RSTX_LEDGER_STMT(st, "PRAGMA quick_check");
  std::string out;
  while (st.step() == SQLITE_ROW) out += (out.empty() ? "" : "; ") + st.text(0);
  return out;
}

result<void> ledger::check_writable() {
  std::lock_guard lock(*mutex_);
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  return exec("ROLLBACK");
}

result<ledger_summary> ledger::summary(int last_n) {
  std::lock_guard lock(*mutex_);
  ledger_summary s;
  {
    RSTX_LEDGER_STMT(st, "SELECT state, count(*) FROM inputs GROUP BY state ORDER BY state");
    while (st.step() == SQLITE_ROW) s.inputs_by_state.emplace_back(st.text(0), st.i64(1));
  }
  {
    RSTX_LEDGER_STMT(st, "SELECT state, count(*) FROM grids GROUP BY state ORDER BY state");
    while (st.step() == SQLITE_ROW) s.grids_by_state.emplace_back(st.text(0), st.i64(1));
  }
  {
    RSTX_LEDGER_STMT(st, "SELECT coalesce(sum(size),0), coalesce(sum(process_seconds+hash_seconds),0), coalesce(min(finished),0), "
                         "coalesce(max(finished),0) FROM inputs WHERE state='done'");
    if (st.step() == SQLITE_ROW) {
      s.bytes_done = st.i64(0);
      s.busy_seconds = st.real(1);
      s.first_finished = st.real(2);
      s.last_finished = st.real(3);
    }
  }
  for (auto [state, into] : {std::pair{"done", &s.last_done}, std::pair{"failed','quarantined", &s.last_failed}}) {
    auto const sql = fmt::format("SELECT {} FROM inputs WHERE state IN ('{}') ORDER BY finished DESC, id DESC LIMIT ?", input_columns, state);
    RSTX_LEDGER_STMT(st, sql.c_str());
    st.bind(last_n);
    while (st.step() == SQLITE_ROW) into->push_back(st.input());
  }
  return s;
}

result<std::vector<input_row>> ledger::list(std::optional<input_state> only) {
  std::lock_guard lock(*mutex_);
  auto const sql = fmt::format("SELECT {} FROM inputs {} ORDER BY id", input_columns, only ? "WHERE state=?" : "");
  RSTX_LEDGER_STMT(st, sql.c_str());
  if (only) st.bind(to_string(*only));
  std::vector<input_row> rows;
  int rc = 0;
  while ((rc = st.step()) == SQLITE_ROW) rows.push_back(st.input());
  if (rc != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), "list"));
  return rows;
}

result<std::vector<grid_row>> ledger::list_grids() {
  std::lock_guard lock(*mutex_);
  auto const sql = fmt::format("SELECT {} FROM grids ORDER BY key", grid_columns);
  RSTX_LEDGER_STMT(st, sql.c_str());
  std::vector<grid_row> rows;
  int rc = 0;
  while ((rc = st.step()) == SQLITE_ROW) rows.push_back(st.grid());
  if (rc != SQLITE_DONE) return unexpected(db_error(db_, path_.string(), "list"));
  return rows;
}

}  // namespace rstx::service
