// The primary thread's local activity for session threads: records a thread before its workflow starts, so the
// threads API can list it (and check it belongs to the session) from then on.
import type pg from 'pg';
import { insertSessionThread, type NewSessionThread } from '../../db/repositories/session-threads.ts';

export function createThreadActivities(pool: pg.Pool) {
  return {
    async recordSessionThread(thread: NewSessionThread): Promise<void> {
      await insertSessionThread(pool, thread);
    },
  };
}

export type ThreadActivities = ReturnType<typeof createThreadActivities>;
