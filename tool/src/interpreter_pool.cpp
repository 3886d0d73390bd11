#include "pycemit/interpreter_pool.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "pycemit/interpreter_process.h"
#include "pycemit/interpreter_protocol.h"

namespace pycemit {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kStderrTail = 2048;  // bytes of an interpreter's stderr kept for error messages
// Requests sent to one interpreter ahead of its replies: the next file waits in the
// interpreter's pipe while pycemit writes the previous result, so no interpreter idles.
constexpr std::size_t kPipelineDepth = 2;
constexpr std::size_t kReadChunk = 1 << 20;
// How long an interpreter that closed its output may take to exit before it is killed.
constexpr std::chrono::milliseconds kExitGrace{200};

// The last line of what an interpreter wrote to stderr, for one-line error messages.
std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  if (nl != std::string::npos) text = text.substr(nl + 1);
  return text.empty() ? std::string() : " (it said: " + text + ")";
}

std::string format_seconds(std::chrono::milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(ms.count()) / 1000.0);
  return text;
}

std::optional<int> optional_int(const std::string& field) {
  if (field.empty()) return std::nullopt;
  const long long v = protocol::parse_int_field(field);
  if (v <= 0 || v > 0x7FFFFFFF) return std::nullopt;
  return static_cast<int>(v);
}

// "3.12.1" into major, minor and micro; false unless it is exactly three
// dot-separated decimal numbers.
bool parse_version(std::string_view text, InterpreterInfo& info) {
  int* parts[] = {&info.major, &info.minor, &info.micro};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (std::size_t i = 0; i < 3; ++i) {
    if (i > 0 && (p == end || *p++ != '.')) return false;
    const auto [next, error] = std::from_chars(p, end, *parts[i]);
    if (error != std::errc() || next == p) return false;
    p = next;
  }
  return p == end;
}

// The interpreter's facts from its hello: name, value pairs
// (tool/bootstrap/compiler.py), with its format decided (interpreter.h).
InterpreterInfo interpreter_from_hello(const std::string& executable, const std::vector<std::string>& fields) {
  if (fields.size() % 2 != 0) throw protocol::ProtocolError("malformed handshake");
  InterpreterInfo info;
  info.executable = executable;
  auto& hashes = info.source_hashes;
  std::string version;
  bool has_cache_tag = true;
  for (std::size_t i = 0; i < fields.size(); i += 2) {
    const std::string& name = fields[i];
    const std::string& value = fields[i + 1];
    if (name == "implementation")
      info.implementation = value;
    else if (name == "version")
      version = value;
    else if (name == "release_level")
      info.release_level = value;
    else if (name == "serial")
      info.serial = static_cast<int>(protocol::parse_int_field(value));
    else if (name == "implementation_version")
      info.implementation_version = value;
    else if (name == "cache_tag")
      info.cache_tag = value;
    else if (name == "has_cache_tag")
      has_cache_tag = protocol::parse_int_field(value) != 0;
    else if (name == "magic" && value.size() == 4)
      std::copy(value.begin(), value.end(), info.magic.begin());
    else if (name == "marshal_version")
      info.marshal_version = static_cast<int>(protocol::parse_int_field(value));
    else if (name == "free_threaded")
      info.free_threaded = protocol::parse_int_field(value) != 0;
    else if (name == "source_hash_data")
      hashes.emplace_back(value, std::string());
    else if (name == "source_hash" && !hashes.empty() && hashes.back().second.empty())
      hashes.back().second = value;
  }
  if (!parse_version(version, info) || info.implementation.empty() || info.magic == std::array<std::uint8_t, 4>{} ||
      hashes.empty()) {
    throw protocol::ProtocolError("malformed handshake");
  }
  if (!has_cache_tag) info.cache_tag.reset();
  decide_format(info);
  return info;
}

std::string encode_request(const CompileRequest& req) {
  const std::string id = std::to_string(req.id);
  switch (req.kind) {
    case CompileRequest::Kind::Compile:
      return protocol::encode_frame(protocol::kCompile,
                                    {id, std::to_string(req.optimize), req.embedded_path, req.source});
    case CompileRequest::Kind::Dump: return protocol::encode_frame(protocol::kDump, {id, req.source});
    case CompileRequest::Kind::Verify:
      return protocol::encode_frame(protocol::kVerify, {id, req.source, req.canonical});
  }
  throw std::logic_error("unknown request kind");
}

// Whether two handshakes describe the same interpreter build.
bool same_interpreter(const InterpreterInfo& a, const InterpreterInfo& b) {
  return a.implementation == b.implementation && a.version_string() == b.version_string() &&
         a.implementation_version == b.implementation_version && a.cache_tag == b.cache_tag && a.magic == b.magic &&
         a.marshal_version == b.marshal_version && a.free_threaded == b.free_threaded && a.hash_rounds == b.hash_rounds;
}

}  // namespace

struct InterpreterPool::Process {
  std::unique_ptr<InterpreterProcess> child;
  protocol::FrameReader reader;
  std::string outbox;                    // request bytes not yet written
  bool ready = false;                    // handshake received
  std::deque<CompileRequest> in_flight;  // sent, in order; the first is being compiled
  Clock::time_point deadline;            // of the handshake, or of the first request in flight
  bool stderr_open = true;
  std::string stderr_tail;
};

InterpreterPool::InterpreterPool(std::string interpreter, int max_processes, std::chrono::milliseconds timeout)
    : interpreter_(std::move(interpreter)), max_processes_(std::max(1, max_processes)), timeout_(timeout) {
  ::signal(SIGPIPE, SIG_IGN);  // a dead interpreter's pipe must give EPIPE, not kill pycemit
}

InterpreterPool::~InterpreterPool() = default;

void InterpreterPool::expect(const InterpreterInfo& info) { info_ = info; }

const InterpreterInfo& InterpreterPool::handshake() {
  if (processes_.empty()) {
    processes_.push_back(std::make_unique<Process>());
    processes_.back()->child = std::make_unique<InterpreterProcess>(interpreter_);
    processes_.back()->deadline = Clock::now() + timeout_;
    ++processes_started_;
  }
  while (std::none_of(processes_.begin(), processes_.end(), [](const auto& proc) { return proc->ready; })) poll_once();
  return *info_;
}

void InterpreterPool::submit(CompileRequest request) {
  queue_.push_back(std::move(request));
  start_processes();  // they boot while the caller goes on planning
}

void InterpreterPool::cancel() {
  processes_.clear();  // each InterpreterProcess kills and reaps its process
  queue_.clear();
  ready_.clear();
  in_flight_ = 0;
}

CompileReply InterpreterPool::next_reply() {
  if (outstanding() == 0) throw std::logic_error("next_reply() with nothing outstanding");
  while (ready_.empty()) {
    dispatch();
    start_processes();
    poll_once();
  }
  CompileReply reply = std::move(ready_.front());
  ready_.pop_front();
  return reply;
}

// Starts interpreters for the queued requests that the interpreters already starting will
// not take (each takes kPipelineDepth), up to the pool size.
void InterpreterPool::start_processes() {
  const auto starting =
      std::count_if(processes_.begin(), processes_.end(), [](const auto& proc) { return !proc->ready; });
  const auto needed = static_cast<std::ptrdiff_t>((queue_.size() + kPipelineDepth - 1) / kPipelineDepth);
  for (auto wanted = needed - starting; wanted > 0 && static_cast<int>(processes_.size()) < max_processes_; --wanted) {
    auto proc = std::make_unique<Process>();
    proc->child = std::make_unique<InterpreterProcess>(interpreter_);
    proc->deadline = Clock::now() + timeout_;
    processes_.push_back(std::move(proc));
    ++processes_started_;
  }
}

// Gives every ready interpreter one request, then a second one (kPipelineDepth).
void InterpreterPool::dispatch() {
  for (std::size_t depth = 1; depth <= kPipelineDepth; ++depth) {
    for (auto& proc : processes_) {
      if (queue_.empty()) return;
      if (!proc->ready || proc->in_flight.size() >= depth) continue;
      CompileRequest& req = queue_.front();
      proc->outbox += encode_request(req);
      if (proc->in_flight.empty()) proc->deadline = Clock::now() + timeout_;
      proc->in_flight.push_back(std::move(req));
      queue_.pop_front();
      ++in_flight_;
      flush_requests(*proc);
    }
  }
}

void InterpreterPool::flush_requests(Process& proc) {
  while (!proc.outbox.empty()) {
    const ssize_t n = ::write(proc.child->input_fd(), proc.outbox.data(), proc.outbox.size());
    if (n > 0) {
      proc.outbox.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;  // EAGAIN: wait for POLLOUT; EPIPE: the interpreter died, its output EOF reports it
    }
  }
}

void InterpreterPool::poll_once() {
  std::vector<pollfd> fds;
  std::vector<std::pair<Process*, int>> owners;  // (interpreter, 0 output / 1 stderr / 2 input)
  Clock::time_point next_deadline = Clock::time_point::max();
  for (auto& proc : processes_) {
    fds.push_back({proc->child->output_fd(), POLLIN, 0});
    owners.emplace_back(proc.get(), 0);
    if (proc->stderr_open) {
      fds.push_back({proc->child->stderr_fd(), POLLIN, 0});
      owners.emplace_back(proc.get(), 1);
    }
    if (!proc->outbox.empty()) {
      fds.push_back({proc->child->input_fd(), POLLOUT, 0});
      owners.emplace_back(proc.get(), 2);
    }
    if (!proc->ready || !proc->in_flight.empty()) next_deadline = std::min(next_deadline, proc->deadline);
  }
  if (fds.empty()) throw std::logic_error("poll with no interpreters");

  int wait_ms = -1;
  if (next_deadline != Clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - Clock::now());
    wait_ms = static_cast<int>(std::max<long long>(0, left.count()) + 1);
  }
  int n = ::poll(fds.data(), fds.size(), wait_ms);
  if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));

  std::vector<Process*> dead;
  for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    auto [proc, which] = owners[i];
    if (!proc->child || std::find(dead.begin(), dead.end(), proc) != dead.end()) continue;
    if (which == 1) {
      read_stderr(*proc);
    } else if (which == 2) {
      flush_requests(*proc);
    } else if (!read_replies(*proc)) {
      dead.push_back(proc);
    }
  }
  const auto now = Clock::now();
  for (auto& proc : processes_) {
    if (!proc->child || std::find(dead.begin(), dead.end(), proc.get()) != dead.end()) continue;
    if ((!proc->ready || !proc->in_flight.empty()) && now >= proc->deadline) {
      retire(*proc, CompileFailure::kTimeout,
             "no answer within " + format_seconds(timeout_) + " s; the interpreter was killed");
    }
  }
  for (Process* proc : dead) {
    if (!proc->child) continue;
    read_stderr(*proc);
    const std::string how = proc->child->wait_for_exit(kExitGrace);
    retire(*proc, CompileFailure::kInterpreterDied, "the interpreter " + how + last_line(proc->stderr_tail));
  }
  processes_.erase(std::remove_if(processes_.begin(), processes_.end(), [](const auto& proc) { return !proc->child; }),
                   processes_.end());
}

// Reads what is available now (the descriptor is non-blocking), keeping the tail.
void InterpreterPool::read_stderr(Process& proc) {
  char buf[4096];
  while (proc.stderr_open) {
    const ssize_t n = ::read(proc.child->stderr_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      proc.stderr_open = false;
      return;
    }
    proc.stderr_tail.append(buf, static_cast<std::size_t>(n));
    if (proc.stderr_tail.size() > kStderrTail) proc.stderr_tail.erase(0, proc.stderr_tail.size() - kStderrTail);
  }
}

// Returns false when the interpreter's output ended or was not a frame stream.
bool InterpreterPool::read_replies(Process& proc) {
  read_buffer_.resize(kReadChunk);
  const ssize_t n = ::read(proc.child->output_fd(), read_buffer_.data(), read_buffer_.size());
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  proc.reader.feed(std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)));
  try {
    while (auto frame = proc.reader.next()) handle_frame(proc, frame->kind, frame->fields);
  } catch (const protocol::ProtocolError& e) {
    if (!proc.ready) {
      throw InterpreterError(interpreter_ + ": no pycemit handshake (not a Python interpreter?): " + e.what());
    }
    retire(
        proc, CompileFailure::kInterpreterDied,
        std::string("the interpreter wrote something that is not a pycemit reply (") + e.what() + "); it was killed");
  }
  return true;
}

void InterpreterPool::handle_frame(Process& proc, char kind, const std::vector<std::string>& fields) {
  if (!proc.child) return;  // retired while reading this batch
  if (!proc.ready) {
    if (kind == protocol::kRefused && fields.size() == 2) {
      InterpreterInfo refused;
      refused.executable = interpreter_;
      refused.implementation = fields[0];
      // "3.7.16" -> major.minor.micro; decide_format words the refusal.
      if (!parse_version(fields[1], refused)) throw protocol::ProtocolError("malformed version in a refusal");
      decide_format(refused);
      throw protocol::ProtocolError("refused an interpreter pycemit accepts");
    }
    if (kind != protocol::kHello) throw protocol::ProtocolError("expected a handshake");
    check_hello(fields);
    proc.ready = true;
    return;
  }
  if (proc.in_flight.empty() || (kind != protocol::kCompiled && kind != protocol::kFailed) || fields.empty() ||
      static_cast<std::uint64_t>(protocol::parse_int_field(fields[0])) != proc.in_flight.front().id) {
    throw protocol::ProtocolError("unexpected reply");
  }
  CompileReply reply;
  reply.id = proc.in_flight.front().id;
  if (kind == protocol::kCompiled && proc.in_flight.front().kind == CompileRequest::Kind::Verify) {
    if (fields.size() != 1) throw protocol::ProtocolError("malformed verify reply");
    reply.code = std::string();
  } else if (kind == protocol::kCompiled) {
    if (fields.size() < 2 || (fields.size() - 2) % 3 != 0) throw protocol::ProtocolError("malformed compile reply");
    reply.code = fields[1];
    for (std::size_t i = 2; i + 2 < fields.size(); i += 3) {
      reply.warnings.push_back({fields[i], static_cast<int>(protocol::parse_int_field(fields[i + 1])), fields[i + 2]});
    }
  } else {
    if (fields.size() != 5) throw protocol::ProtocolError("malformed failure reply");
    reply.failure = {fields[1], fields[2], optional_int(fields[3]), optional_int(fields[4])};
  }
  proc.in_flight.pop_front();
  --in_flight_;
  proc.deadline = Clock::now() + timeout_;  // the next request in flight starts now
  ready_.push_back(std::move(reply));
}

void InterpreterPool::check_hello(const std::vector<std::string>& fields) {
  InterpreterInfo info = interpreter_from_hello(interpreter_, fields);
  if (info_ && !same_interpreter(*info_, info)) {
    throw InterpreterError(interpreter_ + " now reports " + info.display_name() + " (magic number " +
                           std::to_string(info.magic_number()) + "), expected " + info_->display_name() +
                           " (magic number " + std::to_string(info_->magic_number()) + "): the interpreter changed");
  }
  if (!info_) info_ = info;
}

void InterpreterPool::retire(Process& proc, const std::string& type, const std::string& why) {
  if (!proc.child) return;
  if (!proc.ready) {
    read_stderr(proc);
    proc.child->terminate();
    throw InterpreterError(interpreter_ + ": no pycemit handshake: " + why +
                           " (not a Python interpreter, or it failed to start)");
  }
  if (!proc.in_flight.empty()) {
    // The first request is the one the interpreter was compiling: it fails. The others
    // were only waiting in its pipe: they go back to the front of the queue.
    CompileReply reply;
    reply.id = proc.in_flight.front().id;
    reply.failure = {type, why, std::nullopt, std::nullopt};
    ready_.push_back(std::move(reply));
    proc.in_flight.pop_front();
    while (!proc.in_flight.empty()) {
      queue_.push_front(std::move(proc.in_flight.back()));
      proc.in_flight.pop_back();
    }
  }
  in_flight_ = 0;
  for (auto& other : processes_) in_flight_ += other->in_flight.size();
  proc.child.reset();  // kills and reaps
}

}  // namespace pycemit
