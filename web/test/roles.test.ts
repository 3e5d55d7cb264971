import { test } from "node:test";
import assert from "node:assert/strict";
import { atLeast, grantableRoles, highestRole, roleName } from "../src/lib/roles";

test("the highest role decides; a member is below a builder", () => {
  assert.equal(highestRole(["ROLE_MEMBER", "ROLE_ADMIN"]), "ROLE_ADMIN");
  assert.equal(highestRole([]), "ROLE_UNSPECIFIED");
  assert.ok(atLeast(["ROLE_OWNER"], "ROLE_BUILDER"));
  assert.ok(!atLeast(["ROLE_MEMBER"], "ROLE_BUILDER"));
  assert.ok(!atLeast(["ROLE_SERVICE"], "ROLE_MEMBER"));
});

test("an API key gets at most its creator's role", () => {
  assert.deepEqual(grantableRoles(["ROLE_BUILDER"]), ["ROLE_MEMBER", "ROLE_BUILDER"]);
  assert.deepEqual(grantableRoles(["ROLE_OWNER"]), ["ROLE_MEMBER", "ROLE_BUILDER", "ROLE_ADMIN", "ROLE_OWNER"]);
  assert.equal(roleName("ROLE_ADMIN"), "admin");
});
