#include "io/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
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

// Counts its own destruction; owns an event on the loop, as a connection's stream does.
struct Doomed {
  Doomed(EventLoop& loop, std::vector<int>& freed, int id)
      : freed_(freed), id_(id), timer_(loop, [] {}) {
    timer_.arm(std::chrono::hours(1));
  }
  ~Doomed() {
    timer_.cancel();  // its event is still there to cancel
    freed_.push_back(id_);
  }
  std::vector<int>& freed_;
  int id_;
  Timer timer_;
};

TEST(IoEventLoopTest, RunPendingRunsDeferredWorkAndReturnsWithoutWaiting) {
  EventLoop loop;
  std::vector<int> order;
  loop.defer([&] {
    order.push_back(1);
    loop.defer([&] { order.push_back(2); });  // deferred by deferred work: the same go
  });
  EXPECT_TRUE(order.empty());
  loop.run_pending();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  loop.run_pending();  // nothing due: returns at once
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(IoEventLoopTest, DeferDeleteFreesOnceTheCurrentCallbackHasReturned) {
  EventLoop loop;
  std::vector<int> freed;
  loop.defer([&] {
    loop.defer_delete(std::make_unique<Doomed>(loop, freed, 1));
    loop.defer_delete(std::make_unique<Doomed>(loop, freed, 2));
    EXPECT_TRUE(freed.empty());  // still alive for the rest of this callback
    EXPECT_EQ(loop.deletes_pending(), 2u);
  });
  loop.run_pending();
  EXPECT_EQ(freed, (std::vector<int>{1, 2}));  // in the order they were handed over
  EXPECT_EQ(loop.deletes_pending(), 0u);
  loop.defer_delete(std::unique_ptr<Doomed>());  // nothing to hold
  EXPECT_EQ(loop.deletes_pending(), 0u);
}

// An object freed by the loop may hand over another (a pool's last connection): freed too.
TEST(IoEventLoopTest, AnObjectHandedOverByADeferredDeleteIsFreedInTheSameGo) {
  struct Owner {
    EventLoop& loop;
    std::unique_ptr<Doomed> held;
    ~Owner() { loop.defer_delete(std::move(held)); }
  };
  EventLoop loop;
  std::vector<int> freed;
  loop.defer_delete(
      std::unique_ptr<Owner>(new Owner{loop, std::make_unique<Doomed>(loop, freed, 7)}));
  loop.run_pending();
  EXPECT_EQ(freed, (std::vector<int>{7}));
  EXPECT_EQ(loop.deletes_pending(), 0u);
}

// A loop destroyed before it turned again frees what it holds, while the objects' events
// can still be cancelled (ASan: used after free if the base went first), and never leaks.
TEST(IoEventLoopTest, TheLoopFreesWhatItStillHoldsWhenDestroyed) {
  std::vector<int> freed;
  {
    EventLoop loop;
    loop.defer_delete(std::make_unique<Doomed>(loop, freed, 3));
    EXPECT_TRUE(freed.empty());
  }
  EXPECT_EQ(freed, (std::vector<int>{3}));
}

TEST(IoEventLoopTest, TimerArmedNowFiresOnceTheCallerHasReturnedAndCanBeTakenBack) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop, [&] { ++fired; });
  timer.arm_now();
  EXPECT_TRUE(timer.armed());
  EXPECT_EQ(fired, 0);  // never from inside arm_now()
  loop.run_pending();
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
  timer.arm_now();
  timer.cancel();
  EXPECT_FALSE(timer.armed());
  loop.run_pending();
  EXPECT_EQ(fired, 1);
  {
    Timer gone(loop, [&] { ++fired; });
    gone.arm_now();
  }
  loop.run_pending();  // the destroyed timer took its report with it
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace dp::io
