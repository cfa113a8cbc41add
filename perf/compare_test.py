#!/usr/bin/env python3
"""Unit tests of perf/compare's pure logic: the run order (interleaved rounds or sequential),
the median per point over the rounds, failed rounds, the "not every station learned" flag,
the learning chunks and the tables. No DPDK, no root: python3 and its standard library.

    python3 perf/compare_test.py        (meson: suite 'perf', test 'compare')
"""

import importlib.machinery
import importlib.util
import os
import shutil
import types
import unittest


def load_compare():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare")
    loader = importlib.machinery.SourceFileLoader("perf_compare", path)
    spec = importlib.util.spec_from_loader("perf_compare", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


C = load_compare()


def run(mpps, learned=None, **kw):
    r = {"mpps": mpps, "loss": 0.0, "bound": "dut", "p99_us": 1.0, "gen_cpu_pct": 99.0}
    if learned is not None:
        r["learned"] = learned
    r.update(kw)
    return r


def make_args(**kw):
    a = dict(cases=["testpmd", "ovs", "vnet"], flows=[10, 1000], sessions=[1000], sizes=[64, 1518], repeat=3,
             sequential=False, gateway_load=None, nice=0, keep_logs=False, file_prefix="perf6test")
    a.update(kw)
    return types.SimpleNamespace(**a)


class ScheduleTest(unittest.TestCase):
    def points(self, case):
        return [10] if case == "testpmd" else [10, 1000]

    def test_interleaved_rounds_in_case_order(self):
        got = C.schedule(["testpmd", "ovs", "vnet"], self.points, 2)
        one_round = [("testpmd", 10), ("ovs", 10), ("ovs", 1000), ("vnet", 10), ("vnet", 1000)]
        want = [(r, c, f, 1) for r in range(2) for c, f in one_round]
        self.assertEqual(got, want)

    def test_sequential_keeps_repeats_together(self):
        got = C.schedule(["testpmd", "ovs"], self.points, 3, sequential=True)
        self.assertEqual(got, [(0, "testpmd", 10, 3), (0, "ovs", 10, 3), (0, "ovs", 1000, 3)])

    def test_one_repeat_is_the_same_either_way(self):
        self.assertEqual(C.schedule(["vnet"], self.points, 1), C.schedule(["vnet"], self.points, 1, True))

    def test_every_point_gets_repeat_runs(self):
        for seq in (False, True):
            counts = {}
            for _, c, f, n in C.schedule(["testpmd", "ovs", "vnet"], self.points, 4, seq):
                counts[(c, f)] = counts.get((c, f), 0) + n
            self.assertEqual(set(counts.values()), {4}, seq)


class AggregateTest(unittest.TestCase):
    def test_median_per_point_and_round_order(self):
        samples = {("ovs", 10, 64): [run(3.0, 20), run(1.0, 20), run(2.0, 20)],
                   ("ovs", 10, 1518): [run(0.5, 20), run(0.7, 20)]}
        res = C.aggregate(samples)
        self.assertEqual(res[("ovs", 10, 64)]["mpps"], 2.0)
        self.assertEqual(res[("ovs", 10, 64)]["runs"], [3.0, 1.0, 2.0])
        self.assertEqual(res[("ovs", 10, 1518)]["mpps"], 0.7)   # upper median of an even count
        self.assertFalse(res[("ovs", 10, 64)]["partial"])

    def test_median_run_keeps_its_own_details(self):
        samples = {("vnet", 10, 64): [run(1.0, 20, p99_us=5.0), run(2.0, 20, p99_us=7.0), run(3.0, 20, p99_us=9.0)]}
        self.assertEqual(C.aggregate(samples)[("vnet", 10, 64)]["p99_us"], 7.0)

    def test_failed_rounds_are_listed_not_counted(self):
        failed = {"failed": True, "mpps": None}
        samples = {("vnet", 10, 64): [run(1.0, 20), failed, run(5.0, 20)],
                   ("vnet", 1000, 64): [failed, failed]}
        res = C.aggregate(samples)
        self.assertEqual(res[("vnet", 10, 64)]["runs"], [1.0, C.FAILED, 5.0])
        self.assertEqual(res[("vnet", 10, 64)]["mpps"], 5.0)
        self.assertNotIn(("vnet", 1000, 64), res)

    def test_not_all_learned_is_flagged(self):
        samples = {("vnet", 1000000, 64): [run(1.0, 2000000), run(1.1, 1999990), run(1.2, 2000000)],
                   ("ovs", 1000000, 64): [run(0.3, 2000000), run(0.3, 2000000)],
                   ("ovs", 1000, 64): [run(0.3)],                    # MAC table not readable
                   ("vnet+gw", 10, 64): [run(1.0, 20 + 500)],        # DHCP clients on top of 2N
                   ("testpmd", 10, 64): [run(9.0)],
                   ("vnetnat", 1000, 64): [run(1.0, 900)]}           # sessions, not stations
        res = C.aggregate(samples)
        self.assertTrue(res[("vnet", 1000000, 64)]["partial"])
        self.assertEqual(res[("vnet", 1000000, 64)]["learned"], 1999990)
        self.assertEqual(res[("vnet", 1000000, 64)]["expected"], 2000000)
        self.assertFalse(res[("ovs", 1000000, 64)]["partial"])
        self.assertTrue(res[("ovs", 1000, 64)]["partial"])
        self.assertFalse(res[("vnet+gw", 10, 64)]["partial"])
        self.assertFalse(res[("testpmd", 10, 64)]["partial"])
        self.assertFalse(res[("vnetnat", 1000, 64)]["partial"])
        self.assertEqual(C.learned_cell(res[("vnet", 1000000, 64)]),
                         f"1999990 (2000000, 1999990, 2000000) of 2000000 {C.PARTIAL}")
        self.assertEqual(C.learned_cell(res[("ovs", 1000000, 64)]), "2000000")
        self.assertEqual(C.learned_cell(res[("testpmd", 10, 64)]), "—")

    def test_gateway_pairs_follow_the_rounds(self):
        failed = {"failed": True, "mpps": None}
        samples = {("vnet", 10, 64): [run(2.0, 20, pmd_cycles_per_frame=4.0), failed, run(1.0, 20, pmd_cycles_per_frame=3.0)],
                   ("vnet+gw", 10, 64): [run(1.0, 30, pmd_cycles_per_frame=2.0), failed, run(1.0, 30, pmd_cycles_per_frame=1.0)]}
        res = C.aggregate(samples)
        self.assertEqual(res[("vnet+gw", 10, 64)]["pair_ratios"], [0.5, None, 1.0])
        self.assertEqual(res[("vnet", 10, 64)]["eff_runs"], [4.0, 3.0])

    def test_pmd_window_in_details(self):
        threads = [{"tid": 7, "name": "rte-worker-1", "cpus": "1", "last_cpu": "1", "cpu_pct": 99.5}]
        samples = {("vnet", 10, 64): [run(2.0, 20, pmd_cycles_per_frame=201.0, pmd_busy_pct=74.4,
                                          pmd_capacity_mpps=10.45, pmd_frames_per_busy_loop=32.0, pmd_fc_hit_pct=94.54,
                                          pmd_fc_declined=12, pmd_fc_bypassed=0, threads=threads,
                                          port_stats={"ports": []})]}
        _, notes = C.details(C.aggregate(samples))
        text = "\n".join(notes)
        self.assertIn("busy TSC cycles per frame 201; at that cost its whole CPU forwards 10.45 Mpps; busy share of "
                      "its cycles (at least) 74 %; frames per busy iteration: 32.0", text)
        self.assertIn("flow cache (pmd-stats) across each generator process: hits per lookup 94.5 %; misses not "
                      "cached, every way of their set in use 12; frames received while it was bypassed 0", text)
        self.assertIn("vnetd threads busy during the median run: rte-worker-1 (tid 7) 99.5 % of a CPU", text)


class VnetdWindowTest(unittest.TestCase):
    """vnetd_window(): the change of pmd-stats across one generator run, with a fake vnetctl."""

    @staticmethod
    def pmd_stats(frames, busy, idle, lookups, hits, bypassed, declined=0):
        return {"pmds": [{"worker": 0, "frames": frames, "busy_loops": frames // 32, "busy_cycles": busy,
                          "idle_cycles": idle, "tsc_hz": 2_000_000_000,
                          "flow_cache": {"lookups": lookups, "hits": hits, "inserts": 5, "declined": declined,
                                         "invalidations": 1, "bypasses": 0, "bypassed_frames": bypassed}}]}

    def test_cycles_per_frame_and_flow_cache_across_the_run(self):
        replies = [self.pmd_stats(320, 64_000, 1_000, 300, 290, 0),
                   self.pmd_stats(320 + 32_000, 64_000 + 6_400_000, 1_000 + 1_600_000, 300 + 32_000,
                                  290 + 30_400, 64, 7)]

        def ctl(*cmd):
            self.assertEqual(cmd, ("--json", "pmd-stats"))
            return C.json.dumps(replies.pop(0))

        runner = C.Runner(make_args())
        self.addCleanup(shutil.rmtree, runner.work, True)
        r = runner.vnetd_window(os.getpid(), ctl, lambda: {"mpps": 1.0})
        self.assertEqual(r["pmd_cycles_per_frame"], 200.0)
        self.assertEqual(r["pmd_capacity_mpps"], 10.0)
        self.assertEqual(r["pmd_busy_pct"], 80.0)
        self.assertEqual(r["pmd_frames_per_busy_loop"], 32.0)
        self.assertEqual(r["pmd_fc_hit_pct"], 95.0)
        self.assertEqual(r["pmd_fc_declined"], 7)
        self.assertEqual(r["pmd_fc_bypassed"], 64)

    def test_no_lookups_no_hit_rate(self):
        replies = [self.pmd_stats(0, 0, 0, 0, 0, 0), self.pmd_stats(3200, 640_000, 0, 0, 0, 0)]
        runner = C.Runner(make_args())
        self.addCleanup(shutil.rmtree, runner.work, True)
        r = runner.vnetd_window(os.getpid(), lambda *cmd: C.json.dumps(replies.pop(0)), lambda: {"mpps": 1.0})
        self.assertIsNone(r["pmd_fc_hit_pct"])


class LearningTest(unittest.TestCase):
    def station(self, port, k):
        return C.MAC_BASE + (port << 24) + k

    def test_missing_by_chunk(self):
        flows = 250000
        macs = [self.station(p, k) for p in (0, 1) for k in range(flows)]
        self.assertEqual(C.missing_by_chunk(macs, flows), {})
        macs.remove(self.station(1, 150000))
        macs.remove(self.station(0, 249999))
        macs.remove(self.station(1, 5))
        macs.append(self.station(2, 5))                  # another port's MAC does not count
        macs.append(self.station(0, flows + 1))          # nor one beyond N
        self.assertEqual(C.missing_by_chunk(macs, flows), {0: 1, 100000: 1, 200000: 1})
        self.assertEqual(C.missing_by_chunk([], 150000), {0: 200000, 100000: 100000})

    def test_mac_text_round_trip(self):
        m = C.MAC_BASE + (1 << 24) + 123456
        self.assertEqual(C.mac_text(m), "02:00:01:01:e2:40")
        self.assertEqual(C.mac_int(C.mac_text(m)), m)
        self.assertEqual(C.mac_int("02:00:01:01:E2:40"), m)
        self.assertIsNone(C.mac_int("not-a-mac"))


class LearnRunner(C.Runner):
    """learn_stations() against a fake switch: each learning run teaches the chunk it announces,
    except the stations in `forget` (the first time), in `never`, and beyond the table's `capacity`."""

    def __init__(self, args, capacity=None, forget=(), never=()):
        super().__init__(args)
        shutil.rmtree(self.work, ignore_errors=True)
        self.table, self.capacity, self.forget, self.never, self.runs = set(), capacity, set(forget), set(never), []

    def pktgen(self, tag, socks, server, size, flows, prime=False, gen_args=None, label="", duration=None):
        n = int(gen_args[gen_args.index("--flows") + 1])
        first = C.mac_int(gen_args[gen_args.index("--mac-base") + 1]) - C.MAC_BASE
        self.runs.append(first)
        for p in (0, 1):
            for k in range(first, first + n):
                m = C.MAC_BASE + (p << 24) + k
                if m in self.forget:            # lost the first time it is announced
                    self.forget.discard(m)
                    continue
                if m not in self.never and (self.capacity is None or len(self.table) < self.capacity):
                    self.table.add(m)
        return run(1.0)

    def learned(self):
        return list(self.table)


class LearnStationsTest(unittest.TestCase):
    def setUp(self):
        self.log = C.log
        C.log = lambda msg: None

    def tearDown(self):
        C.log = self.log

    def learn(self, runner, flows, mac_table_max=None):
        note = {}
        runner.learn_stations("vnet", [], False, flows, runner.learned, note, mac_table_max)
        return note

    def test_small_counts_need_no_learning_runs(self):
        r = LearnRunner(make_args(learn_rate=0.25, learn_timeout=600))
        self.assertEqual(self.learn(r, C.LEARN_CHUNK), {})
        self.assertEqual(r.runs, [])

    def test_missing_chunks_are_announced_again(self):
        lost = C.MAC_BASE + (1 << 24) + 150000
        r = LearnRunner(make_args(learn_rate=0.25, learn_timeout=600), forget=[lost])
        note = self.learn(r, 250000)
        self.assertEqual(r.runs, [0, 100000, 200000, 100000])
        self.assertEqual(note["learn_passes"], 2)
        self.assertEqual(note["learned_after_learning"], 500000)
        self.assertNotIn("learn_error", note)

    def test_a_full_table_stops_learning(self):
        r = LearnRunner(make_args(learn_rate=0.25, learn_timeout=600), capacity=300000)
        note = self.learn(r, 250000, mac_table_max=300000)
        self.assertEqual(note["learn_passes"], 1)
        self.assertEqual(note["learned_after_learning"], 300000)
        self.assertIn("full", note["learn_error"])

    def test_no_progress_stops_learning(self):
        never = C.MAC_BASE + 5
        r = LearnRunner(make_args(learn_rate=0.25, learn_timeout=600), never=[never])
        note = self.learn(r, 200000)
        self.assertEqual(note["learn_passes"], 2)
        self.assertEqual(note["learned_after_learning"], 399999)
        self.assertIn("no more", note["learn_error"])


class TableTest(unittest.TestCase):
    def test_partial_points_are_flagged_and_ratios_per_flow_count(self):
        args = make_args(flows=[10, 1000000], sizes=[64])
        samples = {("testpmd", 10, 64): [run(8.0)],
                   ("ovs", 10, 64): [run(2.0, 20)], ("ovs", 1000000, 64): [run(0.5, 2000000)],
                   ("vnet", 10, 64): [run(4.0, 20)], ("vnet", 1000000, 64): [run(3.0, 1500000)]}
        out = C.table(args, C.aggregate(samples))
        main, ratios = out[0], out[1]
        self.assertIn(f"| vnetd L2 | 1000000 | 3.000 {C.PARTIAL} |", main)
        self.assertIn("| OVS-DPDK NORMAL | 1000000 | 0.500 |", main)
        self.assertIn(C.PARTIAL_NOTE, main)
        self.assertIn(f"| vnet 1000000/10 flows | — | 0.75 {C.PARTIAL} |", ratios)
        self.assertIn("| ovs 1000000/10 flows | — | 0.25 |", ratios)
        self.assertIn(f"| vnet/OVS | 1000000 | 6.00 {C.PARTIAL} |", ratios)

    def test_no_note_when_all_learned(self):
        args = make_args(cases=["vnet"], flows=[10, 100, 1000], sizes=[64])
        samples = {("vnet", f, 64): [run(1.0, 2 * f)] for f in (10, 100, 1000)}
        main, ratios = C.table(args, C.aggregate(samples))
        self.assertNotIn(C.PARTIAL, main + ratios)
        self.assertIn("| vnet 100/10 flows | — | 1.00 |", ratios)
        self.assertIn("| vnet 1000/10 flows | — | 1.00 |", ratios)

    def test_busy_cycles_per_frame_against_testpmd(self):
        # testpmd's (--record-core-cycles, from its exit log) over vnetd's PMD cycles per frame, by
        # the medians of the runs; NAT likewise; a case without cycles has no figure.
        log = ("  +++ Accumulated forward statistics for all ports +++\n"
               "  CPU cycles/packet=201.50 (total cycles=1 / total io packets=1) at 2100 MHz Clock\n"
               "  CPU cycles/packet=189.02 (total cycles=11774249004 / total io packets=62291672) at 2100 MHz Clock\n")
        self.assertEqual(C.testpmd_cycles_per_frame(log), 189.02)
        self.assertIsNone(C.testpmd_cycles_per_frame("Bye...\n"))
        args = make_args(cases=["testpmd", "vnet", "vnetnat"], flows=[10, 1000], sessions=[1000], sizes=[64])
        samples = {("testpmd", 10, 64): [run(8.0, tp_cycles_per_frame=180.0), run(9.0, tp_cycles_per_frame=200.0)],
                   ("vnet", 10, 64): [run(7.0, 20, pmd_cycles_per_frame=250.0), run(7.5, 20, pmd_cycles_per_frame=240.0)],
                   ("vnet", 1000, 64): [run(7.0, 2000)],
                   ("vnetnat", 1000, 64): [run(5.0, pmd_cycles_per_frame=400.0)]}
        results = C.aggregate(samples)
        ratios = C.table(args, results)[1]
        self.assertIn("| testpmd/vnet busy cycles per frame | 10 | 0.80 |", ratios)  # 200 / 250
        self.assertIn("| testpmd/vnet busy cycles per frame | 1000 | — |", ratios)
        self.assertIn("| testpmd/vnet-NAT busy cycles per frame | 1000 | 0.50 |", ratios)
        _, lines = C.details(results)
        self.assertIn("- testpmd io 10, 64 B: busy TSC cycles per frame of its forwarding lcore "
                      "(--record-core-cycles: polls that received frames; each testpmd process whole, its "
                      "priming and every size included) 180, 200", lines)

    def test_details_list_failed_runs(self):
        samples = {("ovs", 10, 64): [run(1.0, 20), {"failed": True, "mpps": None}, run(2.0, 20)]}
        det, _ = C.details(C.aggregate(samples))
        self.assertIn("| OVS-DPDK NORMAL | 10 | 64 | 2.000 (1.000, failed, 2.000) |", det)


class FakeRunner(C.Runner):
    """Records a run per size instead of starting processes; OVS fails in the rounds listed."""

    def __init__(self, args, ovs_fails_in=()):
        super().__init__(args)
        shutil.rmtree(self.work, ignore_errors=True)
        self.ovs_fails_in = ovs_fails_in
        self.calls = []

    def fake(self, case, flows, fail=False):
        self.calls.append((self.round, case, flows))
        for size in self.args.sizes:
            if fail and size == self.args.sizes[-1]:
                raise C.Failure("ovs-vswitchd: not ready")   # after the first size was recorded
            self.record(case, flows, size, [run(1.0 + self.round, 2 * flows) for _ in range(self.runs_per_point)])

    def run_testpmd(self, flows):
        self.fake("testpmd", flows)

    def run_ovs(self, flows, nat=False):
        self.fake("ovs", flows, fail=self.round in self.ovs_fails_in)

    def run_vnet(self, flows):
        self.fake("vnet", flows)

    def stop_all(self):
        pass


class RunAllTest(unittest.TestCase):
    def setUp(self):
        self.log = C.log
        C.log = lambda msg: None

    def tearDown(self):
        C.log = self.log

    def test_a_failing_case_does_not_stop_the_others(self):
        args = make_args()
        runner, failures = FakeRunner(args, ovs_fails_in=(1,)), {}
        C.run_all(args, runner, failures)
        self.assertEqual(len(runner.calls), 3 * 5)              # every item of every round ran
        self.assertEqual([c[0] for c in runner.calls], [0] * 5 + [1] * 5 + [2] * 5)
        self.assertEqual(sorted(failures), [("ovs", 10), ("ovs", 1000)])
        self.assertEqual([r for r, _ in failures[("ovs", 10)]], [1])
        res = C.aggregate(runner.samples)
        self.assertEqual(res[("ovs", 10, 64)]["runs"], [1.0, 2.0, 3.0])         # recorded before the failure
        self.assertEqual(res[("ovs", 10, 1518)]["runs"], [1.0, C.FAILED, 3.0])
        self.assertEqual(res[("ovs", 10, 1518)]["mpps"], 3.0)
        self.assertEqual(res[("vnet", 1000, 1518)]["runs"], [1.0, 2.0, 3.0])
        self.assertEqual(res[("vnet", 1000, 1518)]["mpps"], 2.0)

    def test_sequential_runs_repeat_per_item(self):
        args = make_args(sequential=True)
        runner, failures = FakeRunner(args, ovs_fails_in=(0,)), {}
        C.run_all(args, runner, failures)
        self.assertEqual(runner.calls, [(0, "testpmd", 10), (0, "ovs", 10), (0, "ovs", 1000),
                                        (0, "vnet", 10), (0, "vnet", 1000)])
        self.assertEqual(len(runner.samples[("vnet", 10, 64)]), 3)
        self.assertEqual([r.get("failed") for r in runner.samples[("ovs", 10, 1518)]], [True] * 3)
        self.assertNotIn(("ovs", 10, 1518), C.aggregate(runner.samples))
        self.assertEqual(C.aggregate(runner.samples)[("ovs", 10, 64)]["runs"], [1.0] * 3)


if __name__ == "__main__":
    unittest.main()
