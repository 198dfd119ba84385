#include <umod/expected.h>

#include <cerrno>
#include <string>

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

TEST(Expected, WhatStdExpectedUsersReachFor) {
    EXPECT_EQ(parse(true).value_or(7), 42);
    EXPECT_EQ(parse(false).value_or(7), 7);

    auto twice = [](int v) -> umod::Expected<int> { return v * 2; };
    EXPECT_EQ(*parse(true).and_then(twice), 84);
    auto failed = parse(false).and_then(twice);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().message(), "no such thing: widget");

    umod::Expected<std::string> text = parse(true).transform([](int v) { return std::to_string(v); });
    EXPECT_EQ(*text, "42");
    EXPECT_EQ(parse(false).transform([](int v) { return std::to_string(v); }).error().code(), ENOENT);
    int seen = 0;
    umod::Status done = parse(true).transform([&](int v) { seen = v; });
    EXPECT_TRUE(done);
    EXPECT_EQ(seen, 42);

    auto recovered = parse(false).or_else([](const umod::Error& e) -> umod::Expected<int> {
        return e.code() == ENOENT ? umod::Expected<int>(0) : e;
    });
    EXPECT_EQ(*recovered, 0);
    EXPECT_EQ(*parse(true).or_else([](const umod::Error& e) -> umod::Expected<int> { return e; }), 42);

    umod::Status ok;
    EXPECT_EQ(*ok.and_then([] { return umod::Expected<int>(5); }), 5);
    EXPECT_EQ(*ok.transform([] { return 6; }), 6);
    umod::Status bad = umod::Error(EINVAL, "bad");
    EXPECT_EQ(bad.and_then([] { return umod::Expected<int>(5); }).error().code(), EINVAL);
    EXPECT_TRUE(bad.or_else([](const umod::Error&) { return umod::Status(); }));
}

TEST(ExpectedDeathTest, MisreadingIsAContractFailureAtEveryBuildType) {
    EXPECT_DEATH((void)*parse(false),
                 "contract violation: value\\(\\) of an Expected holding an error: no such thing: widget");
    EXPECT_DEATH((void)parse(true).error(), "contract violation: error\\(\\) of an Expected holding a value");
    umod::Status bad = umod::Error(EINVAL, "bad");
    EXPECT_DEATH(bad.value(), "value\\(\\) of an Expected holding an error: bad");
    EXPECT_DEATH((void)umod::Status().error(), "error\\(\\) of an Expected holding a value");
}

}  // namespace
