// The endpoint under load (run under TSan: label concurrent): host threads
// get and put, load and unload, while clients read the graph and monitors
// come and go. Every answer arrives; every count balances.
#include <atomic>
#include <thread>

#include "control/hosts.h"

namespace umod {
namespace {

using namespace std::chrono_literals;

TEST(ControlConcurrent, HostGoesOnWhileClientsPollAndMonitor) {
    testing::ControlDir dir;
    Registry r(testing::listening(dir, ControlAccess::Manage));
    ASSERT_TRUE(r.load(testing::ImageBuilder("crc").exports("crc16").build()));
    std::atomic<bool> stop{false};
    std::atomic<int> answers{0}, failures{0}, events{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&, t] {
            User* who = r.holder("worker" + std::to_string(t));
            while (!stop.load()) {
                if (!r.symbol_get("crc16", who) || !r.symbol_put("crc16", who)) failures.fetch_add(1);
            }
        });
    threads.emplace_back([&] {
        for (int i = 0; !stop.load(); ++i) {
            std::string name = "churn" + std::to_string(i % 4);
            if (!r.load(testing::ImageBuilder(name).imports("crc16").build())) failures.fetch_add(1);
            if (!r.unload(name)) failures.fetch_add(1);
        }
    });
    threads.emplace_back([&] {
        while (!stop.load()) {
            std::vector<std::string> words{"graph", "--json"};
            auto graph = testing::ask(dir.socket(), words);
            (graph && graph->code == 0 ? answers : failures).fetch_add(1);
        }
    });
    threads.emplace_back([&] {
        while (!stop.load()) {
            auto client = control::Client::connect(dir.socket());
            if (!client) {
                failures.fetch_add(1);
                continue;
            }
            std::vector<std::string> words{"monitor"};
            if (!client->request(words)) failures.fetch_add(1);
            for (int i = 0; i < 20 && !stop.load(); ++i)
                if (client->next_event(2s)) events.fetch_add(1);
        }
    });
    std::this_thread::sleep_for(1500ms);
    stop.store(true);
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GT(answers.load(), 0);
    EXPECT_GT(events.load(), 0);
    auto holders = r.holders("crc");
    ASSERT_TRUE(holders);
    for (const auto& h : *holders) EXPECT_EQ(h.dynamic, 0u) << h.user;
}

}  // namespace
}  // namespace umod
