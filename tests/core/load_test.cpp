// The load transaction: a failed load undoes each stage that succeeded, in
// reverse, each undo step named in the debug log as it runs.
#include <umod/umod.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fixtures.h"
#include "support/debug_log.h"

namespace umod {
namespace {

using testing::FakeBackend;
using testing::ImageBuilder;

// One timeline of what a load did: the debug log's lines, the leak events,
// the backend's unmap, in the order they happened.
class LoadRollback : public ::testing::Test {
protected:
    void SetUp() override {
        registry.subscribe(leaks);
        support::set_debug_sink([this](std::string_view line) {
            // Logged with no registry lock held: a lookup does not wait.
            (void)registry.find("crc");
            timeline.emplace_back(line);
        });
    }
    void TearDown() override {
        support::set_debug_sink({});
        registry.unsubscribe(leaks);
    }

    struct Leaks final : Observer {
        std::vector<std::string>* timeline = nullptr;
        void on_event(const Event& e) override {
            if (e.kind == EventKind::Leak) timeline->emplace_back(e.text);
        }
    };

    std::unique_ptr<FakeBackend> backend() {
        auto b = std::make_unique<FakeBackend>();
        b->on_unmap = [this] { timeline.emplace_back("backend: unmap"); };
        return b;
    }

    Registry registry;
    std::vector<std::string> timeline;
    Leaks leaks = [this] {
        Leaks l;
        l.timeline = &timeline;
        return l;
    }();
};

TEST_F(LoadRollback, FailedInitUndoesEveryStageInReverseReportingLeaksBeforeTheUnmap) {
    ASSERT_TRUE(registry.load(ImageBuilder("crc").exports("crc32").build()));
    ModuleImage image = ImageBuilder("failinit").imports("crc32").build();
    auto b = backend();
    b->init = [&](User* self) {
        EXPECT_TRUE(registry.symbol_get("crc32", self));
        return -ENODEV;
    };
    image.backend = std::move(b);
    auto loaded = registry.load(std::move(image));
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code(), ENODEV);
    EXPECT_EQ(timeline, (std::vector<std::string>{
                            "failinit: undo release init's references",
                            "leak: failinit still held 1 reference(s) to crc (crc32 x1), released",
                            "failinit: undo unmap",
                            "backend: unmap",
                            "failinit: undo unlink static uses",
                            "failinit: undo unreserve name and exports",
                        }));
    // Nothing is left: the name is free, crc has no holder.
    EXPECT_FALSE(registry.find("failinit"));
    ASSERT_TRUE(registry.holders("crc"));
    EXPECT_TRUE(registry.holders("crc")->empty());
    EXPECT_TRUE(registry.load(ImageBuilder("failinit").imports("crc32").build()));
}

TEST_F(LoadRollback, FailedMapUndoesTheLinkThenTheReservation) {
    ASSERT_TRUE(registry.load(ImageBuilder("crc").exports("crc32").build()));
    ModuleImage image = ImageBuilder("nomap").imports("crc32").build();
    auto b = backend();
    b->map_error = Error(ENOEXEC, "nomap: cannot be mapped");
    image.backend = std::move(b);
    auto loaded = registry.load(std::move(image));
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().message(), "nomap: cannot be mapped");
    EXPECT_EQ(timeline, (std::vector<std::string>{
                            "nomap: undo unlink static uses",
                            "nomap: undo unreserve name and exports",
                        }));
    EXPECT_TRUE(registry.holders("crc")->empty());
}

TEST_F(LoadRollback, UnresolvedImportUndoesOnlyTheReservation) {
    auto loaded = registry.load(ImageBuilder("lonely").exports("lonely_fn").imports("missing").build());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code(), ENOENT);
    EXPECT_EQ(timeline, (std::vector<std::string>{"lonely: undo unreserve name and exports"}));
    EXPECT_FALSE(registry.exports("lonely_fn"));
}

TEST_F(LoadRollback, ALoadThatSucceedsUndoesNothing) {
    ModuleImage image = ImageBuilder("fine").exports("fine_fn").build();
    auto b = backend();
    b->exports = 1;
    image.backend = std::move(b);
    ASSERT_TRUE(registry.load(std::move(image)));
    ASSERT_TRUE(registry.unload("fine"));
    EXPECT_EQ(timeline, std::vector<std::string>{"backend: unmap"});  // by the unload
}

}  // namespace
}  // namespace umod
