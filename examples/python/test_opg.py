#!/usr/bin/env python3
"""Tests of the ctypes binding (standard library only).

Known answers are the worked examples of the C tests (test/test_*.c), redone through
the binding: if a struct were mirrored with a wrong layout, a wrong field type or a
wrong prototype, these values (and the pricer's pinned state hash) could not come out.

    python3 examples/python/test_opg.py        # ok/FAIL lines, as test/run.sh counts them
    python3 -m unittest examples/python/test_opg.py -v
The library: $OPG_LIBRARY, else build/libopg.so of this tree, else the installed one.
"""

import ctypes
import dataclasses
import functools
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import unittest
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opg  # noqa: E402
from opg import Id, OpgError  # noqa: E402

D = Decimal
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def op(n):
    return Id.from_int(n)


def key(n):
    return cons_key(1000 + n)


@functools.lru_cache(maxsize=None)
def cons_key(n):
    """A usable consensus key for n: the Ed25519 public key of the seed n."""
    return Id(ed25519_public(n.to_bytes(32, "big")))


def add_node(reg, n, rate="0", self_delegation=100, height=1, roles=opg.Role.ALL):
    reg.node_create(height, height * 5, operator_id=op(n), consensus_key=key(n), roles=roles,
                    commission_rate=rate, commission_max_rate="1",
                    commission_max_change_rate="0.1", min_self_delegation=1,
                    self_delegation=self_delegation)


class OpgTest(unittest.TestCase):
    def assertFails(self, name, fn, *args, **kw):
        """fn(*args) raises OpgError with this name; returns the exception."""
        with self.assertRaises(OpgError) as cm:
            fn(*args, **kw)
        e = cm.exception
        self.assertEqual(e.name, name, str(e))
        self.assertEqual(e.code, opg.error_codes()[name])
        return e

    def assertRefusedUnchanged(self, handles, name, fn, *args, **kw):
        """fn(*args) fails with `name` and leaves every handle's state hash as it was."""
        before = [h.state_hash() for h in handles]
        e = self.assertFails(name, fn, *args, **kw)
        self.assertEqual([h.state_hash() for h in handles], before)
        return e

# ---------------------------------------------------------------------- core

class TestCore(OpgTest):
    def test_version(self):
        parts = [int(x) for x in opg.version().split(".")]
        self.assertEqual(len(parts), 3)
        self.assertEqual(opg.version_number(), parts[0] * 10000 + parts[1] * 100 + parts[2])

    def test_error_table(self):
        codes = opg.error_codes()
        self.assertEqual(codes["OK"], 0)
        self.assertEqual(codes["EINVAL"], -1)
        self.assertEqual(codes["ENOTFOUND"], -5)
        self.assertEqual(codes["EROLE"], -35)
        self.assertEqual(opg.ENOTFOUND, -5)  # module constants from the library's table
        self.assertEqual(opg.strerror(-5), "no such item")
        self.assertEqual(opg.errname(-12), "EDIVZERO")
        self.assertEqual(opg.errname(-9999), "EUNKNOWN")
        self.assertEqual(len(set(codes.values())), len(codes))

    def test_opg_error(self):
        e = OpgError(-4, "detail here", "opg_x")
        self.assertIsInstance(e, Exception)
        self.assertEqual((e.code, e.name, e.message, e.detail), (-4, "EPARSE", "malformed text",
                                                                 "detail here"))
        self.assertEqual(str(e), "opg_x: EPARSE: malformed text (detail here)")
        import pickle
        back = pickle.loads(pickle.dumps(e))
        self.assertEqual((back.code, back.name, back.detail, str(back)),
                         (e.code, e.name, e.detail, str(e)))

    def test_u256_round_trip_through_c_text(self):
        # int -> limbs -> opg_u256_to_string, and opg_u256_from_string -> limbs -> int
        for v in (0, 1, 2**64 - 1, 2**64, 2**128 + 5, 10**77, 2**256 - 1):
            u = opg.opg_u256.of(v)
            buf = ctypes.create_string_buffer(80)
            self.assertEqual(opg._C.opg_u256_to_string(buf, 80, None, ctypes.byref(u)), 0)
            self.assertEqual(buf.value.decode(), str(v))
            back = opg.opg_u256()
            self.assertEqual(opg._C.opg_u256_from_string(ctypes.byref(back), str(v).encode()), 0)
            self.assertEqual(int(back), v)
        self.assertEqual(list(opg.opg_u256.of(2**64 + 3).limb), [3, 1, 0, 0])  # least first
        self.assertRaises(OverflowError, opg.opg_u256.of, 2**256)
        self.assertRaises(OverflowError, opg.opg_u256.of, -1)
        self.assertRaises(TypeError, opg.opg_u256.of, 1.0)
        self.assertRaises(TypeError, opg.opg_u256.of, "1")
        self.assertRaises(TypeError, opg.opg_u256.of, True)

    def test_dec_conversions_are_exact(self):
        half = opg.opg_dec.of("0.5")
        raw = opg.opg_u256()
        opg._C.opg_dec_to_raw(ctypes.byref(raw), ctypes.byref(half))
        self.assertEqual(int(raw), 5 * 10**17)  # raw = value * 10^18
        for text in ("0", "1", "0.000000000000000001", "123.45",
                     "115792089237316195423570985008687907853269984665640564039457.584007913129639935"):
            self.assertEqual(opg.opg_dec.of(text).to_py(), D(text))
            self.assertEqual(opg.opg_dec.of(D(text)).to_py(), D(text))
        self.assertEqual(opg.opg_dec.of(7).to_py(), D(7))
        self.assertEqual(opg.opg_dec.of(D("1.50000000000000000000")).to_py(), D("1.5"))
        self.assertEqual(opg.opg_dec.of(D("1E+2")).to_py(), D(100))
        # what is not exactly an 18-decimal value is refused, not rounded
        self.assertFails("EPARSE", opg.opg_dec.of, "1.0000000000000000001")
        self.assertFails("EPARSE", opg.opg_dec.of, D("0.1234567890123456789"))
        self.assertFails("EPARSE", opg.opg_dec.of, "-1")
        self.assertFails("EPARSE", opg.opg_dec.of, "1e5")
        self.assertFails("EOVERFLOW", opg.opg_dec.of, "115792089237316195423570985008687907853269984665640564039458")
        self.assertRaises(TypeError, opg.opg_dec.of, 0.5)

    def test_dec_arithmetic_cosmos_rounding(self):
        self.assertEqual(opg.dec_mul("0.5", "0.3"), D("0.15"))
        self.assertEqual(opg.dec_quo("1", "3"), D("0.333333333333333333"))
        self.assertEqual(opg.dec_quo("2", "3"), D("0.666666666666666667"))  # half to even
        self.assertEqual(opg.dec_quo_truncate("2", "3"), D("0.666666666666666666"))
        self.assertEqual(opg.dec_quo_round_up("1", "3"), D("0.333333333333333334"))
        # 0.000000000000000005 * 0.1 = 5e-19: half of the last place, to even -> 0
        self.assertEqual(opg.dec_mul("0.000000000000000005", "0.1"), D(0))
        self.assertEqual(opg.dec_mul("0.000000000000000015", "0.1"), D("0.000000000000000002"))
        self.assertEqual(opg.dec_mul_round_up("0.000000000000000005", "0.1"),
                         D("0.000000000000000001"))
        self.assertFails("EUNDERFLOW", opg.dec_sub, "1", "2")
        self.assertFails("EDIVZERO", opg.dec_quo, "1", "0")
        self.assertEqual(opg.u256_mul_div(2**255, 4, 8), 2**254)  # 512-bit intermediate
        self.assertFails("EDIVZERO", opg.u256_mul_div, 1, 1, 0)

    def test_ids(self):
        a = Id.from_int(258)
        self.assertEqual(len(a), 32)
        self.assertEqual(a[-2:], b"\x01\x02")
        self.assertIsInstance(a, bytes)
        self.assertEqual(Id(a.hex()), a)
        self.assertEqual(Id("0x" + a.hex()), a)
        self.assertEqual(opg.opg_id.of(bytes(a)).to_py(), a)
        self.assertRaises(ValueError, Id, b"short")
        self.assertRaises(ValueError, Id, "zz" * 32)
        self.assertRaises(TypeError, Id, 5)

    def test_integers_out_of_range_are_refused_not_wrapped(self):
        with opg.Registry() as reg:
            with self.assertRaises(ctypes.ArgumentError) as cm:  # a height of -1
                reg.end_block(-1, 5)
            self.assertIn("OverflowError", str(cm.exception))
            self.assertRaises(ctypes.ArgumentError, reg.end_block, 2**64, 5)
            self.assertRaises(ctypes.ArgumentError, reg.end_block, 1, 2**63)
            self.assertRaises(ctypes.ArgumentError, reg.end_block, 1.0, 5)
            reg.end_block(2**64 - 1, -5)  # the extremes themselves pass through
        self.assertRaises(OverflowError, opg.Registry, max_validators=-1)
        self.assertRaises(OverflowError, opg.Registry, max_validators=2**32)
        self.assertRaises(TypeError, opg.Registry, unbonding_time="100")
        with gas_pricer(1000, 1) as p:
            self.assertRaises(OverflowError, p.quote, [1], -1)

    def test_constants(self):
        self.assertEqual(opg.TIME_FOREVER, 2**63 - 1)
        self.assertEqual(opg.PRICER_MAX_DIMENSIONS, opg._C.opg_pricer_max_dimensions())


class TestLayout(OpgTest):
    """Every mirrored struct has the size and field offsets the C compiler gives it."""

    def test_sizes_and_offsets_match_the_compiler(self):
        cc = os.environ.get("CC", "cc")
        include = os.path.join(ROOT, "include")
        if not shutil.which(cc) or not os.path.exists(os.path.join(include, "opg.h")):
            self.skipTest("no C compiler or no include/ (an installed library)")
        structs = sorted((v for k, v in vars(opg).items() if k.startswith("opg_")
                          and isinstance(v, type) and issubclass(v, ctypes.Structure)),
                         key=lambda s: s.__name__)
        prog = ["#include \"opg.h\"", "#include <stdio.h>", "#include <stddef.h>",
                "int main(void) {"]
        want = []
        for s in structs:
            prog.append(f'printf("%zu\\n", sizeof({s.__name__}));')
            want.append(f"sizeof({s.__name__}) = {ctypes.sizeof(s)}")
            for f, _ in s._fields_:
                prog.append(f'printf("%zu\\n", offsetof({s.__name__}, {f}));')
                want.append(f"offsetof({s.__name__}, {f}) = {getattr(s, f).offset}")
        prog.append("return 0; }")
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}  # no sanitizer here
        with tempfile.TemporaryDirectory() as d:
            src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
            with open(src, "w") as f:
                f.write("\n".join(prog))
            subprocess.run([cc, "-I" + include, src, "-o", exe], check=True, env=env)
            out = subprocess.run([exe], check=True, capture_output=True, text=True,
                                 env=env).stdout
        got = [w.split(" = ")[0] + " = " + v for w, v in zip(want, out.split())]
        self.assertEqual(got, want)
        self.assertGreater(len(structs), 20)

# ------------------------------------------------------------------ registry

class TestRegistry(OpgTest):
    def setUp(self):
        self.reg = opg.Registry(genesis_supply=10**9, power_reduction=1, unbonding_time=100)

    def tearDown(self):
        self.reg.close()

    def test_params_by_key_and_struct_agree(self):
        reg = self.reg
        keys = reg.param_keys()
        self.assertEqual(keys, ["staking.unbonding_time", "staking.max_validators",
                                "staking.max_entries", "staking.min_commission_rate",
                                "staking.power_reduction",
                                "staking.fix_redelegation_overslash", "staking.poa"])
        reg.param_set("staking.max_validators", 150)
        reg.param_set("staking.min_commission_rate", D("0.05"))
        reg.param_set("staking.fix_redelegation_overslash", True)
        p = reg.params()  # the struct read through ctypes agrees with the text by key
        self.assertEqual((p.unbonding_time, p.max_validators, p.max_entries), (100, 150, 7))
        self.assertEqual(p.min_commission_rate, D("0.05"))
        self.assertEqual(p.power_reduction, 1)
        self.assertIs(p.fix_redelegation_overslash, True)
        self.assertEqual(reg.param_get("staking.min_commission_rate"), "0.05")
        self.assertEqual(reg.param_get("staking.fix_redelegation_overslash"), "true")
        self.assertEqual(opg.Registry.default_params().unbonding_time, 21 * 24 * 3600)
        self.assertFails("EKEY", reg.param_get, "staking.nope")
        self.assertFails("EKEY", reg.param_set, "staking.nope", "1")
        self.assertFails("EPARSE", reg.param_set, "staking.max_entries", "seven")
        e = self.assertRefusedUnchanged([reg], "EINVAL", reg.param_set, "staking.max_entries", "65")
        self.assertIn("max_entries", e.detail)  # the handle's last_error rides along
        self.assertRaises(TypeError, opg.Registry, no_such_param=1)

    def test_node_create_get_list(self):
        reg = self.reg
        reg.node_create(3, 15, operator_id=op(2), consensus_key=key(2),
                        roles=opg.Role.CONSENSUS | opg.Role.INFERENCE, commission_rate="0.1",
                        commission_max_rate="0.2", commission_max_change_rate="0.01",
                        min_self_delegation=7, self_delegation=1000)
        add_node(reg, 1, self_delegation=5)
        n = reg.node(op(2))
        self.assertEqual((n.operator_id, n.consensus_key), (op(2), key(2)))
        self.assertEqual(n.roles, opg.Role.CONSENSUS | opg.Role.INFERENCE)
        self.assertEqual(n.status, opg.NodeStatus.UNBONDED)
        self.assertEqual((n.jailed, n.tombstoned), (False, False))
        self.assertEqual((n.tokens, n.delegator_shares), (1000, D(1000)))
        self.assertEqual((n.commission_rate, n.commission_max_rate,
                          n.commission_max_change_rate), (D("0.1"), D("0.2"), D("0.01")))
        self.assertEqual((n.commission_update_time, n.min_self_delegation), (15, 7))
        self.assertEqual((n.power, n.delegation_count), (1000, 1))  # power_reduction 1
        self.assertEqual(reg.node_by_consensus_key(key(2)), op(2))
        self.assertEqual(reg.node_count(), 2)
        self.assertEqual([x.operator_id for x in reg.nodes()], [op(1), op(2)])  # id order
        self.assertFails("ENOTFOUND", reg.node, op(9))
        self.assertFails("ENOTFOUND", reg.node_by_consensus_key, key(9))
        self.assertRefusedUnchanged([reg], "EEXISTS", add_node, reg, 2)
        self.assertRefusedUnchanged([reg], "ECOMMISSION", reg.node_create, 3, 15,
                                    operator_id=op(3), consensus_key=key(3), roles=1,
                                    commission_rate="0.3", commission_max_rate="0.2",
                                    min_self_delegation=1, self_delegation=1)
        reg.node_set_roles(op(2), "verification")
        self.assertEqual(reg.node(op(2)).roles, opg.Role.VERIFICATION)
        reg.node_set_roles(op(2), "consensus|verification")
        self.assertEqual(reg.node(op(2)).roles, 5)
        self.assertFails("EINVAL", reg.node_set_roles, op(2), 0)
        reg.node_set_min_self_delegation(op(2), 8)
        self.assertEqual(reg.node(op(2)).min_self_delegation, 8)
        self.assertFails("ETOOSOON", reg.node_set_commission, op(2), "0.11", 16)
        reg.node_set_commission(op(2), "0.11", 15 + 86400)
        self.assertEqual(reg.node(op(2)).commission_rate, D("0.11"))

    def test_first_delegation_one_to_one_then_by_ratio(self):
        reg = self.reg
        add_node(reg, 1, self_delegation=100)
        n = reg.node(op(1))
        self.assertEqual((n.tokens, n.delegator_shares), (100, D(100)))  # 1:1 at creation
        self.assertEqual(reg.end_block(1, 5)[-1].power, 100)  # bonded
        d = op(77)
        self.assertEqual(reg.delegate(d, op(1), 50, 2, 10), D(50))  # ratio still 1
        self.assertEqual(reg.delegation(d, op(1)).shares, D(50))
        # a half slash: tokens 150 -> 75, shares stay 150; then 13 tokens buy
        # trunc(150 * 13 / 75) = 26 shares
        res = reg.slash(op(1), 2, 150, "0.5", 2, 10)
        self.assertEqual((res.burned_total, res.burned_node), (75, 75))
        self.assertEqual(res.effective_fraction, D("0.5"))
        self.assertEqual(reg.delegate(d, op(1), 13, 3, 15), D(26))
        info = reg.delegation(d, op(1))
        # tokens of 76 shares: trunc(76 * 88 / 176) = 38
        self.assertEqual((info.delegator, info.operator_id, info.shares, info.tokens),
                         (d, op(1), D(76), 38))
        self.assertEqual(reg.delegation_count(), 2)
        self.assertEqual([x.operator_id for x in reg.delegations_of(d)], [op(1)])
        self.assertEqual(reg.delegations_of(op(99)), [])
        self.assertFails("ENOTFOUND", reg.delegate, d, op(9), 1, 3, 15)
        self.assertRefusedUnchanged([reg], "EZERO", reg.delegate, d, op(1), 0, 3, 15)
        self.assertFails("ENOTFOUND", reg.delegation, op(99), op(1))

    def test_end_block_events(self):
        reg = self.reg
        add_node(reg, 1, self_delegation=100)
        add_node(reg, 2, self_delegation=200)
        ev = reg.end_block(1, 5)
        updates = [e for e in ev if e.kind == opg.EventKind.VALIDATOR_UPDATE]
        status = [e for e in ev if e.kind == opg.EventKind.NODE_STATUS]
        self.assertEqual([(e.account, e.node, e.power) for e in updates],
                         [(key(1), op(1), 100), (key(2), op(2), 200)])
        self.assertEqual([(e.node, e.status) for e in status],
                         [(op(1), opg.NodeStatus.BONDED), (op(2), opg.NodeStatus.BONDED)])
        self.assertEqual(len(ev), 4)
        self.assertEqual(reg.events(), ev)  # still the events of the last call
        self.assertEqual(reg.end_block(2, 10), [])  # nothing changed
        self.assertEqual(reg.node(op(2)).status, opg.NodeStatus.BONDED)

    def test_undelegate_cancel_redelegate_mature(self):
        reg = self.reg
        add_node(reg, 1)
        add_node(reg, 2, self_delegation=200)
        reg.end_block(1, 5)
        d = op(77)
        reg.delegate(d, op(1), 50, 2, 10)
        # unbonding completes at now + unbonding_time = 15 + 100
        self.assertEqual(reg.undelegate(d, op(1), 20, 3, 15), (20, 115))
        [u] = reg.unbondings_of(d)
        self.assertEqual((u.delegator, u.operator_id, u.creation_height, u.completion_time,
                          u.initial_balance, u.balance), (d, op(1), 3, 115, 20, 20))
        self.assertEqual(reg.redelegate(d, op(1), op(2), 10, 3, 15), 115)
        [r] = reg.redelegations_of(d)
        self.assertEqual((r.src, r.dst, r.creation_height, r.completion_time,
                          r.initial_balance, r.shares_dst), (op(1), op(2), 3, 115, 10, D(10)))
        e = self.assertRefusedUnchanged([reg], "ETRANSITIVE", reg.redelegate, d, op(2), op(1),
                                        5, 3, 15)
        self.assertTrue(e.detail)
        self.assertFails("EINVAL", reg.redelegate, d, op(1), op(1), 5, 3, 15)
        self.assertFails("EUNDERFLOW", reg.cancel_unbonding, d, op(1), 3, 21, 4, 20)
        self.assertFails("ENOTFOUND", reg.cancel_unbonding, d, op(1), 2, 1, 4, 20)
        reg.cancel_unbonding(d, op(1), 3, 5, 4, 20)
        self.assertEqual(reg.unbondings_of(d)[0].balance, 15)
        self.assertEqual(reg.delegation(d, op(1)).tokens, 25)  # 50 - 20 - 10 + 5
        ev = reg.end_block(5, 115)  # both entries mature at 115
        matured = [(e.kind, e.account, e.node, e.node2, e.amount) for e in ev
                   if e.kind in (opg.EventKind.UNBONDING_MATURED,
                                 opg.EventKind.REDELEGATION_MATURED)]
        self.assertEqual(matured, [
            (opg.EventKind.UNBONDING_MATURED, d, op(1), bytes(32), 15),
            (opg.EventKind.REDELEGATION_MATURED, d, op(1), op(2), 10)])
        self.assertEqual(reg.unbondings_of(d), [])
        self.assertEqual(reg.redelegations_of(d), [])

    def test_slash_jail_and_supply(self):
        reg = self.reg
        add_node(reg, 1)
        self.assertFails("ESTATUS", reg.slash, op(1), 1, 100, "0.5", 1, 5)  # unbonded
        reg.end_block(1, 5)
        self.assertFails("EINVAL", reg.slash, op(1), 1, 100, "1.5", 1, 5)
        self.assertFails("EFUTURE", reg.slash, op(1), 3, 100, "0.5", 2, 10)
        res = reg.slash(op(1), 2, 100, "0.25", 2, 10)
        self.assertEqual(res.burned_total, 25)
        [burn] = reg.events()
        self.assertEqual((burn.kind, burn.node, burn.amount), (opg.EventKind.BURNED, op(1), 25))
        reg.jail(op(1), 1000)
        self.assertFails("EJAILED", reg.jail, op(1), 1000)
        n = reg.node(op(1))
        self.assertEqual((n.jailed, n.jailed_until, n.tokens), (True, 1000, 75))
        self.assertFails("ETOOSOON", reg.unjail, op(1), 999)
        reg.unjail(op(1), 1000)
        self.assertFails("ENOTJAILED", reg.unjail, op(1), 1000)
        reg.supply_mint(1000)
        reg.supply_burn(5)
        s = reg.supply()
        self.assertEqual((s.total_supply, s.minted, s.burned, s.bonded),
                         (10**9 - 25 + 1000 - 5, 1000, 30, 75))
        # bonded / supply, truncated to 18 places: 75 / 1000000970 = 7.49999272500...e-8
        self.assertEqual(s.staking_ratio, D("0.000000074999927250"))
        reg.tombstone(op(1))
        self.assertIs(reg.node(op(1)).tombstoned, True)

    def test_save_load_round_trip(self):
        reg = self.reg
        add_node(reg, 1)
        add_node(reg, 2, rate="0.05", self_delegation=300)
        reg.end_block(1, 5)
        reg.delegate(op(50), op(2), 123, 2, 10)
        reg.undelegate(op(50), op(2), 23, 3, 15)
        blob = reg.save()
        self.assertIsInstance(blob, bytes)
        with opg.Registry.load(blob) as copy:
            self.assertEqual(copy.save(), blob)  # save -> load -> save, byte for byte
            self.assertEqual(copy.state_hash(), reg.state_hash())
            self.assertEqual(copy.params(), reg.params())
            self.assertEqual(copy.nodes(), reg.nodes())
            # the copy goes on exactly like the original
            self.assertEqual(copy.end_block(4, 200), reg.end_block(4, 200))
            self.assertEqual(copy.state_hash(), reg.state_hash())
        self.assertFails("ECORRUPT", opg.Registry.load, blob[:-1])
        self.assertFails("ECORRUPT", opg.Registry.load, blob + b"\0")
        reg.check()

# -------------------------------------------------------------------- pricer

def gas_pricer(target, base_fee):
    """One EIP-1559 dimension as Ethereum's gas: limit 2 * target, denominator 8."""
    return opg.Pricer([{"name": "gas", "target": target, "limit": 2 * target,
                        "initial_base_fee": base_fee}], classes={1: [1]})


def three_dims():
    """Base fees 10, 20, 30; class 1 multiplier 1, class 3: 1.5, 1e-18, 0."""
    dims = [{"name": n, "initial_base_fee": 10 * (i + 1), "target": 1000, "limit": 2000}
            for i, n in enumerate(["gpu", "tokens_in", "tokens-out"])]
    return opg.Pricer(dims, classes={7: ["1"] * 8, 1: ["1"] * 8,
                                     3: ["1.5", "0.000000000000000001", "0"]})


class TestPricer(OpgTest):
    def test_eip1559_by_hand(self):
        with gas_pricer(15000000, 1000000000) as p:
            p.charge([15000000], 1)
            self.assertEqual(p.end_block(), [1000000000])  # at target: unchanged
            p.charge([30000000], 1)
            # full block: + 1e9 * 15M / 15M / 8 = +125,000,000 (+12.5 %)
            self.assertEqual(p.end_block(), [1125000000])
            # empty block: - 1,125,000,000 / 8 = -140,625,000
            self.assertEqual(p.end_block(), [984375000])
            p.charge([30000000], 1)
            self.assertRefusedUnchanged([p], "ELIMIT", p.charge, [1], 1)
            self.assertEqual(p.dimension_state("gas").usage, 30000000)
            self.assertEqual(p.base_fees(), [984375000])

    def test_exponential_by_hand(self):
        # target 1, so excess = used - 1 accumulates; base fee = fake_exponential(1,
        # excess, 1): excess 2 -> 1 + 2 + 2 + 1 = 6 (the series terms 1, 2, 2, 1, 0)
        with opg.Pricer([{"name": "blob", "controller": "exponential", "target": 1,
                          "limit": 10, "min_base_fee": 1, "initial_base_fee": 1,
                          "update_fraction": 1}], classes={1: [1]}) as p:
            p.charge([3], 1)
            self.assertEqual(p.end_block(), [6])
            self.assertEqual(p.dimension_state(0).excess, 2)
            d = p.dimension("blob")
            self.assertEqual((d.controller, d.update_fraction, d.initial_base_fee),
                             (opg.PricerController.EXPONENTIAL, 1, 6))

    def test_fake_exponential_vectors(self):
        # EIP-4844's own vectors, as the C test uses them
        for f, n, d, want in [(1, 2, 1, 6), (1, 0, 1, 1), (38493, 0, 1000, 38493),
                              (0, 1234, 2345, 0), (1, 4, 2, 6), (1, 3, 1, 16), (1, 6, 2, 18),
                              (1, 4, 1, 49), (1, 8, 2, 50), (10, 8, 2, 542), (11, 8, 2, 596),
                              (1, 5, 1, 136), (1, 5, 2, 11), (2, 5, 2, 23),
                              (1, 50000000, 2225652, 5709098764),
                              (1, 39321600, 3338477, 130392)]:
            self.assertEqual(opg.fake_exponential(f, n, d), want, (f, n, d))
        self.assertFails("EDIVZERO", opg.fake_exponential, 1, 1, 0)
        self.assertFails("EOVERFLOW", opg.fake_exponential, 2**255, 1, 1)

    def test_sum_max_and_ceil(self):
        with three_dims() as p:
            q = p.quote([1, 2, 3], 1)
            self.assertEqual(q.dimension_fee, [10, 40, 90])  # trimmed to 3 dimensions
            self.assertEqual(q.base_fee, 140)
            p.param_set("fees.combine", "max")
            self.assertEqual(p.combine(), opg.PricerCombine.MAX)
            self.assertEqual(p.quote({"gpu": 1, "tokens_in": 2, "tokens-out": 3}, 1).base_fee, 90)
            q = p.quote([3, 1, 5], 3)  # ceil(4.5) = 5, ceil(1e-18) = 1, 0
            self.assertEqual(q.effective_units, [5, 1, 0])
            self.assertEqual(p.quote([0, 10**18 + 1], 3).effective_units, [0, 2, 0])
            self.assertFails("EZERO", p.quote, [0, 0, 9], 3)
            self.assertFails("ECLASS", p.quote, [1], 2)
            self.assertEqual([c.id for c in p.classes()], [1, 3, 7])
            self.assertEqual(p.class_get(3).multiplier, [D("1.5"), D("1E-18"), D(0)])
            p.class_set(3, {"tokens_in": "2"})
            self.assertEqual(p.class_get(3).multiplier, [D(0), D(2), D(0)])
            p.class_remove(3)
            self.assertFails("ECLASS", p.class_get, 3)
            self.assertFails("ECLASS", p.class_remove, 3)

    def test_tip_split_and_verifiers(self):
        with gas_pricer(1000, 99) as p:
            p.param_set("fees.split", "0.5,0.2,0.2,0.05,0.05")
            r = p.charge([1], 1, max_fee=99, verifiers=[op(5), op(2), op(9)])
            # 49.5 -> 49, 19.8 -> 19, 19.8 -> 19, 4.95 -> 4, 4.95 -> 4: 95, dust 4
            self.assertEqual((r.fee, r.tip), (99, 0))
            self.assertEqual((r.inference, r.verifiers, r.stakers, r.burn, r.community),
                             (53, 19, 19, 4, 4))
            # 19 / 3 = 6 each, the remainder to the lowest id, op(2), second in the list
            self.assertEqual(r.verifier_amounts, [6, 7, 6])
            self.assertEqual(r.price.base_fee, 99)
            self.assertFails("EINVAL", p.charge, [1], 1, 99)  # a verifiers' share, no verifier
            self.assertFails("EINVAL", p.charge, [1], 1, 99, 0, [op(4), op(4)])
            self.assertRefusedUnchanged([p], "EFEE", p.charge, [1], 1, 98, 0, [op(1)])
        with gas_pricer(1000, 100) as p:
            r = p.charge([1], 1, max_fee=150, max_priority_fee=20)
            self.assertEqual((r.price.base_fee, r.tip, r.fee, r.inference), (100, 20, 120, 120))
            r = p.charge([1], 1, max_fee=150, max_priority_fee=80)  # capped by max_fee
            self.assertEqual((r.tip, r.fee), (50, 150))
            self.assertEqual(r.verifier_amounts, [])

    def test_new_with_split_and_combine(self):
        with opg.Pricer(["a", "b"], classes=[{"id": 4, "multiplier": {"b": "0.5"}}],
                        split={"inference": "0.7", "verifiers": "0.1", "stakers": "0.15",
                               "burn": "0.05", "community": 0},
                        combine="max") as p:
            s = p.split()
            self.assertEqual((s.inference, s.verifiers, s.stakers, s.burn, s.community),
                             (D("0.7"), D("0.1"), D("0.15"), D("0.05"), D(0)))
            self.assertEqual(p.param_get("fees.split"), "0.7,0.1,0.15,0.05,0")
            self.assertEqual(p.combine(), opg.PricerCombine.MAX)
            self.assertEqual(p.class_get(4).multiplier, [D(0), D("0.5")])
            # the defaults are Ethereum's London parameters
            d = p.dimension("a")
            self.assertEqual((d.name, d.controller, d.initial_base_fee, d.target, d.limit,
                              d.min_base_fee, d.max_base_fee, d.denominator),
                             ("a", opg.PricerController.EIP1559, 10**9, 15000000, 30000000,
                              0, opg.U256_MAX, 8))
        self.assertFails("EINVAL", opg.Pricer, ["a"], split="0.5,0,0,0,0")  # sums to 0.5
        self.assertFails("EINVAL", opg.Pricer, ["a", "a"])
        self.assertRaises(ValueError, opg.Pricer, ["x" * 32])

    def test_rebuilt_from_its_own_records(self):
        """Records go back into structs: a pricer built from another's dimensions,
        classes, split and combine is the same pricer."""
        with three_dims() as p:
            p.param_set("fees.split", "0.5,0.2,0.2,0.05,0.05")
            p.param_set("fees.tokens_in.min_base_fee", 15)
            p.charge([700, 1900, 100], 3, verifiers=[op(1)])
            p.end_block()
            with opg.Pricer(p.dimensions(), classes=p.classes(), split=p.split(),
                            combine=p.combine()) as q:
                self.assertEqual(q.state_hash(), p.state_hash())
                self.assertEqual(q.save(), p.save())

    def test_params_by_key(self):
        with opg.Pricer(["gpu", {"name": "blob", "controller": opg.PricerController.EXPONENTIAL,
                                 "min_base_fee": 1, "initial_base_fee": 1}]) as p:
            self.assertEqual(p.param_keys(), [
                "fees.gpu.target", "fees.gpu.limit", "fees.gpu.min_base_fee",
                "fees.gpu.max_base_fee", "fees.gpu.denominator", "fees.blob.target",
                "fees.blob.limit", "fees.blob.min_base_fee", "fees.blob.max_base_fee",
                "fees.blob.update_fraction", "fees.combine", "fees.split"])
            for k, v in p.param_items().items():
                p.param_set(k, v)  # every value reads back as it sets
            self.assertEqual(p.param_get("fees.blob.update_fraction"), "3338477")
            self.assertEqual(p.param_get("fees.split"), "1,0,0,0,0")
            p.param_set("fees.gpu.target", 20000000)
            self.assertEqual(p.dimension("gpu").target, 20000000)
            self.assertEqual(p.dimension_index("blob"), 1)
            self.assertFails("ENOTFOUND", p.dimension_index, "nope")
            self.assertFails("EINVAL", p.dimension, 2)
            self.assertFails("EKEY", p.param_get, "fees.blob.denominator")
            p.param_set("fees.gpu.max_base_fee", 500)  # new bounds pull the fee in at once
            self.assertEqual(p.dimension_state("gpu").base_fee, 500)
            e = self.assertRefusedUnchanged([p], "EINVAL", p.param_set,
                                            "fees.gpu.min_base_fee", "501")
            self.assertIn("min_base_fee", e.detail)

    def test_state_hash_pinned(self):
        """The C test's fixed run, call for call: the same final state hash."""
        p = opg.Pricer(["a", {"name": "b", "controller": "exponential", "min_base_fee": 1,
                              "initial_base_fee": 1, "update_fraction": 3338477}],
                       classes={1: ["1.25", "3"]})
        s = 7
        for _ in range(500):
            for _ in range(50):
                s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
                try:
                    p.charge([(s >> 33) % 600000, (s >> 13) % 200000], 1, max_priority_fee=5)
                except OpgError as e:
                    self.assertEqual(e.name, "ELIMIT")
            p.end_block()
        st = p.dimension_state(1)
        self.assertEqual((st.base_fee, st.excess), (609481399, 67531110))
        self.assertEqual(p.base_fees()[0], 4971909273666775)
        self.assertEqual(p.state_hash().hex(),
                         "26bffa11ab322bea220e14ee2907d3464c74a77e5d636e19039402852413a5ac")
        p.close()

    def test_save_load_round_trip(self):
        with three_dims() as p:
            p.charge([100, 200, 300], 1)
            p.end_block()
            p.charge([5, 5, 5], 3)
            blob = p.save()
            with opg.Pricer.load(blob) as q:
                self.assertEqual(q.save(), blob)
                self.assertEqual(q.state_hash(), p.state_hash())
                self.assertEqual(q.param_keys(), p.param_keys())
                self.assertEqual(q.end_block(), p.end_block())
                self.assertEqual(q.state_hash(), p.state_hash())
            self.assertFails("ECORRUPT", opg.Pricer.load, blob[:10])
            self.assertFails("ECORRUPT", opg.Pricer.load, b"")

# ------------------------------------------------------------------ splitter

class World:
    """A registry with power_reduction 1 and a splitter, as the C splitter tests."""

    def __init__(self, tax="0", emission=opg.EmissionKind.NONE):
        self.reg = opg.Registry(genesis_supply=10**9, power_reduction=1)
        self.spl = opg.Splitter(self.reg, community_tax=tax, emission=emission)

    def close(self):
        self.reg.close()  # closes the splitter first


class TestSplitter(OpgTest):
    def test_single_delegator_half_commission(self):
        w = World(tax="0.02")
        add_node(w.reg, 1, rate="0.5", self_delegation=100)
        # pot 1000: A = trunc(1000 * 0.98) = 980; commission mul(980, 0.5) = 490,
        # delegators 490; the tax 20 goes to the community pool
        w.spl.add_fees(1000)
        w.spl.allocate([(key(1), 1)], 2, 10)
        nr = w.spl.node_rewards(op(1))
        self.assertEqual((nr.commission, nr.current, nr.outstanding), (D(490), D(490), D(980)))
        self.assertEqual(w.spl.pending_rewards(op(1), op(1), 3), D(490))
        self.assertEqual(w.spl.withdraw_rewards(op(1), op(1), 3, 15), 490)
        [ev] = w.reg.events()  # the payout is an event of the registry
        self.assertEqual((ev.kind, ev.account, ev.node, ev.amount),
                         (opg.EventKind.REWARDS_PAID, op(1), op(1), 490))
        self.assertEqual(w.spl.withdraw_commission(op(1)), 490)
        self.assertFails("EZERO", w.spl.withdraw_commission, op(1))
        t = w.spl.totals()
        self.assertEqual((t.community_pool, t.outstanding, t.fees, t.paid_delegators,
                          t.paid_commission), (D(20), D(0), D(1000), D(490), D(490)))
        self.assertEqual(w.reg.supply().community_pool, 20)
        w.spl.check()
        w.close()

    def test_two_nodes_tax_and_dust(self):
        w = World(tax="0.02")
        add_node(w.reg, 1)
        add_node(w.reg, 2)
        w.spl.add_fees(1000)
        w.spl.allocate([opg.CommitVote(key(1), 1, 1), {"consensus_key": key(2), "power": 2}],
                       2, 10)
        # A = 980; fractions 0.333333333333333333 and 0.666666666666666666 (truncated)
        self.assertEqual(w.spl.node_rewards(op(1)).outstanding, D("326.66666666666666634"))
        self.assertEqual(w.spl.node_rewards(op(2)).outstanding, D("653.33333333333333268"))
        self.assertEqual(w.spl.totals().community_pool, D("20.00000000000000098"))
        self.assertEqual(w.reg.supply().community_pool, 20)
        self.assertRefusedUnchanged([w.spl, w.reg], "EINVAL", w.spl.allocate,
                                    [(key(1), 1, "1.000000000000000001")], 3, 15)
        self.assertFails("ENOTFOUND", w.spl.allocate_to_node, op(9), 1)
        self.assertFails("ENOTFOUND", w.spl.node_rewards, op(9))
        w.spl.fund_community_pool(5)
        t = w.spl.totals()
        self.assertEqual((t.community_pool, t.fees), (D("25.00000000000000098"), D(1005)))
        w.spl.community_pool_spend(25)
        self.assertEqual(w.reg.supply().community_pool, 0)
        self.assertFails("EUNDERFLOW", w.spl.community_pool_spend, 1)
        w.spl.check()
        w.close()

    def test_rewards_across_half_slash(self):
        w = World()
        add_node(w.reg, 1)
        w.reg.end_block(1, 5)
        w.spl.add_fees(100)
        w.spl.allocate([(key(1), 100)], 2, 10)  # ratio 100/100 = 1
        self.assertEqual(w.reg.slash(op(1), 3, 100, "0.5", 3, 15).burned_node, 50)
        w.spl.add_fees(100)
        w.spl.allocate([(key(1), 50)], 4, 20)  # ratio 100/50 = 2
        # 100 * (1 - 0) before the slash, then 50 * (3 - 1) = 100
        self.assertEqual(w.spl.withdraw_rewards(op(1), op(1), 5, 25), 200)
        nr = w.spl.node_rewards(op(1))
        self.assertEqual((nr.outstanding, nr.slashes), (D(0), 1))
        w.close()

    def test_cosmos_mint(self):
        reg = opg.Registry(genesis_supply=10**27)
        spl = opg.Splitter(reg)
        # supply 10^27, nothing bonded: inflation 0.13 + quo(mul(1, 0.13), 6311520)
        # = 0.130000020597257079; minted trunc(0.130000020597257079 * 10^27 / 6311520)
        self.assertEqual(spl.mint(1, 5), 20597260342557272891)
        e = spl.emission()
        self.assertEqual((e.kind, e.inflation, e.paused),
                         (opg.EmissionKind.COSMOS_MINT, D("0.130000020597257079"), False))
        self.assertEqual(spl.mint(2, 10), 20597264030242928965)
        self.assertEqual(reg.supply().total_supply, 1000000041194524372800201856)
        self.assertFails("EFUTURE", spl.mint, 3, 9)
        self.assertFails("ESTATUS", spl.pause, 10)  # not a pool
        reg.close()
        self.assertTrue(spl.closed)

    def test_decay_pool(self):
        h = 4 * 365 * 24 * 3600
        self.assertEqual(opg.decay_remaining(1000000000000000000000000001, 0, h, h),
                         500000000000000000000000000)
        self.assertEqual(opg.decay_remaining(10**27 + 1, 0, h, 0), 10**27 + 1)
        self.assertEqual(opg.decay_remaining(10**27 + 1, 0, h, h * 600), 0)
        reg = opg.Registry(genesis_supply=10**27)
        spl = opg.Splitter(reg, emission="decay_pool", pool_amount=4 * 10**26, pool_start=1000,
                           half_life=2 * 365 * 24 * 3600)
        total = sum(spl.mint(i + 1, 1000 + 5 * (i + 1)) for i in range(100))
        self.assertEqual(total, 4 * 10**26 - opg.decay_remaining(4 * 10**26, 1000,
                                                                  2 * 365 * 24 * 3600, 1500))
        self.assertEqual(spl.emission().emitted_total, total)
        spl.pause(1500)
        self.assertTrue(spl.emission().paused)
        self.assertEqual(spl.mint(101, 2000), 0)
        spl.resume(2000)
        spl.check()
        reg.close()

    def test_params_by_key(self):
        w = World()
        self.assertIn("distribution.community_tax", w.spl.param_keys())
        self.assertEqual(w.spl.param_get("distribution.community_tax"), "0")
        w.spl.param_set("distribution.perf_share", D("0.5"))
        self.assertEqual(w.spl.param_get("distribution.perf_share"), "0.5")
        self.assertFails("EKEY", w.spl.param_set, "distribution.nope", "1")
        d = opg.Splitter.default_params()
        self.assertEqual((d.community_tax, d.goal_bonded, d.blocks_per_year, d.emission),
                         (D("0.02"), D("0.67"), 6311520, opg.EmissionKind.COSMOS_MINT))
        # every parameter given at creation reads back by key
        w.close()
        reg = opg.Registry()
        spl = opg.Splitter(reg, community_tax="0.03", inflation_max="0.25",
                           blocks_per_year=1234, emission="linear_pool", duration=777)
        self.assertEqual(spl.param_get("distribution.community_tax"), "0.03")
        self.assertEqual(spl.param_get("mint.inflation_max"), "0.25")
        self.assertEqual(spl.param_get("mint.blocks_per_year"), "1234")
        self.assertEqual(spl.param_get("emission.duration"), "777")
        self.assertEqual(spl.emission().kind, opg.EmissionKind.LINEAR_POOL)
        self.assertFails("EEXISTS", opg.Splitter, reg)  # one splitter per registry
        reg.close()

    def test_save_load_round_trip(self):
        w = World(tax="0.02")
        add_node(w.reg, 1, rate="0.1")
        add_node(w.reg, 2, rate="0.2", self_delegation=300)
        w.reg.end_block(1, 5)
        w.reg.delegate(op(60), op(1), 1000, 2, 10)
        w.spl.add_fees(12345)
        w.spl.allocate([(key(1), 1100, "0.9"), (key(2), 300)], 2, 10)
        w.spl.withdraw_rewards(op(60), op(1), 3, 15)
        rb, sb = w.reg.save(), w.spl.save()
        reg2 = opg.Registry.load(rb)
        spl2 = opg.Splitter.load(reg2, sb)
        self.assertIs(spl2.registry, reg2)
        self.assertEqual((reg2.save(), spl2.save()), (rb, sb))
        self.assertEqual(spl2.state_hash(), w.spl.state_hash())
        self.assertEqual(spl2.totals(), w.spl.totals())
        # both go on identically. A = mul_truncate(999, 0.98) = 979.02; node 1 gets
        # 979.02 * quo_truncate(1100, 1400) ~ 979.02 * 11/14 = 769.23, keeps 10 %
        # commission ~ 76.923; the delegator holds 1000 of 1100 tokens of the other
        # 692.307: ~ 629.37, paid in whole units: 629
        for s in (w.spl, spl2):
            s.add_fees(999)
            s.allocate([(key(1), 1100), (key(2), 300)], 4, 20)
            self.assertEqual(s.withdraw_rewards(op(60), op(1), 5, 25), 629)
        self.assertEqual(spl2.state_hash(), w.spl.state_hash())
        self.assertEqual(reg2.state_hash(), w.reg.state_hash())
        self.assertFails("ECORRUPT", opg.Splitter.load, opg.Registry(), sb[:-1])
        spl2.check()
        reg2.close()
        w.close()

# ------------------------------------------------------------------- slasher

# Ed25519 signing as RFC 8032 section 6 writes it (hashlib only), so the tests can
# sign votes without any package; checked against the RFC's first test vector.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _ed_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _ed_mul(s, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _ed_add(q, p)
        p = _ed_add(p, p)
        s >>= 1
    return q


def _ed_compress(p):
    zi = pow(p[2], _P - 2, _P)
    x, y = p[0] * zi % _P, p[1] * zi % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _ed_base():
    y = 4 * pow(5, _P - 2, _P) % _P
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if x & 1:
        x = _P - x
    return (x, y, 1, x * y % _P)


_G = _ed_base()


def _ed_expand(seed):
    import hashlib
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    return a, h[32:]


def ed25519_public(seed):
    return _ed_compress(_ed_mul(_ed_expand(seed)[0], _G))


def ed25519_sign(seed, msg):
    import hashlib

    def hq(b):
        return int.from_bytes(hashlib.sha512(b).digest(), "little") % _L
    a, prefix = _ed_expand(seed)
    pub = _ed_compress(_ed_mul(a, _G))
    r = hq(prefix + msg)
    big_r = _ed_compress(_ed_mul(r, _G))
    s = (r + hq(big_r + pub + msg) * a) % _L
    return big_r + s.to_bytes(32, "little")


CHAIN = "opg-test-1"
M = 10**6  # the default power reduction


def seed(k):
    return bytes([0x40 + k]) * 32  # the C test's seeds


def mk_vote(k, height, block, chain=CHAIN, vtype=opg.VoteType.PRECOMMIT, rnd=0):
    v = {"type": vtype, "height": height, "round": rnd, "block_id": bytes([block]) * 32,
         "signature": bytes(64)}
    v["signature"] = ed25519_sign(seed(k), opg.vote_sign_bytes(chain, v))
    return v


def mk_ds(k, height, t, power):
    """Key k precommits blocks 0xaa and 0xbb at height, round 0."""
    ev = opg.opg_double_sign_evidence.make(
        consensus_key=ed25519_public(seed(k)), vote_a=mk_vote(k, height, 0xaa),
        vote_b=mk_vote(k, height, 0xbb), infraction_time=t, validator_power=power)
    return ev.to_py()  # a DoubleSignEvidence record with Vote records


def mk_fault(n, node, height, t, cls, reporter):
    return {"evidence_id": Id.from_int(0xe000 + n), "node": op(node),
            "infraction_height": height, "infraction_time": t, "fault_class": cls,
            "reporter": op(reporter)}


def slasher_node(reg, n, k, roles, self_delegation, height, now):
    reg.node_create(height, now, operator_id=op(n), consensus_key=ed25519_public(seed(k)),
                    roles=roles, commission_rate=0, commission_max_rate="0.5",
                    commission_max_change_rate="0.1", min_self_delegation=1,
                    self_delegation=self_delegation)


class TestSlasher(OpgTest):
    def test_ed25519_helper_matches_rfc8032(self):
        sk = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        self.assertEqual(ed25519_public(sk).hex(),
                         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        self.assertEqual(ed25519_sign(sk, b"").hex(),
                         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")

    def test_params_defaults_and_keys(self):
        with opg.Registry() as reg:
            s = opg.Slasher(reg)
            self.assertEqual(s.param_items(), {
                "slashing.signed_blocks_window": "100",
                "slashing.min_signed_per_window": "0.5",
                "slashing.downtime_jail_duration": "600",
                "slashing.slash_fraction_double_sign": "0.05",
                "slashing.slash_fraction_downtime": "0.01",
                "evidence.max_age_num_blocks": "100000",
                "evidence.max_age_duration": "172800",
                "slashing.reporter_share": "0",
                "slashing.correlation_k": "0",
                "slashing.correlation_window": "86400",
                "slashing.defer_duration": "0"})
            self.assertEqual(s.max_missed(), 50)  # 100 - round(0.5 * 100)
            p = s.params()
            self.assertEqual((p.chain_id, p.signed_blocks_window, p.slash_fraction_double_sign,
                              p.max_age_duration), ("opg-1", 100, D("0.05"), 172800))
            self.assertRefusedUnchanged([s], "EINVAL", s.param_set,
                                        "slashing.signed_blocks_window", 0)
            self.assertFails("EKEY", s.param_set, "slashing.nope", 1)
            # round half to even: 10 * 0.25 = 2.5 -> 2, max_missed 8; 0.35 -> 3.5 -> 4
            s.param_set("slashing.signed_blocks_window", 10)
            s.param_set("slashing.min_signed_per_window", "0.25")
            self.assertEqual(s.max_missed(), 8)
            s.param_set("slashing.min_signed_per_window", "0.35")
            self.assertEqual(s.max_missed(), 6)
            s.close()
            self.assertFails("EINVAL", opg.Slasher, reg, chain_id="has space")
            self.assertRaises(ValueError, opg.Slasher, reg, chain_id="z" * 51)
            fcs = [{"id": 7, "slash_fraction": "0.1", "jail_duration": 10},
                   {"id": 7, "slash_fraction": "0.2", "jail_duration": 10}]
            self.assertFails("EINVAL", opg.Slasher, reg, fcs)  # duplicate id
            fcs[1]["id"], fcs[1]["tombstone"] = 8, True
            s = opg.Slasher(reg, fcs, chain_id=CHAIN)
            self.assertEqual(s.fault_classes(), [
                opg.FaultClass(id=7, slash_fraction=D("0.1"), jail_duration=10, tombstone=False),
                opg.FaultClass(id=8, slash_fraction=D("0.2"), jail_duration=10, tombstone=True)])
            self.assertEqual(s.params().chain_id, CHAIN)

    def test_downtime_threshold(self):
        """Window 10, min_signed_per_window 0.5: max_missed 5; the C test's numbers."""
        reg = opg.Registry()
        s = opg.Slasher(reg, signed_blocks_window=10, chain_id=CHAIN)
        slasher_node(reg, 1, 1, opg.Role.CONSENSUS, 100 * M, 1, 1000)
        self.assertFails("ENOTFOUND", s.signing_info, op(1))  # not bonded yet
        reg.end_block(1, 1000)
        self.assertEqual(s.signing_info(op(1)), opg.SigningInfo(1, 0, 0))
        k1 = ed25519_public(seed(1))
        # heights 2..6 signed, 7..11 missed: 5 misses = max_missed, no slash
        for h in range(2, 12):
            self.assertEqual(s.record_commit([(k1, 100, h <= 6)], h, 1000 + h), [])
        self.assertEqual(s.signing_info(op(1)).missed_blocks, 5)
        self.assertEqual((s.missed_bit(op(1), 4), s.missed_bit(op(1), 5)), (False, True))
        self.assertFails("EINVAL", s.missed_bit, op(1), 10)
        # height 12: index 0 (height 2, signed) becomes missed: 6 > 5 and 12 > 1 + 10
        [rec] = s.record_commit([opg.CommitSig(k1, 100, False)], 12, 1012)
        self.assertEqual((rec.reason, rec.node, rec.infraction_height, rec.power, rec.fraction),
                         (opg.SlashReason.DOWNTIME, op(1), 10, 100, D("0.01")))
        # to_slash = trunc(100 * 10^6 * 0.01) = 1,000,000, all from the node
        self.assertEqual((rec.slash.burned_total, rec.slash.burned_node, rec.burned,
                          rec.reporter_reward), (1000000, 1000000, 1000000, 0))
        self.assertEqual((rec.jailed, rec.jailed_until, rec.tombstoned), (True, 1612, False))
        kinds = [e.kind for e in reg.events()]
        self.assertEqual((kinds.count(opg.EventKind.BURNED),
                          kinds.count(opg.EventKind.NODE_JAILED)), (1, 1))
        n = reg.node(op(1))
        self.assertEqual((n.tokens, n.jailed, n.jailed_until), (99000000, True, 1612))
        self.assertEqual(s.signing_info(op(1)), opg.SigningInfo(1, 0, 0))  # reset
        self.assertFails("ENOTFOUND", s.record_commit, [(key(9), 1, True)], 13, 1013)
        s.check()
        reg.close()

    def ds_setup(self):
        """Node 1 (key 1) with 100e6 self-bond; delegators 500 and 501, 50e6 each,
        unbond at heights 3 and 4; bonded at height 1. As the C test's ds_setup."""
        reg = opg.Registry()
        s = opg.Slasher(reg, chain_id=CHAIN)
        slasher_node(reg, 1, 1, opg.Role.CONSENSUS, 100 * M, 1, 100)
        slasher_node(reg, 2, 2, opg.Role.CONSENSUS, 100 * M, 1, 100)
        reg.delegate(op(500), op(1), 50 * M, 1, 100)
        reg.delegate(op(501), op(1), 50 * M, 1, 100)
        reg.end_block(1, 100)
        reg.undelegate(op(500), op(1), 50 * M, 3, 130)
        reg.undelegate(op(501), op(1), 50 * M, 4, 140)
        reg.end_block(5, 150)  # the block time of height 5 in the registry's history
        return reg, s

    def test_double_sign_with_real_signatures(self):
        reg, s = self.ds_setup()
        ev = mk_ds(1, 5, 150, 200)
        opg.double_sign_verify(CHAIN, ev)
        self.assertFails("ESIGNATURE", opg.double_sign_verify, "other-chain", ev)
        rec = s.double_sign(ev, 10, 200)
        self.assertEqual((rec.reason, rec.infraction_height, rec.power, rec.fraction),
                         (opg.SlashReason.DOUBLE_SIGN, 4, 200, D("0.05")))
        # to_slash = trunc(200 * 10^6 * 0.05) = 10,000,000; the entry created at 4 >= 4
        # pays trunc(0.05 * 50,000,000) = 2,500,000; the node 7,500,000
        self.assertEqual((rec.slash.burned_unbonding, rec.slash.burned_node,
                          rec.slash.burned_total), (2500000, 7500000, 10000000))
        self.assertEqual((rec.jailed, rec.tombstoned, rec.jailed_until),
                         (True, True, opg.TIME_FOREVER))
        self.assertEqual(s.slashes(), [rec])
        self.assertEqual(reg.node(op(1)).tokens, 92500000)
        self.assertFails("ETOMBSTONED", reg.unjail, op(1), opg.TIME_FOREVER)
        self.assertRefusedUnchanged([reg, s], "ETOMBSTONED", s.double_sign, ev, 11, 210)
        s.check()
        reg.check()
        reg.close()

    def test_double_sign_refusals(self):
        reg, s = self.ds_setup()
        ev = mk_ds(1, 5, 150, 200)
        tampered = dataclasses.replace(ev, vote_b=dataclasses.replace(
            ev.vote_b, signature=bytes([ev.vote_b.signature[0] ^ 1]) + ev.vote_b.signature[1:]))
        self.assertRefusedUnchanged([reg, s], "ESIGNATURE", s.double_sign, tampered, 10, 200)
        same = dataclasses.replace(ev, vote_b=ev.vote_a)
        self.assertRefusedUnchanged([reg, s], "ENOCONFLICT", s.double_sign, same, 10, 200)
        self.assertRefusedUnchanged([reg, s], "EFUTURE", s.double_sign, ev, 4, 200)
        unknown = mk_ds(9, 5, 150, 200)
        self.assertRefusedUnchanged([reg, s], "ENOTFOUND", s.double_sign, unknown, 10, 200)
        self.assertEqual(reg.events(), [])
        reg.close()

    def test_vote_sign_bytes_and_evidence_codec(self):
        v = {"type": "precommit", "height": 0x0102030405060708, "round": 0x0a0b0c0d,
             "block_id": bytes(range(0xc0, 0xe0)), "signature": bytes(64)}
        b = opg.vote_sign_bytes("abc", v)
        # 11 tag + 1 + 3 chain + 1 type + 8 height + 4 round + 32 block = 60
        self.assertEqual(b, b"opg/vote/v1" + b"\x03abc" + b"\x02"
                         + bytes.fromhex("0102030405060708") + bytes.fromhex("0a0b0c0d")
                         + bytes(range(0xc0, 0xe0)))
        self.assertFails("EINVAL", opg.vote_sign_bytes, "", v)
        self.assertRaises(ValueError, opg.vote_sign_bytes, "abc", dict(v, block_id=b"short"))
        ev = mk_ds(1, 7, -5, 42)
        data = opg.evidence_encode(ev)
        self.assertEqual(len(data), 272)
        self.assertEqual(data[:6], b"OPGE\x01\x01")
        self.assertEqual(data[6:38], ev.consensus_key)
        self.assertEqual(data[38:46], (-5).to_bytes(8, "big", signed=True))
        back = opg.evidence_decode(data)
        self.assertEqual(back, ev)
        self.assertIsInstance(back.vote_a.type, opg.VoteType)
        self.assertFails("EEVIDENCE", opg.evidence_decode, data[:-1])
        f = opg.FaultEvidence(**mk_fault(1, 2, 300, 4000, 9, 77))
        data = opg.evidence_encode(f)
        self.assertEqual((len(data), data[:6], data[76:78]), (122, b"OPGE\x01\x02", b"\x01\x2c"))
        self.assertEqual(opg.evidence_decode(data), f)
        self.assertFails("EEVIDENCE", opg.evidence_encode, dict(mk_fault(1, 2, 0, 1, 9, 77)))

    def test_faulty_inference_with_reporter(self):
        reg = opg.Registry()
        s = opg.Slasher(reg, [{"id": 1, "slash_fraction": "0.1", "jail_duration": 3600},
                              {"id": 2, "slash_fraction": "0.5", "tombstone": True}],
                        chain_id=CHAIN, reporter_share="0.25", correlation_window=3600)
        inf = opg.Role.CONSENSUS | opg.Role.INFERENCE
        slasher_node(reg, 1, 1, inf, 100 * M, 1, 0)
        slasher_node(reg, 2, 2, inf, 300 * M, 1, 0)
        slasher_node(reg, 3, 3, opg.Role.CONSENSUS | opg.Role.VERIFICATION, 10 * M, 1, 0)
        reg.end_block(1, 0)
        reg.end_block(8, 800)  # the block time of height 8
        # the reporter must be a verification node other than the accused
        self.assertRefusedUnchanged([reg, s], "EREPORTER", s.fault,
                                    mk_fault(1, 1, 8, 800, 1, 1), 10, 1000)
        self.assertRefusedUnchanged([reg, s], "EREPORTER", s.fault,
                                    mk_fault(1, 1, 8, 800, 1, 900), 10, 1000)
        self.assertRefusedUnchanged([reg, s], "EEVIDENCE", s.fault,
                                    mk_fault(1, 1, 8, 1000, 1, 3), 10, 1000)
        rec = s.fault(mk_fault(1, 1, 8, 800, 1, 3), 10, 1000)
        # to_slash = trunc(100 * 10^6 * 0.1) = 10,000,000; reporter trunc(10^7 * 0.25)
        self.assertEqual((rec.reason, rec.fault_class, rec.fraction, rec.reporter),
                         (opg.SlashReason.FAULT, 1, D("0.1"), op(3)))
        self.assertEqual((rec.slash.burned_total, rec.reporter_reward, rec.burned),
                         (10000000, 2500000, 7500000))
        self.assertEqual((rec.jailed, rec.jailed_until), (True, 4600))
        [reward] = [e for e in reg.events() if e.kind == opg.EventKind.REPORTER_REWARD]
        self.assertEqual((reward.account, reward.node, reward.amount), (op(3), op(1), 2500000))
        self.assertEqual(reg.supply().burned, 7500000)
        self.assertTrue(s.evidence_seen(Id.from_int(0xe001)))
        self.assertEqual(s.evidence_seen_count(), 1)
        for name, ev in (("EDUPLICATE", mk_fault(1, 1, 8, 800, 1, 3)),
                         ("ECLASS", mk_fault(2, 1, 8, 800, 5, 3)),
                         ("EROLE", mk_fault(2, 3, 8, 800, 1, 3)),
                         ("EFUTURE", mk_fault(2, 2, 12, 800, 1, 3))):
            self.assertRefusedUnchanged([reg, s], name, s.fault, ev, 11, 1010)
        # through canonical bytes, the tombstone class
        rec = s.submit_evidence(opg.evidence_encode(mk_fault(4, 2, 9, 800, 2, 3)), 11, 1010)
        self.assertEqual((rec.fraction, rec.slash.burned_total, rec.reporter_reward,
                          rec.tombstoned), (D("0.5"), 150000000, 37500000, True))
        s.check()
        reg.close()

    def test_save_load_round_trip(self):
        reg = opg.Registry()
        s = opg.Slasher(reg, [{"id": 1, "slash_fraction": "0.1", "jail_duration": 3600}],
                        chain_id=CHAIN, signed_blocks_window=70)
        slasher_node(reg, 1, 1, opg.Role.ALL, 100 * M, 1, 0)
        slasher_node(reg, 3, 3, opg.Role.CONSENSUS | opg.Role.VERIFICATION, 10 * M, 1, 0)
        reg.end_block(1, 0)
        s.fault(mk_fault(1, 1, 1, 0, 1, 3), 2, 1000)
        k3 = ed25519_public(seed(3))
        for h in range(3, 40):
            s.record_commit([(k3, 10, h % 3 == 0)], h, 1000 + h)
        blob = s.save()
        s2 = opg.Slasher.load(reg, blob)
        self.assertEqual(s2.save(), blob)
        self.assertEqual(s2.state_hash(), s.state_hash())
        # heights 3..39: 37 blocks, 13 of them (multiples of 3) signed
        self.assertEqual(s2.signing_info(op(3)).missed_blocks, 24)
        self.assertEqual((s2.evidence_seen_count(), len(s2.fault_classes())), (1, 1))
        self.assertFails("ECORRUPT", opg.Slasher.load, reg, blob[:-1])
        s2.check()
        reg.close()
        self.assertTrue(s.closed and s2.closed)


# -------------------------------------------------------------- hyperstaking

class HyperWorld:
    """As the C test's world: power_reduction 1, unbonding 1000 s, a splitter without
    tax or emission, a slasher attached, a hyper handle."""

    def __init__(self, nodes=()):
        self.reg = opg.Registry(genesis_supply=10**12, power_reduction=1, unbonding_time=1000)
        self.spl = opg.Splitter(self.reg, community_tax=0, emission="none")
        self.sl = opg.Slasher(self.reg)
        self.h = opg.Hyper(self.reg, self.spl)
        for n, rate, self_delegation in nodes:
            self.reg.node_create(1, 10, operator_id=op(n), consensus_key=key(n),
                                 roles=opg.Role.ALL, commission_rate=rate,
                                 commission_max_rate="1", commission_max_change_rate="0.1",
                                 min_self_delegation=1, self_delegation=self_delegation)
        self.reg.end_block(1, 10)

    def held(self, position, node):
        try:
            return self.reg.delegation(position, op(node)).tokens
        except OpgError:
            return 0

    def close(self):
        self.reg.close()


def fixed(weights, cap="1", compound=False, threshold="0.1"):
    return {"kind": "fixed", "weights": weights, "cap": cap, "max_nodes": len(weights),
            "auto_compound": compound, "rebalance_threshold": threshold}


class TestHyper(OpgTest):
    def test_deposit_split_by_hand(self):
        w = HyperWorld([(1, "0", 100), (2, "0", 100), (3, "0", 100)])
        pos, owner = op(500), op(600)
        # weights 2, 1, 2 -> quo_truncate by the sum 5: 0.2, 0.4, 0.4 (node id order)
        w.h.position_create(pos, owner, 1, fixed({op(3): 2, op(1): 1, op(2): "2"}))
        self.assertEqual(w.h.targets(pos), [opg.HyperWeight(op(1), D("0.2")),
                                            opg.HyperWeight(op(2), D("0.4")),
                                            opg.HyperWeight(op(3), D("0.4"))])
        self.assertEqual([x.weight for x in w.h.position_weights(pos)], [D(1), D(2), D(2)])
        # deposit 7: 1, 2, 2 and the remainder 2 to the largest weight, node 2 (tie
        # with node 3 broken by the lower id)
        moves = w.h.deposit(pos, 7, 2, 20)
        self.assertEqual([(m.kind, m.position, m.owner, m.src, m.dst, m.amount) for m in moves],
                         [(opg.HyperMoveKind.DELEGATE, pos, owner, bytes(32), op(n), a)
                          for n, a in ((1, 1), (2, 4), (3, 2))])
        self.assertEqual([w.held(pos, n) for n in (1, 2, 3)], [1, 4, 2])
        info = w.h.position(pos)
        self.assertEqual((info.id, info.owner, info.kind, info.n_weights, info.deposited,
                          info.staked, info.n_delegations, info.auto_compound),
                         (pos, owner, opg.HyperPolicyKind.FIXED, 3, 7, 7, 3, False))
        self.assertEqual(w.h.positions(), [pos])
        self.assertRefusedUnchanged([w.reg, w.spl, w.h], "EEXISTS", w.h.position_create,
                                    pos, owner, 1, fixed({op(1): 1}))
        self.assertFails("ENOTFOUND", w.h.position_create, op(501), owner, 1, fixed({op(9): 1}))
        self.assertFails("ENOTFOUND", w.h.deposit, op(599), 5, 2, 20)
        w.close()

    def test_withdraw_split_and_maturity(self):
        w = HyperWorld([(1, "0", 100), (2, "0", 100), (3, "0", 100)])
        pos, owner = op(500), op(600)
        w.h.position_create(pos, owner, 1, fixed({op(1): 1, op(2): 1, op(3): 1}))
        w.h.deposit(pos, 1000, 2, 20)  # 334, 333, 333
        # withdraw 100: trunc(100 * 334 / 1000) = 33, 33, 33, remainder 1 to node 1
        self.assertEqual(w.h.withdraw(pos, 100, 3, 30), 100)
        m = w.h.moves()
        self.assertEqual([(x.kind, x.src, x.amount, x.completion) for x in m],
                         [(opg.HyperMoveKind.UNDELEGATE, op(1), 34, 1030),
                          (opg.HyperMoveKind.UNDELEGATE, op(2), 33, 1030),
                          (opg.HyperMoveKind.UNDELEGATE, op(3), 33, 1030)])
        self.assertEqual([w.held(pos, n) for n in (1, 2, 3)], [300, 300, 300])
        self.assertRefusedUnchanged([w.reg, w.h], "EUNDERFLOW", w.h.withdraw, pos, 901, 4, 40)
        self.assertFails("EZERO", w.h.withdraw, pos, 0, 4, 40)
        self.assertFails("ESTATUS", w.h.position_close, pos)
        w.h.withdraw(pos, 900, 4, 40)
        matured = sum(e.amount for e in w.reg.end_block(6, 2000)
                      if e.kind == opg.EventKind.UNBONDING_MATURED and e.account == pos)
        self.assertEqual(matured, 1000)  # paid to the position id: the host credits owner
        w.h.position_close(pos)
        self.assertEqual(w.h.positions(), [])
        w.close()

    def test_performance_targets_by_hand(self):
        # score_i = power * perf * (1 - rate); B and D out (rate above 0.2); E 1900,
        # A 900, F 640 (C fourth); cap 0.4 on E spreads its excess over A and F
        w = HyperWorld([(1, "0.10", 1000), (2, "0.50", 2000), (3, "0", 500),
                        (4, "0.30", 3000), (5, "0.05", 4000), (6, "0.20", 800)])
        pos = op(500)
        w.h.position_create(pos, op(600), 1, kind="performance", max_commission="0.2",
                            cap="0.4", max_nodes=3, rebalance_threshold="0.01")
        w.h.epoch(2, 20, {op(1): 1, op(2): 1, key(3): "0.5", op(4): 1, op(5): "0.5", op(6): 1})
        self.assertEqual([(x.node, x.weight) for x in w.h.targets(pos)],
                         [(op(1), D("0.350649350649350649")), (op(5), D("0.4")),
                          (op(6), D("0.249350649350649349"))])
        w.h.deposit(pos, 1000000, 3, 30)  # 350649, 400000 + the remainder 1, 249350
        self.assertEqual([w.held(pos, n) for n in (1, 3, 5, 6)], [350649, 0, 400001, 249350])
        self.assertFails("EINVAL", w.h.epoch, 4, 40, [(op(1), "1.5")])
        w.close()

    def test_auto_compound_and_payout(self):
        w = HyperWorld([(1, "0", 100), (2, "0", 100)])
        pos, plain, owner = op(500), op(501), op(600)
        w.h.position_create(pos, owner, 1, fixed([(op(1), 1), (op(2), 1)], compound=True))
        w.h.position_create(plain, owner, 1, fixed([(op(1), 1), (op(2), 1)]))
        w.h.deposit(pos, 1000, 2, 20)
        w.h.deposit(plain, 1000, 2, 20)
        # node 1: 1100 tokens, 1100 allocated: 500 to each position; node 2: 550: 250
        w.spl.allocate_to_node(op(1), 1100)
        w.spl.allocate_to_node(op(2), 550)
        moves = w.h.epoch(3, 30)
        self.assertEqual(sorted((m.kind, m.position, m.amount) for m in moves), [
            (opg.HyperMoveKind.COMPOUND, pos, 375), (opg.HyperMoveKind.COMPOUND, pos, 375),
            (opg.HyperMoveKind.PAYOUT, plain, 750)])
        [payout] = [m for m in moves if m.kind == opg.HyperMoveKind.PAYOUT]
        self.assertEqual(payout.dst, owner)
        self.assertEqual(w.h.events(), [])  # the positions' rewards are moves, not events
        self.assertEqual((w.h.position(pos).compounded, w.h.position(pos).staked), (750, 1750))
        self.assertEqual(w.h.position(plain).paid_out, 750)
        w.spl.check()
        w.close()

    def test_params_save_load_and_lifetime(self):
        w = HyperWorld([(1, "0", 100), (2, "0", 100)])
        self.assertEqual(w.h.param_items(), {"hyper.max_positions_per_owner": "100",
                                             "hyper.max_nodes": "32",
                                             "hyper.vault_decimals_offset": "6",
                                             "hyper.vault_node_cap": "1"})
        self.assertEqual(opg.Hyper.default_params(), opg.HyperParams(100, 32, Decimal(1), 6))
        w.h.param_set("hyper.max_positions_per_owner", 1)
        w.h.position_create(op(500), op(600), 1, fixed({op(1): 1, op(2): 3}))
        self.assertFails("ELIMIT", w.h.position_create, op(501), op(600), 1, fixed({op(1): 1}))
        w.h.deposit(op(500), 4000, 2, 20)
        blobs = (w.reg.save(), w.spl.save(), w.h.save())
        reg2 = opg.Registry.load(blobs[0])
        spl2 = opg.Splitter.load(reg2, blobs[1])
        h2 = opg.Hyper.load(reg2, spl2, blobs[2])
        self.assertEqual((reg2.save(), spl2.save(), h2.save()), blobs)
        self.assertEqual(h2.state_hash(), w.h.state_hash())
        self.assertEqual(h2.position(op(500)), w.h.position(op(500)))
        self.assertFails("ECORRUPT", opg.Hyper.load, reg2, spl2, blobs[2][:-1])
        spl2.close()  # closes the hyper handle on it first
        self.assertTrue(h2.closed)
        reg2.close()
        w.close()
        self.assertTrue(w.h.closed and w.sl.closed and w.spl.closed)


def vault_policy(nodes):
    return {"kind": "fixed", "weights": {op(n): 1 for n in nodes}, "cap": "1",
            "max_nodes": len(nodes), "auto_compound": True, "rebalance_threshold": "0.5"}


class TestHyperVault(OpgTest):
    def test_two_holders_rounding_and_claims(self):
        w = HyperWorld([(1, "0", 1000), (2, "0", 1000)])
        w.h.param_set("hyper.vault_decimals_offset", 0)
        v, alice, bob = op(500), op(601), op(602)
        w.h.vault_create(v, 1, vault_policy([1, 2]))
        self.assertEqual(w.h.vault_deposit(v, alice, 100, 2, 20), 100)
        # a donation by hand: A = 150, S = 100; S + 1 = 101, A + 1 = 151
        w.reg.delegate(v, op(1), 50, 2, 20)
        self.assertEqual(w.h.preview_deposit(v, 10, 2), 6)    # floor(10 * 101 / 151)
        self.assertEqual(w.h.preview_mint(v, 10, 2), 15)      # ceil(10 * 151 / 101)
        self.assertEqual(w.h.preview_withdraw(v, 10, 2), 7)   # ceil(10 * 101 / 151)
        self.assertEqual(w.h.preview_redeem(v, 10, 2), 14)    # floor(10 * 151 / 101)
        self.assertEqual(w.h.vault_deposit(v, bob, 10, 2, 20), 6)
        w.h.vault_transfer(v, alice, bob, 40)
        self.assertEqual(w.h.vault_balance(v, bob), (46, 0))
        self.assertEqual(w.h.vault_holders(v), [alice, bob])
        assets, cid = w.h.vault_redeem(v, bob, 46, 3, 30)
        self.assertEqual(cid, 1)
        info = w.h.vault(v, 3)
        self.assertEqual(info.queued, assets)
        self.assertEqual(info.total_shares, 60)
        self.assertEqual(w.h.end_block(4, 1029), [])
        moves = w.h.end_block(5, 1030)  # before the registry's end_block
        self.assertEqual([(m.kind, m.amount) for m in moves], [(opg.HyperMoveKind.MATURED, assets)])
        w.reg.end_block(5, 1030)
        self.assertEqual(w.h.vault_claim(v, bob), assets)
        self.assertEqual(w.h.moves()[0].kind, opg.HyperMoveKind.CLAIM)
        self.assertFails("EZERO", w.h.vault_deposit, v, bob, 1 if False else 0, 5, 1030)
        self.assertFails("ESTATUS", w.h.deposit, v, 10, 5, 1030)
        blobs = (w.reg.save(), w.spl.save(), w.h.save())
        reg2 = opg.Registry.load(blobs[0])
        spl2 = opg.Splitter.load(reg2, blobs[1])
        h2 = opg.Hyper.load(reg2, spl2, blobs[2])
        self.assertEqual(h2.save(), blobs[2])
        self.assertEqual(h2.vault(v, 5), w.h.vault(v, 5))
        reg2.close()
        w.close()

    def test_strategy_routes_and_guard(self):
        w = HyperWorld([(1, "0", 1000), (2, "0", 1000)])
        v, pos, owner = op(500), op(510), op(600)
        w.h.vault_create(v, 1, vault_policy([1]))
        w.h.position_create(pos, owner, 1, kind="host", weights={op(1): 1}, cap="1", max_nodes=2,
                            max_commission="1", auto_compound=False, rebalance_threshold="0")
        w.h.deposit(pos, 1000, 2, 20)
        w.h.set_routes(pos, [("position", v, "0.5"), ("community_pool", None, "0.25")])
        self.assertEqual([r.kind for r in w.h.routes(pos)],
                         [opg.HyperRouteKind.POSITION, opg.HyperRouteKind.COMMUNITY_POOL])
        self.assertFails("EINVAL", w.h.set_routes, pos, [("position", pos, "0.5")])
        answers = [{op(1): "0.5", op(2): "0.4"}, {op(1): "0.5", op(2): "0.5"}]
        w.h.set_strategy_fn(lambda position, height: answers.pop(0))
        moves = w.h.epoch(3, 30)
        self.assertEqual((moves[0].kind, moves[0].code), (opg.HyperMoveKind.STRATEGY, opg.EINVAL))
        self.assertEqual([t.node for t in w.h.targets(pos)], [op(1)])
        moves = w.h.epoch(4, 40)
        self.assertEqual((moves[0].kind, moves[0].code), (opg.HyperMoveKind.STRATEGY, 0))
        self.assertEqual(len(w.h.targets(pos)), 2)
        self.assertEqual([(r.vault, r.guard_held) for r in w.h.vault_reports()], [(v, 0)])
        w.h.param_set("hyper.vault_node_cap", "0.5")
        self.assertEqual(w.h.vault_deposit(v, op(601), 1000, 5, 50), 1000 * 10**6)
        self.assertFails("ELIMIT", w.h.vault_deposit, v, op(601), 1000, 5, 50)
        # at an epoch the guard holds compounding back instead, and reports it: the
        # vault's 1000 of node 1's 2500 tokens are at a cap of 0.4
        w.h.param_set("hyper.vault_node_cap", "0.4")
        w.spl.allocate_to_node(op(1), 1000)
        moves = w.h.epoch(6, 60)
        held = sum(m.amount for m in moves if m.kind == opg.HyperMoveKind.GUARD)
        self.assertGreater(held, 0)
        self.assertEqual([r.guard_held for r in w.h.vault_reports()], [held])
        w.close()


# --------------------------------------------------------------------- tally

T0, VP = 1000000, 172800  # a start time, the default voting period


def gov_registry(*nodes, delegations=()):
    """Nodes (n, self) and delegations (delegator, n, amount), bonded at height 2;
    the default power reduction 10^6 (the C tally tests' fixture)."""
    reg = opg.Registry(genesis_supply=10**30)
    for n, self_delegation in nodes:
        reg.node_create(1, T0, operator_id=op(n), consensus_key=cons_key(5000 + n),
                        roles=opg.Role.ALL, commission_rate=0, commission_max_rate=1,
                        commission_max_change_rate="0.01", min_self_delegation=1,
                        self_delegation=self_delegation)
    for d, n, amount in delegations:
        reg.delegate(op(d), op(n), amount, 1, T0)
    reg.end_block(2, T0)
    return reg


class HostParams:
    """A host module's parameters: a <= b, set atomically."""

    def __init__(self):
        self.values = {"host.a": 1, "host.b": 5}
        self.sets = 0

    def param_get(self, key):
        if key not in self.values:
            raise OpgError(opg.EKEY)
        return self.values[key]

    def param_set(self, key, value):
        if key not in self.values:
            raise OpgError(opg.EKEY)
        new = dict(self.values, **{key: int(value)})  # ValueError: refused (EINVAL)
        if new["host.a"] > new["host.b"]:
            raise OpgError(opg.EINVAL)
        self.values, self.sets = new, self.sets + 1


class TestTally(OpgTest):
    def test_no_votes_then_burned_quorum(self):
        reg = gov_registry((1, 100 * M))
        t = opg.Tally(reg)
        pid = t.submit(op(200), T0, title="a title", initial_deposit=10 * M)
        self.assertEqual(pid, 1)
        info = t.proposal(pid)
        self.assertEqual((info.status, info.kind, info.voting_start, info.voting_end,
                          info.title, info.total_deposit),
                         (opg.ProposalStatus.VOTING_PERIOD, opg.ProposalKind.TEXT, T0, T0 + VP,
                          "a title", 10 * M))
        self.assertEqual(t.end_block(10, T0 + VP - 1), [])  # one second early
        # total 0: below quorum, rejected, refunded
        [c] = t.end_block(11, T0 + VP)
        self.assertEqual((c.proposal_id, c.outcome, c.counts, c.refunded, c.burned),
                         (1, opg.TallyOutcome.REJECTED, opg.TallyCounts(0, 0, 0, 0), 10 * M, 0))
        self.assertEqual(c.refunds, [opg.Deposit(op(200), 10 * M)])
        self.assertEqual(t.proposals(), [])
        t.param_set("gov.burn_vote_quorum", True)
        pid = t.submit(op(200), T0 + VP, initial_deposit=10 * M)
        [c] = t.end_block(12, T0 + 2 * VP)
        self.assertEqual((c.outcome, c.refunds, c.burned), (opg.TallyOutcome.REJECTED, [], 10 * M))
        self.assertEqual(reg.supply().burned, 10 * M)
        reg.close()
        self.assertTrue(t.closed)

    def test_quorum_exactly_met_and_preview(self):
        # 334e6 of 1000e6 votes yes: quo = 0.334, exactly the quorum: passes
        reg = gov_registry((1, 334 * M), (2, 666 * M))
        t = opg.Tally(reg)
        pid = t.submit(op(200), T0, initial_deposit=10 * M)
        t.vote(pid, op(1), opg.VoteOption.YES)
        pv = t.preview(pid)
        self.assertEqual((pv.bonded_total, pv.total_power, pv.outcome, pv.burn),
                         (1000 * M, D(334 * M), opg.TallyOutcome.PASSED, False))
        [c] = t.end_block(10, T0 + VP)
        self.assertEqual((c.outcome, c.counts.yes, c.refunded),
                         (opg.TallyOutcome.PASSED, 334 * M, 10 * M))
        t.param_set("gov.quorum", "0.334000000000000001")  # one ulp higher: missed
        pid = t.submit(op(200), T0 + VP, initial_deposit=10 * M)
        t.vote(pid, op(1), "yes")
        [c] = t.end_block(11, T0 + 2 * VP)
        self.assertEqual(c.outcome, opg.TallyOutcome.REJECTED)
        reg.close()

    def test_veto_burns_deposits(self):
        # veto 335e6 of 1000e6: 0.335 > 0.334, rejected and burned (both deposits)
        reg = gov_registry((1, 335 * M), (2, 665 * M))
        t = opg.Tally(reg)
        pid = t.submit(op(200), T0, initial_deposit=10 * M)
        self.assertFalse(t.deposit(pid, op(201), 3, T0 + 5))  # voting already started
        self.assertEqual(t.deposits(pid), [opg.Deposit(op(200), 10 * M), opg.Deposit(op(201), 3)])
        t.vote(pid, op(1), opg.VoteOption.NO_WITH_VETO)
        t.vote(pid, op(2), 1)
        [c] = t.end_block(10, T0 + VP)
        self.assertEqual((c.outcome, c.counts.no_with_veto, c.burned, c.refunds),
                         (opg.TallyOutcome.REJECTED, 335 * M, 10 * M + 3, []))
        self.assertEqual(reg.supply().burned, 10 * M + 3)
        reg.close()

    def test_delegator_overrides_and_inherits(self):
        # A self 600e6 with delegators 100 (400e6) and 101 (200e6); B 800e6 silent.
        # A yes, 100 no: yes 600e6 + (1200e6 - 1000e6) inherited = 800e6, no 400e6
        reg = gov_registry((1, 600 * M), (2, 800 * M),
                           delegations=((100, 1, 400 * M), (101, 1, 200 * M)))
        t = opg.Tally(reg)
        pid = t.submit(op(200), T0, initial_deposit=10 * M)
        t.vote(pid, op(1), "yes")
        t.vote(pid, op(100), "no")
        self.assertEqual(t.preview(pid).total_power, D(1200 * M))
        [c] = t.end_block(10, T0 + VP)
        self.assertEqual((c.outcome, c.counts.yes, c.counts.no),
                         (opg.TallyOutcome.PASSED, 800 * M, 400 * M))
        reg.close()

    def test_conviction_voting(self):
        # A self 100e6 with delegators 100 and 101 (50e6 each); B 100e6 silent.
        # A plain (conviction 0: 0.1x, and its inherited 50e6 at 0.1x): yes 15e6;
        # 100 no with conviction 6: 300e6. Turnout 200e6 of 300e6 meets the quorum,
        # 15 / 315 does not pass. 100 is locked until voting_end + 32 * 7 days.
        reg = gov_registry((1, 100 * M), (2, 100 * M),
                           delegations=((100, 1, 50 * M), (101, 1, 50 * M)))
        t = opg.Tally(reg, conviction_voting=True)
        self.assertEqual((t.params().conviction_voting, t.params().vote_locking_period),
                         (True, 604800))
        pid = t.submit(op(200), T0, initial_deposit=10 * M)
        t.vote(pid, op(1), "yes")
        t.vote_conviction(pid, op(100), "no", 6, T0)
        end = T0 + VP + 32 * 604800
        self.assertEqual((t.lock(op(100)), t.lock(op(101)), t.lock_count()), (end, None, 1))
        pv = t.preview(pid)
        self.assertEqual((pv.counts.yes, pv.counts.no, pv.turnout), (15 * M, 300 * M, D(200 * M)))
        self.assertFails("ELOCKED", reg.undelegate, op(100), op(1), M, 3, T0 + 1)
        reg.redelegate(op(100), op(1), op(2), M, 3, T0 + 1)
        self.assertFails("EINVAL", t.vote_conviction, pid, op(100), "no", 7, T0)
        [c] = t.end_block(10, T0 + VP)
        self.assertEqual(c.outcome, opg.TallyOutcome.REJECTED)
        reg.undelegate(op(100), op(1), M, 4, end)
        t.end_block(11, end)
        self.assertEqual(t.lock_count(), 0)
        reg.close()

    def test_weighted_vote_rounding(self):
        reg = gov_registry((1, 2 * M), delegations=((100, 1, 1 * M),))
        reg.slash(op(1), 3, 3, "0.333332666666666667", 3, T0)
        n = reg.node(op(1))
        self.assertEqual((n.tokens, n.delegator_shares), (2000002, D(3 * M)))
        t = opg.Tally(reg)
        pid = t.submit(op(200), T0, initial_deposit=10 * M)
        t.vote(pid, op(100), {"no": "0.5", opg.VoteOption.YES: "0.5"})
        t.vote(pid, op(1), "yes")
        self.assertEqual(t.vote_get(pid, op(100)),
                         [opg.WeightedVote(opg.VoteOption.YES, D("0.5")),
                          opg.WeightedVote(opg.VoteOption.NO, D("0.5"))])
        pv = t.preview(pid)
        self.assertEqual(pv.results[opg.VoteOption.YES - 1], D("1666668.333333333333333333"))
        self.assertEqual(pv.results[opg.VoteOption.NO - 1], D("333333.666666666666666666"))
        self.assertEqual((pv.counts.yes, pv.counts.no, pv.total_power),
                         (1666668, 333333, D(2000002)))
        self.assertFails("EVOTE", t.vote, pid, op(100), [("yes", "0.5"), ("no", "0.4")])
        self.assertFails("ENOTFOUND", t.vote, 99, op(100), "yes")
        reg.close()

    def test_param_changes_all_or_nothing(self):
        reg = gov_registry((1, 1000 * M))
        t = opg.Tally(reg)
        pricer = opg.Pricer([{"name": "gpu", "initial_base_fee": 1000}])
        host = HostParams()
        t.attach_pricer(pricer)
        t.attach_params("host.", host)
        self.assertFails("EEXISTS", t.attach_params, "host.", host)
        self.assertFails("EINVAL", t.attach_params, "staking.", host)
        now = [T0]

        def pass_changes(changes):
            pid = t.submit(op(200), now[0], changes=changes, initial_deposit=10 * M)
            t.vote(pid, op(1), "yes")
            now[0] += VP
            [c] = t.end_block(10, now[0])
            return c
        ph = pricer.state_hash()
        # one invalid change among valid ones: nothing applies
        c = pass_changes([("staking.max_validators", 50), ("gov.quorum", "0.5"),
                          ("fees.gpu.min_base_fee", 5000), ("host.a", 3),
                          ("staking.max_entries", 1000)])
        self.assertEqual((c.outcome, c.failed_change, c.failed_code),
                         (opg.TallyOutcome.FAILED, 4, opg.EINVAL))
        self.assertEqual((reg.param_get("staking.max_validators"), t.param_get("gov.quorum")),
                         ("100", "0.334"))
        self.assertEqual((pricer.state_hash(), host.values["host.a"], host.sets), (ph, 1, 0))
        # a host change refused when applied: the earlier host change is set back
        c = pass_changes({"gov.quorum": "0.5", "host.b": 7, "host.a": 9})
        self.assertEqual((c.outcome, c.failed_change, c.failed_code),
                         (opg.TallyOutcome.FAILED, 2, opg.EINVAL))
        self.assertEqual((host.values, host.sets), ({"host.a": 1, "host.b": 5}, 2))
        # all valid: every handle changes
        pid_changes = {"staking.max_validators": 60, "gov.quorum": "0.5",
                       "fees.gpu.min_base_fee": 5000, "host.b": 8, "host.a": 7}
        c = pass_changes(pid_changes)
        self.assertEqual(c.outcome, opg.TallyOutcome.PASSED)
        self.assertEqual((reg.params().max_validators, t.params().quorum), (60, D("0.5")))
        self.assertEqual(pricer.dimension_state("gpu").base_fee, 5000)  # clamped up
        self.assertEqual(host.values, {"host.a": 7, "host.b": 8})
        # closing the pricer detaches it first: fees.* then fails with EKEY
        pricer.close()
        c = pass_changes({"fees.combine": "max"})
        self.assertEqual((c.outcome, c.failed_code), (opg.TallyOutcome.FAILED, opg.EKEY))
        t.attach_params("host.", None)
        c = pass_changes({"host.a": 2})
        self.assertEqual((c.outcome, c.failed_code), (opg.TallyOutcome.FAILED, opg.EKEY))
        reg.close()

    def test_engine_namespaces(self):
        reg = gov_registry((1, 1000 * M))
        t = opg.Tally(reg)
        spl, sl = opg.Splitter(reg), opg.Slasher(reg)
        t.attach_splitter(spl)
        t.attach_slasher(sl)
        pid = t.submit(op(200), T0, initial_deposit=10 * M,
                       changes={"distribution.community_tax": "0.1",
                                "slashing.signed_blocks_window": 200})
        self.assertEqual(t.proposal_changes(pid), [
            opg.ParamChange("distribution.community_tax", "0.1"),
            opg.ParamChange("slashing.signed_blocks_window", "200")])
        t.vote(pid, op(1), "yes")
        [c] = t.end_block(10, T0 + VP)
        self.assertEqual(c.outcome, opg.TallyOutcome.PASSED)
        self.assertEqual((spl.param_get("distribution.community_tax"), sl.max_missed()),
                         ("0.1", 100))
        reg.close()

    def test_payload_and_cancel(self):
        reg = gov_registry((1, 1000 * M))
        t = opg.Tally(reg)
        pid = t.submit(op(200), T0, payload=b"\1\0\2\0\3", summary="upgrade",
                       initial_deposit=10 * M)
        info = t.proposal(pid)
        self.assertEqual((info.kind, info.payload, info.summary, info.title),
                         (opg.ProposalKind.PAYLOAD, b"\1\0\2\0\3", "upgrade", ""))
        t.vote(pid, op(1), "yes")
        [c] = t.end_block(10, T0 + VP)
        self.assertEqual((c.outcome, c.payload), (opg.TallyOutcome.PASSED, b"\1\0\2\0\3"))
        # cancel: trunc(deposit * 0.5) burned, the rest refunded
        pid = t.submit(op(200), T0 + VP, initial_deposit=10 * M + 1)
        self.assertFails("EINVAL", t.cancel, pid, op(201), T0 + VP)  # not the proposer
        c = t.cancel(pid, op(200), T0 + VP + 1)
        self.assertEqual((c.outcome, c.burned, c.refunded),
                         (opg.TallyOutcome.CANCELLED, 5 * M, 5 * M + 1))
        self.assertFails("ENOTFOUND", t.proposal, pid)
        reg.close()

    def test_held_tokens_callback(self):
        # liquid_weight 0.5: account 300 (no stake) holds 1,000,001 liquid: power
        # mul_truncate(1000001, 0.5) = 500000.5; it votes yes, node A (1e6) no
        reg = gov_registry((1, 1 * M))
        t = opg.Tally(reg, liquid_weight="0.5")
        pid = t.submit(op(200), T0, initial_deposit=10 * M)
        t.vote(pid, op(300), "yes")
        t.vote(pid, op(1), "no")
        self.assertEqual(t.preview(pid).total_power, D(1 * M))  # no callback: 0 liquid

        def failing(account):
            raise KeyError(account)
        t.set_balance_fn(failing)
        h = t.state_hash()
        with self.assertRaises(OpgError) as cm:
            t.end_block(10, T0 + VP)
        self.assertIsInstance(cm.exception.__cause__, KeyError)  # the callback's own error
        self.assertEqual(t.state_hash(), h)
        t.set_balance_fn(lambda account: 1000001 if account == op(300) else 0)
        pv = t.preview(pid)
        self.assertEqual((pv.results[0], pv.total_power), (D("500000.5"), D("1500000.5")))
        [c] = t.end_block(11, T0 + VP)
        self.assertEqual((c.outcome, c.counts.yes, c.counts.no),
                         (opg.TallyOutcome.REJECTED, 500000, 1 * M))
        reg.close()

    def test_params_and_save_load(self):
        reg = gov_registry((1, 1000 * M))
        t = opg.Tally(reg, quorum="0.4")
        d = opg.Tally.default_params()
        self.assertEqual((d.min_deposit, d.quorum, d.threshold, d.veto_threshold,
                          d.burn_vote_veto, d.voting_period),
                         (10 * M, D("0.334"), D("0.5"), D("0.334"), True, VP))
        self.assertEqual(t.param_get("gov.quorum"), "0.4")
        self.assertIn("gov.min_deposit", t.param_keys())
        self.assertRefusedUnchanged([t], "EINVAL", t.param_set, "gov.expedited_threshold", "0.4")
        pid = t.submit(op(200), T0, initial_deposit=1, title="t")  # in the deposit period
        self.assertEqual(t.proposal(pid).status, opg.ProposalStatus.DEPOSIT_PERIOD)
        self.assertTrue(t.deposit(pid, op(201), 10 * M, T0 + 1))  # reaches the minimum
        t.vote(pid, op(1), "abstain")
        blob = t.save()
        t2 = opg.Tally.load(reg, blob)
        self.assertEqual((t2.save(), t2.state_hash()), (blob, t.state_hash()))
        self.assertEqual(t2.proposals(), t.proposals())
        self.assertEqual(t2.end_block(10, T0 + 1 + VP), t.end_block(10, T0 + 1 + VP))
        self.assertFails("ECORRUPT", opg.Tally.load, reg, blob[:-1])
        reg.close()
        self.assertTrue(t.closed and t2.closed)


# ------------------------------------------------------------------ lifetime

class TestRecords(OpgTest):
    """The state as records through the binding: change sets applied to a host's
    store rebuild every handle, proofs verify, the app root combines the roots."""

    def test_commit_store_rebuild_and_prove(self):
        w = World(tax="0.02")
        add_node(w.reg, 1, self_delegation=100)
        w.reg.end_block(1, 5)
        pricer = opg.Pricer(["gpu"], classes={1: [1], 5: ["0.5"]})
        slasher = opg.Slasher(w.reg)
        handles = [(1, w.reg),  # the tags: OPG_RECORDS_REGISTRY, _PRICER, _SPLITTER, _SLASHER
                   (2, pricer), (3, w.spl), (4, slasher)]
        store = {}

        def commit_all():
            roots = []
            for tag, h in handles:
                root, changes = h.commit()
                self.assertEqual([k for k, _ in changes], sorted(k for k, _ in changes))
                for k, v in changes:
                    self.assertEqual(k[0], tag)
                    if v is None:
                        store.pop(k, None)
                    else:
                        store[k] = v
                self.assertEqual(root, h.root())
                self.assertEqual(root, h.root_from_scratch())
                roots.append((tag, root))
            return roots

        roots = commit_all()
        self.assertEqual(sorted(store.items()), sorted(
            kv for _, h in handles for kv in h.records()))
        # a block: a delegation, fees, a charge; then nothing: an empty change set
        w.reg.delegate(op(7), op(1), 50, 2, 10)
        w.spl.add_fees(1000)
        w.spl.allocate([(key(1), 1)], 2, 10)
        pricer.charge([10], 1)
        pricer.end_block()
        slasher.record_commit([(key(1), 100, False)], 2, 10)
        w.reg.end_block(2, 10)
        roots = commit_all()
        for _, h in handles:
            self.assertEqual(h.commit()[1], [])
        header = opg.app_root(roots)
        self.assertEqual(len(header), 32)
        self.assertFails("EINVAL", opg.app_root, list(reversed(roots)))
        # rebuilt from the store, key range by key range, against the stored roots
        by_tag = lambda t: sorted((k, v) for k, v in store.items() if k[0] == t)
        reg2 = opg.Registry.load_records(by_tag(1), roots[0][1])
        pr2 = opg.Pricer.load_records(by_tag(2), roots[1][1])
        spl2 = opg.Splitter.load_records(reg2, by_tag(3), roots[2][1])
        sl2 = opg.Slasher.load_records(reg2, by_tag(4), roots[3][1])
        self.assertEqual((reg2.save(), pr2.save(), spl2.save(), sl2.save()),
                         (w.reg.save(), pricer.save(), w.spl.save(), slasher.save()))
        self.assertEqual(sl2.signing_info(op(1)).missed_blocks, 1)
        self.assertFails("ECORRUPT", opg.Pricer.load_records, by_tag(2), bytes(32))
        # a light client: the delegation is in the registry's root, another is not
        k = opg.Registry.key_delegation(op(7), op(1))
        proof = w.reg.prove(k)
        self.assertLessEqual(len(proof), opg.PROOF_MAX_BYTES)
        self.assertTrue(opg.proof_verify(roots[0][1], k, store[k], proof))
        self.assertFalse(opg.proof_verify(roots[0][1], k, store[k] + b"x", proof))
        self.assertFalse(opg.proof_verify(roots[0][1], k, None, proof))
        absent = opg.Registry.key_delegation(op(8), op(1))
        self.assertTrue(opg.proof_verify(roots[0][1], absent, None, w.reg.prove(absent)))
        self.assertEqual(len(opg.Registry.key_node(op(1))), 34)
        self.assertEqual(len(opg.Pricer.key_class(5)), 6)
        for h in (sl2, spl2, reg2, pr2, pricer):
            h.close()
        w.close()


class TestLifetime(OpgTest):
    def test_close_and_context_manager(self):
        with opg.Registry() as reg:
            self.assertFalse(reg.closed)
        self.assertTrue(reg.closed)
        reg.close()  # idempotent
        self.assertRaises(ValueError, reg.node_count)
        self.assertIn("closed", repr(reg))

    def test_registry_closes_its_engines_first(self):
        reg = opg.Registry()
        spl = opg.Splitter(reg)
        reg.close()
        self.assertTrue(spl.closed)
        self.assertRaises(ValueError, spl.totals)
        spl.close()

    def test_dropping_an_engine_detaches_it(self):
        reg = opg.Registry()
        spl = opg.Splitter(reg)
        del spl
        gc.collect()
        spl = opg.Splitter(reg)  # EEXISTS if the first were still attached
        spl.close()
        reg.close()

    def test_engine_keeps_its_registry_alive(self):
        spl = opg.Splitter(opg.Registry(genesis_supply=10**27))
        gc.collect()
        self.assertEqual(spl.mint(1, 5), 20597260342557272891)
        self.assertEqual(spl.registry.supply().minted, 20597260342557272891)

    def test_cycles_are_freed_in_a_safe_order(self):
        for _ in range(20):
            reg = opg.Registry()
            spl = opg.Splitter(reg)
            reg.cycle, spl.cycle = spl, reg
            del reg, spl
            gc.collect()  # any finalisation order: the splitter is freed first

class TestExample(OpgTest):
    def test_example_runs(self):
        import contextlib
        import io
        import example
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            example.main()
        text = out.getvalue()
        self.assertIn("validator 511a power 2000000", text)
        self.assertIn("refused as expected: ENOTFOUND", text)

# -------------------------------------------------------------------- runner

class _LineResult(unittest.TestResult):
    """Prints `ok   <name>` / `FAIL <name>` lines, the form test/run.sh counts."""

    def _name(self, test):
        return f"python:{type(test).__name__}.{test._testMethodName}"

    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"ok   {self._name(test)}", flush=True)

    def _fail(self, test, err):
        text = "".join(traceback.format_exception(*err))
        print("  " + text.rstrip().replace("\n", "\n  "))
        print(f"FAIL {self._name(test)}", flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print(f"skip {self._name(test)}: {reason}", flush=True)


def main():
    print(f"# python {sys.version.split()[0]}, libopg {opg.version()} from {opg.LIBRARY_PATH}")
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = _LineResult()
    suite.run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
