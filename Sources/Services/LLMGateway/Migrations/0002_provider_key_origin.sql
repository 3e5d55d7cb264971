-- A tenant's provider API key is bound to the origin (scheme://host:port) of the base_url it
-- was saved for; the origin is also part of the secret box's context, so the ciphertext opens
-- only for it. NULL with a key: saved before this binding existed; the gateway refuses to send
-- such a key until SetProviderConfig supplies it again (see docs/LLM_GATEWAY.md).
ALTER TABLE provider_configs ADD COLUMN api_key_origin text;
