#include "sim/market.h"

#include <algorithm>
#include <cmath>

#include "sim/capacity_source.h"
#include "sim/metrics.h"
#include "sim/policy_adapter.h"

namespace spk::sim {

Market::Market(World& w) : w_(w), random_(w.s.seed * 4 + 2), dry_(w.s.pools.size(), 0) {
  for (size_t p = 0; p < w.s.pools.size(); ++p) {
    pool_random_.push_back(
        std::make_unique<SeededRandom>(w.s.seed * 1000003ULL + 7919ULL * (p + 1)));
  }
}

void Market::Start() {
  for (size_t i = 0; i < w_.s.events.size(); ++i) {
    w_.q.Push(w_.s.events[i].at, kMarketEvent, static_cast<uint32_t>(i));
  }
}

double Market::PriceIntegral(int pool, SimTime from, SimTime to) const {
  if (pool == kOnDemandPool) return w_.s.on_demand.price * static_cast<double>(to - from);
  const auto& prices = w_.s.pools[pool].spot_prices;
  double sum = 0;
  for (size_t i = 0; i < prices.size(); ++i) {
    SimTime a = std::max(from, prices[i].first);
    SimTime b = std::min(to, i + 1 < prices.size() ? prices[i + 1].first : to);
    if (b > a) sum += prices[i].second * static_cast<double>(b - a);
  }
  return sum;
}

double Market::SpotPrice(int pool) const {
  const auto& prices = w_.s.pools[pool].spot_prices;
  double price = prices.front().second;
  for (const auto& [from, p] : prices) {
    if (from <= w_.now()) price = p;
  }
  return price;
}

// Exponential with the rate that interrupts `monthly_interruption` of
// instances in 30 days, drawn from the instance's pool's stream.
void Market::ScheduleInterruption(uint32_t index) {
  const int p = w_.instances[index].pool;
  const PoolSpec& pool = w_.s.pools[p];
  Random& r = *pool_random_[p];
  double u = r.Uniform();
  double rebalance_draw = r.Uniform();
  if (pool.monthly_interruption <= 0) return;
  double rate = -std::log(1.0 - pool.monthly_interruption) / static_cast<double>(30 * kDay);
  double wait = -std::log(1.0 - u) / rate;
  if (wait > static_cast<double>(w_.s.duration)) return;
  SimTime at = w_.now() + static_cast<SimTime>(wait);
  if (at >= w_.s.duration) return;
  w_.q.Push(at, kNotice, index);
  if (rebalance_draw < w_.s.market.rebalance_probability) {
    w_.q.Push(std::max(w_.now(), at - w_.s.market.rebalance_lead), kRebalance, index);
  }
}

void Market::Rebalance(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.state == Instance::State::kTerminated || in.noticed) return;
  in.recommended = true;
  w_.metrics->AddEvent("rebalance-recommendation", in.pool, in.id);
  w_.policies->OnRebalance(index);
  w_.fleet->Rebalance(index);
}

// The two-minute notice, or with Scenario::market.short_notice_probability a
// shorter one.
void Market::Notice(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.state == Instance::State::kTerminated || in.noticed) return;
  const MarketSpec& m = w_.s.market;
  SimTime lead = m.notice_lead;
  if (random_.Uniform() < m.short_notice_probability) {
    SimTime lo = std::min(m.short_notice_min, lead);
    lead = lo + static_cast<SimTime>(random_.Uniform() * static_cast<double>(lead - lo));
  }
  in.noticed = true;
  in.notice_time = w_.now();
  in.termination_time = w_.now() + lead;
  w_.metrics->Interruption();
  w_.metrics->AddEvent("spot-interruption", in.pool, in.id);
  w_.q.Push(in.termination_time, kTerminate, index);
  w_.policies->OnInterruptionNotice(index);
}

void Market::SetDry(int pool, SimTime duration) {
  if (duration <= 0) return;
  if (dry_[pool]++ == 0) w_.metrics->AddEvent("pool-dry", pool, "");
  w_.q.Push(w_.now() + duration, kPoolRestored, static_cast<uint32_t>(pool));
}

void Market::PoolRestored(int pool) {
  if (--dry_[pool] == 0) {
    w_.metrics->AddEvent("pool-restored", pool, "");
    w_.fleet->Check();
  }
}

void Market::ApplyEvent(uint32_t which) {
  const MarketEvent& e = w_.s.events[which];
  for (int pool : e.pools) {
    std::vector<uint32_t> live = w_.fleet->LiveInPool(pool);
    switch (e.kind) {
      case MarketEvent::Kind::kMassReclaim: {
        w_.metrics->AddEvent("mass-reclaim", pool, "");
        size_t n =
            static_cast<size_t>(std::ceil(e.fraction * static_cast<double>(live.size()) - 1e-9));
        SetDry(pool, e.dry_for);
        for (size_t k = 0; k < n && k < live.size(); ++k) Notice(live[k]);
        break;
      }
      case MarketEvent::Kind::kPoolDry:
        SetDry(pool, e.dry_for);
        break;
      case MarketEvent::Kind::kInterruption:
        for (size_t k = 0; k < static_cast<size_t>(e.count) && k < live.size(); ++k) {
          Notice(live[k]);
        }
        break;
      case MarketEvent::Kind::kRebalance: {
        // The oldest instances of the pool not recommended yet, none leaving.
        size_t sent = 0;
        for (size_t k = 0; k < live.size() && sent < static_cast<size_t>(e.count); ++k) {
          const Instance& in = w_.instances[live[k]];
          if (in.recommended || in.terminating) continue;
          Rebalance(live[k]);
          ++sent;
        }
        break;
      }
    }
  }
}

}  // namespace spk::sim
