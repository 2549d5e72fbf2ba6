#include "io/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace dp::io {
namespace {

TEST(IoEventLoopTest, PostFromAnotherThreadRunsOnTheLoopThread) {
  EventLoop loop;
  std::thread::id ran_on;
  std::thread poster([&] {
    loop.post([&] {
      ran_on = std::this_thread::get_id();
      loop.stop();
    });
  });
  const auto loop_thread = std::this_thread::get_id();
  loop.run();  // returns once the posted function has stopped it
  poster.join();
  EXPECT_EQ(ran_on, loop_thread);
}

TEST(IoEventLoopTest, DeferredWorkRunsAfterTheCurrentCallbackInOrder) {
  EventLoop loop;
  std::vector<int> order;
  loop.post([&] {
    loop.defer([&] { order.push_back(2); });
    loop.defer([&] {
      order.push_back(3);
      loop.stop();
    });
    order.push_back(1);  // the deferred ones have not run yet
  });
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(IoEventLoopTest, TimerFiresOnceAndCanBeCancelled) {
  EventLoop loop;
  int fired = 0;
  Timer cancelled(loop, [&] { ++fired; });
  Timer timer(loop, [&] {
    ++fired;
    loop.stop();
  });
  cancelled.arm(std::chrono::microseconds(100));
  EXPECT_TRUE(cancelled.armed());
  cancelled.cancel();
  EXPECT_FALSE(cancelled.armed());
  timer.arm(std::chrono::microseconds(1000));
  loop.run();
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace dp::io
