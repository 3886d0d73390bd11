// The PEP 552 source hash, as importlib.util.source_hash computes it.
//
// source_hash(data) = _Py_KeyedHash(key, data) (Python/pyhash.c): SipHash with
// the 16-byte key "4 magic-number bytes + 12 zero bytes", over the raw source
// bytes as read from disk, 64-bit result stored little-endian in the pyc header.
// SipHash-2-4 for CPython 3.8-3.10 and PyPy, SipHash-1-3 for CPython from 3.11
// (the interpreter's handshake decides, interpreter.h). Computed with OpenSSL 3's
// EVP_MAC "SIPHASH" (docs/pyc-format.md, section 3).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "pycemit/interpreter.h"

namespace pycemit {

using SourceHash = std::array<std::uint8_t, 8>;  // exactly the 8 bytes at pyc offset 8

// Returns the source hash of `data` (any bytes, any length) for an interpreter
// whose magic number is `magic` (the 4 bytes of importlib.util.MAGIC_NUMBER).
// Throws std::runtime_error only if OpenSSL cannot provide SIPHASH.
SourceHash source_hash(const std::array<std::uint8_t, 4>& magic, SipHashRounds rounds, std::string_view data);

// The same, with the magic number and hash variant of `info` (decide_format).
SourceHash source_hash(const InterpreterInfo& info, std::string_view data);

}  // namespace pycemit
