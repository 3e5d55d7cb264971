-- A tool's secrets are bound to the origin (scheme://host:port) they were saved for: the one
-- the tool sends them to (an http tool's url, a Zammad tool's base_url, a notification tool's
-- url). The origin is also part of the secret box's context, so the ciphertext opens only for
-- it. NULL with secrets: saved before this binding existed; ExecuteTool refuses such secrets
-- until UpdateTool supplies them again (see docs/CONTROL.md, "Tools").
ALTER TABLE tools ADD COLUMN secrets_origin text;
