"""Scale-out: the shared platform runs two kb-search replicas and the control plane balances
its Search calls across both (KB_SEARCH_ADDR lists both addresses).

Drives searches through the public path (ToolService.ExecuteTool on the kb_search tool), then
reads each replica's Prometheus counter `rpc_server_requests_total` for
`/agentplane.v1.KnowledgeBaseService/Search` on its admin port (docs/OBSERVABILITY.md).
"""

import re
import unittest
import urllib.request

import test_scenario
from test_scenario import RPC_TIMEOUT, Api, struct, unique

platform_fixture = test_scenario.platform_fixture

SEARCH_METHOD = "/agentplane.v1.KnowledgeBaseService/Search"
SEARCHES = 40


def search_count(admin_port):
    """The number of Search calls a replica finished with OK, from its /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith("rpc_server_requests_total{"):
            continue
        labels, value = line.rsplit(" ", 1)
        if f'method="{SEARCH_METHOD}"' in labels and re.search(r'code="OK"', labels):
            total += float(value)
    return int(total)


class KBSearchScaleOutTest(unittest.TestCase):
    """Both kb-search replicas serve a share of the searches a flow's tool makes, and one
    replica going away costs no search."""

    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.api = Api(cls.platform)
        cls.api.ensure_demo_tools()

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def test_searches_are_spread_over_both_replicas(self):
        ports = self.platform.admin_ports("kb-search")
        self.assertEqual(len(ports), 2, f"the shared platform should run two kb-search replicas: {ports}")
        self.assertEqual(len(self.platform.addrs("kb-search")), 2)
        before = [search_count(port) for port in ports]

        c = self.api.pb.control_pb2
        for i in range(SEARCHES):
            # No idempotency key and a different query each time: every call reaches kb-search.
            request = c.ExecuteToolRequest(tool_id="kb_search",
                                           arguments=struct({"query": f"reset password attempt {i} {unique('q')}"}))
            response = self.api.call("ToolService", "ExecuteTool", request, timeout=RPC_TIMEOUT)
            self.assertFalse(response.replayed)
            self.assertIn("results", response.result)

        served = [search_count(port) - start for port, start in zip(ports, before)]
        self.assertEqual(sum(served), SEARCHES, f"Search calls per replica: {served}")
        # Both replicas take part; with any fair balancing neither gets fewer than a tenth.
        for replica, count in enumerate(served):
            self.assertGreaterEqual(count, SEARCHES // 10, f"replica {replica} served {count} of {served}")

    def test_searches_keep_working_with_one_replica_down(self):
        ports = self.platform.admin_ports("kb-search")
        c = self.api.pb.control_pb2
        try:
            self.platform.kill("kb-search", 1)
            before = search_count(ports[0])
            for i in range(SEARCHES // 4):
                request = c.ExecuteToolRequest(tool_id="kb_search",
                                               arguments=struct({"query": f"invoice {i} {unique('q')}"}))
                response = self.api.call("ToolService", "ExecuteTool", request, timeout=RPC_TIMEOUT)
                self.assertIn("results", response.result)
            # Every search went to the replica that is still up.
            self.assertEqual(search_count(ports[0]) - before, SEARCHES // 4)
        finally:
            self.platform.start("kb-search", 1)


if __name__ == "__main__":
    unittest.main()
