// Tracking levels, recorded stacks in every report, and the RAII handles:
// what a user reads in the reports (names, frames, counts) and what stays held.
#include <umod/ref.h>
#include <umod/umod.h>
#include <umod/views.h>

#include <cerrno>
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures.h"
#include "holders.h"

namespace umod {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::EventLog;
using testing::ImageBuilder;

// The functions whose names the reports must show. Not inlined, and the
// barrier keeps the registry call out of tail position (its frame stays).
__attribute__((noinline)) void* grab_crc32(Registry& registry, User* user) {
    auto got = registry.symbol_get("crc32", user);
    asm volatile("" ::: "memory");
    return got ? *got : nullptr;
}

// `n` references taken at one call site (a loop the compiler cannot unroll).
__attribute__((noinline)) void grab_crc32_times(Registry& registry, User* user, int n) {
    static volatile int rounds;
    rounds = n;
    for (int i = 0; i < rounds; ++i) grab_crc32(registry, user);
}

__attribute__((noinline)) Status drop_crc32(Registry& registry, User* user) {
    Status done = registry.symbol_put("crc32", user);
    asm volatile("" ::: "memory");
    return done;
}

// Not the same code as drop_crc32, or the compiler folds the two into one.
__attribute__((noinline)) Status drop_crc32_again(Registry& registry, User* user) {
    static volatile int calls = 0;
    calls = calls + 1;
    Status done = registry.symbol_put("crc32", user);
    asm volatile("" ::: "memory");
    return done;
}

__attribute__((noinline)) SymbolRef<int(int)> copy_ref(const SymbolRef<int(int)>& ref) {
    SymbolRef<int(int)> copy = ref;
    asm volatile("" ::: "memory");
    return copy;
}

int crc32_impl(int x) { return x * 2; }

class TrackTest : public ::testing::Test {
protected:
    Registry registry{RegistryOptions{.track = TrackLevel::Stacks}};
    EventLog log;

    void SetUp() override {
        registry.subscribe(log);
        LinkOnlyImage crc("crc", "GPL");
        crc.exports("crc32", reinterpret_cast<const void*>(&crc32_impl), ExportLicense::Any, {},
                    type_name<int(int)>());
        crc.exports("crc16", testing::address_of("crc16"));
        ASSERT_TRUE(registry.load(crc.build()));
    }
    void TearDown() override { registry.unsubscribe(log); }

    HolderCounts holder_of(std::string_view provider, std::string_view user) {
        return testing::holder_of(registry, provider, user);
    }
};

TEST(TrackLevelTest, ParsesTheThreeLevelsAndNamesAnythingElse) {
    EXPECT_EQ(*parse_track_level("off"), TrackLevel::Off);
    EXPECT_EQ(*parse_track_level("counts"), TrackLevel::Counts);
    EXPECT_EQ(*parse_track_level("stacks"), TrackLevel::Stacks);
    auto bad = parse_track_level("verbose");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), EINVAL);
    EXPECT_EQ(bad.error().message(), "tracking level \"verbose\" is not off, counts or stacks");
}

TEST(TrackLevelTest, EnvironmentSetsTheStartingLevel) {
    ::setenv("UMOD_TRACK", "stacks", 1);
    EXPECT_EQ(Registry().tracking(), TrackLevel::Stacks);
    ::setenv("UMOD_TRACK", "off", 1);
    EXPECT_EQ(Registry().tracking(), TrackLevel::Off);
    ::setenv("UMOD_TRACK", "loud", 1);
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(Registry().tracking(), TrackLevel::Counts);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(),
              "umod: tracking level \"loud\" is not off, counts or stacks; tracking counts\n");
    // The options win over the environment.
    EXPECT_EQ(Registry(RegistryOptions{.track = TrackLevel::Counts}).tracking(), TrackLevel::Counts);
    ::unsetenv("UMOD_TRACK");
    EXPECT_EQ(Registry().tracking(), TrackLevel::Counts);
}

TEST_F(TrackTest, OffCountsPerPairSoAPutMatchesAnyReferenceOfThePair) {
    registry.set_tracking(TrackLevel::Off);
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("crc32", ui));
    HolderCounts h = holder_of("crc", "ui");
    EXPECT_EQ(h.dynamic, 1u);
    ASSERT_EQ(h.symbols.size(), 1u);
    EXPECT_EQ(h.symbols[0].name, "(untracked)");
    EXPECT_TRUE(registry.symbol_put("crc16", ui));  // the pair's reference
    EXPECT_EQ(holder_of("crc", "ui").dynamic, 0u);
    // Still no underflow: a put with nothing held is unmatched at every level.
    auto put = registry.symbol_put("crc16", ui);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code(), EINVAL);
}

TEST_F(TrackTest, SwitchingLevelsLosesNoCount) {
    User* ui = registry.holder("ui");
    registry.set_tracking(TrackLevel::Counts);
    ASSERT_TRUE(registry.symbol_get("crc32", ui));  // counted per symbol
    registry.set_tracking(TrackLevel::Off);
    ASSERT_TRUE(registry.symbol_get("crc32", ui));  // counted per pair
    registry.set_tracking(TrackLevel::Stacks);
    ASSERT_TRUE(grab_crc32(registry, ui));          // per symbol, with its stack
    EXPECT_EQ(holder_of("crc", "ui").dynamic, 3u);

    registry.set_tracking(TrackLevel::Counts);
    EXPECT_TRUE(registry.symbol_put("crc32", ui));
    registry.set_tracking(TrackLevel::Off);
    EXPECT_TRUE(registry.symbol_put("crc32", ui));
    registry.set_tracking(TrackLevel::Stacks);
    EXPECT_TRUE(registry.symbol_put("crc32", ui));
    EXPECT_EQ(holder_of("crc", "ui").dynamic, 0u);
    EXPECT_FALSE(registry.symbol_put("crc32", ui));
    EXPECT_TRUE(registry.unload("crc"));
}

TEST_F(TrackTest, UnloadRefusalShowsWhereEachReferenceWasTaken) {
    User* ui = registry.holder("ui");
    grab_crc32_times(registry, ui, 2);
    auto refused = registry.unload("crc");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EWOULDBLOCK);
    const auto* in_use = refused.error().detail<ModuleInUse>();
    ASSERT_NE(in_use, nullptr);
    ASSERT_EQ(in_use->holders.size(), 1u);
    const HolderCounts& h = in_use->holders[0];
    ASSERT_EQ(h.acquired.size(), 1u) << describe_acquisitions(h, "crc");  // both at the same stack
    EXPECT_EQ(h.acquired[0].symbol, "crc32");
    EXPECT_EQ(h.acquired[0].count, 2u);
    ASSERT_FALSE(h.acquired[0].stack.empty());
    const StackFrame& top = h.acquired[0].stack[0];
    EXPECT_THAT(top.function, HasSubstr("grab_crc32("));
    EXPECT_EQ(top.object, "test_core_track");
    EXPECT_THAT(top.file, HasSubstr("track_test.cpp"));
    EXPECT_GT(top.line, 0u);
    EXPECT_THAT(refused.error().message(),
                AllOf(HasSubstr("crc is in use: holder ui (static 0, dynamic 2: crc32 x2)"),
                      HasSubstr("\n  2 reference(s) to crc:crc32 held by ui, acquired at test_core_track: "
                                "umod::(anonymous namespace)::grab_crc32(umod::Registry&, umod::User*)+0x"),
                      HasSubstr("(track_test.cpp:")));
    std::string json = views::json(refused.error());
    EXPECT_THAT(json, AllOf(HasSubstr("\"errno\": \"EAGAIN\""), HasSubstr("\"module_in_use\""),
                            HasSubstr("\"acquired\""), HasSubstr("grab_crc32("), HasSubstr("\"count\": 2")));
    EXPECT_TRUE(drop_crc32(registry, ui));
    EXPECT_TRUE(drop_crc32(registry, ui));
}

TEST_F(TrackTest, ReferencesTakenBeforeStacksAreShownAsUnrecorded) {
    registry.set_tracking(TrackLevel::Counts);
    User* ui = registry.holder("ui");
    ASSERT_TRUE(registry.symbol_get("crc32", ui));
    registry.set_tracking(TrackLevel::Stacks);
    ASSERT_TRUE(grab_crc32(registry, ui));
    HolderCounts h = holder_of("crc", "ui");
    ASSERT_EQ(h.acquired.size(), 2u);
    EXPECT_THAT(h.acquired[0].stack.at(0).function, HasSubstr("grab_crc32("));
    EXPECT_TRUE(h.acquired[1].stack.empty());
    EXPECT_THAT(describe_acquisitions(h, "crc"),
                HasSubstr("\n  1 reference(s) to crc:crc32 held by ui, acquired while stacks were not recorded"));
    // Leaving the stacks level drops the records, not the counts.
    registry.set_tracking(TrackLevel::Counts);
    h = holder_of("crc", "ui");
    EXPECT_EQ(h.dynamic, 2u);
    EXPECT_TRUE(h.acquired.empty());
}

TEST_F(TrackTest, UnmatchedPutShowsThePutAndTheLastReleaseWithItsGet) {
    User* ui = registry.holder("ui");
    ASSERT_TRUE(grab_crc32(registry, ui));
    ASSERT_TRUE(drop_crc32(registry, ui));
    Status put = drop_crc32_again(registry, ui);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code(), EINVAL);
    const auto* d = put.error().detail<UnmatchedPut>();
    ASSERT_NE(d, nullptr);
    ASSERT_FALSE(d->put_stack.empty());
    EXPECT_THAT(d->put_stack[0].function, HasSubstr("drop_crc32_again("));
    ASSERT_EQ(d->recent_releases.size(), 1u);
    EXPECT_THAT(d->recent_releases[0].released.at(0).function, HasSubstr("drop_crc32("));
    EXPECT_THAT(d->recent_releases[0].acquired.at(0).function, HasSubstr("grab_crc32("));
    std::string text = put.error().message();
    EXPECT_THAT(text, AllOf(HasSubstr("unmatched put: ui put crc32 of crc without a matching get\n  put at "
                                      "test_core_track: umod::(anonymous namespace)::drop_crc32_again("),
                            HasSubstr("\n  released before at test_core_track: umod::(anonymous "
                                      "namespace)::drop_crc32(umod::Registry&, umod::User*)+0x"),
                            HasSubstr("\n    acquired at test_core_track: umod::(anonymous "
                                      "namespace)::grab_crc32(")));
    // Reported as it happened, and nothing changed.
    ASSERT_FALSE(log.lines.empty());
    EXPECT_THAT(log.lines.back(), HasSubstr("unmatched-put: unmatched put: ui put crc32"));
    std::string json = views::json(put.error());
    EXPECT_THAT(json, AllOf(HasSubstr("\"unmatched_put\""), HasSubstr("\"put_stack\""),
                            HasSubstr("drop_crc32_again("), HasSubstr("\"recent_releases\"")));
    EXPECT_TRUE(registry.unload("crc"));
}

TEST(TrackQuarantineTest, KeepsOnlyTheLastReleases) {
    Registry registry{RegistryOptions{.track = TrackLevel::Stacks, .quarantine = 4}};
    ASSERT_TRUE(registry.load(ImageBuilder("crc").exports("crc32").build()));
    User* ui = registry.holder("ui");
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(grab_crc32(registry, ui));
        ASSERT_TRUE(drop_crc32(registry, ui));
    }
    Status put = drop_crc32_again(registry, ui);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().detail<UnmatchedPut>()->recent_releases.size(), 4u);
}

TEST_F(TrackTest, LeakAtUnloadIsGroupedByAcquisitionStack) {
    ASSERT_TRUE(registry.load(ImageBuilder("net")
                                  .imports("crc16")
                                  .init([this] {
                                      User* self = registry.find("net").user();
                                      grab_crc32_times(registry, self, 3);
                                      return 0;
                                  })
                                  .build()));
    auto report = registry.unload("net");
    ASSERT_TRUE(report);
    ASSERT_EQ(report->leaks.size(), 1u);
    const Leak& leak = report->leaks[0];
    ASSERT_EQ(leak.references.acquired.size(), 1u);
    EXPECT_EQ(leak.references.acquired[0].count, 3u);
    EXPECT_THAT(describe_leak(leak),
                AllOf(HasSubstr("leak: net still held 3 reference(s) to crc (crc32 x3), released\n  3 reference(s) "
                                "to crc:crc32 held by net, acquired at test_core_track: "
                                "umod::(anonymous namespace)::grab_crc32("),
                      HasSubstr("(track_test.cpp:")));
    EXPECT_THAT(views::json(leak), AllOf(HasSubstr("\"leak\""), HasSubstr("\"acquired\""), HasSubstr("grab_crc32(")));
    EXPECT_EQ(holder_of("crc", "net").dynamic, 0u);
}

TEST(TrackTeardownTest, LeaksAtTeardownCarryTheirStacks) {
    EventLog log;
    {
        Registry registry{RegistryOptions{.track = TrackLevel::Stacks}};
        registry.subscribe(log);
        ASSERT_TRUE(registry.load(ImageBuilder("crc").exports("crc32").build()));
        ASSERT_TRUE(grab_crc32(registry, registry.holder("scheduler")));
    }
    ASSERT_FALSE(log.lines.empty());
    std::string all;
    for (const auto& line : log.lines) all += line + "\n";
    EXPECT_THAT(all, AllOf(HasSubstr("leak: scheduler still held 1 reference(s) to crc (crc32 x1), released"),
                           HasSubstr("1 reference(s) to crc:crc32 held by scheduler, acquired at test_core_track: "
                                     "umod::(anonymous namespace)::grab_crc32(")));
}

TEST_F(TrackTest, SymbolRefHoldsExactlyOneReferencePerHandle) {
    registry.set_tracking(TrackLevel::Counts);
    User* ui = registry.holder("ui");
    {
        auto ref = SymbolRef<int(int)>::acquire(registry, "crc32", ui);
        ASSERT_TRUE(ref) << ref.error().message();
        EXPECT_EQ((*ref)(21), 42);
        EXPECT_EQ(holder_of("crc", "ui").dynamic, 1u);
        SymbolRef<int(int)> copy = *ref;
        EXPECT_EQ(holder_of("crc", "ui").dynamic, 2u);
        SymbolRef<int(int)> moved = std::move(copy);
        EXPECT_FALSE(copy);
        EXPECT_EQ(holder_of("crc", "ui").dynamic, 2u);
        moved.reset();
        EXPECT_EQ(holder_of("crc", "ui").dynamic, 1u);
        auto refused = registry.unload("crc");
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code(), EWOULDBLOCK);
    }
    EXPECT_EQ(holder_of("crc", "ui").dynamic, 0u);
    EXPECT_TRUE(registry.unload("crc"));
}

TEST_F(TrackTest, SymbolRefChecksTheRecordedType) {
    auto wrong = SymbolRef<long(long)>::acquire(registry, "crc32");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), EINVAL);
    EXPECT_THAT(wrong.error().message(), HasSubstr("crc32"));
    auto untyped = SymbolRef<int>::acquire(registry, "crc16");
    ASSERT_FALSE(untyped);
    EXPECT_EQ(untyped.error().code(), EINVAL);
    auto unchecked = SymbolRef<int>::acquire_unchecked(registry, "crc16");
    ASSERT_TRUE(unchecked);
    EXPECT_EQ(unchecked->get(), testing::address_of("crc16"));
    auto missing = SymbolRef<int>::acquire_unchecked(registry, "crc64");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ENOENT);
}

TEST_F(TrackTest, SymbolRefCopiesRecordTheirStacks) {
    User* ui = registry.holder("ui");
    auto ref = SymbolRef<int(int)>::acquire(registry, "crc32", ui);
    ASSERT_TRUE(ref);
    SymbolRef<int(int)> copy = copy_ref(*ref);
    HolderCounts h = holder_of("crc", "ui");
    EXPECT_EQ(h.dynamic, 2u);
    bool copied_in_copy_ref = false;
    for (const StackGroup& g : h.acquired)
        if (!g.stack.empty() && g.stack[0].function.find("copy_ref(") != std::string::npos) copied_in_copy_ref = true;
    EXPECT_TRUE(copied_in_copy_ref) << describe_acquisitions(h, "crc");
}

TEST_F(TrackTest, ModuleRefBlocksUnloadAndSurvivesAForcedOne) {
    registry.set_tracking(TrackLevel::Counts);
    User* ui = registry.holder("ui");
    ModuleHandle crc = registry.find("crc");
    auto ref = ModuleRef::acquire(registry, crc, ui);
    ASSERT_TRUE(ref);
    HolderCounts h = holder_of("crc", "ui");
    ASSERT_EQ(h.symbols.size(), 1u);
    EXPECT_EQ(h.symbols[0].name, "(module)");
    ModuleRef copy = *ref;
    EXPECT_EQ(holder_of("crc", "ui").dynamic, 2u);
    auto refused = registry.unload("crc");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EWOULDBLOCK);
    auto forced = registry.unload("crc", UnloadOptions{.mode = UnloadMode::Force});
    ASSERT_TRUE(forced);
    ASSERT_EQ(forced->forced.size(), 1u);
    EXPECT_EQ(forced->forced[0].dynamic, 2u);
    // The handles outlive the module: destroying them is harmless.
    copy.reset();
    ref->reset();
    EXPECT_EQ(crc.state(), ModuleState::Gone);
}

TEST_F(TrackTest, RecordedPathsStillReportGetsAndPutsToObservers) {
    registry.set_tracking(TrackLevel::Counts);
    EventLog gets;
    registry.subscribe(gets, ObserveGetPut::Yes);
    {
        auto ref = SymbolRef<int(int)>::acquire(registry, "crc32", registry.holder("ui"));
        ASSERT_TRUE(ref);
        SymbolRef<int(int)> copy = *ref;
    }
    registry.unsubscribe(gets);
    ASSERT_EQ(gets.kinds.size(), 4u);
    EXPECT_EQ(gets.kinds[0], EventKind::Get);
    EXPECT_EQ(gets.kinds[1], EventKind::Get);
    EXPECT_EQ(gets.kinds[2], EventKind::Put);
    EXPECT_EQ(gets.kinds[3], EventKind::Put);
    EXPECT_EQ(holder_of("crc", "ui").dynamic, 0u);
}

}  // namespace
}  // namespace umod
