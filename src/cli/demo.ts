export function demoCommand(): number { return 0; }
