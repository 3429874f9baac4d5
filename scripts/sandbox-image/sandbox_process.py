# Running one command for the exec agent (sandbox_agent.py): its output read until EOF, its end seen at once through a
# pidfd, its process group killed at the deadline, and processes that keep the output open after it ended stopped.
import os
import select
import signal
import time

stop_grace_s = 1.0
poll_s = 0.05


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def exit_code(returncode):
    return 128 - returncode if returncode < 0 else returncode


def exit_watch(proc):
    """A descriptor that becomes readable when the process ends (a pidfd), so its end is seen at once; None where the
    kernel has none (the loop below then polls)."""
    try:
        return os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return None


def wait_readable(fds, wait):
    return select.select(fds, [], [], max(0.0, wait))[0] if fds else []


def pump(proc, fd, deadline, on_chunk):
    """Reads the output until EOF. Kills the group at the deadline; stops processes that keep the output open after
    the command ended (and cuts off ones that left the group). Returns (timed_out, stopped)."""
    timed_out = stopped = False
    exited_at = stopped_at = None
    pidfd = exit_watch(proc)
    try:
        while True:
            now = time.monotonic()
            if not timed_out and exited_at is None and now >= deadline:
                kill_group(proc.pid)
                timed_out = True
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and stopped_at is None and now - exited_at >= stop_grace_s:
                kill_group(proc.pid)
                stopped, stopped_at = True, now
            elif stopped_at is not None and now - stopped_at >= stop_grace_s:
                break
            if exited_at is not None:
                wait = (stopped_at or exited_at) + stop_grace_s - now
            elif pidfd is not None:
                wait = deadline - now if not timed_out else poll_s
            else:
                wait = min(poll_s, deadline - now) if not timed_out else poll_s
            watched = [fd] + ([pidfd] if pidfd is not None and exited_at is None else [])
            if fd in wait_readable(watched, wait):
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                on_chunk(chunk)
        # The output is closed; the command may still run (it closed its stdout), until the deadline.
        while proc.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill_group(proc.pid)
                timed_out = True
                proc.wait()
                break
            wait_readable([pidfd] if pidfd is not None else [], min(remaining, poll_s) if pidfd is None else remaining)
            if pidfd is None:
                time.sleep(min(remaining, 0.001))
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return timed_out, stopped
