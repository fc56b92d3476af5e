export function benchHwCommand(o: {json?: boolean; runs: string}): number { void o; return 0; }
