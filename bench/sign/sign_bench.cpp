// Goals:
//   sig.load_signed_vs_unsigned   insmod+rmmod of a signed minimal module with a
//                                 keyring, signatures enforced ÷ the same module
//                                 unsigned with signatures off. Bar: ≤ 1.5.
#include "common/goals.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <umod/loader.h>
#include <umod/umod.h>

#include "sign/keyring.h"
#include "sign/sign.h"
#include "sign/verify.h"

using namespace umod;
using namespace umod::bench;

namespace {

// minimal.so signed with the test key (path), and as built (plain), in
// sibling directories: both loads copy from the same file system.
struct SignedCopy {
    std::filesystem::path dir;
    std::string path, plain, error;
    SignedCopy() {
        char name[] = "/tmp/umod-sign-bench-XXXXXX";
        dir = ::mkdtemp(name);
        std::filesystem::create_directory(dir / "signed");
        std::filesystem::create_directory(dir / "plain");
        path = (dir / "signed" / "minimal.so").string();
        plain = (dir / "plain" / "minimal.so").string();
        std::filesystem::copy_file(MINIMAL_SO, plain);
        std::ifstream in(MINIMAL_SO, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::span<const std::byte> module(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
        auto signer = sign::Signer::open("sha256", SIGN_KEYS "/rsa.key", SIGN_KEYS "/rsa.crt");
        if (!signer) {
            error = signer.error().message();
            return;
        }
        auto signature = signer->signature(module);
        if (!signature) {
            error = signature.error().message();
            return;
        }
        auto trailer = sign::signature_trailer(*signature);
        std::ofstream out(path, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.write(reinterpret_cast<const char*>(trailer.data()), static_cast<std::streamsize>(trailer.size()));
    }
    ~SignedCopy() { std::filesystem::remove_all(dir); }
};

void load_unload(benchmark::State& state, Registry& registry, const std::string& path) {
    auto first = load_module_file(registry, path);
    if (!verify(state, first.has_value(), "load: " + (first ? "" : first.error().message()))) return;
    if (!verify(state, registry.unload("minimal").has_value(), "unload minimal")) return;
    for (auto _ : state) {
        auto m = load_module_file(registry, path);
        if (!m) {
            state.SkipWithError(m.error().message().c_str());
            return;
        }
        if (!registry.unload("minimal")) {
            state.SkipWithError("unload minimal");
            return;
        }
    }
}

SignedCopy& copies() {
    static SignedCopy copy;
    return copy;
}

void BM_LoadUnsignedSignaturesOff(benchmark::State& state) {
    SignedCopy& copy = copies();
    if (!verify(state, copy.error.empty(), "signing minimal.so: " + copy.error)) return;
    RegistryOptions options;
    options.signatures.policy = SignaturePolicy::Off;
    Registry registry(options);
    load_unload(state, registry, copy.plain);
}
BENCHMARK(BM_LoadUnsignedSignaturesOff);

void BM_LoadSignedEnforced(benchmark::State& state) {
    SignedCopy& copy = copies();
    if (!verify(state, copy.error.empty(), "signing minimal.so: " + copy.error)) return;
    RegistryOptions options;
    options.signatures.keyring = SIGN_KEYS "/rsa.crt";
    options.signatures.policy = SignaturePolicy::Enforce;
    Registry registry(options);
    load_unload(state, registry, copy.path);
}
BENCHMARK(BM_LoadSignedEnforced);

// What the check adds: one verification of the signed module's kept bytes.
void BM_VerifyOnly(benchmark::State& state) {
    SignedCopy& copy = copies();
    if (!verify(state, copy.error.empty(), "signing minimal.so: " + copy.error)) return;
    auto ring = sign::Keyring::load(SIGN_KEYS "/rsa.crt");
    if (!verify(state, ring.has_value(), "keyring")) return;
    std::ifstream in(copy.path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::span<const std::byte> file(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
    if (!verify(state, sign::verify_module_signature(file, *ring).verified(), "the signed copy does not verify")) return;
    for (auto _ : state) benchmark::DoNotOptimize(sign::verify_module_signature(file, *ring));
}
BENCHMARK(BM_VerifyOnly);

}  // namespace

int main(int argc, char** argv) {
    return run_goals(argc, argv, [](const Results& r) {
        return std::vector<Goal>{
            {"sig.load_signed_vs_unsigned", at(r, "BM_LoadSignedEnforced") / at(r, "BM_LoadUnsignedSignaturesOff"), 1.5},
        };
    });
}
