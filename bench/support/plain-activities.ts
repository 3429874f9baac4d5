// Activities of the P5 baseline workflow: trivial on purpose, so the figure is Temporal's own cost per workflow.
export function createPlainActivities() {
  return {
    async firstStep(input: string): Promise<string> {
      return `${input}:first`;
    },
    async secondStep(input: string): Promise<string> {
      return `${input}:second`;
    },
  };
}
