// The simulator's discrete-event core: virtual time and a queue of small POD
// events ordered by (time, sequence number). Single-threaded by design; no
// wall clock, no sleeping: time jumps from one event to the next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spk::sim {

// Virtual time: milliseconds since the scenario start.
using SimTime = int64_t;

constexpr SimTime kSecond = 1000;
constexpr SimTime kMinute = 60 * kSecond;
constexpr SimTime kHour = 60 * kMinute;
constexpr SimTime kDay = 24 * kHour;

// One scheduled event. `kind` says what happens, `a` and `b` are its operands
// (an instance, task or pool index, a generation...); their meaning is the
// caller's. 24 bytes, trivially copyable.
struct Event {
  SimTime time = 0;
  uint64_t sequence = 0;
  uint32_t kind = 0;
  uint32_t a = 0;
};

// A binary min-heap of events on (time, sequence). The sequence number is
// assigned at Push, so events at the same time pop in the order pushed: the
// run is deterministic whatever the heap's internal order.
class EventQueue {
 public:
  // Schedules `kind(a)` at `time`. REQUIRES: time >= now().
  void Push(SimTime time, uint32_t kind, uint32_t a = 0) {
    heap_.push_back(Event{time, next_sequence_++, kind, a});
    SiftUp(heap_.size() - 1);
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // The time of the next event. REQUIRES: !empty().
  SimTime next_time() const { return heap_.front().time; }

  // Removes and returns the earliest event, and advances now() to its time.
  // REQUIRES: !empty().
  Event Pop() {
    Event top = heap_.front();
    Event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) {
      heap_.front() = last;
      SiftDown(0);
    }
    now_ = top.time;
    ++popped_;
    return top;
  }

  // The time of the event popped last (0 before the first).
  SimTime now() const { return now_; }
  // Events popped so far.
  uint64_t popped() const { return popped_; }

  void Reserve(size_t n) { heap_.reserve(n); }

 private:
  static bool Before(const Event& x, const Event& y) {
    return x.time < y.time || (x.time == y.time && x.sequence < y.sequence);
  }
  void SiftUp(size_t i) {
    Event e = heap_[i];
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (!Before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  void SiftDown(size_t i) {
    const size_t n = heap_.size();
    Event e = heap_[i];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
      if (!Before(heap_[child], e)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = e;
  }

  std::vector<Event> heap_;
  uint64_t next_sequence_ = 0;
  uint64_t popped_ = 0;
  SimTime now_ = 0;
};

}  // namespace spk::sim
