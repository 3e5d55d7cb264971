// The interop test service run by ServiceHost, as every Agentplane service is run: same
// configuration keys, auth, metrics, admin port and graceful shutdown. The lifecycle tests
// start it as a process and send it SIGTERM.
import InteropTesting
import Runtime
import RuntimePostgres

let notes = Migration(
    version: 1, name: "notes",
    sql: """
        CREATE TABLE notes (tenant_id text NOT NULL, body text NOT NULL);
        ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
        ALTER TABLE notes FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON notes USING (tenant_id = current_setting('app.tenant_id', true));
        """)

await ServiceHost.main(
    ServiceDefinition(name: "runtime-test-service", schema: "runtime_test_service", migrations: [notes]) { _ in
        ServiceAssembly(services: [TestServiceImplementation()])
    })
