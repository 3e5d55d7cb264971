import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRoute } from "../src/app/route";

test("paths to pages", () => {
  assert.deepEqual(parseRoute("/"), { page: "chat" });
  assert.deepEqual(parseRoute("/chat"), { page: "chat" });
  assert.deepEqual(parseRoute("/chat/a%20b"), { page: "chat", conversationId: "a b" });
  assert.deepEqual(parseRoute("/tickets"), { page: "tickets" });
  assert.deepEqual(parseRoute("/tickets/t1/"), { page: "tickets", ticketId: "t1" });
  assert.deepEqual(parseRoute("/knowledge"), { page: "knowledge" });
  assert.deepEqual(parseRoute("/runs"), { page: "runs" });
  assert.deepEqual(parseRoute("/admin"), { page: "admin" });
  assert.deepEqual(parseRoute("/tools"), { page: "tools" });
  assert.deepEqual(parseRoute("/runs/r1"), { page: "runs", runId: "r1" });
  assert.deepEqual(parseRoute("/nowhere/else"), { page: "chat" });
});

test("a ticket's status changes, as the ticketing service allows them", async () => {
  const { nextStatuses } = await import("../src/pages/TicketsPage");
  assert.deepEqual(nextStatuses("TICKET_STATUS_OPEN"), ["TICKET_STATUS_PENDING", "TICKET_STATUS_RESOLVED", "TICKET_STATUS_CLOSED"]);
  assert.deepEqual(nextStatuses("TICKET_STATUS_RESOLVED"), ["TICKET_STATUS_OPEN", "TICKET_STATUS_CLOSED"]);
  assert.deepEqual(nextStatuses("TICKET_STATUS_CLOSED"), []);
});

test("JSON fields of the tool editor: objects only, with a reason otherwise", async () => {
  const { parseObject } = await import("../src/pages/ToolsPage");
  assert.deepEqual(parseObject('{"url": "https://x"}', "The config"), { url: "https://x" });
  assert.deepEqual(parseObject("  ", "The config"), {});
  assert.equal(parseObject("[1]", "The config"), "The config must be a JSON object.");
  assert.equal(parseObject("{", "The config"), "The config is not valid JSON.");
});
