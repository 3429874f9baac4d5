// Commands in the sandbox: `bash -lc` under a timeout that kills the whole process tree, output capped while it is
// produced, and — when an exec id is given — at most once per id.
//
// Idempotency design. A Temporal activity may run again for the same tool call: the worker was SIGKILLed mid-exec, the
// heartbeat timed out, the Docker connection dropped. The command itself keeps running in the container (a docker exec
// outlives its client), so "did it run?" must be answered inside the container, not by the worker:
//   1. A wrapper script claims /tmp/.agents/exec/<id>/ atomically: it fills a private temp dir (with its pid) and
//      renames it onto <id> (rename(2) fails when <id> already exists, so exactly one attempt wins).
//   2. The winner runs the command with stdout+stderr sent to files in that dir (head and tail kept, middle dropped),
//      then writes `status` (exit code, timed out, sizes) by rename, so a reader never sees a half-written status.
//   3. A later attempt that loses the claim never runs the command: if `status` exists it returns the recorded result;
//      if the winner's pid is alive it waits for `status`; if the winner died without a status (OOM-killed wrapper),
//      it reports the run as interrupted with unknown effects rather than guess.
// /tmp is a tmpfs: the markers vanish with the container, exactly when the command's effects on /tmp vanish too, and
// they stay out of /workspace (never snapshotted, never seen by the agent's tools). Writes (write/edit) go through the
// same wrapper with the new content on stdin, so they are applied at most once as well.
// The in-sandbox exec agent (scripts/sandbox-image/sandbox-agent, reached through agent-client.ts) does the same with
// the same marker folders, in single milliseconds; this wrapper over `docker exec` is the fallback when it does not
// answer, and either one finds and honours the other's claims.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { ExecResult } from '../../domain/sandbox.ts';
import { AgentUnavailableError, callAgent, type AgentAnswer } from './agent-client.ts';
import { runProcess } from './docker-stream.ts';

export const execRoot = '/tmp/.agents/exec';

// Between starting the command and stopping its leftovers the wrapper uses shell builtins only: a fork bomb may have
// taken every pid the container is allowed, and a wrapper that needs to fork then could neither finish nor clean up.
// (No brace parameter expansions below: this is a JS template literal.)
const wrapperScript = String.raw`
set -u
root=$1 dir=$1/$2 timeout_ms=$3 timeout_s=$4 head_bytes=$5 tail_bytes=$6 keep=$7 with_stdin=$8 command=$9
shift 9
peek=$1
won=0
if [ "$peek" = 1 ]; then
  [ -e "$dir" ] || { echo absent; exit 0; }
else
  mkdir -p "$root" || exit 90
  claim=$(mktemp -d "$root/.claim.XXXXXX") || exit 91
  echo $$ > "$claim/pid"
  if mv -T "$claim" "$dir" 2>/dev/null; then won=1; else rm -rf "$claim"; fi
fi
if [ "$won" = 1 ]; then
  if [ "$with_stdin" = 1 ]; then cat > "$dir/stdin"; else : > "$dir/stdin"; fi
  mkfifo "$dir/pipe" "$dir/tick"
  exec 3<> "$dir/tick"
  { head -c "$head_bytes" > "$dir/head"; exec tail -c "$((tail_bytes + 1))" > "$dir/tail"; } < "$dir/pipe" &
  reader=$!
  IFS=. read -r started_s started_us <<< "$EPOCHREALTIME"
  # timeout puts itself and the command in a new process group and SIGKILLs the whole group when time is up.
  timeout -s KILL "$timeout_s" bash -lc "$command" < "$dir/stdin" > "$dir/pipe" 2>&1 &
  group=$!
  wait "$group"
  code=$?
  IFS=. read -r finished_s finished_us <<< "$EPOCHREALTIME"
  elapsed_ms=$(( (finished_s - started_s) * 1000 + (10#$finished_us - 10#$started_us) / 1000 ))
  timed_out=0
  if [ "$code" = 137 ] && [ "$elapsed_ms" -ge "$timeout_ms" ]; then timed_out=1; fi
  reader_done() {
    local tries
    for tries in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$reader" 2>/dev/null || return 0; read -t 0.1 -u 3; done
    return 1
  }
  # Background processes that still hold the output open would keep this call waiting: stop them (their group is
  # timeout's). Ones that left the group (setsid) are cut off instead: the reader stops and their output is dropped.
  stopped=0
  if ! reader_done; then
    stopped=1
    kill -KILL -- "-$group" 2>/dev/null
    if ! reader_done; then pkill -KILL -P "$reader"; kill -KILL "$reader" 2>/dev/null; fi
  fi
  wait "$reader" 2>/dev/null
  exec 3<&-
  [ -e "$dir/tail" ] || : > "$dir/tail"
  tail_size=$(stat -c %s "$dir/tail")
  # The tail keeps one byte more than it shows: that byte's presence proves output was dropped in between.
  truncated=0
  if [ "$tail_size" -gt "$tail_bytes" ]; then truncated=1; fi
  printf '%s %s %s %s %s %s\n' "$code" "$timed_out" "$(stat -c %s "$dir/head")" "$tail_size" "$stopped" "$truncated" \
    > "$dir/status.tmp"
  mv "$dir/status.tmp" "$dir/status"
  rm -f "$dir/pipe" "$dir/tick" "$dir/stdin"
else
  if [ "$with_stdin" = 1 ]; then cat > /dev/null; fi
  # An earlier attempt claimed this id: wait for its result instead of running the command a second time.
  while [ ! -e "$dir/status" ]; do
    if ! kill -0 "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null && [ ! -e "$dir/status" ]; then
      echo interrupted
      exit 0
    fi
    sleep 0.1
  done
fi
cat "$dir/status" "$dir/head" "$dir/tail"
if [ "$keep" = 0 ]; then rm -rf "$dir"; fi
`;

export interface ExecOptions {
  command: string;
  env?: Record<string, string>;
  timeoutMs: number;
  maxOutputBytes: number;
  /** Working directory; /workspace unless given. */
  cwd?: string;
  /** Makes the exec at-most-once: a second call with the same id returns (or waits for) the first one's result. */
  execId?: string;
  /** Bytes fed to the command's stdin (and recorded, so a retry need not resend them). */
  stdin?: Buffer;
  onProgress?: () => void;
  /** Runs nothing: returns (or waits for) the recorded result of execId, or undefined when there is none. */
  peekOnly?: boolean;
  /** The output's head as the agent streams it (not called on the docker exec fallback). */
  onOutput?: (chunk: Buffer) => void;
}

/** How long the agent may take to greet before the exec goes through docker exec instead (a paused container). */
export const agentHelloTimeoutMs = 500;

/** Slack on top of the command's own timeout before the worker stops waiting (the reader grace, process start-up). */
const answerGraceMs = 30_000;

export interface SandboxExecResult extends ExecResult {
  /** Background processes kept the output open after the command ended and were stopped. */
  backgroundStopped: boolean;
}

export async function execCommand(
  container: Docker.Container,
  options: ExecOptions & { peekOnly: true },
  agentSocket?: string,
): Promise<SandboxExecResult | undefined>;
export async function execCommand(
  container: Docker.Container,
  options: ExecOptions,
  agentSocket?: string,
): Promise<SandboxExecResult>;
export async function execCommand(
  container: Docker.Container,
  options: ExecOptions,
  agentSocket?: string,
): Promise<SandboxExecResult | undefined> {
  const tailBytes = Math.floor(options.maxOutputBytes / 4);
  const headBytes = options.maxOutputBytes - tailBytes;
  const id = options.execId ?? `once-${randomBytes(8).toString('hex')}`;
  const cwd = options.cwd ?? '/workspace';
  const command = `cd -- ${shellQuote(cwd)} || exit 1\n${options.command}`;
  const request = { id, headBytes, tailBytes, command };
  if (agentSocket) {
    try {
      return await execThroughAgent(agentSocket, options, request);
    } catch (error) {
      if (!(error instanceof AgentUnavailableError)) throw error;
    }
  }
  const result = await runProcess(container, {
    argv: [
      'bash',
      '-c',
      wrapperScript,
      'agents-exec',
      execRoot,
      id,
      String(options.timeoutMs),
      (options.timeoutMs / 1000).toFixed(3),
      String(headBytes),
      String(tailBytes),
      options.execId ? '1' : '0',
      options.stdin ? '1' : '0',
      command,
      options.peekOnly ? '1' : '0',
    ],
    env: options.env,
    cwd: '/',
    stdin: options.stdin,
    maxBytes: options.maxOutputBytes + 4096,
    deadlineMs: options.timeoutMs + answerGraceMs,
    onProgress: options.onProgress,
  });
  if (result.exitCode !== 0) {
    throw new Error(`sandbox exec wrapper failed (${result.exitCode}): ${result.stderr.toString('utf8').trim()}`);
  }
  if (result.stdout.toString('utf8', 0, 7) === 'absent\n') return undefined;
  return parseWrapperOutput(result.stdout);
}

async function execThroughAgent(
  socket: string,
  options: ExecOptions,
  request: { id: string; headBytes: number; tailBytes: number; command: string },
): Promise<SandboxExecResult | undefined> {
  const answer = await callAgent(
    socket,
    {
      op: 'exec',
      root: execRoot,
      ...request,
      timeoutMs: options.timeoutMs,
      keep: options.execId !== undefined,
      peek: options.peekOnly === true,
      env: options.env ?? {},
      ...(options.stdin ? { stdin: options.stdin.toString('base64') } : {}),
    },
    {
      helloTimeoutMs: agentHelloTimeoutMs,
      deadlineMs: options.timeoutMs + answerGraceMs,
      onProgress: options.onProgress,
      onOutput: options.onOutput,
    },
  );
  return agentExecResult(answer);
}

function agentExecResult(answer: AgentAnswer & { output: Buffer }): SandboxExecResult | undefined {
  if (answer.absent) return undefined;
  if (answer.interrupted) return interruptedResult;
  const done = answer.done;
  if (!done) throw new Error(`sandbox agent failed: ${answer.error ?? 'no result'}`);
  return composeResult({
    code: done.exitCode,
    timedOut: done.timedOut === true,
    stopped: done.backgroundStopped === true,
    truncated: done.truncated === true,
    head: answer.output,
    tail: Buffer.from(done.tail ?? '', 'base64'),
  });
}

const interruptedResult: SandboxExecResult = {
  exitCode: -1,
  output:
    'An earlier attempt of this command was interrupted before it finished; its effects are unknown. ' +
    'Check the state of the files it touches before running it again.',
  truncated: false,
  timedOut: false,
  backgroundStopped: false,
};

function parseWrapperOutput(stdout: Buffer): SandboxExecResult {
  const newline = stdout.indexOf(10);
  const statusLine = stdout.subarray(0, newline).toString('utf8');
  if (statusLine === 'interrupted') return interruptedResult;
  const [code, timedOut, headSize, tailSize, stopped, truncatedFlag] = statusLine.split(' ').map(Number);
  if (code === undefined || headSize === undefined || tailSize === undefined || Number.isNaN(code)) {
    throw new Error(`unreadable sandbox exec status: ${JSON.stringify(statusLine.slice(0, 200))}`);
  }
  const truncated = truncatedFlag === 1;
  const tail = stdout.subarray(newline + 1 + headSize, newline + 1 + headSize + tailSize);
  return composeResult({
    code,
    timedOut: timedOut === 1,
    stopped: stopped === 1,
    truncated,
    head: stdout.subarray(newline + 1, newline + 1 + headSize),
    tail: truncated ? tail.subarray(1) : tail,
  });
}

function composeResult(parts: {
  code: number;
  timedOut: boolean;
  stopped: boolean;
  truncated: boolean;
  head: Buffer;
  tail: Buffer;
}): SandboxExecResult {
  const { head, tail, truncated, stopped } = parts;
  let output = head.toString('utf8');
  if (truncated) {
    output += `\n\n[... output truncated: showing the first ${head.length} and last ${tail.length} bytes ...]\n\n`;
  }
  output += tail.toString('utf8');
  if (stopped) {
    output +=
      '\n[background processes still held the output open when the command ended, so they were stopped. Start ' +
      'long-running processes with their output redirected, e.g. `nohup cmd > /tmp/cmd.log 2>&1 &`.]';
  }
  return { exitCode: parts.code, output, truncated, timedOut: parts.timedOut, backgroundStopped: stopped };
}

/** Quotes one word for bash: everything inside single quotes, single quotes spelled '\''. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
