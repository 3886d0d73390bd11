#include "pycemit/pyc_header.h"

#include <algorithm>
#include <cctype>

#include "pycemit/little_endian.h"

namespace pycemit {
namespace {

constexpr std::uint32_t kFlagHashBased = 0x1;    // bit 0: hash-based pyc
constexpr std::uint32_t kFlagCheckSource = 0x2;  // bit 1: check the hash against the source

void put_u32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

std::string to_string(InvalidationMode mode) {
  switch (mode) {
    case InvalidationMode::Timestamp: return "timestamp";
    case InvalidationMode::UncheckedHash: return "unchecked-hash";
    case InvalidationMode::CheckedHash: return "checked-hash";
  }
  return "?";
}

std::optional<InvalidationMode> parse_invalidation_mode(std::string_view text) {
  std::string norm(text);
  std::transform(norm.begin(), norm.end(), norm.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(c)); });
  for (auto mode : kInvalidationModes) {
    if (norm == to_string(mode)) return mode;
  }
  return std::nullopt;
}

SourceStamp make_source_stamp(const timespec& mtime, std::uint64_t size) {
  // The same double CPython builds for st_mtime, then int() (truncation toward zero).
  const double st_mtime = static_cast<double>(mtime.tv_sec) + static_cast<double>(mtime.tv_nsec) * 1e-9;
  const auto whole = static_cast<std::int64_t>(st_mtime);
  return SourceStamp{static_cast<std::uint32_t>(static_cast<std::uint64_t>(whole) & 0xFFFFFFFFu),
                     static_cast<std::uint32_t>(size & 0xFFFFFFFFu)};
}

PycHeaderBytes encode_header(const PycHeader& header) {
  PycHeaderBytes out{};
  std::copy(header.magic.begin(), header.magic.end(), out.begin());
  switch (header.mode) {
    case InvalidationMode::Timestamp:
      if (!header.stamp) throw std::invalid_argument("timestamp pyc header needs the source stamp");
      put_u32(&out[4], 0);
      put_u32(&out[8], header.stamp->mtime);
      put_u32(&out[12], header.stamp->size);
      break;
    case InvalidationMode::UncheckedHash:
    case InvalidationMode::CheckedHash:
      if (!header.hash) throw std::invalid_argument("hash-based pyc header needs the source hash");
      put_u32(&out[4],
              header.mode == InvalidationMode::CheckedHash ? kFlagHashBased | kFlagCheckSource : kFlagHashBased);
      std::copy(header.hash->begin(), header.hash->end(), &out[8]);
      break;
  }
  return out;
}

PycHeader decode_header(std::string_view data) {
  if (data.size() < kPycHeaderSize) {
    throw std::runtime_error("truncated pyc header (" + std::to_string(data.size()) + " of 16 bytes)");
  }
  PycHeader header;
  std::copy(data.begin(), data.begin() + 4, header.magic.begin());
  const std::uint32_t flags = read_le<std::uint32_t>(data, 4);
  if (flags & ~(kFlagHashBased | kFlagCheckSource)) {
    throw std::runtime_error("invalid pyc flags " + std::to_string(flags) + " (import rejects any bit above bit 1)");
  }
  if (flags & kFlagHashBased) {
    header.mode = (flags & kFlagCheckSource) ? InvalidationMode::CheckedHash : InvalidationMode::UncheckedHash;
    SourceHash hash{};
    std::copy(data.begin() + 8, data.begin() + 16, hash.begin());
    header.hash = hash;
  } else {
    // importlib treats every pyc without the hash-based bit as a timestamp pyc,
    // including the never-written flags value 2.
    header.mode = InvalidationMode::Timestamp;
    header.stamp = SourceStamp{read_le<std::uint32_t>(data, 8), read_le<std::uint32_t>(data, 12)};
  }
  return header;
}

}  // namespace pycemit
