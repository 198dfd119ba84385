// Shared by the signature tests: files, keys, signing in memory.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sign/sign.h"

namespace umod::sign::test {

inline std::string key(const std::string& name) { return std::string(SIGN_KEYS) + "/" + name; }
inline std::string example(const std::string& name) { return std::string(EXAMPLE_MODULES) + "/" + name + ".so"; }

inline std::vector<std::byte> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* b = reinterpret_cast<const std::byte*>(s.data());
    return std::vector<std::byte>(b, b + s.size());
}

inline void write_bytes(const std::string& path, const std::vector<std::byte>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// `module` with its signature by KEY/CERT appended.
inline std::vector<std::byte> signed_with(const std::vector<std::byte>& module, const std::string& hash,
                                          const std::string& key_file, const std::string& cert_file) {
    auto signer = Signer::open(hash, key(key_file), key(cert_file));
    EXPECT_TRUE(signer) << (signer ? "" : signer.error().message());
    if (!signer) return {};
    auto signature = signer->signature(module);
    EXPECT_TRUE(signature) << (signature ? "" : signature.error().message());
    if (!signature) return {};
    std::vector<std::byte> out = module;
    auto trailer = signature_trailer(*signature);
    out.insert(out.end(), trailer.begin(), trailer.end());
    return out;
}

// A scratch directory, removed afterwards.
struct Scratch {
    std::filesystem::path dir;
    Scratch() {
        char name[] = "/tmp/umod-sign-test-XXXXXX";
        dir = ::mkdtemp(name);
    }
    ~Scratch() { std::filesystem::remove_all(dir); }
    std::string path(const std::string& name) const { return (dir / name).string(); }
};

}  // namespace umod::sign::test
