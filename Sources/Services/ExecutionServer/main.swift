// The execution service's executable: everything it does is in the Execution library.
import Execution
import Runtime

await ServiceHost.main(ExecutionService.definition)
