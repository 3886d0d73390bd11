#include "pycemit/source_hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>

namespace pycemit {
namespace {

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

// One fetched SIPHASH implementation per process; EVP_MAC objects are thread-safe.
EVP_MAC* siphash() {
  static std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "SIPHASH", nullptr));
  if (!mac) throw std::runtime_error("OpenSSL does not provide SIPHASH (EVP_MAC_fetch failed)");
  return mac.get();
}

}  // namespace

SourceHash source_hash(const std::array<std::uint8_t, 4>& magic, SipHashRounds rounds, std::string_view data) {
  std::array<unsigned char, 16> key{};  // magic, then zeros: k0 = magic as uint32 LE, k1 = 0
  std::copy(magic.begin(), magic.end(), key.begin());

  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(siphash()));
  size_t size = 8;
  unsigned int c_rounds = static_cast<unsigned int>(rounds.compression);
  unsigned int d_rounds = static_cast<unsigned int>(rounds.finalization);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
      OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_C_ROUNDS, &c_rounds),
      OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_D_ROUNDS, &d_rounds),
      OSSL_PARAM_construct_end(),
  };
  SourceHash out{};
  size_t written = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 || written != out.size()) {
    throw std::runtime_error("OpenSSL SIPHASH computation failed");
  }
  return out;
}

SourceHash source_hash(const InterpreterInfo& info, std::string_view data) {
  return source_hash(info.magic, info.hash_rounds, data);
}

}  // namespace pycemit
