"""The GIL is released during work, and Ctrl-C interrupts it."""

import signal
import subprocess
import sys
import textwrap
import threading
import time

import tpc
from conftest import ROOT

PROGRAM = ROOT / "programs" / "transpose_minimal.tp"


def test_other_threads_run_during_a_simulation():
    program = tpc.compile(PROGRAM)
    busy_for = 0.6

    def simulate_repeatedly():
        # Repeat the simulation until `busy_for` seconds have passed, so the test does not
        # depend on how fast one simulation runs on this machine.
        started = time.monotonic()
        while time.monotonic() - started < busy_for:
            program.simulate(widths=[1024], seeds=24)

    worker = threading.Thread(target=simulate_repeatedly)
    ticks = 0
    worker.start()
    started = time.monotonic()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.002)
    elapsed = time.monotonic() - started
    # Holding the GIL, each simulation would stop this loop for its whole run (a tick or two
    # per simulation, a handful in all); released, the loop ticks throughout: at least 5% of
    # the ticks the elapsed time allows (sleeps overshoot on a loaded machine).
    assert elapsed >= busy_for
    assert ticks > 0.05 * elapsed / 0.002, (ticks, elapsed)


def test_ctrl_c_interrupts_a_long_simulation():
    script = textwrap.dedent(
        f"""
        import sys, time, tpc
        program = tpc.compile({str(PROGRAM)!r})
        print("ready", flush=True)
        started = time.monotonic()
        try:
            program.simulate(widths=[4096], seeds=400)
        except KeyboardInterrupt:
            print("interrupted after", time.monotonic() - started, flush=True)
            sys.exit(0)
        print("finished", flush=True)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    # 400 runs at n = 4096 take minutes; the interrupt returns within one poll (50 ms) plus
    # the time to deliver the signal.
    assert child.returncode == 0 and out.startswith("interrupted after"), out
