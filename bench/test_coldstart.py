"""Tests of the cold start harness's pure parts (no process, no emulator)."""

import stat
import sys
import tempfile
import unittest
from pathlib import Path

import coldstart

# A stand-in for a function binary: the runtime client's loop, in Python, against the harness.
FAKE_FUNCTION = """#!{python}
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(r)
    answer = json.dumps({{"echo": event, "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}})
    urllib.request.urlopen(urllib.request.Request(
        api + request_id + "/response", data=answer.encode(), method="POST")).read()
"""


class PercentileTest(unittest.TestCase):
    def test_p95_of_twenty_samples_is_the_nineteenth(self):
        samples = [float(i) for i in range(20, 0, -1)]
        self.assertEqual(coldstart.percentile(samples, 0.95), 19.0)

    def test_rank_is_not_pushed_up_by_float_error(self):
        # 100 * 0.07 is 7.000000000000001 in floats: the 7th sample, not the 8th.
        self.assertEqual(coldstart.percentile(list(range(1, 101)), 0.07), 7)

    def test_one_sample_is_every_percentile(self):
        self.assertEqual(coldstart.percentile([3.5], 0.95), 3.5)

    def test_summary_gives_min_median_p95(self):
        self.assertEqual(coldstart.summary([4.0, 1.0, 3.0, 2.0]),
                         {"min": 1.0, "median": 2.5, "p95": 4.0})

    def test_no_samples_is_an_error(self):
        with self.assertRaises(ValueError):
            coldstart.percentile([], 0.5)


class ElfTest(unittest.TestCase):
    @staticmethod
    def header(machine: int) -> bytes:
        return b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00" + machine.to_bytes(2, "little")

    def test_reads_both_lambda_architectures(self):
        self.assertEqual(coldstart.elf_architecture(self.header(0xB7)), "arm64")
        self.assertEqual(coldstart.elf_architecture(self.header(0x3E)), "x86_64")

    def test_other_files_are_named_as_such(self):
        self.assertEqual(coldstart.elf_architecture(b"#!/bin/sh\n" + bytes(10)), "not ELF")
        self.assertIn("unknown", coldstart.elf_architecture(self.header(0x28)))


class ProcStatusTest(unittest.TestCase):
    STATUS = "Name:\tanalyzer\nVmPeak:\t  30000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t   11000 kB\n"

    def test_reads_kib_figures(self):
        self.assertEqual(coldstart.proc_status_kib(self.STATUS, "VmHWM"), 12345)
        self.assertEqual(coldstart.proc_status_kib(self.STATUS, "VmRSS"), 11000)

    def test_a_missing_figure_or_process_is_none(self):
        self.assertIsNone(coldstart.proc_status_kib(self.STATUS, "VmSwap"))
        self.assertIsNone(coldstart.proc_status_kib("", "VmHWM"))


class EnvironmentTest(unittest.TestCase):
    AWS = {"endpoint": "http://127.0.0.1:5000", "region": "us-east-1",
           "access_key_id": "testing", "secret_access_key": "testing"}

    def test_has_what_lambda_and_the_configuration_require(self):
        env = coldstart.function_environment("analyzer", "127.0.0.1:9001", self.AWS)
        for name in ("AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME",
                     "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
                     "AWS_REGION", "FLEETOPT_ENVIRONMENT", "FLEETOPT_APPLICATION"):
            self.assertIn(name, env)
        self.assertEqual(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001")
        self.assertEqual(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:5000")
        self.assertNotIn("HOME", env)
        self.assertNotIn("RUST_LOG", env)

    def test_only_loopback_endpoints_are_accepted(self):
        self.assertTrue(coldstart.is_loopback_endpoint("http://127.0.0.1:5000"))
        self.assertTrue(coldstart.is_loopback_endpoint("http://localhost:5000"))
        self.assertTrue(coldstart.is_loopback_endpoint("http://[::1]:5000"))
        self.assertFalse(coldstart.is_loopback_endpoint("https://dynamodb.us-east-1.amazonaws.com"))
        self.assertFalse(coldstart.is_loopback_endpoint("http://10.0.0.1:5000"))
        self.assertFalse(coldstart.is_loopback_endpoint(""))


class RuntimeApiTest(unittest.TestCase):
    AWS = EnvironmentTest.AWS

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.binary = Path(self.dir.name) / "bootstrap"
        self.binary.write_text(FAKE_FUNCTION.format(python=sys.executable))
        self.binary.chmod(self.binary.stat().st_mode | stat.S_IXUSR)
        self.log = Path(self.dir.name) / "log"

    def tearDown(self):
        self.dir.cleanup()

    def test_cold_start_ends_at_the_first_poll(self):
        state = coldstart.launch(self.binary, "analyzer", self.AWS, None, self.log, 30)
        self.assertGreater(state.first_next_ns, state.spawned_ns)
        self.assertIsNone(state.outcome)
        self.assertIsNotNone(state.init_hwm_kib)

    def test_one_invocation_is_served_and_its_peak_read_at_the_next_poll(self):
        state = coldstart.launch(self.binary, "optimization-engine", self.AWS, {"sweep": True},
                                 self.log, 30)
        self.assertEqual(state.outcome, "response")
        self.assertEqual(coldstart.json.loads(state.outcome_body), {
            "echo": {"sweep": True}, "function": "bench-production-optimization-engine"})
        self.assertGreaterEqual(state.invocation_hwm_kib, state.init_hwm_kib)

    def test_a_process_that_never_polls_is_reported(self):
        self.binary.write_text("#!/bin/sh\nexit 3\n")
        with self.assertRaises(RuntimeError):
            coldstart.launch(self.binary, "analyzer", self.AWS, None, self.log, 30)


if __name__ == "__main__":
    unittest.main()
