// The admin forms' numbers: exact round trips, bounds at and past them, readable hints.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  countText,
  durationSeconds,
  humanBytes,
  humanSeconds,
  listText,
  secondsDuration,
  textList,
  wholeNumber,
} from "../src/lib/settingsForm";

test("durations round-trip exactly through seconds; empty and zero mean the default", () => {
  for (const duration of ["3600s", "1.5s", "2592000s", "0.000000001s"]) {
    assert.deepEqual(secondsDuration(durationSeconds(duration), "x"), { value: duration });
  }
  assert.equal(durationSeconds(undefined), "");
  assert.equal(durationSeconds("0s"), "");
  assert.deepEqual(secondsDuration("", "x"), {});
  assert.deepEqual(secondsDuration("0", "x"), {});
  assert.match(secondsDuration("ten", "Retention").error ?? "", /Retention: a number of seconds/);
  assert.match(secondsDuration("-5", "x").error ?? "", /number of seconds/);
  assert.deepEqual(secondsDuration("315576000000", "x"), { value: "315576000000s" });
  assert.match(secondsDuration("315576000001", "x").error ?? "", /at most/);
});

test("whole numbers at and past their bound; int64 strings back as the same number", () => {
  assert.deepEqual(wholeNumber("2147483647", "Steps", 2147483647), { value: 2147483647 });
  assert.match(wholeNumber("2147483648", "Steps", 2147483647).error ?? "", /at most 2147483647/);
  assert.deepEqual(wholeNumber(String(Number.MAX_SAFE_INTEGER), "Bytes"), { value: Number.MAX_SAFE_INTEGER });
  assert.match(wholeNumber("9007199254740993", "Bytes").error ?? "", /whole number/);
  assert.match(wholeNumber("1.5", "Bytes").error ?? "", /whole number/);
  assert.deepEqual(wholeNumber(countText("1048576"), "x"), { value: 1048576 });
  assert.equal(countText("0"), "");
  assert.equal(countText(undefined), "");
  assert.deepEqual(wholeNumber("", "x"), {});
});

test("readable hints and lists", () => {
  assert.equal(humanBytes("1048576"), "1 MiB");
  assert.equal(humanBytes("1536"), "1.5 KiB");
  assert.equal(humanBytes("300"), "300 B");
  assert.equal(humanBytes(""), "");
  assert.equal(humanSeconds("2592000"), "30 days");
  assert.equal(humanSeconds("86400"), "1 day");
  assert.equal(humanSeconds("7200"), "2 h");
  assert.equal(humanSeconds("90"), "90 s");
  assert.equal(listText(["a", "b"]), "a, b");
  assert.deepEqual(textList(" a, ,b ,"), ["a", "b"]);
});
