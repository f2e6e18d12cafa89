#!/usr/bin/env python3
"""Writes sim_result_sample.json: a small, realistic simulation result (the contract
between `spotkeeper simulate --json` and the HTML report, docs/simulator.md) for the
report's tests. The story is written down below, sample by sample; the summaries are
computed from the series so they agree with them.

Scenario: 3 spot pools and an on-demand group, 3 services ("web" runs on on-demand
only), 50 samples 5 minutes apart. One interruption in pool m5.large us-east-1a at
1:02, a mass reclaim of pool c5.large us-east-1c at 1:40 after which that pool is dry
until 2:45. `reference` drains late and scales on-demand 15 minutes late; `spotkeeper`
drains on the notice and covers the gap with on-demand at once.

"api" and "web" are behind load balancers, 50 requests/s per task. Each api task
`reference` loses undrained fails its share (50/s) for the 51 s its health checks take
(30 s interval, 2 checks, 6 s timeout) and its 5 requests in flight (0.1 s).

Run: python3 tests/data/make_sim_result_sample.py > tests/data/sim_result_sample.json
"""
import json

STEP, N = 300, 50
T = [i * STEP for i in range(N)]
# pool: (units per instance, spot price, on-demand price) in USD per hour
POOLS = {
    "spot m5.large us-east-1a": (2, 0.035, 0.096),
    "spot m5.xlarge us-east-1b": (4, 0.071, 0.192),
    "spot c5.large us-east-1c": (2, 0.031, 0.085),
    "on-demand": (2, 0.096, 0.096),
}
TARGET = 2 * 4 + 4 * 3 + 2 * 4  # the fleet's target capacity in units
RATE = {"api": 50 * 10, "web": 50 * 6, "worker": 0}  # requests/s
FAILED_PER_KILLED_TARGET = 50 * 51 + 50 * 0.1


def steps(default, changes):
    """A series: `default`, then from each (time, value) in `changes` on that value."""
    out, v = [], default
    ch = dict(changes)
    for t in T:
        v = ch.get(t, v)
        out.append(v)
    return out


def run(policy):
    late = policy == "reference"
    cap = {
        "spot m5.large us-east-1a": steps(4, [(3900, 3), (4500, 4)]),
        "spot m5.xlarge us-east-1b": steps(3, []),
        "spot c5.large us-east-1c": steps(4, [(6000, 0), (10200, 4)]),
        # 1 instance for "web" all the time, 4 more while the c5 pool is dry.
        "on-demand": steps(1, [(6900, 5), (11100, 1)] if late else [(6300, 5), (10800, 1)]),
    }
    if late:
        svc = {
            "api": (steps(10, []), steps(10, [(3900, 9), (4500, 10), (6000, 7), (7200, 10)])),
            "worker": (steps(16, []), steps(16, [(6000, 10), (6900, 12), (7200, 16)])),
            "web": (steps(6, []), steps(6, [])),
        }
        lost = {"api": 4, "worker": 6, "web": 0}
        # api tasks lost undrained: one at 3900 s, three at 6000 s.
        killed = {3900: 1, 6000: 3}
    else:
        svc = {
            "api": (steps(10, []), steps(10, [(6000, 9), (6600, 10)])),
            "worker": (steps(16, []), steps(16, [(6000, 14), (6600, 16)])),
            "web": (steps(6, []), steps(6, [])),
        }
        lost = {"api": 0, "worker": 0, "web": 0}
        killed = {}

    cost, total = [], 0.0
    spot_h = od_h = all_od = 0.0
    below = 0
    for i in range(N):
        units = 0
        for pool, (w, spot, od) in POOLS.items():
            n = cap[pool][i]
            hours = n * STEP / 3600
            if i > 0:  # cost accrues over the interval ending at sample i
                total += hours * spot
                all_od += hours * od
                if pool == "on-demand":
                    od_h += hours
                else:
                    spot_h += hours
            units += w * (n - 1 if pool == "on-demand" else n)
        if units < TARGET:
            below += 1
        cost.append(round(total, 4))

    failed_series, failed_total = [], 0.0
    for t in T:
        failed_total += killed.get(t, 0) * FAILED_PER_KILLED_TARGET
        failed_series.append(round(failed_total))
    duration = N * STEP

    services, worst = [], None
    desired_sum = running_sum = 0
    for name, (d, r) in svc.items():
        a = sum(r) / sum(d)
        desired_sum += sum(d)
        running_sum += sum(r)
        offered = RATE[name] * duration
        failed = failed_total if name == "api" else 0
        services.append({"name": name, "availability": round(a, 5),
                         "tasks_lost_without_drain": lost[name],
                         "requests_served": round(offered - failed),
                         "failed_requests": round(failed),
                         "failed_requests_per_million":
                             round(1e6 * failed / offered, 3) if offered else 0})
        if worst is None or a < worst[1]:
            worst = (name, a)

    events = [
        {"t": 3600, "kind": "rebalance-recommendation", "pool": "m5.large us-east-1a",
         "instance": "i-0a01"},
        {"t": 3720, "kind": "spot-interruption", "pool": "m5.large us-east-1a",
         "instance": "i-0a01"},
        {"t": 5880, "kind": "mass-reclaim", "pool": "c5.large us-east-1c", "instance": ""},
    ] + [
        {"t": 5880, "kind": "spot-interruption", "pool": "c5.large us-east-1c",
         "instance": f"i-0c0{k}"} for k in range(1, 5)
    ] + [
        {"t": 6000, "kind": "pool-dry", "pool": "c5.large us-east-1c", "instance": ""},
        {"t": 9900, "kind": "pool-restored", "pool": "c5.large us-east-1c", "instance": ""},
    ]
    return {
        "policy": policy,
        "summary": {
            "availability": round(running_sum / desired_sum, 5),
            "worst_service": worst[0],
            "worst_service_availability": round(worst[1], 5),
            "tasks_lost_without_drain": sum(lost.values()),
            "minutes_below_target": below * STEP / 60,
            "interruptions": sum(1 for e in events if e["kind"] == "spot-interruption"),
            "spot_instance_hours": round(spot_h, 3),
            "on_demand_instance_hours": round(od_h, 3),
            "cost": round(total, 4),
            "all_on_demand_cost": round(all_od, 4),
            "savings": round(1 - total / all_od, 5),
            "requests_served": round(sum(RATE.values()) * duration - failed_total),
            "failed_requests": round(failed_total),
            "failed_requests_per_million":
                round(1e6 * failed_total / (sum(RATE.values()) * duration), 3),
        },
        "services": services,
        "series": {
            "t": T,
            "capacity": cap,
            "target_units": [TARGET] * N,
            "services": {k: {"desired": d, "running": r} for k, (d, r) in svc.items()},
            "cost": cost,
            "failed_requests": failed_series,
        },
        "events": events,
    }


result = {
    "scenario": {
        "name": "sample-four-hours",
        "description": "Test sample: 3 spot pools and an on-demand group, 3 services; "
                       "one interruption, a mass reclaim of c5.large us-east-1c, which then runs dry.",
        "seed": 42,
        "duration_s": N * STEP,
        "sample_interval_s": STEP,
    },
    "runs": [run("reference"), run("spotkeeper")],
}
print(json.dumps(result, indent=1))
