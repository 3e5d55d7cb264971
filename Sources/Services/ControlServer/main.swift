// The control plane executable: everything it does is in the Control library.
import Control
import Runtime

await ServiceHost.main(ControlService.definition)
