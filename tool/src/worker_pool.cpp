#include "pycemit/worker_pool.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "pycemit/source_hash.h"
#include "pycemit/worker_process.h"
#include "pycemit/worker_protocol.h"

namespace pycemit {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kStderrTail = 2048;  // bytes of a worker's stderr kept for error messages
// Requests sent to one worker ahead of its replies: the next file waits in the
// worker's pipe while pycemit writes the previous result, so no worker idles.
constexpr std::size_t kPipelineDepth = 2;
constexpr std::size_t kReadChunk = 1 << 20;
// How long a worker that closed its output may take to exit before it is killed.
constexpr std::chrono::milliseconds kExitGrace{200};

// The last line of what a worker wrote to stderr, for one-line error messages.
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

}  // namespace

struct WorkerPool::Worker {
  std::unique_ptr<WorkerProcess> process;
  protocol::FrameReader reader;
  std::string outbox;          // request bytes not yet written
  bool ready = false;          // handshake received
  std::deque<CompileRequest> in_flight;  // sent, in order; the first is being compiled
  Clock::time_point deadline;  // of the handshake, or of the first request in flight
  bool stderr_open = true;
  std::string stderr_tail;
};

WorkerPool::WorkerPool(std::string interpreter, int max_workers, std::chrono::milliseconds timeout)
    : interpreter_(std::move(interpreter)), max_workers_(std::max(1, max_workers)), timeout_(timeout) {
  ::signal(SIGPIPE, SIG_IGN);  // a dead worker's pipe must give EPIPE, not kill pycemit
}

WorkerPool::~WorkerPool() = default;

void WorkerPool::expect(const InterpreterInfo& info) { info_ = info; }

const InterpreterInfo& WorkerPool::handshake() {
  if (workers_.empty()) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->process = std::make_unique<WorkerProcess>(interpreter_);
    workers_.back()->deadline = Clock::now() + timeout_;
    ++workers_started_;
  }
  while (std::none_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->ready; })) poll_once();
  return *info_;
}

void WorkerPool::submit(CompileRequest request) {
  queue_.push_back(std::move(request));
  start_workers();  // they boot while the caller goes on planning
}

void WorkerPool::cancel() {
  workers_.clear();  // each WorkerProcess kills and reaps its process
  queue_.clear();
  ready_.clear();
  in_flight_ = 0;
}

CompileReply WorkerPool::next_reply() {
  if (outstanding() == 0) throw std::logic_error("next_reply() with nothing outstanding");
  while (ready_.empty()) {
    dispatch();
    start_workers();
    poll_once();
  }
  CompileReply reply = std::move(ready_.front());
  ready_.pop_front();
  return reply;
}

// Starts workers for the queued requests that the workers already starting will
// not take (each takes kPipelineDepth), up to the pool size.
void WorkerPool::start_workers() {
  const auto starting = std::count_if(workers_.begin(), workers_.end(), [](const auto& w) { return !w->ready; });
  const auto needed = static_cast<std::ptrdiff_t>((queue_.size() + kPipelineDepth - 1) / kPipelineDepth);
  for (auto wanted = needed - starting; wanted > 0 && static_cast<int>(workers_.size()) < max_workers_; --wanted) {
    auto w = std::make_unique<Worker>();
    w->process = std::make_unique<WorkerProcess>(interpreter_);
    w->deadline = Clock::now() + timeout_;
    workers_.push_back(std::move(w));
    ++workers_started_;
  }
}

// Gives every ready worker one request, then a second one (kPipelineDepth).
void WorkerPool::dispatch() {
  for (std::size_t depth = 1; depth <= kPipelineDepth; ++depth) {
    for (auto& w : workers_) {
      if (queue_.empty()) return;
      if (!w->ready || w->in_flight.size() >= depth) continue;
      CompileRequest& req = queue_.front();
      const std::string id = std::to_string(req.id);
      const std::string level = std::to_string(req.optimize);
      w->outbox += protocol::encode_frame(protocol::kCompile, {id, level, req.embedded_path, req.source});
      if (w->in_flight.empty()) w->deadline = Clock::now() + timeout_;
      w->in_flight.push_back(std::move(req));
      queue_.pop_front();
      ++in_flight_;
      flush_requests(*w);
    }
  }
}

void WorkerPool::flush_requests(Worker& w) {
  while (!w.outbox.empty()) {
    const ssize_t n = ::write(w.process->input_fd(), w.outbox.data(), w.outbox.size());
    if (n > 0) {
      w.outbox.erase(0, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;  // EAGAIN: wait for POLLOUT; EPIPE: the worker died, its output EOF reports it
    }
  }
}

void WorkerPool::poll_once() {
  std::vector<pollfd> fds;
  std::vector<std::pair<Worker*, int>> owners;  // (worker, 0 output / 1 stderr / 2 input)
  Clock::time_point next_deadline = Clock::time_point::max();
  for (auto& w : workers_) {
    fds.push_back({w->process->output_fd(), POLLIN, 0});
    owners.emplace_back(w.get(), 0);
    if (w->stderr_open) {
      fds.push_back({w->process->stderr_fd(), POLLIN, 0});
      owners.emplace_back(w.get(), 1);
    }
    if (!w->outbox.empty()) {
      fds.push_back({w->process->input_fd(), POLLOUT, 0});
      owners.emplace_back(w.get(), 2);
    }
    if (!w->ready || !w->in_flight.empty()) next_deadline = std::min(next_deadline, w->deadline);
  }
  if (fds.empty()) throw std::logic_error("poll with no workers");

  int wait_ms = -1;
  if (next_deadline != Clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - Clock::now());
    wait_ms = static_cast<int>(std::max<long long>(0, left.count()) + 1);
  }
  int n = ::poll(fds.data(), fds.size(), wait_ms);
  if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));

  std::vector<Worker*> dead;
  for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    auto [w, which] = owners[i];
    if (!w->process || std::find(dead.begin(), dead.end(), w) != dead.end()) continue;
    if (which == 1) {
      read_stderr(*w);
    } else if (which == 2) {
      flush_requests(*w);
    } else if (!read_replies(*w)) {
      dead.push_back(w);
    }
  }
  const auto now = Clock::now();
  for (auto& w : workers_) {
    if (!w->process || std::find(dead.begin(), dead.end(), w.get()) != dead.end()) continue;
    if ((!w->ready || !w->in_flight.empty()) && now >= w->deadline) {
      retire(*w, "Timeout", "no answer within " + format_seconds(timeout_) + " s; the interpreter was killed");
    }
  }
  for (Worker* w : dead) {
    if (!w->process) continue;
    read_stderr(*w);
    const std::string how = w->process->wait_for_exit(kExitGrace);
    retire(*w, "WorkerDied", "the interpreter " + how + last_line(w->stderr_tail));
  }
  workers_.erase(std::remove_if(workers_.begin(), workers_.end(), [](const auto& w) { return !w->process; }),
                 workers_.end());
}

// Reads what is available now (the descriptor is non-blocking), keeping the tail.
void WorkerPool::read_stderr(Worker& w) {
  char buf[4096];
  while (w.stderr_open) {
    const ssize_t n = ::read(w.process->stderr_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      w.stderr_open = false;
      return;
    }
    w.stderr_tail.append(buf, static_cast<std::size_t>(n));
    if (w.stderr_tail.size() > kStderrTail) w.stderr_tail.erase(0, w.stderr_tail.size() - kStderrTail);
  }
}

// Returns false when the worker's output ended or was not a frame stream.
bool WorkerPool::read_replies(Worker& w) {
  read_buffer_.resize(kReadChunk);
  const ssize_t n = ::read(w.process->output_fd(), read_buffer_.data(), read_buffer_.size());
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  w.reader.feed(std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)));
  try {
    while (auto frame = w.reader.next()) handle_frame(w, frame->kind, frame->fields);
  } catch (const protocol::ProtocolError& e) {
    if (!w.ready) {
      throw InterpreterError(interpreter_ + ": no pycemit handshake (not a Python interpreter?): " + e.what());
    }
    retire(w, "WorkerDied", std::string("the interpreter wrote something that is not a pycemit reply (") +
                                e.what() + "); it was killed");
  }
  return true;
}

void WorkerPool::handle_frame(Worker& w, char kind, const std::vector<std::string>& fields) {
  if (!w.process) return;  // retired while reading this batch
  if (!w.ready) {
    if (kind == protocol::kRefused && fields.size() == 2) {
      InterpreterInfo refused;
      refused.executable = interpreter_;
      refused.implementation = fields[0];
      // "3.7.16" -> major.minor.micro; validate_interpreter words the refusal.
      std::sscanf(fields[1].c_str(), "%d.%d.%d", &refused.major, &refused.minor, &refused.micro);
      validate_interpreter(refused);
    }
    if (kind != protocol::kHello) throw protocol::ProtocolError("expected a handshake");
    check_hello(fields);
    w.ready = true;
    return;
  }
  if (w.in_flight.empty() || (kind != protocol::kCompiled && kind != protocol::kFailed) || fields.empty() ||
      static_cast<std::uint64_t>(protocol::parse_int_field(fields[0])) != w.in_flight.front().id) {
    throw protocol::ProtocolError("unexpected reply");
  }
  CompileReply reply;
  reply.id = w.in_flight.front().id;
  if (kind == protocol::kCompiled) {
    if (fields.size() < 2 || (fields.size() - 2) % 3 != 0) throw protocol::ProtocolError("malformed compile reply");
    reply.code = fields[1];
    for (std::size_t i = 2; i + 2 < fields.size(); i += 3) {
      reply.warnings.push_back({fields[i], static_cast<int>(protocol::parse_int_field(fields[i + 1])), fields[i + 2]});
    }
  } else {
    if (fields.size() != 5) throw protocol::ProtocolError("malformed failure reply");
    reply.failure = {fields[1], fields[2], optional_int(fields[3]), optional_int(fields[4])};
  }
  w.in_flight.pop_front();
  --in_flight_;
  w.deadline = Clock::now() + timeout_;  // the next request in flight starts now
  ready_.push_back(std::move(reply));
}

void WorkerPool::check_hello(const std::vector<std::string>& fields) {
  if (fields.size() != 8 || fields[3].size() != 4 || fields[7].size() != 8) {
    throw protocol::ProtocolError("malformed handshake");
  }
  InterpreterInfo info;
  info.executable = interpreter_;
  info.implementation = fields[0];
  if (std::sscanf(fields[1].c_str(), "%d.%d.%d", &info.major, &info.minor, &info.micro) != 3) {
    throw protocol::ProtocolError("malformed version in handshake");
  }
  info.cache_tag = fields[2];
  std::copy(fields[3].begin(), fields[3].end(), info.magic.begin());
  info.marshal_version = static_cast<int>(protocol::parse_int_field(fields[4]));
  validate_interpreter(info);

  const SourceHash ours = source_hash(info, fields[6]);
  if (std::string_view(reinterpret_cast<const char*>(ours.data()), ours.size()) != fields[7]) {
    throw InterpreterError(interpreter_ + ": importlib.util.source_hash disagrees with pycemit's SipHash-" +
                           std::to_string(source_hash_rounds(info.minor).compression) + "-" +
                           std::to_string(source_hash_rounds(info.minor).finalization) +
                           " on a probe string; refusing to write hash-based pycs it would reject");
  }
  if (info_ && (info_->magic != info.magic || info_->cache_tag != info.cache_tag ||
                info_->minor != info.minor || info_->marshal_version != info.marshal_version)) {
    throw InterpreterError(interpreter_ + " now reports " + info.implementation + " " + info.version_string() +
                           " (" + info.cache_tag + "), expected " + info_->version_string() + " (" +
                           info_->cache_tag + "): the interpreter changed");
  }
  if (!info_) info_ = info;
}

void WorkerPool::retire(Worker& w, const std::string& type, const std::string& why) {
  if (!w.process) return;
  if (!w.ready) {
    read_stderr(w);
    w.process->terminate();
    throw InterpreterError(interpreter_ + ": no pycemit handshake: " + why +
                           " (not a Python interpreter, or it failed to start)");
  }
  if (!w.in_flight.empty()) {
    // The first request is the one the worker was compiling: it fails. The others
    // were only waiting in its pipe: they go back to the front of the queue.
    CompileReply reply;
    reply.id = w.in_flight.front().id;
    reply.failure = {type, why, std::nullopt, std::nullopt};
    ready_.push_back(std::move(reply));
    w.in_flight.pop_front();
    while (!w.in_flight.empty()) {
      queue_.push_front(std::move(w.in_flight.back()));
      w.in_flight.pop_back();
    }
  }
  in_flight_ = 0;
  for (auto& other : workers_) in_flight_ += other->in_flight.size();
  w.process.reset();  // kills and reaps
}

}  // namespace pycemit
