// The part of DOMPurify (Debian's node-dompurify) the console uses. Debian's @types/dompurify
// needs trusted-types, which Debian does not package, so this small declaration stands in.
declare module "dompurify" {
  interface Config {
    ALLOWED_TAGS?: string[];
    ALLOWED_ATTR?: string[];
    FORBID_TAGS?: string[];
    FORBID_ATTR?: string[];
    ALLOW_DATA_ATTR?: boolean;
  }
  interface DOMPurify {
    sanitize(source: string, config?: Config): string;
    addHook(entryPoint: "afterSanitizeAttributes", hook: (node: Element) => void): void;
    isSupported: boolean;
  }
  const purify: DOMPurify;
  export default purify;
}
