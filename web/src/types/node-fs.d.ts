// The part of Node's fs, path and process modules the flow builder's tests use to read
// examples/ (Debian ships no @types/node).
declare module "node:fs" {
  export function readFileSync(path: string, encoding: "utf8"): string;
  export function readdirSync(path: string): string[];
}

declare module "node:path" {
  export function join(...parts: string[]): string;
}

declare module "node:process" {
  export function cwd(): string;
}
