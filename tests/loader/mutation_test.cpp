// The mutation campaign: corrupt the headers and dynamic tables of each
// example module (byte flips, field-aware values, truncation) and load each
// mutant in a child process. The host must never die: no death by signal, no
// ld.so assertion, no hang; every mutant loads or is refused with an error.
//
// UMOD_MUTANTS sets how many mutants per module (default 40, a short run for
// CI; `make fuzz` runs 1000), UMOD_MUTATION_SEED the first seed.
#include <umod/loader.h>
#include <umod/umod.h>

#include <elf.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "elf/elf_file.h"

namespace umod {
namespace {

namespace fs = std::filesystem;

std::string example(const std::string& name) { return std::string(EXAMPLE_MODULES) + "/" + name + ".so"; }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

struct Region {
    std::uint64_t offset, size;
};

// The parts of the file the campaign corrupts: the headers, and the sections
// the dynamic linker and umod's reader read.
std::vector<Region> regions_of(const std::string& bytes) {
    std::span<const std::byte> view(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
    auto elf = elf::ElfFile::parse(view);
    EXPECT_TRUE(elf);
    auto eh = elf::read_unaligned<Elf64_Ehdr>(view, 0);
    std::vector<Region> out{{0, sizeof(Elf64_Ehdr)},
                            {eh.e_phoff, std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr)},
                            {eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)}};
    for (const auto& s : elf->sections()) {
        std::string_view n = s.name;
        if (s.type == SHT_NOBITS || s.size == 0) continue;
        if (n == ".dynamic" || n == ".dynsym" || n == ".dynstr" || n.starts_with(".rela") ||
            n.starts_with(".gnu.version") || n == ".gnu.hash" || n == ".hash" || n == ".modinfo" ||
            n.starts_with(".umod") || n == ".init_array" || n == ".fini_array")
            out.push_back({s.offset, s.size});
    }
    return out;
}

// One mutant of `bytes`: one to four corruptions inside `regions`.
std::string mutate(const std::string& bytes, const std::vector<Region>& regions, std::mt19937_64& rng) {
    std::string m = bytes;
    auto pick = [&](std::uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
    if (pick(20) == 0) {  // truncation
        m.resize(pick(m.size()));
        return m;
    }
    for (std::uint64_t k = 0, n = 1 + pick(4); k < n; ++k) {
        const Region& r = regions[pick(regions.size())];
        std::uint64_t at = r.offset + pick(r.size);
        switch (pick(3)) {
        case 0:  // a bit flip
            m[at] = static_cast<char>(m[at] ^ (1 << pick(8)));
            break;
        case 1: {  // four random bytes
            for (std::uint64_t i = 0; i < 4 && at + i < m.size(); ++i) m[at + i] = static_cast<char>(pick(256));
            break;
        }
        default: {  // a field-aware value in an aligned 8-byte word
            at = r.offset + pick(r.size / 8 + 1) * 8;
            if (at + 8 > m.size()) break;
            std::uint64_t old = 0;
            std::memcpy(&old, m.data() + at, 8);
            const std::uint64_t values[] = {0, 1, 8, 16, 24, ~std::uint64_t{0}, 0x7fffffff, m.size(), m.size() - 8,
                                            old + 8, old - 8, old * 2, old ^ 0xffffffff00000000ull, old + 0x1000};
            std::uint64_t v = values[pick(std::size(values))];
            // Half the time only the low 32 bits (a 32-bit field).
            if (pick(2) == 0) {
                auto low = static_cast<std::uint32_t>(v);
                std::memcpy(m.data() + at + 4 * pick(2), &low, 4);
            } else {
                std::memcpy(m.data() + at, &v, 8);
            }
        }
        }
    }
    return m;
}

enum class Outcome { Loaded, Refused, Unnamed, Crashed };

struct Result {
    Outcome outcome;
    std::string detail;
};

// Loads `deps` then `path` in a child process with a fresh registry.
Result load_in_child(const std::vector<std::string>& deps, const std::string& path) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return {Outcome::Crashed, "pipe failed"};
    pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fds[0]);
        dup2(pipe_fds[1], 2);
        alarm(20);  // a hang is a failure too
        Registry registry;
        for (const std::string& d : deps)
            if (!load_module_file(registry, example(d))) _exit(3);
        auto r = load_module_file(registry, path);
        if (r) {
            (void)registry.unload((*r).name());
            _exit(0);
        }
        std::string message = r.error().message();
        (void)!write(2, message.data(), message.size());
        _exit(message.find(':') != std::string::npos ? 1 : 2);
    }
    close(pipe_fds[1]);
    std::string out;
    char buffer[4096];
    for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return {Outcome::Crashed, "signal " + std::to_string(WTERMSIG(status)) + ": " + out};
    if (out.find("Inconsistency detected by ld.so") != std::string::npos) return {Outcome::Crashed, out};
    int code = WEXITSTATUS(status);
    if (code == 0) return {Outcome::Loaded, out};
    if (code == 1) return {Outcome::Refused, out};
    if (code == 2) return {Outcome::Unnamed, out};
    return {Outcome::Crashed, "exit " + std::to_string(code) + ": " + out};
}

// The campaign's mutant failinit-183 (seed 1): the JUMP_SLOT relocation
// re-pointed from __umod_symbol_get_cached to the weak, undefined
// __gmon_start__. Every structure stays valid; init's call through the PLT
// slot jumped to address 0 and killed the host. Now refused at map time,
// before init runs, naming the slot and the symbol.
TEST(MutationCampaign, APltSlotRePointedAtAnUnresolvedWeakSymbolIsRefused) {
    std::string bytes = read_file(example("failinit"));
    std::span<const std::byte> view(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
    auto elf = elf::ElfFile::parse(view);
    ASSERT_TRUE(elf);
    const elf::Section* dynsym = elf->section(".dynsym");
    const elf::Section* plt = elf->section(".rela.plt");
    ASSERT_TRUE(dynsym && plt);
    auto symbols = elf->symbols(*dynsym);
    ASSERT_TRUE(symbols);
    std::uint32_t gmon = 0;
    for (std::uint32_t i = 0; i < symbols->size(); ++i)
        if ((*symbols)[i].name == "__gmon_start__") gmon = i;
    ASSERT_NE(gmon, 0u) << "failinit.so has no __gmon_start__";
    auto rela = elf->relocations(*plt);
    ASSERT_TRUE(rela);
    // The slot of __umod_symbol_get_cached, which init calls. A sanitized
    // build has more slots, some called by its destructors: those run at
    // dlclose even for a refused module (left for the loader: issue 10).
    std::size_t slot = rela->size();
    for (std::size_t i = 0; i < rela->size(); ++i)
        if ((*rela)[i].symbol < symbols->size() && (*symbols)[(*rela)[i].symbol].name == "__umod_symbol_get_cached") slot = i;
    ASSERT_LT(slot, rela->size()) << "no PLT slot for __umod_symbol_get_cached";
    ASSERT_EQ((*rela)[slot].type, static_cast<std::uint32_t>(R_X86_64_JUMP_SLOT));
    std::string mutant = bytes;
    std::uint64_t info = (std::uint64_t{gmon} << 32) | R_X86_64_JUMP_SLOT;
    std::memcpy(mutant.data() + plt->offset + slot * sizeof(Elf64_Rela) + offsetof(Elf64_Rela, r_info), &info,
                sizeof info);

    fs::path dir = fs::temp_directory_path() / ("umod-plt-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::string path = (dir / "failinit.so").string();
    std::ofstream(path, std::ios::binary) << mutant;
    Result r = load_in_child({}, path);
    fs::remove_all(dir);
    EXPECT_EQ(r.outcome, Outcome::Refused) << r.detail;
    EXPECT_NE(r.detail.find("failinit: cannot map: the PLT slot at 0x"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("(a JUMP_SLOT relocation against __gmon_start__) is unresolved"), std::string::npos)
        << r.detail;
}

// The campaign's mutant net-328 (seed 1, after the PLT case was refused): the
// GOT slot of __cxa_finalize turned from R_X86_64_GLOB_DAT into
// R_X86_64_RELATIVE to the image's first byte. The module's destructor
// called it at unload (SIGSEGV). Refused before mapping: a linker sorts every
// relative relocation before the others and DT_RELACOUNT counts them.
TEST(MutationCampaign, ARelativeRelocationAfterTheCountedOnesIsRefused) {
    std::string bytes = read_file(example("net"));
    std::span<const std::byte> view(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
    auto elf = elf::ElfFile::parse(view);
    ASSERT_TRUE(elf);
    const elf::Section* dyn = elf->section(".rela.dyn");
    ASSERT_NE(dyn, nullptr);
    auto rela = elf->relocations(*dyn);
    ASSERT_TRUE(rela);
    std::size_t glob_dat = rela->size();
    for (std::size_t i = 0; i < rela->size() && glob_dat == rela->size(); ++i)
        if ((*rela)[i].type == R_X86_64_GLOB_DAT) glob_dat = i;
    ASSERT_LT(glob_dat, rela->size()) << "net.so has no GLOB_DAT relocation";
    std::string mutant = bytes;
    Elf64_Rela r{};
    std::memcpy(&r, mutant.data() + dyn->offset + glob_dat * sizeof r, sizeof r);
    r.r_info = ELF64_R_INFO(0, R_X86_64_RELATIVE);
    r.r_addend = 0;
    std::memcpy(mutant.data() + dyn->offset + glob_dat * sizeof r, &r, sizeof r);

    fs::path dir = fs::temp_directory_path() / ("umod-relative-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::string path = (dir / "net.so").string();
    std::ofstream(path, std::ios::binary) << mutant;
    Result result = load_in_child({"crc"}, path);
    fs::remove_all(dir);
    EXPECT_EQ(result.outcome, Outcome::Refused) << result.detail;
    std::string expected = fmt::format("net.so: malformed ELF: DT_RELA entry {} at offset {:#x}: R_X86_64_RELATIVE after "
                                       "the {} that DT_RELACOUNT counts",
                                       glob_dat, dyn->offset + glob_dat * sizeof r, glob_dat);
    EXPECT_NE(result.detail.find(expected), std::string::npos) << result.detail;
}

TEST(MutationCampaign, NoMutantCrashesTheHost) {
    const std::map<std::string, std::vector<std::string>> modules = {
        {"crc", {}},          {"net", {"crc"}},   {"ext4", {}},         {"params", {}},
        {"lifecycle", {}},    {"lazy", {}},       {"failinit", {}},     {"badput", {"crc"}},
        {"proprietary", {"crc"}}, {"thrower", {}}, {"catcher", {"thrower"}},
    };
    const std::uint64_t per_module = env_number("UMOD_MUTANTS", 40);
    const std::uint64_t seed = env_number("UMOD_MUTATION_SEED", 1);
    fs::path dir = fs::temp_directory_path() / ("umod-mutants-" + std::to_string(getpid()));
    fs::create_directories(dir);
    // The children exit without cleaning up: their private copies go here.
    setenv("TMPDIR", dir.c_str(), 1);
    std::uint64_t total = 0, crashed = 0, loaded = 0;
    std::vector<std::string> crashes;
    for (const auto& [name, deps] : modules) {
        std::string bytes = read_file(example(name));
        ASSERT_FALSE(bytes.empty()) << example(name);
        auto regions = regions_of(bytes);
        std::mt19937_64 rng(seed * 1000003 + std::hash<std::string>()(name));
        for (std::uint64_t i = 0; i < per_module; ++i) {
            std::string mutant = mutate(bytes, regions, rng);
            // The module's own name, so dependents and modinfo agree.
            fs::path file = dir / std::to_string(i) / (name + ".so");
            fs::create_directories(file.parent_path());
            std::ofstream(file, std::ios::binary) << mutant;
            Result r = load_in_child(deps, file.string());
            ++total;
            if (r.outcome == Outcome::Loaded) ++loaded;
            if (r.outcome == Outcome::Crashed || r.outcome == Outcome::Unnamed) {
                ++crashed;
                fs::path kept = dir / ("crash-" + name + "-" + std::to_string(i) + ".so");
                fs::rename(file, kept);
                if (crashes.size() < 10) crashes.push_back(kept.string() + ": " + r.detail.substr(0, 300));
                continue;
            }
            fs::remove_all(file.parent_path());
        }
    }
    std::printf("mutation campaign: %llu mutants, %llu loaded, %llu crashed the host (%.1f per 10,000)\n",
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(loaded),
                static_cast<unsigned long long>(crashed), total ? 10000.0 * static_cast<double>(crashed) / static_cast<double>(total) : 0.0);
    for (const auto& c : crashes) ADD_FAILURE() << c;
    if (crashed == 0) fs::remove_all(dir);
}

}  // namespace
}  // namespace umod
