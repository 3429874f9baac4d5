# The sandbox's exec agent (entry point: sandbox-agent beside it; a command's process: sandbox_process.py): runs
# commands for the sandbox worker, which connects to agent.sock in the folder given as the first argument (a
# per-container host folder bind-mounted at /run/sandbox-agent; no TCP port, so other sandboxes cannot reach it).
# Started by the container's command as uid 1000, with the container's capabilities (none); the worker falls back to
# `docker exec` whenever this agent does not answer.
# Client: activities/sandbox/agent-client.ts.
#
# Python, from the image (no build step, no network): a request's cost is dominated by the fork/exec of `bash -lc`,
# which a compiled agent would pay as well. Standard library only.
#
# Protocol, one connection per request, newline-delimited JSON: the agent says {"hello":1}; the worker sends one
# request; the agent answers with zero or more {"o": base64} output frames and one final frame ({"done": …},
# {"absent": true}, {"interrupted": true} or {"error": "…"}). A worker that gives up before the hello closes the
# connection, and the request is then never read, so it runs in at most one place (here or through docker exec).
#
# op "exec": a bash command, at most once per id, with the same marker folders as the docker exec wrapper
# (activities/sandbox/exec.ts): claim <root>/<id> by renaming a private folder holding our pid onto it; the winner runs
# the command in its own session (so a timeout kills the whole tree), keeps the head and tail of its output, and
# records `head`, `tail` and `status` (written by rename); a loser waits for `status` or reports the run interrupted.
# op "run": one process (argv), stdout and stderr apart, each capped; for the tools' small helper commands.
import binascii
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time

from sandbox_process import exit_code, poll_s, pump

# Exec ids this process is running (a count per id): a claim holding our pid but absent here was interrupted.
claims = {}
claims_lock = threading.Lock()
# Commands are the memory cgroup's first choice when it runs out (a fork bomb, a memory hog): were the agent, the
# largest process, killed instead, nothing would stop them at their timeout. Raising it needs no privilege.
oom_first = '{ echo 1000 > /proc/self/oom_score_adj; } 2>/dev/null\n'


def remove_folder(folder):
    """A marker folder holds plain files only (shutil and tempfile would cost the agent's start-up more than this)."""
    try:
        for entry in os.scandir(folder):
            os.unlink(entry.path)
        os.rmdir(folder)
    except OSError:
        pass


def count_claim(ident, delta):
    with claims_lock:
        claims[ident] = claims.get(ident, 0) + delta
        if claims[ident] <= 0:
            del claims[ident]


def send(conn, frame):
    try:
        conn.sendall((json.dumps(frame, separators=(',', ':')) + '\n').encode())
        return True
    except OSError:
        return False  # the worker went away; an exec's result is still recorded for its retry


def b64(data):
    return binascii.b2a_base64(data, newline=False).decode('ascii')


def login_environment(early=None):
    """The environment a login shell sets up (/etc/profile, ~/.profile), computed once: both live on the read-only
    root filesystem, so every `bash -lc` would compute the same, at the price of a second bash and an `id -u`.
    `early` is that shell as the entry point started it before this module loaded (its pid and the read end of its
    stdout), so it ran while the modules loaded instead of beside a new container's first command."""
    try:
        if early is None:
            listing = subprocess.run(['bash', '-lc', 'env -0'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd='/', timeout=10, check=True).stdout
        else:
            pid, fd = early
            with open(fd, 'rb') as stream:
                listing = stream.read()
            if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
                return dict(os.environ)
    except (OSError, subprocess.SubprocessError):
        return dict(os.environ)
    pairs = (entry.split(b'=', 1) for entry in listing.split(b'\0') if b'=' in entry)
    env = {key.decode(errors='replace'): value.decode(errors='replace') for key, value in pairs}
    for own in ('_', 'PWD', 'OLDPWD', 'SHLVL'):
        env.pop(own, None)
    return env


base_env = dict(os.environ)
# Computed in the background (so a new container's first command need not wait for it); until then commands run as
# `bash -lc`, which is the same.
shell_env = None


def environment(request, login=False):
    env = dict(shell_env if login and shell_env is not None else base_env)
    env.update(request.get('env') or {})
    return env


def shell_argv(command):
    return ['bash', '-lc', command] if shell_env is None else ['bash', '-c', command]


class Capped:
    """The first head_max bytes, streamed as they come, and the last tail_max + 1 bytes after them (the extra byte
    proves that output was dropped in between)."""

    def __init__(self, conn, head_max, tail_max):
        self.conn, self.head_max, self.tail_keep = conn, head_max, tail_max + 1
        self.head, self.tail = bytearray(), bytearray()

    def push(self, chunk):
        room = self.head_max - len(self.head)
        if room > 0:
            part = chunk[:room]
            self.head += part
            send(self.conn, {'o': b64(part)})
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.tail_keep:
                del self.tail[: len(self.tail) - self.tail_keep]


def write_file(path, data):
    with open(path, 'wb') as handle:
        handle.write(data)


def run_claimed(conn, folder, request):
    capped = Capped(conn, request['headBytes'], request['tailBytes'])
    stdin_path = os.path.join(folder, 'stdin')
    if request.get('stdin'):
        write_file(stdin_path, binascii.a2b_base64(request['stdin']))
    deadline = time.monotonic() + request['timeoutMs'] / 1000
    try:
        with open(stdin_path if request.get('stdin') else os.devnull, 'rb') as stdin:
            # `bash -c` in the login shell's environment: what `bash -lc` runs, without its second process.
            proc = subprocess.Popen(shell_argv(oom_first + request['command']), stdin=stdin, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, cwd='/', env=environment(request, login=True),
                                    start_new_session=True)
    except OSError as error:
        capped.push(f'could not start the command: {error}\n'.encode())
        code, timed_out, stopped = 126, False, False
    else:
        with proc.stdout:
            timed_out, stopped = pump(proc, proc.stdout.fileno(), deadline, capped.push)
        code = exit_code(proc.returncode)
    tail_max = request['tailBytes']
    truncated = len(capped.tail) > tail_max
    write_file(os.path.join(folder, 'head'), capped.head)
    write_file(os.path.join(folder, 'tail'), capped.tail)
    status = f'{code} {int(timed_out)} {len(capped.head)} {len(capped.tail)} {int(stopped)} {int(truncated)}\n'
    write_file(os.path.join(folder, 'status.tmp'), status.encode())
    os.rename(os.path.join(folder, 'status.tmp'), os.path.join(folder, 'status'))
    if request.get('stdin'):
        os.unlink(stdin_path)
    return status


def client_gone(conn, wait):
    ready, _, _ = select.select([conn], [], [], wait)
    if not ready:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b''
    except OSError:
        return True


def claimant_alive(folder, ident):
    try:
        with open(os.path.join(folder, 'pid')) as handle:
            pid = int(handle.read().strip() or '0')
        os.kill(pid, 0)
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        with claims_lock:
            return ident in claims
    return True


def answer_recorded(conn, folder, ident):
    """Sends the recorded result of the run that holds the claim, waiting for it while that run is alive."""
    status_path = os.path.join(folder, 'status')
    while not os.path.exists(status_path):
        if not claimant_alive(folder, ident) and not os.path.exists(status_path):
            send(conn, {'interrupted': True})
            return
        if client_gone(conn, poll_s):
            return
    with open(status_path) as handle:
        status = handle.read()
    with open(os.path.join(folder, 'head'), 'rb') as handle:
        head = handle.read()
    if head:
        send(conn, {'o': b64(head)})
    finish(conn, folder, status)


def finish(conn, folder, status):
    code, timed_out, _, _, stopped, truncated = (int(field) for field in status.split())
    with open(os.path.join(folder, 'tail'), 'rb') as handle:
        tail = handle.read()
    send(conn, {'done': {'exitCode': code, 'timedOut': timed_out == 1, 'backgroundStopped': stopped == 1,
                         'truncated': truncated == 1, 'tail': b64(tail[1:] if truncated else tail)}})


def execute(conn, request):
    root, ident = request['root'], request['id']
    folder = os.path.join(root, ident)
    if request.get('peek') and not os.path.exists(folder):
        send(conn, {'absent': True})
        return
    if request.get('peek') or not claim_id(root, folder, ident):
        answer_recorded(conn, folder, ident)
    else:
        try:
            status = run_claimed(conn, folder, request)
        finally:
            count_claim(ident, -1)
        finish(conn, folder, status)
    if not request.get('keep'):
        remove_folder(folder)


def claim_id(root, folder, ident):
    """True when this attempt won the id (counted in claims until its run ends)."""
    os.makedirs(root, exist_ok=True)
    claim = os.path.join(root, '.claim.' + os.urandom(6).hex())
    os.mkdir(claim, 0o700)
    write_file(os.path.join(claim, 'pid'), f'{os.getpid()}\n'.encode())
    count_claim(ident, 1)
    try:
        os.rename(claim, folder)  # fails when another attempt holds the id (its folder is not empty)
        return True
    except OSError:
        remove_folder(claim)
        count_claim(ident, -1)
        return False


def run(conn, request):
    caps = request['maxBytes']
    kept = {1: bytearray(), 2: bytearray()}
    truncated = {1: False, 2: False}
    stdin = binascii.a2b_base64(request['stdin']) if request.get('stdin') is not None else None
    try:
        proc = subprocess.Popen(request['argv'], cwd=request.get('cwd') or '/workspace', env=environment(request),
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as error:
        send(conn, {'done': {'exitCode': 127, 'stdout': '', 'stderr': b64(str(error).encode()), 'truncated': False}})
        return
    try:
        write_file(f'/proc/{proc.pid}/oom_score_adj', b'1000')
    except OSError:
        pass
    if stdin is not None:
        threading.Thread(target=feed, args=(proc.stdin, stdin), daemon=True).start()
    streams = {proc.stdout.fileno(): 1, proc.stderr.fileno(): 2}
    while streams:
        ready, _, _ = select.select(list(streams), [], [])
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                del streams[fd]
                continue
            channel = streams[fd]
            room = caps - len(kept[channel])
            if len(chunk) > room:
                truncated[channel] = True
            kept[channel] += chunk[: max(0, room)]
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    send(conn, {'done': {'exitCode': exit_code(proc.returncode), 'stdout': b64(kept[1]), 'stderr': b64(kept[2]),
                         'truncated': truncated[1]}})


def feed(pipe, data):
    try:
        pipe.write(data)
        pipe.close()
    except OSError:
        pass


def serve(conn):
    with conn:
        try:
            if not send(conn, {'hello': 1}):
                return
            line = conn.makefile('rb').readline()
            if not line:
                return  # the worker gave up before the hello reached it: run nothing
            request = json.loads(line)
            if request.get('op') == 'exec':
                execute(conn, request)
            elif request.get('op') == 'run':
                run(conn, request)
            else:
                send(conn, {'error': f'unknown op {request.get("op")!r}'})
        except Exception as error:  # noqa: BLE001 - one failed request must not stop the agent
            send(conn, {'error': f'{type(error).__name__}: {error}'})


def compute_login_environment(early):
    global shell_env
    shell_env = login_environment(early)


def main(early_login=None):
    folder = sys.argv[1] if len(sys.argv) > 1 else '/run/sandbox-agent'
    path = os.path.join(folder, 'agent.sock')
    staging = path + '.new'
    threading.Thread(target=compute_login_environment, args=(early_login,), daemon=True).start()
    for stale in (path, staging):
        try:
            os.unlink(stale)
        except FileNotFoundError:
            pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(staging)
    os.chmod(staging, 0o600)
    server.listen(64)
    os.rename(staging, path)  # the socket appears only once it accepts connections
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            time.sleep(poll_s)  # out of file descriptors: the worker falls back to docker exec meanwhile
            continue
        try:
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        except RuntimeError:
            conn.close()  # no thread to be had (the pids limit): the worker falls back to docker exec

