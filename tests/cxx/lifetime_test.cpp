// Objects tied to the module that made them: Registry::module_of finds the
// module an address belongs to, and umod::module_shared keeps the module of
// an object loaded while the object lives (an unload is refused naming the
// holder), and its code mapped past a forced unload and past the registry
// itself, so that the object can always be destroyed.
#include <umod/loader.h>
#include <umod/ref.h>
#include <umod/umod.h>

#include <dlfcn.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "modules/shape.h"

namespace umod {
namespace {

using MakeCircle = std::unique_ptr<factory::Shape>(int*);
using MakePlain = std::unique_ptr<factory::Plain>(int);

const std::string kFactory = std::string(OWN_MODULES) + "/factory.so";

// Whether `address` is in an object the dynamic linker has mapped.
bool mapped(const void* address) {
    Dl_info info;
    return dladdr(address, &info) != 0;
}

class Lifetime : public ::testing::Test {
protected:
    void SetUp() override {
        auto m = load_module_file(*registry, kFactory);
        ASSERT_TRUE(m) << m.error().message();
        auto make = SymbolRef<MakeCircle>::acquire(*registry, "factory::make_circle", registry->holder("setup"));
        ASSERT_TRUE(make) << make.error().message();
        make_circle = make->get();  // valid while the module is loaded; the reference goes here
    }
    // A circle shared by the host's holder "host", made by a factory reference
    // that is gone when this returns.
    std::shared_ptr<factory::Shape> circle() {
        auto shared = module_shared(*registry, make_circle(&destroyed), registry->holder("host"));
        EXPECT_TRUE(shared) << shared.error().message();
        return shared ? *shared : nullptr;
    }
    std::unique_ptr<Registry> registry = std::make_unique<Registry>();
    MakeCircle* make_circle = nullptr;
    int destroyed = 0;
};

TEST_F(Lifetime, ModuleOfFindsTheModuleOfAnAddress) {
    auto found = registry->module_of(reinterpret_cast<const void*>(make_circle));
    ASSERT_TRUE(found);
    EXPECT_EQ(found.name(), "factory");
    int on_stack = 0;
    EXPECT_FALSE(registry->module_of(&on_stack));
    EXPECT_FALSE(registry->module_of(reinterpret_cast<const void*>(&mapped)));  // the host's code
    auto heap = std::make_unique<int>(1);
    EXPECT_FALSE(registry->module_of(heap.get()));
    EXPECT_FALSE(registry->module_of(nullptr));
}

TEST_F(Lifetime, AnObjectKeepsItsModuleLoadedNamingItsHolder) {
    auto shape = circle();
    ASSERT_TRUE(shape);
    auto copy = shape;  // copies share the one reference
    auto refused = registry->unload("factory");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EWOULDBLOCK);
    EXPECT_EQ(refused.error().message(), "factory is in use: holder host (static 0, dynamic 1: (module) x1)");
    EXPECT_EQ(copy->name(), "circle");
    shape.reset();
    copy.reset();
    EXPECT_EQ(destroyed, 1);
    auto holders = registry->holders("factory");
    ASSERT_TRUE(holders);
    EXPECT_TRUE(holders->empty());
}

TEST_F(Lifetime, TheModuleUnloadsAndUnmapsOnceTheObjectIsGone) {
    auto shape = circle();
    ASSERT_TRUE(shape);
    const factory::Shape& object = *shape;
    const void* code = &typeid(object);
    ASSERT_FALSE(registry->unload("factory"));
    shape.reset();
    auto r = registry->unload("factory");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->unmap.unmapped);
    EXPECT_FALSE(mapped(code));
    EXPECT_FALSE(registry->module_of(code));
}

TEST_F(Lifetime, APlainObjectNamesItsModuleByAnAddress) {
    auto make = SymbolRef<MakePlain>::acquire(*registry, "factory::make_plain", registry->holder("setup"));
    ASSERT_TRUE(make) << make.error().message();
    auto plain = module_shared(*registry, reinterpret_cast<const void*>(make->get()), (*make)(7),
                               registry->holder("host"));
    ASSERT_TRUE(plain) << plain.error().message();
    EXPECT_EQ((*plain)->value, 7);
    make->reset();
    auto refused = registry->unload("factory");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message(), "factory is in use: holder host (static 0, dynamic 1: (module) x1)");
    plain->reset();
    EXPECT_TRUE(registry->unload("factory"));
}

TEST_F(Lifetime, ErrorsNameWhatIsWrong) {
    int on_stack = 0;
    auto outside = module_shared(*registry, &on_stack, std::make_unique<int>(1));
    ASSERT_FALSE(outside);
    EXPECT_EQ(outside.error().code(), ENOENT);
    EXPECT_NE(outside.error().message().find("is in no loaded module"), std::string::npos)
        << outside.error().message();
    auto none = module_shared(*registry, std::unique_ptr<factory::Shape>());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), EINVAL);
    // An object whose type the host defines belongs to no module.
    struct HostShape final : factory::Shape {
        std::string name() const override { return "host"; }
    };
    auto host = module_shared(*registry, std::unique_ptr<factory::Shape>(std::make_unique<HostShape>()));
    ASSERT_FALSE(host);
    EXPECT_EQ(host.error().code(), ENOENT);
}

TEST_F(Lifetime, AForcedUnloadLeavesTheCodeUntilTheObjectGoes) {
    auto shape = circle();
    ASSERT_TRUE(shape);
    const factory::Shape& object = *shape;
    const void* code = &typeid(object);
    auto r = registry->unload("factory", UnloadOptions{.mode = UnloadMode::Force});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->unmap.unmapped);
    ASSERT_FALSE(r->unmap.reasons.empty());
    EXPECT_EQ(r->unmap.reasons.front(), "1 object(s) made by its code still live (umod::module_shared)");
    EXPECT_EQ(shape->name(), "circle");  // its code is still there
    shape.reset();
    EXPECT_EQ(destroyed, 1);
    EXPECT_FALSE(mapped(code));
}

// The handle contract of <umod/ref.h>: an object may outlive its registry.
TEST_F(Lifetime, AnObjectDestroyedAfterTheRegistry) {
    auto shape = circle();
    ASSERT_TRUE(shape);
    const factory::Shape& object = *shape;
    const void* code = &typeid(object);
    struct Leaks final : Observer {
        void on_event(const Event& e) override {
            if (e.kind == EventKind::Leak) texts.emplace_back(e.text);
        }
        std::vector<std::string> texts;
    } leaks;
    registry->subscribe(leaks);
    registry.reset();  // unloads factory: exit runs, the references are reported
    ASSERT_EQ(leaks.texts.size(), 1u);
    EXPECT_EQ(leaks.texts[0], "leak: host still held 1 reference(s) to factory ((module) x1), released");
    EXPECT_TRUE(mapped(code));
    EXPECT_EQ(shape->name(), "circle");
    auto copy = shape;
    shape.reset();
    EXPECT_EQ(destroyed, 0);
    copy.reset();
    EXPECT_EQ(destroyed, 1);
    EXPECT_FALSE(mapped(code));
}

}  // namespace
}  // namespace umod
