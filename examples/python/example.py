#!/usr/bin/env python3
"""One block of a small OpenGradient-like network, driven from Python.

    make && python3 examples/python/example.py

Two nodes stake, a delegator joins, three inference requests are priced and charged,
their fees are split (stakers' share into the reward pot, the serving node's share
straight to it), the block is allocated, base fees move, and rewards are withdrawn.
"""
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opg  # noqa: E402
from opg import Id  # noqa: E402

OPG = 10**18  # base units per OPG
# Validators' Ed25519 public keys (RFC 8032's first two test keys): a node registers
# only a key of prime order, so that its votes can be slashed.
KEYS = {1: Id("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
        2: Id("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")}


def main():
    print(f"libopg {opg.version()}")
    # power_reduction 1 OPG: a node's consensus power is its stake in whole OPG
    reg = opg.Registry(genesis_supply=1_000_000_000 * OPG, power_reduction=OPG)
    spl = opg.Splitter(reg, community_tax="0.02", emission="none")
    fees = opg.Pricer(
        [{"name": "gpu_ms", "initial_base_fee": 10**12, "target": 50_000, "limit": 100_000},
         {"name": "tokens", "initial_base_fee": 10**10, "target": 2_000_000,
          "limit": 4_000_000}],
        classes={1: {"gpu_ms": 1, "tokens": 1}, 2: {"gpu_ms": "2.5", "tokens": 1}},
        split="0.6,0.1,0.2,0.05,0.05")

    height, now = 1, 1_700_000_000
    for n, self_bond in ((1, 2_000_000), (2, 1_000_000)):
        reg.node_create(height, now, operator_id=Id.from_int(n),
                        consensus_key=KEYS[n], roles=opg.Role.ALL,
                        commission_rate="0.05", commission_max_rate="0.2",
                        commission_max_change_rate="0.01", min_self_delegation=OPG,
                        self_delegation=self_bond * OPG)
    alice = Id.from_int(1000)
    shares = reg.delegate(alice, Id.from_int(2), 500_000 * OPG, height, now)
    print(f"alice delegated 500000 OPG to node 2 for {shares} shares")
    for e in reg.end_block(height, now):
        if e.kind == opg.EventKind.VALIDATOR_UPDATE:
            print(f"  validator {e.account.hex()[-4:]} power {e.power}")

    height, now = 2, now + 5
    served_by, verifier = Id.from_int(1), Id.from_int(2)
    for gpu_ms, tokens, cls in ((40_000, 1_000_000, 1), (20_000, 800_000, 2), (5_000, 50_000, 1)):
        quote = fees.quote({"gpu_ms": gpu_ms, "tokens": tokens}, cls)
        r = fees.charge({"gpu_ms": gpu_ms, "tokens": tokens}, cls,
                        max_fee=quote.base_fee * 2, max_priority_fee=10**15,
                        verifiers=[verifier])
        spl.add_fees(r.stakers)
        spl.allocate_to_node(served_by, r.inference)
        spl.allocate_to_node(verifier, r.verifier_amounts[0])
        print(f"request class {cls}: fee {Decimal(r.fee).scaleb(-18).normalize():f} OPG "
              f"(inference {r.inference}, stakers {r.stakers}, burned {r.burn})")
    powers = [(n.consensus_key, n.power) for n in reg.nodes()]
    spl.allocate(powers, height, now)
    print("base fees after the block:", fees.end_block())
    reg.end_block(height, now)

    pending = spl.pending_rewards(alice, Id.from_int(2), height)
    paid = spl.withdraw_rewards(alice, Id.from_int(2), height, now)
    print(f"alice: pending {pending} base units, withdrew {paid}")
    for e in reg.events():
        print(f"  event {e.kind.name} amount {e.amount}")
    s = reg.supply()
    print(f"supply {s.total_supply} bonded {s.bonded} staking ratio {s.staking_ratio}")
    spl.check()
    for name, h in (("registry", reg), ("splitter", spl), ("pricer", fees)):
        print(f"{name} state hash {h.state_hash().hex()}")
    try:
        reg.delegate(alice, Id.from_int(9), OPG, height, now)
    except opg.OpgError as e:
        print(f"refused as expected: {e.name} ({e.detail})")
    fees.close()
    reg.close()  # closes the splitter first


if __name__ == "__main__":
    main()
