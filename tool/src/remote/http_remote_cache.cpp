// The remote cache over HTTP with libcurl's multi interface (remote_cache.h).
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>

#include "pycemit/compile_cache_entry.h"
#include "pycemit/plan.h"
#include "pycemit/remote_cache.h"

namespace pycemit {
namespace {

void initialise_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw RemoteCacheError("libcurl cannot start");
  });
}

// One GET or PUT, and what came back.
struct Transfer {
  std::size_t index = 0;  // in the caller's list
  std::string url;
  const std::string* upload = nullptr;  // PUT: the body; GET: nullptr
  std::size_t uploaded = 0;
  std::string received;
  bool oversized = false;
  char error[CURL_ERROR_SIZE] = {};
};

std::size_t receive(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->received.size() + n > kMaxCompileCacheEntryBytes) {
    t->oversized = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  t->received.append(data, n);
  return n;
}

std::size_t send(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = std::min(size * count, t->upload->size() - t->uploaded);
  std::copy_n(t->upload->data() + t->uploaded, n, buffer);
  t->uploaded += n;
  return n;
}

class HttpRemoteCache : public RemoteCache {
 public:
  explicit HttpRemoteCache(const RemoteCacheSettings& settings) : settings_(settings) {
    initialise_curl();
    multi_ = curl_multi_init();
    if (!multi_) throw RemoteCacheError("libcurl cannot start");
    // Few connections, kept alive from one call to the next.
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(settings_.parallel));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(settings_.parallel));
    // No "Expect: 100-continue" round trip before each PUT body.
    headers_ = curl_slist_append(nullptr, "Expect:");
    headers_ = curl_slist_append(headers_, "Content-Type: application/octet-stream");
  }

  ~HttpRemoteCache() override {
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  HttpRemoteCache(const HttpRemoteCache&) = delete;
  HttpRemoteCache& operator=(const HttpRemoteCache&) = delete;

  void fetch(const std::vector<std::string>& keys, const Answer& answer) override {
    std::deque<Transfer> transfers(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      transfers[i].index = i;
      transfers[i].url = settings_.url + "/" + keys[i];
    }
    run(transfers, [&](Transfer& t, long status) {
      if (status == 200) {
        if (auto problem = answer(t.index, std::move(t.received))) {
          throw RemoteCacheError("GET " + t.url + " answered a bad entry: " + *problem);
        }
      } else if (status != 404) {
        throw RemoteCacheError("GET " + t.url + " answered HTTP " + std::to_string(status));
      }
    });
  }

  void store(const std::vector<std::pair<std::string, std::string>>& entries) override {
    std::deque<Transfer> transfers(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      transfers[i].index = i;
      transfers[i].url = settings_.url + "/" + entries[i].first;
      transfers[i].upload = &entries[i].second;
    }
    run(transfers, [&](Transfer& t, long status) {
      if (status < 200 || status > 299) {
        throw RemoteCacheError("PUT " + t.url + " answered HTTP " + std::to_string(status));
      }
    });
  }

 private:
  CURL* start(Transfer& t) {
    CURL* easy = curl_easy_init();
    if (!easy) throw RemoteCacheError("libcurl cannot start a transfer");
    curl_easy_setopt(easy, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.transfer_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, receive);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
    if (settings_.bearer_token) {
      curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
      curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, settings_.bearer_token->c_str());
    } else if (settings_.basic_auth) {
      curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(easy, CURLOPT_USERPWD, settings_.basic_auth->c_str());
    }
    if (t.upload) {
      curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(easy, CURLOPT_READFUNCTION, send);
      curl_easy_setopt(easy, CURLOPT_READDATA, &t);
      curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.upload->size()));
    }
    curl_multi_add_handle(multi_, easy);
    return easy;
  }

  // Runs every transfer, `parallel` at a time, calling `done(transfer, status)`
  // for each one that got a whole answer. The first failure (or exception from
  // `done`) abandons the rest and is thrown.
  template <typename Done>
  void run(std::deque<Transfer>& transfers, Done done) {
    std::vector<CURL*> running;
    const auto abandon = [&] {
      for (CURL* easy : running) {
        curl_multi_remove_handle(multi_, easy);
        curl_easy_cleanup(easy);
      }
      running.clear();
    };
    std::size_t next = 0;
    try {
      while (next < transfers.size() || !running.empty()) {
        while (next < transfers.size() && running.size() < static_cast<std::size_t>(settings_.parallel)) {
          running.push_back(start(transfers[next++]));
        }
        int still_running = 0;
        if (curl_multi_perform(multi_, &still_running) != CURLM_OK) throw RemoteCacheError("libcurl failed");
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
          if (msg->msg != CURLMSG_DONE) continue;
          CURL* easy = msg->easy_handle;
          const CURLcode result = msg->data.result;
          Transfer* t = nullptr;
          curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
          long status = 0;
          curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
          curl_multi_remove_handle(multi_, easy);
          curl_easy_cleanup(easy);
          std::erase(running, easy);
          if (t->oversized) {
            throw RemoteCacheError((t->upload ? "PUT " : "GET ") + t->url + " answered more than " +
                                   std::to_string(kMaxCompileCacheEntryBytes) + " bytes");
          }
          if (result != CURLE_OK) {
            throw RemoteCacheError((t->upload ? "PUT " : "GET ") + t->url + ": " +
                                   (t->error[0] ? t->error : curl_easy_strerror(result)));
          }
          done(*t, status);
        }
        if (!running.empty() && still_running > 0) curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
      }
    } catch (...) {
      abandon();
      throw;
    }
  }

  RemoteCacheSettings settings_;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
};

}  // namespace

std::unique_ptr<RemoteCache> make_remote_cache(const RemoteCacheSettings& settings) {
  return std::make_unique<HttpRemoteCache>(settings);
}

}  // namespace pycemit
