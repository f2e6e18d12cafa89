// Randomness comes in through this interface, never from rand(): a seeded
// generator makes retries' jitter and the simulator reproducible.
#pragma once

#include <cstdint>
#include <mutex>

namespace spk {

class Random {
 public:
  virtual ~Random() = default;
  // Uniform on [0, 2^64).
  virtual uint64_t Next() = 0;
  // Uniform on [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
};

// xoshiro256** seeded through splitmix64: fast, and the same seed always gives
// the same sequence on every platform. Thread-safe.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed);
  uint64_t Next() override;

 private:
  std::mutex mu_;
  uint64_t s_[4];
};

// A seed from the operating system, for production use.
uint64_t SeedFromOs();

}  // namespace spk
