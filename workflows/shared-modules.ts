// Modules a session worker evaluates once per workflow thread instead of once per workflow (the bundler's
// `preloadModules`, workers/workflow-bundler.ts). With the SDK's reusable V8 context every module of the bundle is
// evaluated again for each workflow it creates, and each cached workflow keeps its own copy of every module: zod is the
// largest of them (about a third of the code evaluated per workflow). A preloaded module is shared by every workflow
// of the thread and deep-frozen after this module ran, so only stateless library code belongs here — never a module of
// ours that keeps state, and nothing that calls workflow APIs (no workflow exists yet when this runs).
import { z } from 'zod';

// zod settles its global configuration (default locale, parse memoizer) when its first schemas are built; build them
// here, before the freeze, so that no workflow has to write to the shared (frozen) configuration. (Only what is used
// of `z` is bundled: exporting the namespace would pull in every locale.)
export const zodSettled = z.object({ settled: z.string() }).safeParse({ settled: '' }).success;
