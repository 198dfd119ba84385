#include <umod/expected.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace {

struct MissingThing {
    std::string name;
};
void describe_error(const MissingThing& e, std::string& out) { out += "no such thing: " + e.name; }

umod::Expected<int> parse(bool ok) {
    if (!ok) return umod::Error::with(ENOENT, MissingThing{"widget"});
    return 42;
}

TEST(Expected, CarriesValue) {
    auto r = parse(true);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 42);
}

TEST(Expected, CarriesCodeMessageAndPayload) {
    auto r = parse(false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOENT);
    EXPECT_EQ(r.error().message(), "no such thing: widget");
    ASSERT_NE(r.error().detail<MissingThing>(), nullptr);
    EXPECT_EQ(r.error().detail<MissingThing>()->name, "widget");
}

TEST(Expected, ContextKeepsCodeAndPayload) {
    umod::Error e = parse(false).error().context("loading a.so");
    EXPECT_EQ(e.message(), "loading a.so: no such thing: widget");
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_NE(e.detail<MissingThing>(), nullptr);
}

TEST(Status, DefaultIsSuccess) {
    umod::Status ok;
    EXPECT_TRUE(ok);
    umod::Status bad = umod::Error(EINVAL, "bad");
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), EINVAL);
}

}  // namespace
