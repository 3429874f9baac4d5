// The patches every session's first turn consults, folded into one. Each patched() that first answers true in a run
// records a marker and, from the SDK's core, an upsert of the TemporalChangeVersion search attribute (a visibility
// write on the server): five of each in every run's first turn, about 10 of a one-turn session's ~160 history events
// (bench P7). Runs from foldedPatchesPatch on record that one marker instead, and each folded patch answers true
// from it. patched() answers true whenever the code runs live, so a folded patch answers exactly as it did alone: the
// histories recorded before the fold (with the separate markers, or without them) replay the same way.
import { patched } from '@temporalio/workflow';

/** Stands for every patch passed to patchedFolded(): recorded once per run, in place of their markers. */
export const foldedPatchesPatch = 'session-patches-folded';

/**
 * patched(patch) for a patch every session takes (folded into foldedPatchesPatch). Only for patches in place when the
 * fold was made: a later patch must be a patched() of its own, or histories recorded before it would take its branch.
 */
export function patchedFolded(patch: string): boolean {
  return patched(foldedPatchesPatch) || patched(patch);
}
