"""The flow builder (issue 18; docs/WEB.md, "Flow builder") in headless Chromium against the real
platform, like test_console.py: a new, unsaved agent built on the canvas alone into the support
agent's flow (examples/support-agent.flow.json): its channels and every node with their settings,
edges drawn by dragging from a node's port; a broken router expression shows an error on the node
that goes away when fixed; the first save is CreateAgent; a test run lights the nodes up; the saved
flow equals the example as data (layout metadata dropped, edges in normal form); a second version,
its diff against the first, and a roll back to the first.

Also: the keyboard alone selects nodes and opens the editor, undo/redo, copy/paste.
"""

import json
import os
import tempfile
import time
import unittest
import uuid

import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

import platform_fixture
from selenium.webdriver.support.ui import WebDriverWait
from test_console import WAIT, new_driver, screenshots_on_failure, shared_platform_with_console

REPO = platform_fixture.REPO
EXAMPLE = json.loads((REPO / "examples" / "support-agent.flow.json").read_text(encoding="utf-8"))


def normal_form(flow):
    """The flow as data for comparison (docs/FLOWS.md, "Normal form"): metadata dropped, every
    unconditional edge (a node's next or an entry of edges without when) in its node's next."""
    flow = json.loads(json.dumps(flow))
    flow.pop("metadata", None)
    extra, conditional = {}, []
    for edge in flow.pop("edges", []) or []:
        if "when" in edge:
            conditional.append(edge)
        else:
            extra.setdefault(edge["from"], []).append(edge["to"])
    for node in flow["nodes"]:
        nexts = node.pop("next", [])
        nexts = [nexts] if isinstance(nexts, str) else list(nexts)
        targets = list(dict.fromkeys(nexts + extra.get(node["id"], [])))
        if len(targets) == 1:
            node["next"] = targets[0]
        elif targets:
            node["next"] = targets
    if conditional:
        flow["edges"] = conditional
    return flow


class FlowBuilderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.platform, cls.base = shared_platform_with_console()

    def setUp(self):
        self.drivers = []

    def tearDown(self):
        problems = []
        for driver in self.drivers:
            try:
                problems += [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            finally:
                driver.quit()
        self.assertEqual(problems, [], "the browser's console logged errors")

    def browser(self, width=1280, height=900):
        driver = new_driver(width, height)
        self.drivers.append(driver)
        return driver

    def wait(self, driver, condition, timeout=WAIT, message=""):
        # A React re-render can replace the element between finding it and checking it: look again.
        return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
            condition, message
        )

    def sign_in(self, driver):
        driver.get(self.base + "/")
        tenant = self.wait(driver, EC.element_to_be_clickable((By.ID, "tenant")), message="no sign-in form")
        tenant.clear()
        tenant.send_keys(self.platform.tenant)
        driver.find_element(By.ID, "email").send_keys(self.platform.email)
        driver.find_element(By.ID, "password").send_keys(self.platform.password)
        driver.find_element(By.CSS_SELECTOR, "[data-testid=sign-in]").click()

    def css(self, driver, selector, timeout=WAIT, clickable=True):
        condition = EC.element_to_be_clickable if clickable else EC.presence_of_element_located
        return self.wait(driver, condition((By.CSS_SELECTOR, selector)), timeout, f"no {selector}")

    def by_testid(self, driver, name, clickable=True):
        return self.css(driver, f"[data-testid='{name}']", clickable=clickable)

    def type_into(self, driver, name, text):
        field = self.by_testid(driver, name)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(Keys.DELETE)
        field.send_keys(text)
        return field

    def token(self):
        return self.platform.login()

    def api(self, method, path, **kwargs):
        answer = requests.request(
            method, self.base + path, headers={"Authorization": f"Bearer {self.token()}"}, timeout=WAIT, **kwargs
        )
        self.assertEqual(answer.status_code, 200, answer.text)
        return answer.json()

    def shot(self, driver, name):
        """A screenshot for a person to look at, when AGENTPLANE_BUILDER_SHOTS names a folder."""
        folder = os.environ.get("AGENTPLANE_BUILDER_SHOTS")
        if folder:
            os.makedirs(folder, exist_ok=True)
            driver.save_screenshot(os.path.join(folder, f"{name}.png"))

    def open_new_agent(self, driver):
        self.sign_in(driver)
        self.by_testid(driver, "nav-agents").click()
        self.by_testid(driver, "agent-new").click()
        self.by_testid(driver, "canvas")

    def add_node(self, driver, kind, node_id):
        """Adds a node from the palette and renames it in the editor."""
        self.by_testid(driver, f"palette-{kind}").click()
        field = self.by_testid(driver, "field-id")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(node_id, Keys.ENTER)
        self.by_testid(driver, f"node-{node_id}", clickable=False)
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=node-editor] h2").text.startswith(node_id))

    def select_node(self, driver, node_id):
        self.by_testid(driver, "tab-node").click()
        ActionChains(driver).move_to_element(self.by_testid(driver, f"node-{node_id}", clickable=False)).click().perform()
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=node-editor] h2").text.startswith(node_id))

    def connect(self, driver, source, target):
        """Drags from the source's port onto the target node."""
        port = self.by_testid(driver, f"port-{source}", clickable=False)
        node = self.by_testid(driver, f"node-{target}", clickable=False)
        ActionChains(driver).click_and_hold(port).move_by_offset(5, 30).move_to_element(node).release().perform()
        self.by_testid(driver, f"edge-{source}-{target}", clickable=False)

    def open_common(self, driver):
        details = driver.find_element(By.CSS_SELECTOR, ".node-editor__common")
        if details.get_attribute("open") is None:
            details.find_element(By.TAG_NAME, "summary").click()

    def node_errors(self, driver, node_id):
        return int(self.by_testid(driver, f"node-{node_id}", clickable=False).get_attribute("data-errors"))

    def build_support_agent(self, driver):
        """Builds examples/support-agent.flow.json with the canvas, the palette and the forms."""
        self.by_testid(driver, "tab-channels").click()
        self.type_into(driver, "flow-name", EXAMPLE["name"])
        self.type_into(driver, "flow-description", EXAMPLE["description"])
        for channel, declaration in EXAMPLE["state"].items():
            self.type_into(driver, "channel-name", channel)
            self.by_testid(driver, "channel-add").click()
            Select(self.by_testid(driver, f"field-state-{channel}-type")).select_by_value(declaration["type"])
        nodes = {node["id"]: node for node in EXAMPLE["nodes"]}

        # Every node, in the example's order (the first is the entry).
        for node in EXAMPLE["nodes"]:
            self.add_node(driver, node["kind"], node["id"])
        self.by_testid(driver, "fit").click()

        # kb_lookup: the tool, its arguments, output, retry and timeout.
        kb = nodes["kb_lookup"]
        self.select_node(driver, "kb_lookup")
        self.type_into(driver, "field-tool", kb["tool"])
        self.type_into(driver, "field-arguments", json.dumps(kb["arguments"]))
        Select(self.by_testid(driver, "field-output")).select_by_value(kb["output"])
        self.open_common(driver)
        self.by_testid(driver, "field-retry-on").click()
        self.type_into(driver, "field-retry-max_attempts", str(kb["retry"]["max_attempts"]))
        self.type_into(driver, "field-retry-initial_backoff_ms", str(kb["retry"]["initial_backoff_ms"]))
        self.by_testid(driver, "field-retry-retry_on-rate_limited").click()  # the default less rate_limited
        self.type_into(driver, "field-timeout_ms", str(kb["timeout_ms"]))
        self.connect(driver, "kb_lookup", "kb_helpful")

        # kb_helpful: a route drawn on the canvas, a broken condition first, then the right one.
        router = nodes["kb_helpful"]
        self.connect(driver, "kb_helpful", "answer_from_kb")
        self.select_node(driver, "kb_helpful")
        condition = router["routes"][0]["when"]
        self.type_into(driver, "field-routes-0-when", condition + " and")
        self.wait(driver, lambda d: self.node_errors(d, "kb_helpful") > 0, message="no error on the broken router")
        self.by_testid(driver, "node-issues-kb_helpful", clickable=False)
        self.assertIn("BAD_EXPRESSION", self.by_testid(driver, "issues", clickable=False).text)
        field = self.by_testid(driver, "field-routes-0-when")
        for _ in range(len(" and")):
            field.send_keys(Keys.BACKSPACE)
        self.wait(driver, lambda d: self.node_errors(d, "kb_helpful") == 0, message="the router's error stayed")
        Select(self.by_testid(driver, "field-default")).select_by_value(router["default"])
        self.by_testid(driver, "edge-kb_helpful-create_ticket", clickable=False)
        self.shot(driver, "router")
        self.assertIn("exists(state.kb", self.by_testid(driver, "edge-label-kb_helpful-answer_from_kb", clickable=False).text)

        llm = nodes["answer_from_kb"]
        self.select_node(driver, "answer_from_kb")
        self.type_into(driver, "field-system", llm["system"])
        self.type_into(driver, "field-prompt", llm["prompt"])
        Select(self.by_testid(driver, "field-output")).select_by_value(llm["output"])
        self.connect(driver, "answer_from_kb", "done")

        for tool_id, target in (("create_ticket", "notify_support"), ("notify_support", "reply_with_ticket")):
            tool = nodes[tool_id]
            self.select_node(driver, tool_id)
            self.type_into(driver, "field-tool", tool["tool"])
            self.type_into(driver, "field-arguments", json.dumps(tool["arguments"]))
            Select(self.by_testid(driver, "field-output")).select_by_value(tool["output"])
            if "on_error" in tool:
                Select(self.by_testid(driver, "field-on_error")).select_by_value(tool["on_error"])
            self.connect(driver, tool_id, target)

        self.select_node(driver, "reply_with_ticket")
        self.type_into(driver, "field-values", json.dumps(nodes["reply_with_ticket"]["values"]))
        self.connect(driver, "reply_with_ticket", "done")
        self.by_testid(driver, "relayout").click()  # dagre: the router's two branches side by side
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=issues]").get_attribute("data-errors") == "0"
                  and d.find_element(By.CSS_SELECTOR, "[data-testid=issues]").get_attribute("data-validating") == "false",
                  message="the built flow does not validate")

    @screenshots_on_failure
    def test_build_the_support_agent_on_the_canvas_save_run_diff_and_roll_back(self):
        started = time.monotonic()
        driver = self.browser(1400, 1000)
        self.open_new_agent(driver)
        self.build_support_agent(driver)
        name = f"support-built-{uuid.uuid4().hex[:8]}"
        self.type_into(driver, "agent-name", name)
        self.by_testid(driver, "save").click()
        self.wait(driver, lambda d: "/agents/new" not in d.current_url and "/agents/" in d.current_url, message="not created")
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=agent-version]").text == "v1")
        agent_id = driver.current_url.rstrip("/").rsplit("/", 1)[1]

        saved = json.loads(self.api("GET", f"/v1/agents/{agent_id}")["agent"]["flowJson"])
        self.assertEqual(len(saved["metadata"]["positions"]), len(EXAMPLE["nodes"]), "positions are kept")
        self.assertEqual(normal_form(saved), normal_form(EXAMPLE))

        self.shot(driver, "built")

        # Try it: the draft runs and its nodes light up; a node's output opens.
        self.by_testid(driver, "tab-try").click()
        self.type_into(driver, "try-input", "How do I reset my password?")
        self.by_testid(driver, "try-run").click()
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=try-status]").get_attribute("data-status") == "finished",
                  message="the test run did not finish")
        for node_id in ("kb_lookup", "kb_helpful", "done"):
            self.assertEqual(self.by_testid(driver, f"node-{node_id}", clickable=False).get_attribute("data-run"), "done", node_id)
        ActionChains(driver).move_to_element(self.by_testid(driver, "node-kb_lookup", clickable=False)).click().perform()
        self.assertIn('"kb"', self.by_testid(driver, "try-output", clickable=False).text)
        self.shot(driver, "run")

        # A second version: the answer's prompt changed.
        self.select_node(driver, "answer_from_kb")
        self.type_into(driver, "field-prompt", "Question: {{input}}")
        self.type_into(driver, "save-message", "Prompt the question")
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=issues]").get_attribute("data-validating") == "false")
        self.by_testid(driver, "save").click()
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=agent-version]").text == "v2")

        # The diff: answer_from_kb changed, on the canvas and in the JSON diff.
        self.by_testid(driver, "tab-versions").click()
        self.by_testid(driver, "version-pick-1").click()
        self.by_testid(driver, "version-pick-2").click()
        self.by_testid(driver, "versions-compare").click()
        summary = self.by_testid(driver, "diff-summary", clickable=False)
        self.shot(driver, "diff")
        self.assertIn("0 added, 0 removed, 1 changed (answer_from_kb)", summary.text)
        self.assertEqual(self.by_testid(driver, "node-answer_from_kb", clickable=False).get_attribute("data-diff"), "changed")
        self.assertIn("Question: {{input}}", self.by_testid(driver, "json-diff", clickable=False).text)

        # Roll back to the first: a third version equal to the first.
        self.by_testid(driver, "back-to-draft").click()
        self.by_testid(driver, "version-rollback-1").click()
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=agent-version]").text == "v3")
        latest = json.loads(self.api("GET", f"/v1/agents/{agent_id}")["agent"]["flowJson"])
        self.assertEqual(normal_form(latest), normal_form(EXAMPLE))
        print(f"\nflow builder: built, saved, ran, diffed and rolled back in {time.monotonic() - started:.1f} s")

    @screenshots_on_failure
    def test_keyboard_undo_redo_copy_paste(self):
        driver = self.browser()
        self.open_new_agent(driver)
        area = self.by_testid(driver, "canvas-area")
        area.click()
        area.send_keys("1")  # an llm node
        area = self.by_testid(driver, "canvas-area")
        area.click()
        area.send_keys("7")  # an end node
        self.by_testid(driver, "node-llm_1", clickable=False)
        self.by_testid(driver, "node-end_1", clickable=False)
        area = self.by_testid(driver, "canvas-area")
        area.send_keys(Keys.ESCAPE, Keys.ARROW_DOWN)  # the first node
        area.send_keys("c", Keys.ARROW_DOWN, Keys.ENTER)  # connect it to the next one
        self.by_testid(driver, "edge-llm_1-end_1", clickable=False)
        area.send_keys(Keys.CONTROL, "z")
        self.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid='edge-llm_1-end_1']"))
        area.send_keys(Keys.CONTROL, "y")
        self.by_testid(driver, "edge-llm_1-end_1", clickable=False)
        area.send_keys(Keys.CONTROL, "a")
        area.send_keys(Keys.CONTROL, "c")
        area.send_keys(Keys.CONTROL, "v")
        self.by_testid(driver, "node-llm_2", clickable=False)
        self.by_testid(driver, "edge-llm_2-end_2", clickable=False)
        area.send_keys(Keys.DELETE)
        self.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid='node-llm_2']"))
        area.send_keys(Keys.ESCAPE, Keys.ARROW_DOWN, Keys.ENTER)  # the editor, from the keyboard
        self.wait(driver, lambda d: d.switch_to.active_element.get_attribute("id") == "node-id",
                  message="Enter did not open the editor")

    @screenshots_on_failure
    def test_import_and_the_json_view_in_sync_with_the_canvas(self):
        refund = json.loads((REPO / "examples" / "refund-approval.flow.json").read_text(encoding="utf-8"))
        driver = self.browser()
        self.open_new_agent(driver)
        self.by_testid(driver, "tab-json").click()
        self.by_testid(driver, "import", clickable=False).send_keys(str(REPO / "examples" / "refund-approval.flow.json"))
        for node in refund["nodes"]:
            self.by_testid(driver, f"node-{node['id']}", clickable=False)
        # Parallel branches and the join are drawn as such; router and option labels on their edges.
        self.assertIn("fans out to 2", self.by_testid(driver, "node-fan_out", clickable=False).get_attribute("aria-label"))
        self.assertIn("fan-in 2", self.by_testid(driver, "node-decide", clickable=False).get_attribute("aria-label"))
        self.assertEqual(self.by_testid(driver, "edge-label-classify-fan_out", clickable=False).text, "refund")
        shown = json.loads(self.by_testid(driver, "flow-json", clickable=False).get_attribute("value"))
        self.assertEqual(sorted(shown["metadata"]["positions"]), sorted(node["id"] for node in refund["nodes"]))
        self.assertEqual(normal_form(shown), normal_form(refund))

        # An edit of the JSON reaches the canvas (React's value setter, then an input event).
        edited = json.loads(json.dumps(shown))
        edited["nodes"].append({"id": "extra", "kind": "end"})
        driver.execute_script(
            "const area = arguments[0];"
            "Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(area, arguments[1]);"
            "area.dispatchEvent(new Event('input', {bubbles: true}));",
            self.by_testid(driver, "flow-json", clickable=False), json.dumps(edited),
        )
        self.by_testid(driver, "node-extra", clickable=False)

        # And a canvas edit reaches the JSON: the new node deleted with the keyboard.
        self.by_testid(driver, "fit").click()
        ActionChains(driver).move_to_element(self.by_testid(driver, "node-extra", clickable=False)).click().perform()
        self.by_testid(driver, "canvas-area").send_keys(Keys.DELETE)
        self.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid='node-extra']"))
        self.by_testid(driver, "tab-json").click()
        self.assertEqual(normal_form(json.loads(self.by_testid(driver, "flow-json", clickable=False).get_attribute("value"))),
                         normal_form(refund))
        self.by_testid(driver, "export").click()

    @screenshots_on_failure
    def test_a_test_run_waiting_for_a_person_takes_the_answer(self):
        flow = {
            "entry": "ask",
            "state": {"approval": {"type": "string"}},
            "nodes": [
                {"id": "ask", "kind": "human_input", "prompt": "Approve?", "choices": ["approve", "reject"],
                 "output": "approval", "next": "done"},
                {"id": "done", "kind": "end", "answer": "You chose {{state.approval}}."},
            ],
        }
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "ask.flow.json")
            with open(path, "w", encoding="utf-8") as file:
                json.dump(flow, file)
            driver = self.browser()
            self.open_new_agent(driver)
            self.by_testid(driver, "tab-json").click()
            self.by_testid(driver, "import", clickable=False).send_keys(path)
            self.by_testid(driver, "node-ask", clickable=False)
        self.by_testid(driver, "tab-try").click()
        self.type_into(driver, "try-input", "Refund order 42")
        self.by_testid(driver, "try-run").click()
        waiting = self.by_testid(driver, "try-waiting", clickable=False)
        self.assertIn("Approve?", waiting.text)
        self.assertEqual(self.by_testid(driver, "node-ask", clickable=False).get_attribute("data-run"), "waiting")
        waiting.find_element(By.XPATH, ".//button[text()='approve']").click()
        self.wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=try-status]").get_attribute("data-status") == "finished",
                  message="the answered run did not finish")
        self.assertEqual(self.by_testid(driver, "try-answer", clickable=False).text, "You chose approve.")
        self.assertEqual(self.by_testid(driver, "node-done", clickable=False).get_attribute("data-run"), "done")


if __name__ == "__main__":
    unittest.main()
