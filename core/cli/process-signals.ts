/** SIGINT/SIGTERM as an AbortSignal, so long commands stop cleanly and record why. */
export function untilSignal(): { signal: AbortSignal; stopped: Promise<string>; dispose(): void } {
  const controller = new AbortController();
  let resolveStopped: (name: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    resolveStopped = resolve;
  });
  const onSignal = (name: NodeJS.Signals): void => {
    controller.abort(new Error(`stopped by ${name}`));
    resolveStopped(name);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    stopped,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
