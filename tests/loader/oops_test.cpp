// The crash reporter: a fatal signal in module code prints one line naming
// the module, the function and the module's state, then what would have
// happened without it happens. Each case runs in a child (a death test).
#include <umod/loader.h>
#include <umod/umod.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "calls.h"

// Built with ASan (the debug preset), the sanitizer's own fatal-signal
// handlers would run after umod's line and abort instead of letting the
// default action kill the child by its signal: the faults go to umod's
// handler and then to the default action, as in a host without sanitizers.
extern "C" const char* __asan_default_options() {
    return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0";
}

namespace umod {
namespace {

std::string test_module(const std::string& name) { return std::string(TEST_MODULES) + "/" + name + ".so"; }

RegistryOptions with_oops() {
    RegistryOptions o;
    o.oops = true;
    return o;
}

void load_and_call(RegistryOptions options, const std::string& module, const char* symbol) {
    Registry registry(options);
    auto m = load_module_file(registry, test_module(module));
    if (!m) {
        std::fprintf(stderr, "load failed: %s\n", m.error().message().c_str());
        std::exit(3);
    }
    if (symbol != nullptr) testing::call_export(registry, symbol);
    std::exit(0);
}

TEST(OopsDeathTest, SegfaultInInitNamesModuleFunctionAndComing) {
    EXPECT_EXIT(load_and_call(with_oops(), "crash_init", nullptr), ::testing::KilledBySignal(SIGSEGV),
                "umod: oops: SIGSEGV in crash_init\\.so: crashing_init\\+0x[0-9a-f]+ \\(module crash_init, Coming\\)");
}

TEST(OopsDeathTest, SegfaultInACalledExportNamesTheFunctionAndLive) {
    EXPECT_EXIT(load_and_call(with_oops(), "crash_call", "crashing_call"), ::testing::KilledBySignal(SIGSEGV),
                "umod: oops: SIGSEGV in crash_call\\.so: poke\\+0x[0-9a-f]+ \\(module crash_call, Live\\)");
}

TEST(OopsDeathTest, TheEnvironmentTurnsItOn) {
    EXPECT_EXIT(
        {
            ::setenv("UMOD_OOPS", "1", 1);
            load_and_call({}, "crash_call", "crashing_call");
        },
        ::testing::KilledBySignal(SIGSEGV), "umod: oops: SIGSEGV in crash_call\\.so: poke\\+0x");
}

TEST(OopsDeathTest, OffByDefault) {
    EXPECT_EXIT(
        {
            ::unsetenv("UMOD_OOPS");
            load_and_call({}, "crash_call", "crashing_call");
        },
        ::testing::KilledBySignal(SIGSEGV), "^$");
}

void host_handler(int) {
    const char text[] = "the host's handler ran\n";
    (void)!::write(STDERR_FILENO, text, sizeof text - 1);
    ::_exit(42);
}

TEST(OopsDeathTest, AHostHandlerInstalledBeforeIsStillCalled) {
    EXPECT_EXIT(
        {
            ::signal(SIGSEGV, host_handler);
            load_and_call(with_oops(), "crash_call", "crashing_call");
        },
        ::testing::ExitedWithCode(42),
        "umod: oops: SIGSEGV in crash_call\\.so: poke\\+0x[0-9a-f]+ \\(module crash_call, Live\\)\n"
        "the host's handler ran");
}

// Not the crash reporter, but what a crash leaves: the private directory of
// a host that died. The next host removes it, and leaves alone a directory
// some live process holds (its lock), even under a pid that looks dead here
// (another pid namespace).
std::string make_dir(const std::string& path) {
    std::filesystem::create_directories(path);
    std::ofstream(path + "/crc.so") << "x";
    return path;
}

TEST(StaleDirectoryDeathTest, ADeadHostsDirectoryIsRemovedAtTheNextStart) {
    const std::string style = GTEST_FLAG_GET(death_test_style);
    GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: no private directory yet
    std::string base = std::filesystem::temp_directory_path() / ("umod-stale-" + std::to_string(::getpid()));
    pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, nullptr, 0);
    std::string stale = make_dir(base + "/umod-" + std::to_string(dead) + "-AbCdEf");
    std::string held = make_dir(base + "/umod-" + std::to_string(dead) + "-GhIjKl");
    int lock = ::open(held.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_EQ(::flock(lock, LOCK_EX), 0);
    ::setenv("TMPDIR", base.c_str(), 1);
    EXPECT_EXIT(
        {
            Registry registry;
            auto m = load_module_file(registry, test_module("crash_call"));
            bool ok = m && !std::filesystem::exists(stale) && std::filesystem::exists(held + "/crc.so");
            std::exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
    ::unsetenv("TMPDIR");
    ::close(lock);
    std::filesystem::remove_all(base);
    GTEST_FLAG_SET(death_test_style, style);
}

}  // namespace
}  // namespace umod
